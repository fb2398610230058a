//! `oci://HOST[:PORT]/REPOSITORY:TAG` and `oci://HOST[:PORT]/REPOSITORY@sha256:HEX`: where a
//! component lives in a registry. A reference holding both a tag and a digest is pinned by
//! the digest; the tag is only a label.

use std::fmt;

use kloset_oci::location::{check_repository, host_of, is_loopback};

use crate::error::{ErrorKind, StoreError};

/// A `sha256:` digest (the component crate's).
pub use kloset_oci::digest::Digest;

/// Where a component lives: a registry, a repository, and a tag and/or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentReference {
    /// Lowercase `host[:port]`.
    authority: String,
    host: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl ComponentReference {
    /// Whether `text` is meant as a registry reference rather than a file path.
    pub fn is_reference(text: &str) -> bool {
        text.starts_with("oci://")
    }

    /// Parses `oci://HOST[:PORT]/REPOSITORY(:TAG|@sha256:HEX|:TAG@sha256:HEX)`.
    pub fn parse(text: &str) -> Result<ComponentReference, StoreError> {
        let bad = |why: &str| {
            invalid(format!(
                "component reference {:?}: {why} (expected oci://host[:port]/repository:tag or \
                 oci://host[:port]/repository@sha256:digest)",
                short(text)
            ))
        };
        let rest = text
            .strip_prefix("oci://")
            .ok_or_else(|| bad("not an oci:// reference"))?;
        let (authority, path) = rest.split_once('/').ok_or_else(|| bad("no repository"))?;
        if authority.contains('@') {
            return Err(bad("credentials belong in options, not in the reference"));
        }
        let host = host_of(authority).map_err(|_| bad("bad registry host"))?;
        let (name_and_tag, digest) = match path.split_once('@') {
            Some((name, digest)) => {
                let digest = Digest::parse(digest).map_err(|e| bad(&e.message))?;
                (name, Some(digest))
            }
            None => (path, None),
        };
        let (repository, tag) = match name_and_tag.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag.to_string())),
            _ => (name_and_tag, None),
        };
        check_repository(repository).map_err(|e| bad(&e.message))?;
        if let Some(tag) = &tag {
            if !valid_tag(tag) {
                return Err(bad("bad tag"));
            }
        }
        if tag.is_none() && digest.is_none() {
            return Err(bad("name a tag or a digest"));
        }
        let host = match authority.starts_with('[') {
            true => format!("[{host}]"),
            false => host.to_string(),
        };
        Ok(ComponentReference {
            authority: authority.to_ascii_lowercase(),
            host: host.to_ascii_lowercase(),
            repository: repository.to_string(),
            tag,
            digest,
        })
    }

    /// `host[:port]` as written.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The host alone (IPv6 addresses keep their brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn repository(&self) -> &str {
        &self.repository
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The pinned manifest digest, if the reference names one.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// Whether the host is loopback: `localhost`, `127.0.0.0/8` or `::1`.
    pub fn is_loopback(&self) -> bool {
        is_loopback(self.host.trim_start_matches('[').trim_end_matches(']'))
    }
}

impl fmt::Display for ComponentReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oci://{}/{}", self.authority, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
fn valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(b))
}

fn invalid(message: String) -> StoreError {
    StoreError::new(ErrorKind::InvalidConfig, message)
}

fn short(text: &str) -> String {
    text.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn tags_digests_and_both() {
        let r = ComponentReference::parse("oci://127.0.0.1:5000/kloset/oci:0.1.0").unwrap();
        assert_eq!(
            (r.authority(), r.repository(), r.tag()),
            ("127.0.0.1:5000", "kloset/oci", Some("0.1.0"))
        );
        assert!(r.digest().is_none() && r.is_loopback());

        let pinned = format!("oci://Registry.Example/a/b@sha256:{HEX}");
        let r = ComponentReference::parse(&pinned).unwrap();
        assert_eq!(
            (r.authority(), r.host(), r.tag()),
            ("registry.example", "registry.example", None)
        );
        assert_eq!(r.digest().unwrap().hex(), HEX);
        assert!(!r.is_loopback());

        let both = format!("oci://[::1]:5000/x:v1@sha256:{HEX}");
        let r = ComponentReference::parse(&both).unwrap();
        assert_eq!((r.host(), r.tag()), ("[::1]", Some("v1")));
        assert!(r.is_loopback());
        assert_eq!(r.to_string(), both);
    }

    #[test]
    fn malformed_references_are_invalid_config() {
        for bad in [
            "kloset/oci:1",
            "oci://host",
            "oci://host/repo",
            "oci:///repo:1",
            "oci://u:p@host/repo:1",
            "oci://host/Repo:1",
            "oci://host/repo:-bad",
            "oci://host/repo@sha256:abc",
            "oci://host/repo@md5:0123456789abcdef0123456789abcdef",
            &format!("oci://host/repo@sha256:{}", HEX.to_uppercase()),
        ] {
            let err = ComponentReference::parse(bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidConfig, "{bad}");
        }
    }
}
