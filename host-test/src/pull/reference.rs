//! `oci://HOST[:PORT]/REPOSITORY:TAG` and `oci://HOST[:PORT]/REPOSITORY@sha256:HEX`: where a
//! component lives in a registry. A reference holding both a tag and a digest is pinned by
//! the digest; the tag is only a label.

use std::fmt;

use http::uri::Authority;

use crate::error::{ErrorKind, StoreError};

/// A `sha256:` digest: 64 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// Parses `sha256:<64 hex>`; hex is accepted in lowercase only, as registries write it.
    pub fn parse(text: &str) -> Result<Digest, StoreError> {
        let hex = text.strip_prefix("sha256:").ok_or_else(|| {
            invalid(format!(
                "digest {:?}: only sha256: digests are supported",
                short(text)
            ))
        })?;
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(invalid(format!(
                "digest {:?}: expected sha256: and 64 lowercase hex characters",
                short(text)
            )));
        }
        Ok(Digest {
            hex: hex.to_string(),
        })
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        use sha2::Digest as _;
        Digest {
            hex: hex::encode(sha2::Sha256::digest(bytes)),
        }
    }

    /// The 64 hex characters.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

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
        if authority.is_empty() || authority.contains('@') {
            return Err(bad("bad registry host"));
        }
        let parsed: Authority = authority.parse().map_err(|_| bad("bad registry host"))?;
        let (name_and_tag, digest) = match path.split_once('@') {
            Some((name, digest)) => (name, Some(Digest::parse(digest)?)),
            None => (path, None),
        };
        let (repository, tag) = match name_and_tag.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag.to_string())),
            _ => (name_and_tag, None),
        };
        if !valid_repository(repository) {
            return Err(bad("bad repository name"));
        }
        if let Some(tag) = &tag {
            if !valid_tag(tag) {
                return Err(bad("bad tag"));
            }
        }
        if tag.is_none() && digest.is_none() {
            return Err(bad("name a tag or a digest"));
        }
        Ok(ComponentReference {
            authority: authority.to_ascii_lowercase(),
            host: parsed.host().to_ascii_lowercase(),
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
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
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

/// Path components of lowercase alphanumerics separated by `.`, `_`, `__` or `-`s.
fn valid_repository(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.split('/').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && part.as_bytes()[0].is_ascii_alphanumeric()
                && part.as_bytes()[part.len() - 1].is_ascii_alphanumeric()
        })
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

    #[test]
    fn digest_of_bytes() {
        assert_eq!(
            Digest::of(b"{}").to_string(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}
