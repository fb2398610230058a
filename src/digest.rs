//! Content digests (`sha256:<64 hex>`), the names blobs and manifests have in a registry.

use sha2::{Digest as _, Sha256};
use std::fmt;

use crate::error::{Error, ErrorKind, Result};

/// A sha256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(Sha256::digest(bytes).into())
    }

    /// Parses `sha256:<64 lowercase hex>`. Other algorithms are refused, not guessed at.
    pub fn parse(text: &str) -> Result<Digest> {
        let hex_part = text
            .strip_prefix("sha256:")
            .ok_or_else(|| Error::protocol(format!("unsupported digest {:?}", short(text))))?;
        if hex_part.len() != 64 || hex_part.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(Error::protocol(format!(
                "malformed digest {:?}",
                short(text)
            )));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut out)
            .map_err(|_| Error::protocol(format!("malformed digest {:?}", short(text))))?;
        Ok(Digest(out))
    }

    /// The 64 lowercase hex characters, without `sha256:`.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// A SHA-256 computed elsewhere (the host's native client).
impl From<[u8; 32]> for Digest {
    fn from(bytes: [u8; 32]) -> Digest {
        Digest(bytes)
    }
}

fn short(text: &str) -> String {
    text.chars().take(80).collect()
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A SHA-256 over bytes that stream past: what a [`Hasher`] feeds.
///
/// In the component the bulk of the bytes (objects put, whole reads) go to the host's native
/// SHA-256 (`kloset:storage/digest`, see `host_digest`); natively, for tests, and in the
/// self-contained component (the `self-contained` feature), the `sha2`
/// crate does it.
pub trait Sha256Stream {
    fn update(&mut self, bytes: &[u8]);
    /// The digest of every byte given. An engine outside this crate may answer any number of
    /// bytes: [`Hasher::finish`] checks there are 32.
    fn finish(self: Box<Self>) -> Vec<u8>;
}

/// The `sha2` crate as a [`Sha256Stream`].
#[derive(Default)]
pub struct Sha2Stream(Sha256);

impl Sha256Stream for Sha2Stream {
    fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(self: Box<Self>) -> Vec<u8> {
        self.0.finalize().to_vec()
    }
}

/// The engine for bulk bytes: the host's SHA-256 in the component.
#[cfg(all(target_arch = "wasm32", not(feature = "self-contained")))]
fn bulk_engine() -> Box<dyn Sha256Stream> {
    Box::new(crate::host_digest::HostSha256::new())
}

/// The engine for bulk bytes: `sha2` outside the component, and in the self-contained one.
#[cfg(any(not(target_arch = "wasm32"), feature = "self-contained"))]
fn bulk_engine() -> Box<dyn Sha256Stream> {
    Box::new(Sha2Stream::default())
}

/// A running sha256 over bytes that stream past (objects put, whole reads), with their count.
pub struct Hasher {
    engine: Box<dyn Sha256Stream>,
    len: u64,
}

impl Default for Hasher {
    fn default() -> Self {
        Hasher::with_engine(bulk_engine())
    }
}

impl Hasher {
    pub fn with_engine(engine: Box<dyn Sha256Stream>) -> Hasher {
        Hasher { engine, len: 0 }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.engine.update(bytes);
        self.len += bytes.len() as u64;
    }

    pub fn bytes_hashed(&self) -> u64 {
        self.len
    }

    /// The digest, or an `other` error where the engine did not answer 32 bytes.
    pub fn finish(self) -> Result<Digest> {
        let bytes = self.engine.finish();
        let out: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            Error::new(
                ErrorKind::Other,
                format!("the SHA-256 engine answered {} bytes, not 32", bytes.len()),
            )
        })?;
        Ok(Digest(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_round_trip_and_match_streaming() {
        let d = Digest::of(b"{}");
        assert_eq!(
            d.to_string(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(Digest::parse(&d.to_string()).unwrap(), d);
        let mut h = Hasher::default();
        h.update(b"{");
        h.update(b"}");
        assert_eq!(h.bytes_hashed(), 2);
        assert_eq!(h.finish().unwrap(), d);
    }

    /// An engine that answers a fixed digest, whatever it is given.
    struct Fixed(Vec<u8>);

    impl Sha256Stream for Fixed {
        fn update(&mut self, _: &[u8]) {}
        fn finish(self: Box<Self>) -> Vec<u8> {
            self.0
        }
    }

    #[test]
    fn an_engine_answer_that_is_not_32_bytes_is_an_error() {
        for len in [0, 31, 33, 64] {
            let mut h = Hasher::with_engine(Box::new(Fixed(vec![7; len])));
            h.update(b"bytes");
            let err = h.finish().unwrap_err();
            assert_eq!(err.kind, ErrorKind::Other);
            assert!(err.message.contains(&format!("{len} bytes")), "{err:?}");
        }
        let h = Hasher::with_engine(Box::new(Fixed(vec![7; 32])));
        assert_eq!(h.finish().unwrap(), Digest([7; 32]));
    }

    #[test]
    fn the_engine_is_given_every_byte() {
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let mut h = Hasher::default();
        for chunk in bytes.chunks(7_919) {
            h.update(chunk);
        }
        assert_eq!(h.bytes_hashed(), bytes.len() as u64);
        assert_eq!(h.finish().unwrap(), Digest::of(&bytes));
    }

    #[test]
    fn other_algorithms_and_malformed_digests_are_refused() {
        assert!(Digest::parse("sha512:abcd").is_err());
        assert!(Digest::parse("sha256:abcd").is_err());
        let upper = format!("sha256:{}", "A".repeat(64));
        assert!(Digest::parse(&upper).is_err());
        let nonhex = format!("sha256:{}", "g".repeat(64));
        assert!(Digest::parse(&nonhex).is_err());
    }
}
