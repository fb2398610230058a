//! Host-side values of the store interface: object kinds, MACs, ranges and the mode.

use std::fmt;
use std::str::FromStr;

use crate::error::{ErrorKind, StoreError};
use crate::runtime::bindings::wit_types;

/// An object's name: its 32-byte MAC.
pub type Mac = [u8; 32];

/// The kinds of object a kloset repository keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Packfile,
    State,
    Lock,
    EccPackfile,
    EccState,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Packfile,
        Kind::State,
        Kind::Lock,
        Kind::EccPackfile,
        Kind::EccState,
    ];

    /// The WIT spelling: "packfile", "state", "lock", "ecc-packfile", "ecc-state".
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Packfile => "packfile",
            Kind::State => "state",
            Kind::Lock => "lock",
            Kind::EccPackfile => "ecc-packfile",
            Kind::EccState => "ecc-state",
        }
    }

    pub(crate) fn to_wit(self) -> wit_types::Kind {
        match self {
            Kind::Packfile => wit_types::Kind::Packfile,
            Kind::State => wit_types::Kind::State,
            Kind::Lock => wit_types::Kind::Lock,
            Kind::EccPackfile => wit_types::Kind::EccPackfile,
            Kind::EccState => wit_types::Kind::EccState,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                StoreError::new(ErrorKind::InvalidArgument, format!("unknown kind {s:?}"))
            })
    }
}

/// Exactly `length` bytes of an object, from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub offset: u64,
    pub length: u32,
}

impl ByteRange {
    pub fn new(offset: u64, length: u32) -> Self {
        ByteRange { offset, length }
    }

    pub(crate) fn to_wit(self) -> wit_types::Range {
        wit_types::Range {
            offset: self.offset,
            length: self.length,
        }
    }
}

/// What a caller may do with the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mode {
    pub read: bool,
    pub write: bool,
}

impl Mode {
    pub(crate) fn from_wit(mode: wit_types::Mode) -> Self {
        Mode {
            read: mode.contains(wit_types::Mode::READ),
            write: mode.contains(wit_types::Mode::WRITE),
        }
    }
}

/// "read,write", "read", "write" or "none".
impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.read, self.write) {
            (true, true) => f.write_str("read,write"),
            (true, false) => f.write_str("read"),
            (false, true) => f.write_str("write"),
            (false, false) => f.write_str("none"),
        }
    }
}

/// Parses 64 hex characters (either case) into a MAC.
pub fn parse_mac(text: &str) -> Result<Mac, StoreError> {
    let bad = || {
        StoreError::new(
            ErrorKind::InvalidArgument,
            format!("a MAC is 64 hex characters, got {:?}", truncate(text)),
        )
    };
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return Err(bad());
    }
    let mut mac = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = hex_value(pair[0]).ok_or_else(bad)?;
        let lo = hex_value(pair[1]).ok_or_else(bad)?;
        mac[i] = hi << 4 | lo;
    }
    Ok(mac)
}

/// The 64 lowercase hex characters of a MAC.
pub fn mac_hex(mac: &Mac) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for b in mac {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_hex_round_trip() {
        let mut mac = [0u8; 32];
        for (i, b) in mac.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37) ^ 0xa5;
        }
        let text = mac_hex(&mac);
        assert_eq!(text.len(), 64);
        assert_eq!(text, text.to_lowercase());
        assert_eq!(parse_mac(&text).unwrap(), mac);
        assert_eq!(parse_mac(&text.to_uppercase()).unwrap(), mac);
    }

    #[test]
    fn bad_macs_are_invalid_arguments() {
        for bad in [
            "",
            "00",
            &"0".repeat(63),
            &"0".repeat(65),
            &format!("{}g", "0".repeat(63)),
        ] {
            assert_eq!(
                parse_mac(bad).unwrap_err().kind,
                ErrorKind::InvalidArgument,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn kinds_parse_their_wit_names() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>().unwrap(), kind);
        }
        assert!("packfiles".parse::<Kind>().is_err());
    }

    #[test]
    fn mode_display() {
        assert_eq!(
            Mode {
                read: true,
                write: true
            }
            .to_string(),
            "read,write"
        );
        assert_eq!(
            Mode {
                read: true,
                write: false
            }
            .to_string(),
            "read"
        );
    }
}
