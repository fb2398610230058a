//! The registry a location names: `oci://host[:port]/repository/path` -> host and port, by
//! the component crate's parser ([`Location`]). The host uses it to decide which authority
//! the component may reach.

use http::uri::{Authority, Scheme};
use kloset_oci::location::Location;
use kloset_oci::options::Options;

use crate::error::{ErrorKind, StoreError};

/// The one authority a store's component may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedAuthority {
    /// Lowercase host; IPv6 addresses keep their brackets (`[::1]`).
    host: String,
    /// The explicit port of the location, if any.
    port: Option<u16>,
    /// Whether the store may use plain http (as the component decides: the `plain_http`
    /// option, else loopback hosts only). Otherwise only https reaches the location.
    plain: bool,
}

impl AllowedAuthority {
    /// Reads the authority of an `oci://` location, for a store opened without options.
    pub fn from_location(location: &str) -> Result<Self, StoreError> {
        Self::for_store(location, &[])
    }

    /// Reads the authority of an `oci://` location and, from the store's `plain_http`
    /// option, the schemes it may be reached by. An option value the component will refuse
    /// counts as absent here: the store never connects.
    pub fn for_store(location: &str, options: &[(String, String)]) -> Result<Self, StoreError> {
        // The component's own reading of the options; options it will refuse count as none.
        let plain_http = Options::parse(options).ok().and_then(|o| o.plain_http);
        // The component's own parser: the same rules, the same messages (none quotes a
        // location that holds credentials).
        let parsed = Location::parse(location, plain_http)?;
        Self::from_authority(&parsed.authority, parsed.scheme == "http")
    }

    /// `host[:port]`, reachable over https, and over plain http too where `plain`.
    pub fn from_authority(authority: &str, plain: bool) -> Result<Self, StoreError> {
        let parsed: Authority = authority.parse().map_err(|_| {
            StoreError::new(
                ErrorKind::InvalidConfig,
                format!("malformed registry address {authority:?}"),
            )
        })?;
        Ok(AllowedAuthority {
            host: parsed.host().to_ascii_lowercase(),
            port: parsed.port_u16(),
            plain,
        })
    }

    /// Whether a request URI targets this authority: same host, and the same port, where
    /// a missing port is the scheme's default (80 for http, 443 for https) on either side;
    /// plain http only for a plain-http store (security review: `http://host:80` of an
    /// https location without a port was admitted).
    pub fn allows(&self, uri: &http::Uri) -> bool {
        if uri.scheme() == Some(&Scheme::HTTP) && !self.plain {
            return false;
        }
        let Some(authority) = uri.authority() else {
            return false;
        };
        if authority.as_str().contains('@') {
            return false;
        }
        let Some(default_port) = default_port(uri.scheme()) else {
            return false;
        };
        let request_port = authority.port_u16().unwrap_or(default_port);
        let allowed_port = self.port.unwrap_or(default_port);
        authority.host().eq_ignore_ascii_case(&self.host) && request_port == allowed_port
    }

    /// Whether plain http may reach it.
    pub fn plain(&self) -> bool {
        self.plain
    }

    /// The host, lowercase (`[::1]` with brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `host[:port]`, for messages.
    pub fn display(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }
}

fn default_port(scheme: Option<&Scheme>) -> Option<u16> {
    match scheme {
        Some(s) if *s == Scheme::HTTP => Some(80),
        Some(s) if *s == Scheme::HTTPS => Some(443),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> http::Uri {
        s.parse().unwrap()
    }

    #[test]
    fn explicit_port_must_match() {
        let a = AllowedAuthority::from_location("oci://127.0.0.1:5000/repo/x").unwrap();
        assert!(a.allows(&uri("http://127.0.0.1:5000/v2/")));
        assert!(a.allows(&uri("https://127.0.0.1:5000/v2/")));
        assert!(!a.allows(&uri("http://127.0.0.1:5001/v2/")));
        assert!(!a.allows(&uri("http://127.0.0.1/v2/")));
        assert!(!a.allows(&uri("http://127.0.0.2:5000/v2/")));
        assert!(!a.allows(&uri("http://example.com:5000/v2/")));
    }

    #[test]
    fn missing_port_is_the_scheme_default() {
        let a = AllowedAuthority::from_location("oci://Registry.Example/repo").unwrap();
        assert!(a.allows(&uri("https://registry.example/v2/")));
        assert!(a.allows(&uri("https://registry.example:443/v2/")));
        assert!(
            !a.allows(&uri("http://registry.example:80/v2/")),
            "not plain http"
        );
        assert!(
            !a.allows(&uri("http://registry.example/v2/")),
            "not plain http"
        );
        assert!(!a.allows(&uri("https://registry.example:8443/v2/")));
        assert!(!a.allows(&uri("https://other.example/v2/")));
    }

    #[test]
    fn plain_http_only_for_a_plain_http_store() {
        let opts = |v: &str| vec![("plain_http".to_string(), v.to_string())];
        let plain = AllowedAuthority::for_store("oci://registry.example/r", &opts("true")).unwrap();
        assert!(plain.allows(&uri("http://registry.example/v2/")));
        assert!(plain.allows(&uri("https://registry.example/v2/")));
        // Loopback is plain by default, unless the store says https.
        let tls = AllowedAuthority::for_store("oci://127.0.0.1:5000/r", &opts("false")).unwrap();
        assert!(!tls.allows(&uri("http://127.0.0.1:5000/v2/")));
        assert!(tls.allows(&uri("https://127.0.0.1:5000/v2/")));
        let v6 = AllowedAuthority::from_location("oci://[::1]:5000/r").unwrap();
        assert!(v6.allows(&uri("http://[::1]:5000/v2/")));
    }

    #[test]
    fn ipv6_and_userinfo() {
        let a = AllowedAuthority::from_location("oci://[::1]:5000/repo").unwrap();
        assert!(a.allows(&uri("http://[::1]:5000/v2/")));
        assert!(!a.allows(&uri("http://[::2]:5000/v2/")));
        assert!(AllowedAuthority::from_location("oci://u:p@host/repo").is_err());
    }

    #[test]
    fn malformed_locations() {
        for bad in ["", "http://host/repo", "oci://", "oci:///repo"] {
            let err = AllowedAuthority::from_location(bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidConfig, "{bad:?}");
        }
    }
}
