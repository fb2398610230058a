//! Content digests (`sha256:<64 hex>`), the names blobs and manifests have in a registry.

use sha2::{Digest as _, Sha256};
use std::fmt;

use crate::error::{Error, Result};

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

/// A running sha256 over bytes that stream past.
#[derive(Clone, Default)]
pub struct Hasher {
    inner: Sha256,
    len: u64,
}

impl Hasher {
    pub fn update(&mut self, bytes: &[u8]) {
        self.inner.update(bytes);
        self.len += bytes.len() as u64;
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn finish(self) -> Digest {
        Digest(self.inner.finalize().into())
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
        assert_eq!(h.len(), 2);
        assert_eq!(h.finish(), d);
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
