//! The host's side of `kloset:storage/digest`: a native SHA-256 (the `sha2` crate, which uses
//! the CPU's SHA extensions where it has them) for the bytes the component puts and reads
//! whole. Each running hash is a resource in the store's table.

use sha2::{Digest as _, Sha256};
use wasmtime::component::Resource;

use crate::bindings::kloset::storage::digest::{Host, HostSha256};
use crate::state::HostState;

/// One running hash of the guest's `sha256` resource.
#[derive(Default)]
pub struct Sha256State(Sha256);

impl Host for HostState {}

impl HostSha256 for HostState {
    fn new(&mut self) -> wasmtime::Result<Resource<Sha256State>> {
        Ok(self.table().push(Sha256State::default())?)
    }

    fn update(&mut self, this: Resource<Sha256State>, data: Vec<u8>) -> wasmtime::Result<()> {
        self.table().get_mut(&this)?.0.update(&data);
        Ok(())
    }

    fn finish(&mut self, this: Resource<Sha256State>) -> wasmtime::Result<Vec<u8>> {
        let state = self.table().get_mut(&this)?;
        Ok(state.0.finalize_reset().to_vec())
    }

    fn drop(&mut self, this: Resource<Sha256State>) -> wasmtime::Result<()> {
        self.table().delete(this)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::hooks::RegistryHooks;
    use crate::location::AllowedAuthority;

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
