//! What the fault test knows of each object: the contents it may hold after the operations
//! so far. An acknowledged put or delete leaves exactly one outcome; a failed one adds its
//! outcome to those already possible (it may or may not have taken effect).

pub mod check;

use std::collections::{BTreeMap, BTreeSet};

use kloset_oci_host::testkit::xorshift::XorShift;
use kloset_oci_host::{ErrorKind, Kind, Mac};

/// An object's bytes, described by the seed and length that generate them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Content {
    pub seed: u64,
    pub len: usize,
}

impl Content {
    pub fn bytes(&self) -> Vec<u8> {
        XorShift::new(self.seed).bytes(self.len)
    }
}

/// One possible state of an object: absent, or holding these bytes.
pub type Outcome = Option<Content>;

/// The possible outcomes of every object the run touched.
#[derive(Default)]
pub struct Model {
    objects: BTreeMap<(Kind, Mac), BTreeSet<Outcome>>,
}

impl Model {
    pub fn possible(&self, kind: Kind, mac: &Mac) -> BTreeSet<Outcome> {
        self.objects
            .get(&(kind, *mac))
            .cloned()
            .unwrap_or_else(|| BTreeSet::from([None]))
    }

    /// The object now certainly is `outcome` (an acknowledged put or delete, or a read).
    pub fn settle(&mut self, kind: Kind, mac: &Mac, outcome: Outcome) {
        self.objects.insert((kind, *mac), BTreeSet::from([outcome]));
    }

    /// The object may now also be `outcome` (a failed put or delete).
    pub fn maybe(&mut self, kind: Kind, mac: &Mac, outcome: Outcome) {
        let mut set = self.possible(kind, mac);
        set.insert(outcome);
        self.objects.insert((kind, *mac), set);
    }

    /// Objects of `kind` that may hold bytes.
    pub fn keys(&self, kind: Kind) -> Vec<Mac> {
        self.objects
            .keys()
            .filter(|(k, _)| *k == kind)
            .map(|(_, mac)| *mac)
            .collect()
    }

    /// Objects of `kind` that certainly hold bytes.
    pub fn certainly_present(&self, kind: Kind) -> Vec<(Mac, Content)> {
        self.objects
            .iter()
            .filter(|((k, _), set)| *k == kind && set.len() == 1)
            .filter_map(|((_, mac), set)| set.first().copied().flatten().map(|c| (*mac, c)))
            .collect()
    }

    /// Objects of `kind` that may hold bytes (at least one outcome is not absent).
    pub fn maybe_present(&self, kind: Kind) -> Vec<Mac> {
        self.objects
            .iter()
            .filter(|((k, _), set)| *k == kind && set.iter().any(Option::is_some))
            .map(|((_, mac), _)| *mac)
            .collect()
    }

    /// Objects of `kind` that are certainly absent.
    pub fn certainly_absent(&self, kind: Kind) -> Vec<Mac> {
        self.objects
            .iter()
            .filter(|((k, _), set)| *k == kind && set.iter().all(Option::is_none))
            .map(|((_, mac), _)| *mac)
            .collect()
    }
}

/// Checks the bytes a read returned: they must be exactly one possible content, or that
/// range of it. Returns the content they are, or why not.
pub fn check_read(
    possible: &BTreeSet<Outcome>,
    got: &[u8],
    range: Option<(u64, u32)>,
) -> Result<Content, String> {
    for content in possible.iter().flatten() {
        let bytes = content.bytes();
        let expected = match range {
            None => &bytes[..],
            Some((offset, length)) => {
                let (start, end) = (offset as usize, offset as usize + length as usize);
                if end > bytes.len() {
                    continue;
                }
                &bytes[start..end]
            }
        };
        if expected == got {
            return Ok(*content);
        }
    }
    Err(format!(
        "{} bytes{} match none of the {} possible contents",
        got.len(),
        range.map_or(String::new(), |(o, l)| format!(" (range {o}+{l})")),
        possible.len()
    ))
}

/// An error kind a failed operation may end in under faults: typed, and a fault that may
/// pass (or a protocol error, counted and reported). Never `Other` or a host failure.
pub fn is_typed(kind: ErrorKind) -> bool {
    !matches!(kind, ErrorKind::Other | ErrorKind::Host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_match_only_a_possible_content() {
        let a = Content { seed: 1, len: 100 };
        let b = Content { seed: 2, len: 100 };
        let possible = BTreeSet::from([None, Some(a)]);
        assert_eq!(check_read(&possible, &a.bytes(), None), Ok(a));
        assert!(check_read(&possible, &b.bytes(), None).is_err());
        assert_eq!(
            check_read(&possible, &a.bytes()[10..20], Some((10, 10))),
            Ok(a)
        );
        assert!(check_read(&possible, &a.bytes()[11..21], Some((10, 10))).is_err());
        assert!(check_read(&possible, &a.bytes()[..99], None).is_err());
        assert!(!is_typed(ErrorKind::Other));
        assert!(is_typed(ErrorKind::Transient));
    }
}
