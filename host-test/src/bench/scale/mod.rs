//! The scale workload: how a store's costs grow with the objects it holds. For each
//! registry implementation it can start (or the registry of `--location`), one store is
//! filled to each size in turn by several instances at once, and measured at each: `list`
//! of each kind beside the native client's tag listing, `open`, a put, a first and a known
//! get, and the memory of one list (docs/performance-scale.md).

mod fill;
mod measure;
mod render;
mod rss;

use std::time::Instant;

use super::native::NativeClient;
use super::{progress, BenchError, Target};
use fill::Contents;
use kloset_oci_host::testkit::local_registry::{Implementation, LocalRegistry};
use kloset_oci_host::testkit::xorshift::XorShift;
use kloset_oci_host::{Backend, ConnectionPool};
use measure::{Measure, Runs};

/// Store sizes of a full run, and of a quick one.
pub const FULL_COUNTS: [usize; 2] = [1_000, 10_000];
pub const QUICK_COUNTS: [usize; 2] = [50, 500];
/// The largest store size asked for on the command line.
pub const MAX_COUNT: usize = 1_000_000;

const FULL_RUNS: Runs = Runs { lists: 3, ops: 5 };
const QUICK_RUNS: Runs = Runs { lists: 2, ops: 3 };

/// The registries of a run without `--location`.
const IMPLEMENTATIONS: [Implementation; 2] =
    [Implementation::Distribution2, Implementation::Distribution3];

/// What the scale workload measures, and where.
pub struct Scale<'a> {
    pub backend: &'a Backend,
    /// The `--location` registry; none: start each of [`IMPLEMENTATIONS`] locally.
    pub location: Option<&'a str>,
    pub options: &'a [(String, String)],
    pub counts: &'a [usize],
    pub quick: bool,
    pub run_id: &'a str,
}

/// Checks the store sizes asked for: each in `1..=MAX_COUNT`; returns them in increasing
/// order, each once.
pub fn checked_counts(counts: &[usize]) -> Result<Vec<usize>, BenchError> {
    if let Some(bad) = counts.iter().find(|&&n| n == 0 || n > MAX_COUNT) {
        return Err(BenchError::new(format!(
            "--objects {bad}: each size must be 1 to {MAX_COUNT}"
        )));
    }
    let mut counts = counts.to_vec();
    counts.sort_unstable();
    counts.dedup();
    Ok(counts)
}

/// Runs the workload on every registry; returns a table per registry.
pub async fn run(scale: Scale<'_>) -> Result<String, BenchError> {
    let counts = checked_counts(scale.counts)?;
    let mut report = String::new();
    match scale.location {
        Some(location) => {
            let target = super::parse_location(location, scale.run_id, scale.options)?;
            let title = format!("the registry at {}", target.authority);
            report.push_str(&registry(&scale, &counts, &title, &target).await?);
        }
        None => {
            for implementation in IMPLEMENTATIONS {
                progress(&format!("starting {implementation}"));
                let started = LocalRegistry::start_implementation(implementation, "");
                let local = match started {
                    Ok(local) => local,
                    Err(e) => {
                        let why = e.to_string();
                        let why = why.lines().next().unwrap_or_default();
                        report.push_str(&format!("\n{implementation}: not measured: {why}\n"));
                        continue;
                    }
                };
                let target = Target {
                    authority: local.authority(),
                    prefix: format!("scale-{}", scale.run_id),
                    options: scale.options.to_vec(),
                };
                let title = implementation.to_string();
                report.push_str(&registry(&scale, &counts, &title, &target).await?);
            }
        }
    }
    Ok(report)
}

/// One registry: one store grown to each size in turn, a row per size.
async fn registry(
    scale: &Scale<'_>,
    counts: &[usize],
    title: &str,
    target: &Target,
) -> Result<String, BenchError> {
    let location = target.location("store");
    let mut rng = XorShift::from_time();
    progress(&format!("{title}: creating the store"));
    scale
        .backend
        .connect(&location, &target.options)
        .await?
        .create(b"kloset-oci bench scale")
        .await?;
    let measure = Measure {
        backend: scale.backend,
        location: location.clone(),
        options: &target.options,
        native: NativeClient::new(
            ConnectionPool::new(),
            &target.authority,
            &target.repository("store"),
        ),
        runs: if scale.quick { QUICK_RUNS } else { FULL_RUNS },
    };
    let mut contents = Contents::default();
    let mut rows = Vec::new();
    let started = Instant::now();
    for &count in counts {
        // The measured puts count too: fill up to the size asked for.
        let to = count.saturating_sub(contents.measured_packfiles);
        let added = to.saturating_sub(contents.filled);
        progress(&format!("{title}: filling the store to {count} objects"));
        let took = fill::fill(
            scale.backend,
            &location,
            &target.options,
            &mut contents,
            to,
            &mut rng,
        )
        .await?;
        progress(&format!("{title}: measuring at {count} objects"));
        let mut row = measure.row(&mut contents, &mut rng).await?;
        row.objects = count;
        row.fill = (added, took);
        rows.push(row);
    }
    Ok(format!(
        "\n{title}: one store, filled by {} instances at once with objects of a few hundred \
         bytes (of every 50: 45 packfiles, 4 states, 1 lock); medians of {} lists and {} \
         other operations; {:.0} s in all\n\n{}",
        fill::WORKERS,
        measure.runs.lists,
        measure.runs.ops,
        started.elapsed().as_secs_f64(),
        render::render(&rows)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_sorted_once_each_and_bounded() {
        assert_eq!(checked_counts(&[100, 10, 100]).unwrap(), vec![10, 100]);
        assert!(checked_counts(&[0]).is_err());
        assert!(checked_counts(&[MAX_COUNT + 1]).is_err());
    }
}
