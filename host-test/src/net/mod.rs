//! The outgoing HTTP of a store's component, and nothing else: which hosts and addresses a
//! request may reach (`hooks`, `allow_list`, `location`, [`address_policy`]), the keep-alive
//! connection pool and its timeouts (`pool`, `request_timing`, `timed_body`,
//! `connection_error`), https (`tls`), the request counters (`stats`), what the host adds to a
//! store's requests (`settings`: [`HostSettings`](crate::HostSettings)) and injected faults
//! (`faults`, with the feature `testkit` only).
//!
//! Uses nothing else of this crate but its error type: the runtime, the store, the pull and
//! the credentials use this module, never the other way round.

pub mod address_policy;
pub(crate) mod allow_list;
pub(crate) mod connection_error;
#[cfg(feature = "testkit")]
pub mod faults;
pub(crate) mod hooks;
pub(crate) mod location;
pub(crate) mod pool;
pub(crate) mod request_timing;
pub(crate) mod settings;
pub(crate) mod stats;
pub(crate) mod timed_body;
pub(crate) mod tls;
