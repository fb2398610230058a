//! The private-address policy (`host-test/src/net/address_policy.rs`) with a real registry
//! and token service: a registry on the internet may not send the store into the operator's
//! network.
//!
//! Everything runs on loopback. A test resolver plays the network: 127.0.0.2 is the
//! operator's ("internal"), every other address the internet, and names under `.test`
//! resolve to 127.0.0.2. The registry (127.0.0.1, so "public") names a token realm on
//! 127.0.0.2, by address or by name: the token service must see no request unless the
//! host option `private_hosts` allows it.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use crate::common::auth::{self, material, PASSWORD, USER};
use crate::common::registry::Registry;
use crate::common::token_service::{Policy, TokenService};
use kloset_oci_host::net::address_policy::{Resolved, Resolver};
use kloset_oci_host::{Backend, ErrorKind, HostSettings};

const INTERNAL: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

#[derive(Debug)]
struct LoopbackNetwork;

impl Resolver for LoopbackNetwork {
    fn resolve(&self, host: &str, port: u16) -> Resolved {
        let ip = match host.ends_with(".test") {
            true => Ok(INTERNAL),
            false => host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .map_err(io::Error::other),
        };
        Box::pin(async move { Ok(vec![SocketAddr::new(ip?, port)]) })
    }

    fn is_internal(&self, ip: IpAddr) -> bool {
        ip == INTERNAL
    }
}

/// A token service on 127.0.0.2 and a registry naming it as `realm_host` (its address, or a
/// `.test` name that resolves to it).
fn start(realm_host: &str) -> (Registry, TokenService) {
    let policy = Policy {
        user: Some((USER.into(), PASSWORD.into())),
        user_actions: Policy::actions(&["pull", "push", "delete"]),
        anonymous_actions: Vec::new(),
        lifetime_secs: 300,
    };
    let service = TokenService::start_on(&material().pki, policy, "127.0.0.2");
    let yaml = service
        .registry_auth_yaml(&material().pki)
        .replace("127.0.0.2", realm_host);
    (Registry::start_with_config(&yaml), service)
}

fn settings(private_hosts: bool) -> HostSettings {
    HostSettings {
        private_hosts,
        resolver: Some(Arc::new(LoopbackNetwork)),
        ..HostSettings::default()
    }
}

/// Creates a store at a fresh location of `registry`: the first request meets the
/// registry's challenge, and the token request goes to the realm.
fn create(registry: &Registry, test: &str, settings: &HostSettings) -> Result<(), ErrorKind> {
    let location = registry.fresh_location("policy", test);
    crate::common::runtime::block_on(async {
        let backend = Backend::load_default().unwrap_or_else(|e| panic!("{e}"));
        let mut store = backend
            .connect_with(&location, &auth::basic_options(), settings)
            .await
            .map_err(|e| e.kind)?;
        store.create(b"cfg").await.map_err(|e| {
            assert!(
                !e.message.contains(PASSWORD),
                "the password in a message: {e}"
            );
            e.kind
        })
    })
}

/// The registry names its realm as `realm_host`: refused, and the token service never
/// reached; then, with `private_hosts`, served.
fn refused_unless_private_hosts(realm_host: &str, test: &str) {
    let (registry, service) = start(realm_host);
    assert_eq!(
        create(&registry, test, &settings(false)),
        Err(ErrorKind::Denied)
    );
    assert_eq!(service.requests(), 0, "the token service was reached");
    // The operator widens the policy: the same registry now works through its realm.
    create(&registry, test, &settings(true)).expect("create with private_hosts");
    assert!(service.requests() > 0, "no token was asked for");
}

#[test]
fn a_public_registry_cannot_name_an_internal_token_realm() {
    refused_unless_private_hosts("127.0.0.2", "by_address");
}

/// The realm is a name that resolves to the internal address when the connection is made:
/// the check is on the addresses the connection uses, not on the name.
#[test]
fn a_realm_name_resolving_to_an_internal_address_is_refused() {
    refused_unless_private_hosts("tokens.test", "by_name");
}

/// With the system's resolver the registry itself is on loopback, an internal address: the
/// hosts it names may be internal too (a registry and its token server on one network).
#[test]
fn an_internal_registry_may_name_an_internal_realm() {
    let (registry, service) = start("127.0.0.2");
    create(&registry, "system", &HostSettings::default()).expect("create");
    assert!(service.requests() > 0, "no token was asked for");
}
