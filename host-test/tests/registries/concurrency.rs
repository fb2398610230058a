//! The concurrency suite (tests/registries/concurrent/) against each registry implementation the project
//! tests, over plain HTTP on loopback. Its counts are printed: run with `--show-output`.

#[allow(dead_code)] // the conformance cases are compiled here for the fixture, not run
use crate::common::registry::Registry;
use crate::suite::Setup;

/// distribution 2.8 (Debian's `docker-registry`).
static DISTRIBUTION: Setup = Setup::new("distribution", Registry::start_new, Vec::new);

crate::concurrency_suite!(concurrent_distribution, &crate::concurrency::DISTRIBUTION);

/// distribution 3 (`registry`, installed by scripts/setup.sh).
static DISTRIBUTION3: Setup = Setup::new("distribution3", Registry::start_distribution3, Vec::new);

crate::concurrency_suite!(concurrent_distribution3, &crate::concurrency::DISTRIBUTION3);

/// go-containerregistry's registry (`crane registry serve`, installed by scripts/setup.sh).
static CRANE: Setup =
    Setup::new("crane", Registry::start_crane, Vec::new).without_garbage_collector();

crate::concurrency_suite!(concurrent_crane, &crate::concurrency::CRANE);

/// Distribution refusing deletes (as Docker Hub and GHCR do): deletes and a create's
/// candidates are buried under tombstones (`src/tombstone.rs`).
static NO_DELETES: Setup = Setup::new(
    "distribution-no-deletes",
    Registry::start_without_deletes,
    Vec::new,
);

crate::concurrency_suite!(
    concurrent_distribution_no_deletes,
    &crate::concurrency::NO_DELETES
);
