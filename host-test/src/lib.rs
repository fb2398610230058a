//! A wasmtime host for the kloset-oci component: it loads the component once
//! ([`Backend`]), connects stores ([`Store`]) whose only outgoing HTTP goes to the
//! location's registry, and streams objects in and out of them in 1 MiB chunks.

pub mod address_policy;
mod allow_list;
mod backend;
pub mod bench;
mod bindings;
pub mod compile_cache;
mod connection_error;
pub mod credentials;
pub mod docker_config;
mod error;
pub mod faults;
mod hooks;
mod host_digest;
mod layer_stats;
pub mod local_registry;
mod location;
pub mod metadata;
mod oci_pull;
mod pool;
mod request_timing;
mod secret;
mod state;
mod stats;
mod store;
mod timed_body;
mod tls_client;
mod tls_trust;
mod types;
pub mod xorshift;

pub use backend::{default_component_path, Backend, HostSettings, BUILD_COMMAND, COMPONENT_ENV};
pub use error::{ErrorKind, StoreError};
pub use layer_stats::{stats_line, LayerStats};
pub use location::AllowedAuthority;
pub use oci_pull::{
    ComponentReference, Digest, PullOptions, PulledComponent, Puller, MAX_COMPONENT_SIZE,
    OCI_MANIFEST, PULL_CACHE_ENV, WASM_LAYER,
};
pub use pool::{ConnectionPool, PoolStats};
pub use secret::Secret;
pub use stats::RequestStats;
pub use store::{Store, CHUNK_SIZE};
pub use tls_trust::CaBundle;
pub use types::{mac_hex, parse_mac, ByteRange, Kind, Mac, Mode};
