//! The conformance suite against a local distribution registry over plain HTTP.
//!
//! Needs `docker-registry` (distribution 2.8.x) on PATH and the component built with
//! `cargo build --release -p kloset-oci --target wasm32-wasip2` (or `KLOSET_OCI_COMPONENT`).

mod common;
mod suite;

use common::registry::Registry;
use suite::Setup;

/// Distribution over plain HTTP on loopback: no options needed.
static PLAIN_HTTP: Setup = Setup::new("distribution-plain-http", Registry::start_new, Vec::new);

conformance_suite!(distribution_plain_http, &crate::PLAIN_HTTP);

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
    suite::fixture::run_case(&EXPLICIT_PLAIN_HTTP, "explicit_plain_http", |fx| {
        Box::pin(suite::objects::round_trip_lock(fx))
    });
}
