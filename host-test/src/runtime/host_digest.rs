//! The host's side of `kloset:storage/digest`: a native SHA-256 (the `sha2` crate, which uses
//! the CPU's SHA extensions where it has them) for the bytes the component puts and reads
//! whole. Each running hash is a resource in the store's table.
//!
//! Once a hash is given a large chunk, it moves to a thread of its own: `update` hands the
//! chunk over and returns, so hashing overlaps the component's copies and the network instead
//! of adding to them (profiles of a 64 MiB get showed it as the largest cost left). At most
//! [`QUEUED_CHUNKS`] chunks wait for that thread; `finish` waits for it to hash the last.

use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

use sha2::{Digest as _, Sha256};
use wasmtime::component::Resource;

use crate::runtime::bindings::kloset::storage::digest::{Host, HostSha256};
use crate::runtime::state::HostState;

/// Chunks at least this large move a hash to its own thread.
pub const WORKER_CHUNK: usize = 256 << 10;
/// Chunks handed to a hashing thread and not hashed yet, at most (then `update` waits).
pub const QUEUED_CHUNKS: usize = 2;

/// One running hash of the guest's `sha256` resource.
#[derive(Default)]
pub struct Sha256State(Engine);

enum Engine {
    Inline(Sha256),
    Worker {
        chunks: SyncSender<Vec<u8>>,
        hasher: JoinHandle<Sha256>,
    },
}

impl Default for Engine {
    fn default() -> Self {
        Engine::Inline(Sha256::new())
    }
}

impl Sha256State {
    fn update(&mut self, data: Vec<u8>) -> wasmtime::Result<()> {
        if let Engine::Inline(hash) = &mut self.0 {
            if data.len() < WORKER_CHUNK {
                hash.update(&data);
                return Ok(());
            }
            let mut hash = std::mem::take(hash);
            let (chunks, queue) = sync_channel::<Vec<u8>>(QUEUED_CHUNKS);
            let hasher = std::thread::Builder::new()
                .name("kloset-oci-sha256".into())
                .spawn(move || {
                    for chunk in queue {
                        hash.update(&chunk);
                    }
                    hash
                })?;
            self.0 = Engine::Worker { chunks, hasher };
        }
        match &self.0 {
            Engine::Worker { chunks, .. } => chunks
                .send(data)
                .map_err(|_| wasmtime::format_err!("the hashing thread ended early")),
            Engine::Inline(_) => unreachable!("moved to a thread above"),
        }
    }

    /// The digest so far; the hash starts again, empty.
    fn finish(&mut self) -> wasmtime::Result<Vec<u8>> {
        let hash = match std::mem::take(&mut self.0) {
            Engine::Inline(hash) => hash,
            Engine::Worker { chunks, hasher } => {
                drop(chunks);
                hasher
                    .join()
                    .map_err(|_| wasmtime::format_err!("the hashing thread panicked"))?
            }
        };
        Ok(hash.finalize().to_vec())
    }
}

impl Host for HostState {}

impl HostSha256 for HostState {
    fn new(&mut self) -> wasmtime::Result<Resource<Sha256State>> {
        Ok(self.table().push(Sha256State::default())?)
    }

    fn update(&mut self, this: Resource<Sha256State>, data: Vec<u8>) -> wasmtime::Result<()> {
        self.table().get_mut(&this)?.update(data)
    }

    fn finish(&mut self, this: Resource<Sha256State>) -> wasmtime::Result<Vec<u8>> {
        self.table().get_mut(&this)?.finish()
    }

    /// A dropped hash's thread (if any) ends once it has hashed what it was given.
    fn drop(&mut self, this: Resource<Sha256State>) -> wasmtime::Result<()> {
        self.table().delete(this)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::net::hooks::RegistryHooks;
    use crate::net::location::AllowedAuthority;

    fn state() -> HostState {
        let allowed = AllowedAuthority::from_location("oci://127.0.0.1:5000/x").unwrap();
        HostState::new(RegistryHooks::new(allowed, Arc::default()))
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// FIPS 180-4 examples: "abc", and the empty message.
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn handle(r: &Resource<Sha256State>) -> Resource<Sha256State> {
        Resource::new_borrow(r.rep())
    }

    #[test]
    fn hashes_across_updates_and_starts_again_after_finish() {
        let mut s = state();
        let h = HostSha256::new(&mut s).unwrap();
        s.update(handle(&h), b"a".to_vec()).unwrap();
        s.update(handle(&h), Vec::new()).unwrap();
        s.update(handle(&h), b"bc".to_vec()).unwrap();
        assert_eq!(hex(&s.finish(handle(&h)).unwrap()), ABC);
        assert_eq!(hex(&s.finish(handle(&h)).unwrap()), EMPTY);
        HostSha256::drop(&mut s, h).unwrap();
    }

    /// Large chunks go to a thread, small ones before and after are hashed in line: the
    /// digest covers every byte, in order, and a finished hash starts again in line.
    #[test]
    fn a_hash_moved_to_its_thread_keeps_every_byte_in_order() {
        let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 253) as u8).collect();
        let expected = Sha256::digest(&bytes).to_vec();
        let cuts = [
            0,
            10,
            10 + WORKER_CHUNK,
            10 + WORKER_CHUNK + 5,
            2_999_000,
            3_000_000,
        ];
        let mut s = state();
        let h = HostSha256::new(&mut s).unwrap();
        for round in 0..2 {
            for w in cuts.windows(2) {
                s.update(handle(&h), bytes[w[0]..w[1]].to_vec()).unwrap();
            }
            assert_eq!(s.finish(handle(&h)).unwrap(), expected, "round {round}");
        }
        assert_eq!(hex(&s.finish(handle(&h)).unwrap()), EMPTY);
        // Dropped while its thread still has bytes: nothing waits, nothing leaks into others.
        s.update(handle(&h), vec![1; 2 * WORKER_CHUNK]).unwrap();
        HostSha256::drop(&mut s, h).unwrap();
    }

    #[test]
    fn each_resource_is_its_own_hash_and_a_dropped_one_is_gone() {
        let mut s = state();
        let a = HostSha256::new(&mut s).unwrap();
        let b = HostSha256::new(&mut s).unwrap();
        s.update(handle(&a), b"abc".to_vec()).unwrap();
        assert_eq!(hex(&s.finish(handle(&b)).unwrap()), EMPTY);
        assert_eq!(hex(&s.finish(handle(&a)).unwrap()), ABC);
        let rep = a.rep();
        HostSha256::drop(&mut s, a).unwrap();
        assert!(s.finish(Resource::new_borrow(rep)).is_err());
    }
}
