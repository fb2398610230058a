//! The blocks kept of packfiles, and the reads of blocks under way.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;
use kloset_oci_host::{Kind, Mac};
use tokio::sync::Notify;

/// Blocks start at multiples of this in their object, and are this long, but for the last
/// block of an object, shorter.
pub const BLOCK: u64 = 8 << 20;
/// Blocks kept: 64 MiB.
pub const KEPT: usize = 8;

struct Block {
    mac: Mac,
    index: u64,
    bytes: Bytes,
}

/// Kept blocks, least recently used first, and the blocks being read.
#[derive(Default)]
pub struct Blocks {
    kept: Mutex<VecDeque<Block>>,
    /// Blocks being read, and whether their bytes are still wanted (a Delete of their object
    /// while they are read makes them unwanted). Locked before `kept` where both are.
    reading: Mutex<HashMap<(Mac, u64), bool>>,
    /// Told whenever a read ends.
    read_ended: Notify,
}

/// The indexes of the blocks `offset..end` of an object touches (`end > offset`).
pub fn spanned(offset: u64, end: u64) -> std::ops::RangeInclusive<u64> {
    offset / BLOCK..=(end - 1) / BLOCK
}

/// Whether a Get of `kind` and `range` goes through blocks: a range of a packfile, no
/// longer than a block (Plakar's ranges are single chunks and objects, of a few MiB at most).
pub fn applies(kind: Kind, length: u32) -> bool {
    kind == Kind::Packfile && length > 0 && u64::from(length) <= BLOCK
}

impl Blocks {
    /// Block `index` of `mac` if kept and at least `need` bytes long (then the most recently
    /// used).
    pub fn kept(&self, mac: &Mac, index: u64, need: u64) -> Option<Bytes> {
        let mut kept = self.kept.lock().expect("kept blocks");
        let at = kept
            .iter()
            .position(|b| b.mac == *mac && b.index == index && b.bytes.len() as u64 >= need)?;
        let block = kept.remove(at)?;
        let bytes = block.bytes.clone();
        kept.push_back(block);
        Some(bytes)
    }

    fn is_kept(&self, mac: &Mac, index: u64) -> bool {
        let kept = self.kept.lock().expect("kept blocks");
        kept.iter().any(|b| b.mac == *mac && b.index == index)
    }

    /// Claims the read of block `index` of `mac` (`true`: read it, then call [`Blocks::done`]);
    /// if a read of it is under way, waits for that to end and answers `false` (look again).
    pub async fn claim(&self, mac: &Mac, index: u64) -> bool {
        let ended = self.read_ended.notified();
        tokio::pin!(ended);
        ended.as_mut().enable();
        if claim(&mut self.reading.lock().expect("block reads"), mac, index) {
            return true;
        }
        ended.await;
        false
    }

    /// Claims the read of block `index` of `mac` unless it is kept or being read.
    pub fn claim_ahead(&self, mac: &Mac, index: u64) -> bool {
        !self.is_kept(mac, index)
            && claim(&mut self.reading.lock().expect("block reads"), mac, index)
    }

    /// Ends the claim on block `index` of `mac`, keeping `bytes` if it was read and its object
    /// was not deleted meanwhile, in place of the least recently used block.
    pub fn done(&self, mac: &Mac, index: u64, bytes: Option<Bytes>) {
        let mut reading = self.reading.lock().expect("block reads");
        let wanted = reading.remove(&(*mac, index)).unwrap_or(false);
        if let Some(bytes) = bytes.filter(|_| wanted) {
            let mut kept = self.kept.lock().expect("kept blocks");
            kept.retain(|b| !(b.mac == *mac && b.index == index));
            if kept.len() == KEPT {
                kept.pop_front();
            }
            kept.push_back(Block {
                mac: *mac,
                index,
                bytes,
            });
        }
        drop(reading);
        self.read_ended.notify_waiters();
    }

    /// Forgets every block of `mac`, kept or being read.
    pub fn forget(&self, mac: &Mac) {
        let mut reading = self.reading.lock().expect("block reads");
        for ((of, _), wanted) in reading.iter_mut() {
            if of == mac {
                *wanted = false;
            }
        }
        let mut kept = self.kept.lock().expect("kept blocks");
        kept.retain(|b| b.mac != *mac);
    }
}

/// Claims a block not being read already.
fn claim(reading: &mut HashMap<(Mac, u64), bool>, mac: &Mac, index: u64) -> bool {
    match reading.entry((*mac, index)) {
        std::collections::hash_map::Entry::Occupied(_) => false,
        std::collections::hash_map::Entry::Vacant(slot) => {
            slot.insert(true);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(len: usize) -> Bytes {
        (0..len).map(|i| (i % 251) as u8).collect::<Vec<_>>().into()
    }

    #[test]
    fn ranges_span_the_blocks_they_touch() {
        assert_eq!(spanned(0, 1), 0..=0);
        assert_eq!(spanned(BLOCK - 1, BLOCK), 0..=0);
        assert_eq!(spanned(BLOCK - 1, BLOCK + 1), 0..=1);
        assert_eq!(spanned(3 * BLOCK, 4 * BLOCK), 3..=3);
        assert!(applies(Kind::Packfile, BLOCK as u32));
        assert!(!applies(Kind::Packfile, BLOCK as u32 + 1));
        assert!(!applies(Kind::Packfile, 0));
        assert!(!applies(Kind::State, 10));
    }

    #[tokio::test]
    async fn a_block_is_kept_once_read_and_the_least_recently_used_goes_first() {
        let blocks = Blocks::default();
        let mac = [7; 32];
        assert!(blocks.kept(&mac, 0, 1).is_none());
        assert!(blocks.claim(&mac, 0).await);
        assert!(!blocks.claim_ahead(&mac, 0), "claimed");
        blocks.done(&mac, 0, Some(bytes(100)));
        assert_eq!(blocks.kept(&mac, 0, 100).unwrap(), bytes(100));
        assert!(blocks.kept(&mac, 0, 101).is_none(), "too short for that");
        assert!(!blocks.claim_ahead(&mac, 0), "kept");
        for i in 1..KEPT as u64 {
            assert!(blocks.claim_ahead(&mac, i));
            blocks.done(&mac, i, Some(bytes(10)));
        }
        assert!(blocks.kept(&mac, 0, 1).is_some()); // now the most recently used
        assert!(blocks.claim_ahead(&[8; 32], 0));
        blocks.done(&[8; 32], 0, Some(bytes(10)));
        assert!(blocks.kept(&mac, 0, 1).is_some());
        assert!(blocks.kept(&mac, 1, 1).is_none(), "evicted");
        blocks.forget(&mac);
        assert!(blocks.kept(&mac, 0, 1).is_none());
        assert!(blocks.kept(&[8; 32], 0, 1).is_some(), "another object's");
    }

    /// A Delete while a block of its object is being read: the read's bytes are not kept.
    #[tokio::test]
    async fn a_block_read_across_a_delete_is_not_kept() {
        let blocks = Blocks::default();
        let (deleted, other) = ([7; 32], [9; 32]);
        assert!(blocks.claim(&deleted, 0).await);
        assert!(blocks.claim_ahead(&other, 0));
        blocks.forget(&deleted);
        blocks.done(&deleted, 0, Some(bytes(10)));
        blocks.done(&other, 0, Some(bytes(10)));
        assert!(
            blocks.kept(&deleted, 0, 1).is_none(),
            "read before the delete ended"
        );
        assert!(
            blocks.kept(&other, 0, 1).is_some(),
            "another object's block stays"
        );
        assert!(
            blocks.claim_ahead(&deleted, 0),
            "a later read is claimed anew"
        );
        blocks.done(&deleted, 0, Some(bytes(10)));
        assert!(blocks.kept(&deleted, 0, 1).is_some(), "and kept");
    }

    #[tokio::test]
    async fn a_claim_on_a_block_being_read_waits_for_that_read() {
        let blocks = std::sync::Arc::new(Blocks::default());
        let mac = [1; 32];
        assert!(blocks.claim(&mac, 3).await);
        let waiter = tokio::spawn({
            let blocks = blocks.clone();
            async move { blocks.claim(&mac, 3).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        blocks.done(&mac, 3, None); // the read failed: nothing kept
        assert!(!waiter.await.unwrap(), "told to look again");
        assert!(blocks.claim(&mac, 3).await, "free to read now");
    }
}
