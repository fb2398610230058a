//! `kloset-oci bench`: the component through this host, side by side with a native client
//! making the same HTTP requests, against one registry (a local one it starts, or
//! `--location`). Prints a Markdown table; asserts nothing about time.

mod native;
mod scale;
mod startup;
mod table;
mod workloads;

use std::fmt;
use std::path::PathBuf;

use kloset_oci_host::testkit::local_registry::{LocalRegistry, RegistryError};
use kloset_oci_host::{Backend, HostImports, StoreError};

use table::Samples;

/// What to measure, and where.
pub struct BenchArgs {
    /// The component file.
    pub component: PathBuf,
    /// The self-contained component (SHA-256 inside), measured on big objects beside the
    /// split one; none: not measured.
    pub self_contained: Option<PathBuf>,
    /// `oci://host:port/prefix` of a plain-HTTP registry; none: start a local one.
    pub location: Option<String>,
    /// Options passed to the component's `connect`.
    pub options: Vec<(String, String)>,
    /// Small sizes and few samples, to check that the bench works.
    pub quick: bool,
    /// Store sizes for the scale workload alone; empty: every workload, the scale one at
    /// its default sizes.
    pub objects: Vec<usize>,
}

/// Why the bench stopped.
#[derive(Debug)]
pub struct BenchError(pub String);

impl BenchError {
    pub fn new(e: impl fmt::Display) -> Self {
        BenchError(e.to_string())
    }
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BenchError {}

macro_rules! from_display {
    ($($t:ty),*) => {$(
        impl From<$t> for BenchError {
            fn from(e: $t) -> Self {
                BenchError::new(e)
            }
        }
    )*};
}
from_display!(
    StoreError,
    RegistryError,
    wasmtime_wasi_http::Error,
    serde_json::Error,
    std::io::Error
);

/// Sizes and sample counts.
#[derive(Clone, Copy)]
pub struct Sizes {
    pub big: usize,
    pub small: usize,
    pub samples: usize,
    pub range_reads: usize,
    pub range_objects: usize,
    pub list_objects: usize,
    pub instances: usize,
    pub processes: usize,
}

impl Sizes {
    pub const FULL: Sizes = Sizes {
        big: 64 << 20,
        small: 4 << 20,
        samples: 5,
        range_reads: 1000,
        range_objects: 4,
        list_objects: 1000,
        instances: 200,
        processes: 10,
    };
    pub const QUICK: Sizes = Sizes {
        big: 8 << 20,
        small: 1 << 20,
        samples: 2,
        range_reads: 50,
        range_objects: 2,
        list_objects: 50,
        instances: 10,
        processes: 2,
    };
}

/// Where the bench writes: a registry and a repository prefix unique to this run.
pub struct Target {
    pub authority: String,
    pub prefix: String,
    pub options: Vec<(String, String)>,
}

impl Target {
    /// `oci://authority/prefix/name`.
    pub fn location(&self, name: &str) -> String {
        format!("oci://{}/{}/{name}", self.authority, self.prefix)
    }

    /// `prefix/name`, the repository of [`Target::location`].
    pub fn repository(&self, name: &str) -> String {
        format!("{}/{name}", self.prefix)
    }
}

/// Runs every workload; returns the report (the table and what it was measured on).
pub async fn run(args: BenchArgs) -> Result<String, BenchError> {
    let sizes = if args.quick {
        Sizes::QUICK
    } else {
        Sizes::FULL
    };
    let run_id = format!(
        "{:08x}",
        kloset_oci_host::testkit::xorshift::XorShift::from_time().next_u64() as u32
    );
    if !args.objects.is_empty() {
        progress("loading the component");
        let backend = Backend::load(&args.component)?;
        let report = scale(&args, &backend, &args.objects, &run_id).await?;
        return Ok(format!("{report}\n{}\n", mode(args.quick)));
    }
    let (registry, target) = match &args.location {
        Some(location) => (None, parse_location(location, &run_id, &args.options)?),
        None => {
            progress("starting a local registry");
            let registry = LocalRegistry::start_with_config("")?;
            let target = Target {
                authority: registry.authority(),
                prefix: format!("bench-{run_id}"),
                options: args.options.clone(),
            };
            (Some(registry), target)
        }
    };
    let mut rows = Vec::new();
    progress("start-up: compiling, loading from the cache, new instances");
    let backend = startup::rows(&args.component, &target, sizes, &mut rows).await?;
    let mut bench = workloads::Bench::new(backend.clone(), target, sizes);
    bench.all(&mut rows).await?;
    let self_contained_note = match &args.self_contained {
        Some(path) => {
            progress("the self-contained component, in a host linking WASI alone");
            let other = Backend::load_linked(path, None, HostImports::WasiOnly)?;
            bench
                .put_get_through(other, "self-contained", &mut rows)
                .await?;
            format!(
                "self-contained component: {} ({} bytes; SHA-256 in WebAssembly, only WASI imports)\n",
                path.display(),
                std::fs::metadata(path)?.len()
            )
        }
        None => "self-contained component: not measured (--self-contained FILE)\n".to_string(),
    };

    let size = std::fs::metadata(&args.component)?.len();
    let mut report = table::render(&rows);
    report.push_str(&format!(
        "\ncomponent: {} ({} bytes, {:.0} KiB)\n\
         native baseline: the same requests over the same keep-alive HTTP/1.1 pool (hyper), \
         SHA-256 by the sha2 crate (SHA-NI: {})\n\
         host connections: {} opened, {} reused; {}\n",
        args.component.display(),
        size,
        size as f64 / 1024.0,
        if sha_ni() { "yes" } else { "no" },
        backend.pool().stats().connections_opened,
        backend.pool().stats().reused,
        mode(args.quick),
    ));
    report.push_str(&self_contained_note);
    drop(registry);
    let counts: &[usize] = if args.quick {
        &scale::QUICK_COUNTS
    } else {
        &scale::FULL_COUNTS
    };
    report.push_str(&scale(&args, &backend, counts, &run_id).await?);
    Ok(report)
}

/// `quick mode`, or `full mode`, and whether the host is a debug build.
fn mode(quick: bool) -> String {
    let mode = if quick { "quick" } else { "full" };
    let build = if cfg!(debug_assertions) {
        " (debug build of the host)"
    } else {
        ""
    };
    format!("{mode} mode{build}")
}

/// The scale workload at `counts` objects.
async fn scale(
    args: &BenchArgs,
    backend: &Backend,
    counts: &[usize],
    run_id: &str,
) -> Result<String, BenchError> {
    scale::run(scale::Scale {
        backend,
        location: args.location.as_deref(),
        options: &args.options,
        counts,
        quick: args.quick,
        run_id,
    })
    .await
}

/// `oci://host:port/prefix`: the bench writes under `prefix/bench-<run>/...`.
fn parse_location(
    location: &str,
    run_id: &str,
    options: &[(String, String)],
) -> Result<Target, BenchError> {
    let rest = location
        .strip_prefix("oci://")
        .ok_or_else(|| BenchError::new("--location must be oci://host:port/prefix"))?;
    let (authority, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = prefix.trim_matches('/');
    let prefix = if prefix.is_empty() {
        format!("bench-{run_id}")
    } else {
        format!("{prefix}/bench-{run_id}")
    };
    Ok(Target {
        authority: authority.to_string(),
        prefix,
        options: options.to_vec(),
    })
}

fn sha_ni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("sha")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

pub(crate) fn progress(what: &str) {
    eprintln!("bench: {what}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_gives_a_prefix_unique_to_the_run() {
        let t = parse_location("oci://127.0.0.1:5000/perf", "ab", &[]).unwrap();
        assert_eq!(t.authority, "127.0.0.1:5000");
        assert_eq!(t.location("x"), "oci://127.0.0.1:5000/perf/bench-ab/x");
        let t = parse_location("oci://127.0.0.1:5000", "ab", &[]).unwrap();
        assert_eq!(t.repository("x"), "bench-ab/x");
        assert!(parse_location("http://x/y", "ab", &[]).is_err());
    }
}
