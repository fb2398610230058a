//! Start-up: compiling the component, loading it from the compile cache, new instances from
//! the pre-instantiated component, and a whole `kloset-oci` command against curl.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::table::Row;
use super::{progress, BenchError, Sizes, Target};
use kloset_oci_host::runtime::compile_cache::{CacheOutcome, CACHE_DIR_ENV};
use kloset_oci_host::Backend;

/// Adds the start-up rows; returns a backend loaded from the cache for the other workloads.
pub async fn rows(
    component: &Path,
    target: &Target,
    sizes: Sizes,
    rows: &mut Vec<Row>,
) -> Result<Backend, BenchError> {
    let runs = sizes.samples.min(3);
    let mut cold = Row::new("load: compile, no cache (cold start)");
    for _ in 0..runs {
        let t = Instant::now();
        Backend::load_with_cache(component, None)?;
        cold.component.push(t.elapsed());
    }
    rows.push(cold);

    let cache = tempfile::Builder::new()
        .prefix("kloset-oci-bench-cache-")
        .tempdir()?;
    Backend::load_with_cache(component, Some(cache.path()))?;
    let mut warm = Row::new("load: from the compile cache");
    let mut backend = None;
    for _ in 0..sizes.samples.max(3) {
        let t = Instant::now();
        let loaded = Backend::load_with_cache(component, Some(cache.path()))?;
        warm.component.push(t.elapsed());
        if loaded.cache_outcome() != CacheOutcome::Hit {
            return Err(BenchError::new("the compile cache was not used"));
        }
        backend = Some(loaded);
    }
    rows.push(warm);
    let backend = backend.expect("loaded at least once");

    let location = target.location("instances");
    let mut instance = Row::new("new instance + connect (pre-instantiated)");
    let mut memory = 0;
    for _ in 0..sizes.instances {
        let t = Instant::now();
        let store = backend.connect(&location, &target.options).await?;
        instance.component.push(t.elapsed());
        memory = store.linear_memory();
    }
    instance.memory = Some((memory, memory));
    rows.push(instance);

    progress("start-up: whole commands");
    rows.push(commands(component, target, sizes, cache.path())?);
    Ok(backend)
}

/// `kloset-oci ping` (this executable, compile cache warm) against `curl` of `GET /v2/`.
fn commands(
    component: &Path,
    target: &Target,
    sizes: Sizes,
    cache: &Path,
) -> Result<Row, BenchError> {
    let exe = std::env::current_exe()?;
    let mut row = Row::new("command: `kloset-oci ping` vs curl");
    let mut ours = Command::new(&exe);
    ours.arg("--component")
        .arg(component)
        .arg("--location")
        .arg(target.location("commands"));
    for (key, value) in &target.options {
        ours.arg("-o").arg(format!("{key}={value}"));
    }
    ours.arg("ping").env(CACHE_DIR_ENV, cache);
    let url = format!("http://{}/v2/", target.authority);
    let mut curl = Command::new("curl");
    curl.args(["-sf", "-o", "/dev/null", &url]);
    let has_curl = run(&mut curl).is_ok();
    for _ in 0..sizes.processes {
        let t = Instant::now();
        run(&mut ours)?;
        row.component.push(t.elapsed());
        if has_curl {
            let t = Instant::now();
            run(&mut curl)?;
            row.native.push(t.elapsed());
        }
    }
    row.requests = Some((1.0, if has_curl { 1.0 } else { f64::NAN }));
    Ok(row)
}

fn run(command: &mut Command) -> Result<(), BenchError> {
    let out = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(BenchError::new(format!(
            "{:?} failed ({}): {}",
            command.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}
