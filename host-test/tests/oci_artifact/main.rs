//! The component and the WIT package as OCI artifacts: published with `scripts/publish` (wkg)
//! to a local registry, pulled back with wkg and with an independent client, and the
//! component pulled by digest and put through the whole conformance suite; likewise the
//! self-contained component, in a host that links WASI alone.
//!
//! Needs what `scripts/test` prepares: the release artifacts of `scripts/release` (under
//! `<target>/dist`), wkg (under `<target>/tools/bin`, or on PATH) and `docker-registry`.

#[path = "../common/mod.rs"]
mod common;
#[path = "../suite/mod.rs"]
mod suite;

mod fake_registry;
mod http;
mod publish;
mod pull;
mod pull_redirects;
mod release;

use common::registry::Registry;
use suite::Setup;

/// The conformance suite on the component pushed with wkg and loaded back by digest.
static PULLED_BY_DIGEST: Setup = Setup::with_backend(
    "pulled-by-digest",
    Registry::start_new,
    Vec::new,
    release::pulled_backend,
);

conformance_suite!(pulled_by_digest, &crate::PULLED_BY_DIGEST);

/// The conformance suite on the self-contained component pulled by digest, in a host that
/// links WASI alone (no `kloset:storage/digest`).
static SELF_CONTAINED_WASI_ONLY: Setup = Setup::with_backend(
    "self-contained-wasi-only",
    Registry::start_new,
    Vec::new,
    release::pulled_self_contained_backend,
);

conformance_suite!(self_contained_wasi_only, &crate::SELF_CONTAINED_WASI_ONLY);
