//! What the host adds to a store's requests, beside the location and the options the
//! component reads: the settings the hooks follow.

use std::sync::Arc;

use crate::net::address_policy::Resolver;
#[cfg(feature = "testkit")]
use crate::net::faults::FaultInjector;
use crate::net::tls::CaBundle;

/// What the host adds to a store's requests, beside the location and the options the
/// component reads.
#[derive(Clone, Debug, Default)]
pub struct HostSettings {
    /// Trust anchors for https beside the system's roots (`--ca-file`, `-o ca_file=`).
    pub ca: Option<CaBundle>,
    /// Faults injected into the store's requests (the test kit's: the feature `testkit`).
    /// Shared, so that several stores can draw from one seeded sequence and its counts can be
    /// read afterwards.
    #[cfg(feature = "testkit")]
    pub faults: Option<Arc<FaultInjector>>,
    /// Let hosts the registry names (token realms, redirects) resolve to internal addresses
    /// even where the registry itself is not internal (`-o private_hosts=true`): for a
    /// public registry whose token server is on the operator's network. See
    /// [`address_policy`](crate::net::address_policy).
    pub private_hosts: bool,
    /// Name resolution for connections; `None`: the system's. Tests give one that plays a
    /// remote registry on loopback.
    pub resolver: Option<Arc<dyn Resolver>>,
}
