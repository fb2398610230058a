//! A wasmtime host for the kloset-oci component: it loads the component once
//! ([`Backend`]), connects stores ([`Store`]) whose only outgoing HTTP goes to the
//! location's registry, and streams objects in and out of them in 1 MiB chunks.
//!
//! The modules, each using only modules below it in this list (`docs/architecture.md`):
//!
//! - `store`: a connected [`Store`], the typed API over one component instance, and
//!   `Backend::connect`, which makes one;
//! - `pull`: a component pulled from a registry by reference ([`Puller`]), then loaded;
//! - [`runtime`]: the engine and the compiled component ([`Backend`]), the generated
//!   bindings and the state of one instance;
//! - [`credentials`]: the command's `-o` options and Docker's `config.json` sorted into
//!   credentials;
//! - [`net`]: the outgoing HTTP of a store: allow-list, address policy, connection pool, TLS;
//! - `error`: [`StoreError`], the one error type of every module.
//!
//! `testkit` (a local registry, seeded bytes; with the cargo feature `testkit`, as fault
//! injection in `net`) serves the tests and the bench and is used by none of the above; [`metadata`] is the package metadata a release stamps into a component.

pub mod credentials;
mod error;
pub mod metadata;
pub mod net;
mod pull;
pub mod runtime;
mod store;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use credentials::Secret;
pub use error::{ErrorKind, StoreError};
pub use net::location::AllowedAuthority;
pub use net::pool::{ConnectionPool, PoolStats};
pub use net::settings::HostSettings;
pub use net::stats::RequestStats;
pub use net::tls::CaBundle;
pub use pull::{
    ComponentReference, Digest, PullOptions, PulledComponent, Puller, MAX_COMPONENT_SIZE,
    OCI_MANIFEST, PULL_CACHE_ENV, WASM_LAYER,
};
pub use runtime::backend::{
    default_component_path, self_contained_component_path, Backend, HostImports, BUILD_COMMAND,
    BUILD_COMMAND_SELF_CONTAINED, COMPONENT_ENV,
};
pub use store::layer_stats::{stats_line, LayerStats};
pub use store::types::{mac_hex, parse_mac, ByteRange, Kind, Mac, Mode};
pub use store::{Store, CHUNK_SIZE};
