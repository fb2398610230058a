//! Where a store lives: `oci://host[:port]/repository/path`.

use crate::error::{Error, Result};

/// A parsed store location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// `http` or `https`.
    pub scheme: &'static str,
    /// `host[:port]` as written (IPv6 hosts in brackets).
    pub authority: String,
    /// The repository name inside the registry, e.g. `backups/laptop`.
    pub repository: String,
}

impl Location {
    /// `plain_http`: `None` for plain HTTP on loopback hosts only.
    pub fn parse(location: &str, plain_http: Option<bool>) -> Result<Location> {
        // Before any message that quotes the location: credentials in it would be a password
        // in an error a host prints.
        refuse_userinfo(location)?;
        let rest = location.strip_prefix("oci://").ok_or_else(|| {
            Error::invalid_config(format!(
                "location {location:?} must look like oci://host[:port]/repository"
            ))
        })?;
        let (authority, repository) = rest.split_once('/').ok_or_else(|| {
            Error::invalid_config(format!("location {location:?} names no repository"))
        })?;
        let repository = repository.trim_end_matches('/');
        let host = host_of(authority)?;
        check_repository(repository)?;

        let plain = plain_http.unwrap_or_else(|| is_loopback(host));
        Ok(Location {
            scheme: if plain { "http" } else { "https" },
            authority: authority.to_string(),
            repository: repository.to_string(),
        })
    }

    /// `scheme://authority`, the base of every request URL.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }
}

/// Refuses `scheme://user:password@host/...` (and `user@host/...`) with a message that
/// quotes no part of the location.
fn refuse_userinfo(location: &str) -> Result<()> {
    let after_scheme = location
        .split_once("://")
        .map_or(location, |(_, rest)| rest);
    let authority = after_scheme.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err(Error::invalid_config(
            "the location carries credentials (user:password@host): give them as the \
             username and password options, or in Docker's config.json, and write the \
             location as oci://host[:port]/repository",
        ));
    }
    Ok(())
}

/// The host part of `host[:port]`, checked: a name or an address, IPv6 in brackets (given
/// back without them), and a port from 1 to 65535 if any.
pub fn host_of(authority: &str) -> Result<&str> {
    let bad = || Error::invalid_config(format!("malformed registry address {authority:?}"));
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        if host.contains(':') {
            return Err(bad()); // an IPv6 address needs brackets
        }
        (host, port)
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
    {
        return Err(bad());
    }
    if let Some(port) = port {
        port.parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(bad)?;
    }
    Ok(host)
}

/// Plain HTTP is the default only for these hosts.
pub fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host == "::1" {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4 && octets[0] == "127" && octets.iter().all(|o| o.parse::<u8>().is_ok())
}

/// Repository names per the distribution spec:
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`.
pub fn check_repository(repository: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::invalid_config(format!(
            "repository name {repository:?} {why}"
        )))
    };
    if repository.is_empty() {
        return bad("is empty");
    }
    if repository.len() > 255 {
        return bad("is longer than 255 characters");
    }
    for component in repository.split('/') {
        let bytes = component.as_bytes();
        let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
            return bad(
                "must be lowercase path components that start and end with a letter or digit",
            );
        }
        let mut run = String::new();
        for &b in bytes {
            if alnum(b) {
                if !(run.is_empty()
                    || run == "."
                    || run == "_"
                    || run == "__"
                    || run.bytes().all(|c| c == b'-'))
                {
                    return bad(&format!("has the separator {run:?}"));
                }
                run.clear();
            } else if matches!(b, b'.' | b'_' | b'-') {
                run.push(b as char);
            } else {
                return bad(&format!("has the character {:?}", b as char));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_default_to_plain_http_and_others_to_https() {
        let l = Location::parse("oci://127.0.0.1:5000/backups/laptop", None).unwrap();
        assert_eq!(l.base_url(), "http://127.0.0.1:5000");
        assert_eq!(l.repository, "backups/laptop");
        assert_eq!(
            Location::parse("oci://localhost/a", None).unwrap().scheme,
            "http"
        );
        assert_eq!(
            Location::parse("oci://[::1]:5000/a", None).unwrap().scheme,
            "http"
        );
        assert_eq!(
            Location::parse("oci://ghcr.io/org/repo", None)
                .unwrap()
                .scheme,
            "https"
        );
        assert_eq!(
            Location::parse("oci://127.example.com/a", None)
                .unwrap()
                .scheme,
            "https"
        );
        let forced = Location::parse("oci://registry.lan:5000/a", Some(true));
        assert_eq!(forced.unwrap().scheme, "http");
        let tls = Location::parse("oci://localhost:5000/a", Some(false));
        assert_eq!(tls.unwrap().scheme, "https");
    }

    #[test]
    fn malformed_locations_are_invalid_config() {
        for bad in [
            "s3://host/repo",
            "oci://host",
            "oci://host/",
            "oci://host:99999/repo",
            "oci://host:/repo",
            "oci:///repo",
            "oci://host/Upper",
            "oci://host/a//b",
            "oci://host/a..b",
            "oci://host/-a",
            "oci://ho st/a",
            "oci://::1:5000/a",
        ] {
            let e = Location::parse(bad, None).unwrap_err();
            assert_eq!(e.kind, crate::error::ErrorKind::InvalidConfig, "{bad}");
        }
        assert!(Location::parse("oci://h/a-b__c.d/e---f", None).is_ok());
    }

    #[test]
    fn credentials_in_a_location_are_refused_without_quoting_them() {
        for bad in [
            "oci://alice:s3cret@reg.example/repo",
            "oci://alice:s3cret@reg.example",
            "https://alice:s3cret@reg.example/repo",
            "alice:s3cret@reg.example/repo",
            "oci://s3cret@127.0.0.1:5000/repo",
        ] {
            let e = Location::parse(bad, None).unwrap_err();
            assert_eq!(e.kind, crate::error::ErrorKind::InvalidConfig, "{bad}");
            let text = format!("{e} {e:?}");
            assert!(!text.contains("s3cret"), "{bad}: {text}");
            assert!(!text.contains("alice"), "{bad}: {text}");
            assert!(text.contains("credentials"), "{bad}: {text}");
        }
        // An '@' in the repository path is no userinfo (and no valid name either).
        let e = Location::parse("oci://reg.example/repo@x", None).unwrap_err();
        assert!(!e.to_string().contains("credentials"), "{e}");
    }
}
