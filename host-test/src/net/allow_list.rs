//! The hosts a store's component may reach: the location's authority, plus only those the
//! registry itself named in its answers: the `realm` of a `WWW-Authenticate: Bearer`
//! challenge, and the `Location` of a redirect, both from the location's registry. A host
//! that a storage host or CDN names in turn is not admitted (a redirect chain past the first
//! hop ends in a `denied` error). Nothing else. At most [`MAX_LEARNED`] hosts are learned.

use std::sync::Mutex;

use crate::net::location::AllowedAuthority;
use kloset_oci::auth::challenge::{self, Challenge};
use kloset_oci::url;

/// The most hosts learned from answers.
pub const MAX_LEARNED: usize = 16;

pub struct AllowList {
    origin: AllowedAuthority,
    learned: Mutex<Vec<AllowedAuthority>>,
}

impl AllowList {
    pub fn new(origin: AllowedAuthority) -> Self {
        AllowList {
            origin,
            learned: Mutex::new(Vec::new()),
        }
    }

    fn learned(&self) -> std::sync::MutexGuard<'_, Vec<AllowedAuthority>> {
        self.learned.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `uri` is on the location's own authority (the operator's choice), rather
    /// than on a host the registry named.
    pub fn is_origin(&self, uri: &http::Uri) -> bool {
        self.origin.allows(uri)
    }

    /// The location's host, as written (`[::1]` with brackets).
    pub fn origin_host(&self) -> &str {
        self.origin.host()
    }

    pub fn allows(&self, uri: &http::Uri) -> bool {
        self.origin.allows(uri) || self.learned().iter().any(|a| a.allows(uri))
    }

    /// Learns the hosts an answer to a request for `uri` names (call only for admitted
    /// requests).
    pub fn learn_from(&self, uri: &http::Uri, status: u16, headers: &http::HeaderMap) {
        if !self.origin.allows(uri) {
            return; // only the registry names hosts
        }
        if (300..400).contains(&status) {
            if let Some(target) = headers.get(http::header::LOCATION) {
                // Resolved as the component resolves the Location it follows (absolute,
                // `//host/path` with the request's scheme, or on the same host).
                let target = target.to_str().unwrap_or("").trim();
                self.learn(&url::resolve(&uri.to_string(), target));
            }
        }
        if status == 401 {
            // The realm the component will ask for a token: the same parser decides.
            let values = headers.get_all(http::header::WWW_AUTHENTICATE);
            let values = values.iter().filter_map(|v| v.to_str().ok());
            if let Some(Challenge::Bearer { realm, .. }) = challenge::parse(values) {
                self.learn(&realm);
            }
        }
    }

    /// Admits the authority of an absolute http(s) URL; a relative one names no new host.
    fn learn(&self, url: &str) {
        let Ok(uri) = url.parse::<http::Uri>() else {
            return;
        };
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return;
        };
        if !matches!(scheme, "http" | "https") || self.allows(&uri) {
            return;
        }
        // Plain http only where the store itself is plain http: an https store's named hosts
        // are https, loopback or not (the component refuses the downgrade too).
        let Ok(allowed) = AllowedAuthority::from_authority(authority.as_str(), self.origin.plain())
        else {
            return;
        };
        let mut learned = self.learned();
        if learned.len() < MAX_LEARNED {
            learned.push(allowed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> http::Uri {
        text.parse().unwrap()
    }

    fn list() -> AllowList {
        AllowList::new(AllowedAuthority::from_location("oci://127.0.0.1:5000/repo").unwrap())
    }

    #[test]
    fn a_bearer_realm_from_the_registry_is_admitted() {
        let list = list();
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::WWW_AUTHENTICATE,
            r#"Bearer realm="http://127.0.0.1:6000/token",service="s",scope="x""#
                .parse()
                .unwrap(),
        );
        assert!(!list.allows(&uri("http://127.0.0.1:6000/token")));
        // Not from the registry: ignored.
        list.learn_from(&uri("http://127.0.0.9:1/v2/"), 401, &headers);
        assert!(!list.allows(&uri("http://127.0.0.1:6000/token")));
        list.learn_from(&uri("http://127.0.0.1:5000/v2/"), 401, &headers);
        assert!(list.allows(&uri("http://127.0.0.1:6000/token?scope=y")));
        assert!(!list.allows(&uri("http://127.0.0.1:6001/token")));
    }

    /// A realm without a port admits its scheme's port only, and an https store's realm
    /// only over https, loopback or not.
    #[test]
    fn a_realm_without_a_port_admits_only_its_schemes_port() {
        for (registry, realm) in [
            ("oci://registry.example/repo", "auth.example"),
            ("oci://127.0.0.1:5000/repo", "127.0.0.3"),
        ] {
            let options = [("plain_http".to_string(), "false".to_string())];
            let origin = AllowedAuthority::for_store(registry, &options).unwrap();
            let list = AllowList::new(origin);
            let mut headers = http::HeaderMap::new();
            let challenge = format!(r#"Bearer realm="https://{realm}/token""#);
            headers.insert(http::header::WWW_AUTHENTICATE, challenge.parse().unwrap());
            let registry_uri = match registry.contains("5000") {
                true => "https://127.0.0.1:5000/v2/",
                false => "https://registry.example/v2/",
            };
            list.learn_from(&uri(registry_uri), 401, &headers);
            assert!(list.allows(&uri(&format!("https://{realm}/token"))));
            assert!(list.allows(&uri(&format!("https://{realm}:443/token"))));
            assert!(!list.allows(&uri(&format!("https://{realm}:8443/token"))));
            assert!(
                !list.allows(&uri(&format!("http://{realm}/token"))),
                "{realm}"
            );
            assert!(!list.allows(&uri(&format!("http://{realm}:443/token"))));
        }
    }

    /// Every form of challenge the component follows names a realm the host admits.
    #[test]
    fn a_bearer_realm_is_admitted_in_any_challenge_form() {
        for value in [
            r#"Basic realm="registry", Bearer realm="http://127.0.0.1:6000/token",scope="x""#,
            r#"Bearer Realm="http://127.0.0.1:6000/token""#,
            "Bearer realm=http://127.0.0.1:6000/token,service=s",
        ] {
            let list = list();
            let mut headers = http::HeaderMap::new();
            headers.insert(http::header::WWW_AUTHENTICATE, value.parse().unwrap());
            list.learn_from(&uri("http://127.0.0.1:5000/v2/"), 401, &headers);
            assert!(
                list.allows(&uri("http://127.0.0.1:6000/token?scope=y")),
                "{value}"
            );
        }
    }

    #[test]
    fn a_redirect_location_is_admitted_and_nothing_else() {
        let list = list();
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::LOCATION,
            "http://127.0.0.2:7000/blob?sig=1".parse().unwrap(),
        );
        list.learn_from(&uri("http://127.0.0.1:5000/v2/repo/blobs/x"), 200, &headers);
        assert!(!list.allows(&uri("http://127.0.0.2:7000/blob")));
        list.learn_from(&uri("http://127.0.0.1:5000/v2/repo/blobs/x"), 307, &headers);
        assert!(list.allows(&uri("http://127.0.0.2:7000/blob")));
        // A relative Location and a Basic challenge name no new host.
        let mut other = http::HeaderMap::new();
        other.insert(http::header::LOCATION, "/v2/elsewhere".parse().unwrap());
        other.insert(
            http::header::WWW_AUTHENTICATE,
            r#"Basic realm="http://127.0.0.3/""#.parse().unwrap(),
        );
        list.learn_from(&uri("http://127.0.0.1:5000/v2/"), 401, &other);
        assert!(!list.allows(&uri("http://127.0.0.3/")));
    }

    #[test]
    fn a_network_path_location_is_admitted_with_the_request_scheme() {
        let list = list();
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::LOCATION,
            "//127.0.0.4:7000/blob?sig=1".parse().unwrap(),
        );
        list.learn_from(&uri("http://127.0.0.1:5000/v2/repo/blobs/x"), 302, &headers);
        assert!(list.allows(&uri("http://127.0.0.4:7000/blob?sig=1")));
        assert!(!list.allows(&uri("http://127.0.0.4:7001/blob")));
    }

    /// A host that an admitted storage host names in turn was not named by the registry.
    #[test]
    fn a_redirect_from_a_learned_host_admits_nothing() {
        let list = list();
        let mut first = http::HeaderMap::new();
        first.insert(
            http::header::LOCATION,
            "http://127.0.0.2:7000/a".parse().unwrap(),
        );
        list.learn_from(&uri("http://127.0.0.1:5000/v2/repo/blobs/x"), 307, &first);
        assert!(list.allows(&uri("http://127.0.0.2:7000/a")));
        let mut second = http::HeaderMap::new();
        second.insert(
            http::header::LOCATION,
            "http://127.0.0.5:7000/b".parse().unwrap(),
        );
        second.insert(
            http::header::WWW_AUTHENTICATE,
            r#"Bearer realm="http://127.0.0.6:7000/token""#.parse().unwrap(),
        );
        list.learn_from(&uri("http://127.0.0.2:7000/a"), 307, &second);
        list.learn_from(&uri("http://127.0.0.2:7000/a"), 401, &second);
        assert!(!list.allows(&uri("http://127.0.0.5:7000/b")));
        assert!(!list.allows(&uri("http://127.0.0.6:7000/token")));
    }
}
