//! The host's SHA-256 (`kloset:storage/digest`) as a [`Sha256Stream`]: the bytes of objects
//! put and read whole are hashed natively by the host, not in WebAssembly.

use crate::bindings::kloset::storage::digest::Sha256;
use crate::digest::Sha256Stream;

pub struct HostSha256(Sha256);

impl HostSha256 {
    pub fn new() -> HostSha256 {
        HostSha256(Sha256::new())
    }
}

impl Sha256Stream for HostSha256 {
    fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(self: Box<Self>) -> Vec<u8> {
        self.0.finish()
    }
}
