//! What the plugin did, for `scripts/bench-plakar`: calls by kind, the registry requests and
//! bytes they took, and the process's CPU time and peak memory. Written as one JSON object
//! to `$KLOSET_OCI_PLUGIN_STATS/plugin-<pid>.json` at `Close` and when the connection ends
//! (Plakar may kill the plugin right after `Close`); nothing is written without the variable.

use std::sync::atomic::{AtomicU64, Ordering};

use kloset_oci_host::RequestStats;

/// Environment variable naming the folder for the usage files.
pub const USAGE_ENV: &str = "KLOSET_OCI_PLUGIN_STATS";

#[derive(Default)]
struct Calls {
    count: AtomicU64,
    requests: AtomicU64,
    bytes: AtomicU64,
}

impl Calls {
    fn add(&self, requests: u64, bytes: u64) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.requests.fetch_add(requests, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    fn json(&self) -> String {
        format!(
            r#"{{"calls":{},"requests":{},"bytes":{}}}"#,
            self.count.load(Ordering::Relaxed),
            self.requests.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed)
        )
    }
}

/// Counts of completed object calls (the others are few).
#[derive(Default)]
pub struct Usage {
    packfile_puts: Calls,
    other_puts: Calls,
    gets: Calls,
}

impl Usage {
    /// A put of `bytes` that took the requests between `before` and `after`.
    pub fn put(&self, packfile: bool, before: &RequestStats, after: &RequestStats, bytes: u64) {
        let calls = if packfile {
            &self.packfile_puts
        } else {
            &self.other_puts
        };
        calls.add(after.since(before).requests(), bytes);
    }

    pub fn get(&self, before: &RequestStats, after: &RequestStats, bytes: u64) {
        self.gets.add(after.since(before).requests(), bytes);
    }

    /// Writes the usage file, where [`USAGE_ENV`] names a folder.
    pub fn write(&self) {
        let Some(dir) = std::env::var_os(USAGE_ENV).filter(|d| !d.is_empty()) else {
            return;
        };
        // SAFETY: getrusage fills the struct it is given.
        let usage = unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_SELF, &mut usage);
            usage
        };
        let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        let json = format!(
            r#"{{"pid":{},"cpu_user_s":{:.3},"cpu_system_s":{:.3},"max_rss_kib":{},"packfile_puts":{},"other_puts":{},"gets":{}}}"#,
            std::process::id(),
            seconds(usage.ru_utime),
            seconds(usage.ru_stime),
            usage.ru_maxrss,
            self.packfile_puts.json(),
            self.other_puts.json(),
            self.gets.json(),
        );
        let path = std::path::Path::new(&dir).join(format!("plugin-{}.json", std::process::id()));
        if let Err(e) = std::fs::write(&path, json + "\n") {
            eprintln!("kloset-oci-plakar: cannot write {}: {e}", path.display());
        }
    }
}
