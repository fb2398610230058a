//! The figures of one store size: `list` of each kind (and the native client's tag listing
//! beside it), `open`, a put, a first and a known get, and the memory one list takes.

use std::time::{Duration, Instant};

use super::super::native::NativeClient;
use super::super::workloads::check_size;
use super::super::{BenchError, Samples};
use super::fill::Contents;
use super::rss;
use kloset_oci_host::testkit::xorshift::XorShift;
use kloset_oci_host::{Backend, Kind, Mac, Store};

/// The size of the objects a measured put writes.
const PUT_SIZE: usize = 400;

/// How many runs of each figure.
#[derive(Clone, Copy)]
pub struct Runs {
    pub lists: usize,
    pub ops: usize,
}

/// One operation's durations and the requests they made.
#[derive(Default)]
pub struct Figure {
    pub samples: Samples,
    pub requests: u64,
}

impl Figure {
    fn push(&mut self, elapsed: Duration, requests: u64) {
        self.samples.push(elapsed);
        self.requests += requests;
    }

    /// Requests per operation.
    pub fn per_op(&self) -> f64 {
        self.requests as f64 / self.samples.0.len().max(1) as f64
    }
}

/// What one list of packfiles took in memory, on a new instance.
#[derive(Default)]
pub struct ListMemory {
    /// Linear memory grown by the list, and its size after it.
    pub linear: (usize, usize),
    /// Growth of the process's peak resident size during the list.
    pub rss: Option<u64>,
}

/// The row of one store size.
#[derive(Default)]
pub struct ScaleRow {
    pub objects: usize,
    /// Objects added to reach this size, and the time they took.
    pub fill: (usize, Duration),
    /// `list` of packfiles, states and locks.
    pub list: [Figure; 3],
    /// The native client's tag listing: in the component's pages, and in one request.
    pub native_paged: Figure,
    pub native_whole: Figure,
    pub open: Figure,
    pub put: Figure,
    pub get_first: Figure,
    pub get_known: Figure,
    pub memory: ListMemory,
}

pub const KINDS: [Kind; 3] = [Kind::Packfile, Kind::State, Kind::Lock];

/// Where and how to measure.
pub struct Measure<'a> {
    pub backend: &'a Backend,
    pub location: String,
    pub options: &'a [(String, String)],
    pub native: NativeClient,
    pub runs: Runs,
}

impl Measure<'_> {
    async fn store(&self) -> Result<Store, BenchError> {
        Ok(self.backend.connect(&self.location, self.options).await?)
    }

    /// Measures the store as `contents` says it is; the puts add to it.
    pub async fn row(
        &self,
        contents: &mut Contents,
        rng: &mut XorShift,
    ) -> Result<ScaleRow, BenchError> {
        let mut row = ScaleRow {
            objects: contents.total(),
            ..ScaleRow::default()
        };
        let mut store = self.store().await?;
        row.memory = self
            .list_memory(&mut store, contents, &mut row.list[0])
            .await?;
        for _ in 0..self.runs.lists {
            let before = self.native.requests();
            let t = Instant::now();
            let listed = self.native.list_paged("packfile").await?;
            row.native_paged
                .push(t.elapsed(), self.native.requests() - before);
            check_size(listed.tags as u64, contents.expected(Kind::Packfile))?;

            let t = Instant::now();
            let listed = self.native.list("packfile").await?;
            row.native_whole.push(t.elapsed(), 1);
            check_size(listed as u64, contents.expected(Kind::Packfile))?;
        }
        for (figure, kind) in row.list.iter_mut().zip(KINDS) {
            // The packfiles' first run was the memory's.
            let done = figure.samples.0.len();
            for _ in done..self.runs.lists {
                let (elapsed, requests, listed) = timed_list(&mut store, kind).await?;
                figure.push(elapsed, requests);
                check_size(listed as u64, contents.expected(kind))?;
            }
        }
        for _ in 0..self.runs.ops {
            let before = store.stats().requests();
            let t = Instant::now();
            store.open().await?;
            row.open
                .push(t.elapsed(), store.stats().requests() - before);
        }
        let mut macs: Vec<Mac> = Vec::new();
        for _ in 0..self.runs.ops {
            let (mac, data) = (rng.mac(), rng.bytes(PUT_SIZE));
            let before = store.stats().requests();
            let t = Instant::now();
            store.put_bytes(Kind::Packfile, &mac, &data).await?;
            row.put.push(t.elapsed(), store.stats().requests() - before);
            contents.measured_packfiles += 1;
            macs.push(mac);
        }
        // A new instance: the first get of each object asks for its manifest, the second
        // knows its blob.
        let mut reader = self.store().await?;
        for figure in [&mut row.get_first, &mut row.get_known] {
            for mac in &macs {
                let before = reader.stats().requests();
                let t = Instant::now();
                let sink = tokio::io::sink();
                let n = reader.get_to(Kind::Packfile, mac, None, sink).await?;
                figure.push(t.elapsed(), reader.stats().requests() - before);
                check_size(n, PUT_SIZE)?;
            }
        }
        Ok(row)
    }

    /// The first list of packfiles on a new instance: its time and requests go to `figure`;
    /// returns the linear memory and resident memory it took.
    async fn list_memory(
        &self,
        store: &mut Store,
        contents: &Contents,
        figure: &mut Figure,
    ) -> Result<ListMemory, BenchError> {
        let linear_before = store.linear_memory();
        let rss_before = rss::reset_peak();
        let (elapsed, requests, listed) = timed_list(store, Kind::Packfile).await?;
        let rss_peak = rss::peak();
        figure.push(elapsed, requests);
        check_size(listed as u64, contents.expected(Kind::Packfile))?;
        let linear_after = store.linear_memory();
        Ok(ListMemory {
            linear: (linear_after - linear_before, linear_after),
            rss: rss_before
                .zip(rss_peak)
                .map(|(before, peak)| peak.saturating_sub(before)),
        })
    }
}

/// One `list`: its time, its requests and how many MACs it gave.
async fn timed_list(store: &mut Store, kind: Kind) -> Result<(Duration, u64, usize), BenchError> {
    let before = store.stats().requests();
    let t = Instant::now();
    let listed = store.list(kind).await?;
    let elapsed = t.elapsed();
    Ok((elapsed, store.stats().requests() - before, listed.len()))
}
