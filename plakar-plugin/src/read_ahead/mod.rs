//! Read-ahead for ranged Gets of packfiles. Plakar restores and checks by reading a
//! packfile one range after another, mostly in order (about 1,000 to 1,600 ranges per GiB,
//! from a few hundred bytes to a few MiB); one registry request per range would make the
//! registry's cost per request dominate. So a range is served from blocks: a packfile is cut
//! into blocks of [`BLOCK`] bytes at fixed offsets, each read in one request and kept for
//! the ranges that follow.
//!
//! - Only packfiles: kloset names them by the MAC of their bytes and never rewrites one, so a
//!   block holds the only bytes the object can have. A Delete through this plugin forgets
//!   the object's blocks.
//! - Fixed offsets: two ranges in one block never read it twice, and a range across a block
//!   boundary takes the two blocks (copied into one answer).
//! - The last block of an object is shorter: a block never reaches past the object's end
//!   (the component answers `out of range` from the manifest it has already read, without a
//!   request), so halves are tried, down to 64 KiB; a range no block can hold is read as it
//!   is.
//! - When a range ends past the middle of its last block, or had to read a block, the next
//!   block is read in the background, so a restore reading on finds it ready.
//! - Memory: at most [`blocks::KEPT`] blocks are kept (64 MiB), plus one block per read in flight,
//!   each of which holds a component instance of the pool.

mod blocks;

use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use kloset_oci_host::{ByteRange, ErrorKind, Kind, Mac, Store, StoreError};

use crate::instances::Instances;
use crate::usage::{BlockReads, Usage};
pub use blocks::applies;
use blocks::{Blocks, BLOCK};

/// The shortest block tried at the end of an object.
const SHORTEST: u64 = 64 << 10;

/// Reads block `index` of the packfile `mac`: the longest of BLOCK, BLOCK/2, ... that the
/// object holds and that is at least `need` bytes long; `None` where none is.
async fn read_block(
    store: &mut Store,
    mac: &Mac,
    index: u64,
    need: u64,
) -> Result<Option<Bytes>, StoreError> {
    let mut length = BLOCK;
    while length >= need.max(SHORTEST) {
        let block = Some(ByteRange::new(index * BLOCK, length as u32));
        match store.get_bytes(Kind::Packfile, mac, block).await {
            Ok(bytes) => return Ok(Some(Bytes::from(bytes))),
            // Past the object's end: a shorter one.
            Err(e) if e.kind == ErrorKind::OutOfRange => length /= 2,
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// The blocks of the store's packfiles, and the pool to read them with.
pub struct ReadAhead {
    blocks: Arc<Blocks>,
    instances: Arc<Instances>,
    usage: Arc<Usage>,
}

impl ReadAhead {
    pub fn new(instances: Arc<Instances>, usage: Arc<Usage>) -> Arc<ReadAhead> {
        Arc::new(ReadAhead {
            blocks: Arc::default(),
            instances,
            usage,
        })
    }

    /// `range` of the packfile `mac` (see [`applies`]) from its blocks, reading those not
    /// kept; `None` where the object's blocks cannot hold the range (read it as it is).
    pub async fn get(
        self: &Arc<Self>,
        mac: Mac,
        range: ByteRange,
    ) -> Result<Option<Bytes>, StoreError> {
        let start = Instant::now();
        let end = range.offset.saturating_add(u64::from(range.length));
        let spanned = blocks::spanned(range.offset, end);
        let last = *spanned.end();
        let (mut read, mut waited) = (false, false);
        let mut parts = Vec::with_capacity(2);
        for index in spanned {
            let need = end.min((index + 1) * BLOCK) - index * BLOCK;
            let block = loop {
                if let Some(block) = self.blocks.kept(&mac, index, need) {
                    break block;
                }
                if !self.blocks.claim(&mac, index).await {
                    waited = true;
                    continue; // a read of it ended: kept now, unless it failed
                }
                read = true;
                match self.read(mac, index, need).await? {
                    Some(block) => break block,
                    None => return Ok(None),
                }
            };
            parts.push(block);
        }
        // A Get that had to read a block starts a run of reads: the next block too, at once.
        let ahead = read || end - last * BLOCK > BLOCK / 2;
        if ahead && self.blocks.claim_ahead(&mac, last + 1) {
            self.read_ahead(mac, last + 1);
        }
        let counts = &self.usage.blocks;
        BlockReads::count(if read { &counts.read } else { &counts.hits });
        if waited {
            BlockReads::count(&counts.waited);
        }
        self.usage.ready(start);
        Ok(Some(cut(
            parts,
            range.offset % BLOCK,
            range.length as usize,
        )))
    }

    /// Reads block `index` of `mac` (claimed), keeps it and ends the claim.
    async fn read(&self, mac: Mac, index: u64, need: u64) -> Result<Option<Bytes>, StoreError> {
        let read = async {
            let mut lease = self.instances.lease().await?;
            let before = lease.store().stats();
            let read = read_block(lease.store(), &mac, index, need).await;
            self.usage.block_read(&before, &lease.store().stats());
            lease.check(read)
        }
        .await;
        let block = read.as_ref().ok().cloned().flatten();
        if let Some(block) = &block {
            self.usage.blocks.block(block.len());
        }
        self.blocks.done(&mac, index, block);
        read
    }

    /// Reads block `index` of `mac` (claimed) in the background; a failure leaves it to the
    /// Get that needs it.
    fn read_ahead(self: &Arc<Self>, mac: Mac, index: u64) {
        let this = self.clone();
        tokio::spawn(async move {
            BlockReads::count(&this.usage.blocks.read_ahead);
            let _ = this.read(mac, index, 1).await;
        });
    }

    /// Forgets every block of `mac` (deleted).
    pub fn forget(&self, mac: &Mac) {
        self.blocks.forget(mac);
    }
}

/// `length` bytes from `offset` of the blocks `parts` laid end to end: a slice of one block,
/// or a copy across two.
fn cut(parts: Vec<Bytes>, offset: u64, length: usize) -> Bytes {
    let offset = offset as usize;
    if let [one] = &parts[..] {
        return one.slice(offset..offset + length);
    }
    let mut out = BytesMut::with_capacity(length);
    let mut skip = offset;
    for part in parts {
        let take = (part.len() - skip).min(length - out.len());
        out.extend_from_slice(&part[skip..skip + take]);
        skip = 0;
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_cut_from_one_block_or_across_two() {
        let a = Bytes::from(vec![1u8; 10]);
        let b = Bytes::from(vec![2u8; 10]);
        assert_eq!(&cut(vec![a.clone()], 2, 5)[..], &[1; 5]);
        let across = cut(vec![a, b], 7, 6);
        assert_eq!(&across[..], &[1, 1, 1, 2, 2, 2]);
    }
}
