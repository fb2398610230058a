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

/// How the read-ahead (`read_ahead`) served the Gets of packfile ranges.
#[derive(Default)]
pub struct BlockReads {
    /// Gets served from kept blocks only.
    pub hits: AtomicU64,
    /// Gets that waited for a block being read.
    pub waited: AtomicU64,
    /// Gets that read a block.
    pub read: AtomicU64,
    /// Blocks read ahead, in the background.
    pub read_ahead: AtomicU64,
    /// Bytes of all the blocks read.
    pub bytes: AtomicU64,
    /// Microseconds from each Get's start to its bytes being ready, summed.
    pub ready_us: AtomicU64,
}

impl BlockReads {
    fn json(&self) -> String {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            r#"{{"hits":{},"waited":{},"read":{},"read_ahead":{},"bytes":{},"ready_us":{}}}"#,
            n(&self.hits),
            n(&self.waited),
            n(&self.read),
            n(&self.read_ahead),
            n(&self.bytes),
            n(&self.ready_us)
        )
    }

    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A block of `len` bytes was read.
    pub fn block(&self, len: usize) {
        self.bytes.fetch_add(len as u64, Ordering::Relaxed);
    }
}

/// Counts of completed object calls (the others are few).
#[derive(Default)]
pub struct Usage {
    packfile_puts: Calls,
    other_puts: Calls,
    gets: Calls,
    pub blocks: BlockReads,
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

    /// A block read for the Gets (see `read_ahead`): its requests count as the Gets'.
    pub fn block_read(&self, before: &RequestStats, after: &RequestStats) {
        let requests = after.since(before).requests();
        self.gets.requests.fetch_add(requests, Ordering::Relaxed);
    }

    /// A Get whose bytes were ready `since` its start.
    pub fn ready(&self, since: std::time::Instant) {
        let us = since.elapsed().as_micros() as u64;
        self.blocks.ready_us.fetch_add(us, Ordering::Relaxed);
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
            r#"{{"pid":{},"cpu_user_s":{:.3},"cpu_system_s":{:.3},"max_rss_kib":{},"packfile_puts":{},"other_puts":{},"gets":{},"blocks":{}}}"#,
            std::process::id(),
            seconds(usage.ru_utime),
            seconds(usage.ru_stime),
            usage.ru_maxrss,
            self.packfile_puts.json(),
            self.other_puts.json(),
            self.gets.json(),
            self.blocks.json(),
        );
        let path = std::path::Path::new(&dir).join(format!("plugin-{}.json", std::process::id()));
        if let Err(e) = std::fs::write(&path, json + "\n") {
            eprintln!("kloset-oci-plakar: cannot write {}: {e}", path.display());
        }
    }
}
