//! Which network addresses a store's connections may reach: a registry on the internet cannot
//! steer the component into the operator's network.
//!
//! The allow-list admits hosts by name: the location's, and those its registry names (a token
//! realm, a redirect). A name says nothing of where it leads, so the addresses are checked
//! when a connection is made, on the very addresses the connection then uses (a name that
//! resolves to a public address when checked and to an internal one when connecting, DNS
//! rebinding, gains nothing):
//!
//! - the location's own host may be anywhere: the operator chose it;
//! - a host the registry named may be anywhere when the registry itself is internal (a
//!   registry on loopback or a private network naming its token server there);
//! - otherwise a named host may not resolve to an internal address: loopback, link-local
//!   (169.254.0.0/16, fe80::/10), private (RFC 1918, fc00::/7) or unspecified, IPv4 inside
//!   IPv6 included. `HostSettings::private_hosts` (`-o private_hosts=true`) widens this for
//!   operators whose public registry names a token server on their private network.
//!
//! A name that resolves to no address allowed is refused with `denied` before any connection
//! (wasi:http's `HTTP-request-denied`, as a host off the allow-list is), and pooled
//! connections are kept apart by what they may reach: one made for the location is never
//! reused for a learned host of another store that names the same authority.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

/// Where a connection may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reach {
    /// Any address the name resolves to.
    Anywhere,
    /// Only addresses that are not internal.
    PublicOnly,
}

/// Whether an address belongs to the operator's own network rather than the internet.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified()
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local, fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local, fe80::/10
        }
    }
}

/// What a resolver gives: the addresses of `host:port`.
pub type Resolved = Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>>;

/// Name resolution and the judgment of addresses, injectable so that tests can play a
/// remote registry on loopback.
pub trait Resolver: Send + Sync + std::fmt::Debug {
    fn resolve(&self, host: &str, port: u16) -> Resolved;
    /// Whether `ip` counts as internal; the system's answer is [`is_internal`].
    fn is_internal(&self, ip: IpAddr) -> bool {
        is_internal(ip)
    }
}

/// The system's resolver (`getaddrinfo` through tokio).
#[derive(Debug)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn resolve(&self, host: &str, port: u16) -> Resolved {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Box::pin(async move { Ok(tokio::net::lookup_host((host, port)).await?.collect()) })
    }
}

/// The resolver and what a connection may reach: what the pool connects with.
#[derive(Clone)]
pub struct ConnectPolicy {
    pub resolver: Arc<dyn Resolver>,
    pub reach: Reach,
}

impl ConnectPolicy {
    /// Anywhere, through the system's resolver.
    pub fn anywhere() -> ConnectPolicy {
        ConnectPolicy {
            resolver: Arc::new(SystemResolver),
            reach: Reach::Anywhere,
        }
    }

    /// Whether `host` resolves to an internal address (a registry on the operator's own
    /// network, whose named hosts may be internal too). A name that does not resolve is not.
    pub async fn is_internal_host(&self, host: &str, port: u16) -> bool {
        match self.resolver.resolve(host, port).await {
            Ok(addresses) => addresses.iter().any(|a| self.resolver.is_internal(a.ip())),
            Err(_) => false,
        }
    }

    /// The addresses of `host:port` this policy lets a connection use, in the resolver's
    /// order; an error naming the host (never an address list) when there is none.
    pub async fn addresses(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        let all = self.resolver.resolve(host, port).await?;
        let allowed: Vec<SocketAddr> = all
            .iter()
            .copied()
            .filter(|a| self.reach == Reach::Anywhere || !self.resolver.is_internal(a.ip()))
            .collect();
        if allowed.is_empty() && !all.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{host} resolves only to internal addresses, which a registry on the \
                     internet may not send this host to (see private_hosts)"
                ),
            ));
        }
        Ok(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resolves every name to the addresses it was given.
    #[derive(Debug)]
    struct Fixed(Vec<&'static str>);

    impl Resolver for Fixed {
        fn resolve(&self, _host: &str, port: u16) -> Resolved {
            let addresses = self
                .0
                .iter()
                .map(|ip| SocketAddr::new(ip.parse().unwrap(), port))
                .collect();
            Box::pin(async move { Ok(addresses) })
        }
    }

    fn policy(reach: Reach, addresses: Vec<&'static str>) -> ConnectPolicy {
        ConnectPolicy {
            resolver: Arc::new(Fixed(addresses)),
            reach,
        }
    }

    #[tokio::test]
    async fn a_named_host_uses_only_its_public_addresses() {
        let mixed = vec!["10.0.0.7", "93.184.216.34", "169.254.169.254"];
        let allowed = policy(Reach::PublicOnly, mixed.clone())
            .addresses("tokens.example", 443)
            .await
            .unwrap();
        assert_eq!(allowed, ["93.184.216.34:443".parse().unwrap()]);
        let all = policy(Reach::Anywhere, mixed)
            .addresses("tokens.example", 443)
            .await
            .unwrap();
        assert_eq!(all.len(), 3);
    }

    #[tokio::test]
    async fn a_named_host_with_only_internal_addresses_is_refused_by_name() {
        let e = policy(Reach::PublicOnly, vec!["127.0.0.1", "fd00::1"])
            .addresses("tokens.example", 443)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        assert!(e.to_string().contains("tokens.example"), "{e}");
        assert!(!e.to_string().contains("127.0.0.1"), "no address list: {e}");
        assert!(policy(Reach::Anywhere, vec!["127.0.0.1"])
            .addresses("tokens.example", 443)
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn a_host_is_internal_when_any_address_is() {
        let p = policy(Reach::Anywhere, vec!["93.184.216.34", "192.168.0.2"]);
        assert!(p.is_internal_host("registry.example", 443).await);
        let p = policy(Reach::Anywhere, vec!["93.184.216.34"]);
        assert!(!p.is_internal_host("registry.example", 443).await);
    }

    #[test]
    fn internal_addresses_are_the_operators_network() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in [
            "8.8.8.8",
            "172.32.0.1",
            "192.169.0.1",
            "2001:db8::1",
            "::ffff:1.1.1.1",
        ] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }
}
