//! The conformance suite against each registry implementation the project tests, over plain
//! HTTP on loopback (docs/registries.md).
//!
//! Needs `docker-registry` (distribution 2.8.x) on PATH, distribution 3 and crane where
//! scripts/setup.sh installs them (`KLOSET_OCI_DISTRIBUTION3_BIN`, `KLOSET_OCI_CRANE_BIN`),
//! and the component built with `cargo build --release -p kloset-oci --target wasm32-wasip2`
//! (or `KLOSET_OCI_COMPONENT`).

use crate::common::registry::Registry;
use crate::suite::Setup;

/// Distribution over plain HTTP on loopback: no options needed.
static PLAIN_HTTP: Setup = Setup::new("distribution-plain-http", Registry::start_new, Vec::new);

crate::conformance_suite!(distribution_plain_http, &crate::conformance::PLAIN_HTTP);

/// Distribution 3 over plain HTTP: 2.8's config, and its own `garbage-collect`.
static DISTRIBUTION3: Setup = Setup::new(
    "distribution3-plain-http",
    Registry::start_distribution3,
    Vec::new,
);

crate::conformance_suite!(distribution3_plain_http, &crate::conformance::DISTRIBUTION3);

/// go-containerregistry's registry over plain HTTP: no garbage collector, and its manifests
/// live in memory only.
static CRANE: Setup =
    Setup::new("crane-plain-http", Registry::start_crane, Vec::new).without_garbage_collector();

crate::conformance_suite!(crane_plain_http, &crate::conformance::CRANE);

/// Distribution refusing deletes (`storage.delete.enabled: false`: 405 `UNSUPPORTED`, as
/// Docker Hub and GHCR answer): every delete buries the object (`src/tombstone.rs`).
static NO_DELETES: Setup = Setup::new(
    "distribution-no-deletes",
    Registry::start_without_deletes,
    Vec::new,
);

crate::conformance_suite!(distribution_no_deletes, &crate::conformance::NO_DELETES);

/// The same registry reached with `plain_http=true` spelled out.
fn explicit_plain_http() -> Vec<(String, String)> {
    vec![("plain_http".to_string(), "true".to_string())]
}

static EXPLICIT_PLAIN_HTTP: Setup = Setup::new(
    "distribution-explicit-plain-http",
    Registry::start_new,
    explicit_plain_http,
);

#[test]
fn explicit_plain_http_round_trip() {
    crate::suite::fixture::run_case(&EXPLICIT_PLAIN_HTTP, "explicit_plain_http", |fx| {
        Box::pin(crate::suite::objects::round_trip_lock(fx))
    });
}
