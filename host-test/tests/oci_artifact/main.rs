//! The component and the WIT package as OCI artifacts: published with `scripts/publish` (wkg)
//! to a local registry, pulled back with wkg and with an independent client, and the
//! component pulled by digest and put through the whole conformance suite.
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
