//! The object workloads, each run on the component and on the native client in turn.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::native::{Blob, NativeClient};
use super::table::{mib, Row};
use super::{progress, BenchError, Sizes, Target};
use kloset_oci::layout::Kind::Packfile as PACKFILE;
use kloset_oci_host::testkit::xorshift::XorShift;
use kloset_oci_host::{Backend, ByteRange, ConnectionPool, Kind, Mac, Store};

/// Objects stored by one side: the component's MACs, the native client's blobs.
struct Stored {
    macs: Vec<Mac>,
    blobs: Vec<Blob>,
}

pub struct Bench {
    backend: Backend,
    pool: ConnectionPool,
    target: Target,
    sizes: Sizes,
    rng: XorShift,
}

impl Bench {
    pub fn new(backend: Backend, target: Target, sizes: Sizes) -> Self {
        Bench {
            backend,
            pool: ConnectionPool::new(),
            target,
            sizes,
            rng: XorShift::from_time(),
        }
    }

    async fn store(&self, name: &str) -> Result<Store, BenchError> {
        let location = self.target.location(name);
        Ok(self
            .backend
            .connect(&location, &self.target.options)
            .await?)
    }

    fn native(&self, name: &str) -> NativeClient {
        let repo = self.target.repository(name);
        NativeClient::new(self.pool.clone(), &self.target.authority, &repo)
    }

    pub async fn all(&mut self, rows: &mut Vec<Row>) -> Result<(), BenchError> {
        let big = self.put_get(self.sizes.big, rows).await?;
        self.put_get(self.sizes.small, rows).await?;
        self.range_reads(&big, rows).await?;
        self.list(rows).await?;
        self.create_open(rows).await?;
        for writers in [1, 2, 4] {
            self.writers(writers, rows).await?;
        }
        Ok(())
    }

    /// Put and get of the big objects through `other` (the self-contained component), beside
    /// the native client again; its rows are marked `(label)`.
    pub async fn put_get_through(
        &mut self,
        other: Backend,
        label: &str,
        rows: &mut Vec<Row>,
    ) -> Result<(), BenchError> {
        let own = std::mem::replace(&mut self.backend, other);
        let first = rows.len();
        let result = self.put_get_in(self.sizes.big, label, rows).await;
        self.backend = own;
        for row in &mut rows[first..] {
            row.name = format!("{} ({label})", row.name);
        }
        result.map(|_| ())
    }

    /// Puts `samples` objects of `size` on each side, then reads each back whole.
    async fn put_get(&mut self, size: usize, rows: &mut Vec<Row>) -> Result<Stored, BenchError> {
        self.put_get_in(size, "objects", rows).await
    }

    /// [`Bench::put_get`] in repositories named `<prefix>-<MiB>`.
    async fn put_get_in(
        &mut self,
        size: usize,
        prefix: &str,
        rows: &mut Vec<Row>,
    ) -> Result<Stored, BenchError> {
        progress(&format!("put and get of {}", mib(size)));
        let name = format!("{prefix}-{}", size >> 20);
        let mut store = self.store(&name).await?;
        // A store exists, as in a backup: the `{}` config blob a manifest needs is there.
        store.create(b"kloset-oci bench").await?;
        let native = self.native(&name);
        let mut put = Row::new(format!("put {}", mib(size)));
        put.bytes = Some(size as u64);
        let memory_at_start = store.linear_memory();
        let mut stored = Stored {
            macs: Vec::new(),
            blobs: Vec::new(),
        };
        let (mut c_req, mut n_req) = (0, 0);
        for _ in 0..self.sizes.samples {
            let (data, mac) = (Bytes::from(self.rng.bytes(size)), self.rng.mac());
            let before = store.stats().requests();
            let t = Instant::now();
            store.put_bytes(Kind::Packfile, &mac, &data).await?;
            put.component.push(t.elapsed());
            c_req += store.stats().requests() - before;
            stored.macs.push(mac);

            let (data, mac) = (Bytes::from(self.rng.bytes(size)), self.rng.mac());
            let before = native.requests();
            let t = Instant::now();
            stored.blobs.push(native.put(PACKFILE, &mac, data).await?);
            put.native.push(t.elapsed());
            n_req += native.requests() - before;
        }
        let after_put = store.linear_memory();
        put.memory = Some((after_put - memory_at_start, after_put));
        put.requests = Some(per_op(c_req, n_req, self.sizes.samples));
        rows.push(put);

        // Reads on a new instance: a 1-byte range read first teaches it each object's blob.
        let mut store = self.store(&name).await?;
        for mac in &stored.macs {
            let range = Some(ByteRange::new(0, 1));
            store
                .get_to(Kind::Packfile, mac, range, tokio::io::sink())
                .await?;
        }
        let memory_at_start = store.linear_memory();
        let mut get = Row::new(format!("get {}", mib(size)));
        get.bytes = Some(size as u64);
        let (mut c_req, mut n_req) = (0, 0);
        for (mac, blob) in stored.macs.iter().zip(&stored.blobs) {
            let before = store.stats().requests();
            let t = Instant::now();
            let n = store
                .get_to(Kind::Packfile, mac, None, tokio::io::sink())
                .await?;
            get.component.push(t.elapsed());
            c_req += store.stats().requests() - before;
            check_size(n, size)?;

            let before = native.requests();
            let t = Instant::now();
            check_size(native.get(blob).await?, size)?;
            get.native.push(t.elapsed());
            n_req += native.requests() - before;
        }
        let after_get = store.linear_memory();
        get.memory = Some((after_get - memory_at_start, after_get));
        get.requests = Some(per_op(c_req, n_req, self.sizes.samples));
        rows.push(get);
        Ok(stored)
    }

    /// Random ranges of 4 KiB to 1 MiB over the big objects, on an instance that knows them.
    async fn range_reads(&mut self, big: &Stored, rows: &mut Vec<Row>) -> Result<(), BenchError> {
        let reads = self.sizes.range_reads;
        progress(&format!("{reads} range reads"));
        let name = format!("objects-{}", self.sizes.big >> 20);
        let objects = self.sizes.range_objects.min(big.macs.len());
        let size = self.sizes.big as u64;
        let plan: Vec<(usize, u64, u32)> = (0..reads)
            .map(|_| {
                let object = self.rng.between(0, objects as u64 - 1) as usize;
                let length = self.rng.between(4 << 10, 1 << 20);
                let offset = self.rng.between(0, size - length);
                (object, offset, length as u32)
            })
            .collect();
        let mut store = self.store(&name).await?;
        let native = self.native(&name);
        for mac in &big.macs[..objects] {
            let range = Some(ByteRange::new(0, 1));
            store
                .get_to(Kind::Packfile, mac, range, tokio::io::sink())
                .await?;
        }
        let mut row = Row::new(format!("{reads} range reads, 4 KiB–1 MiB"));
        let (mut c_req, mut n_req) = (0, 0);
        let memory_at_start = store.linear_memory();
        for _ in 0..self.sizes.samples.min(3) {
            let before = store.stats().requests();
            let t = Instant::now();
            for &(object, offset, length) in &plan {
                let range = Some(ByteRange::new(offset, length));
                let mac = &big.macs[object];
                let n = store
                    .get_to(Kind::Packfile, mac, range, tokio::io::sink())
                    .await?;
                check_size(n, length as usize)?;
            }
            row.component.push(t.elapsed());
            c_req += store.stats().requests() - before;

            let before = native.requests();
            let t = Instant::now();
            for &(object, offset, length) in &plan {
                native.get_range(&big.blobs[object], offset, length).await?;
            }
            row.native.push(t.elapsed());
            n_req += native.requests() - before;
        }
        let runs = row.component.0.len() * reads;
        row.requests = Some(per_op(c_req, n_req, runs));
        let after = store.linear_memory();
        row.memory = Some((after - memory_at_start, after));
        rows.push(row);
        Ok(())
    }

    /// Lists a store of `list_objects` packfiles (written natively: only the list is timed).
    async fn list(&mut self, rows: &mut Vec<Row>) -> Result<(), BenchError> {
        let count = self.sizes.list_objects;
        progress(&format!("list of {count} objects"));
        let mut store = self.store("list").await?;
        store.create(b"kloset-oci bench").await?;
        let native = self.native("list");
        let blob = native.push_blob(Bytes::from_static(b"listed")).await?;
        for _ in 0..count {
            let mac = self.rng.mac();
            native.put_object_manifest(PACKFILE, &mac, blob).await?;
        }
        let mut row = Row::new(format!("list {count} objects"));
        let (mut c_req, mut n_req) = (0, 0);
        for _ in 0..self.sizes.samples {
            let before = store.stats().requests();
            let t = Instant::now();
            let listed = store.list(Kind::Packfile).await?;
            row.component.push(t.elapsed());
            c_req += store.stats().requests() - before;
            check_size(listed.len() as u64, count)?;

            let before = native.requests();
            let t = Instant::now();
            let listed = native.list("packfile").await?;
            row.native.push(t.elapsed());
            n_req += native.requests() - before;
            check_size(listed as u64, count)?;
        }
        row.requests = Some(per_op(c_req, n_req, self.sizes.samples));
        rows.push(row);
        Ok(())
    }

    /// `create` then `open` of new stores, each on a new instance.
    async fn create_open(&mut self, rows: &mut Vec<Row>) -> Result<(), BenchError> {
        progress("create and open");
        let mut create = Row::new("create");
        let mut open = Row::new("open");
        let (mut create_req, mut open_req) = ((0, 0), (0, 0));
        for i in 0..self.sizes.samples {
            let mut store = self.store(&format!("create-c{i}")).await?;
            let t = Instant::now();
            store.create(b"kloset-oci bench config").await?;
            create.component.push(t.elapsed());
            let created = store.stats().requests();
            let t = Instant::now();
            store.open().await?;
            open.component.push(t.elapsed());
            create_req.0 += created;
            open_req.0 += store.stats().requests() - created;

            let native = self.native(&format!("create-n{i}"));
            let t = Instant::now();
            native.create(b"kloset-oci bench config").await?;
            create.native.push(t.elapsed());
            let created = native.requests();
            let t = Instant::now();
            native.open().await?;
            open.native.push(t.elapsed());
            create_req.1 += created;
            open_req.1 += native.requests() - created;
        }
        let n = self.sizes.samples;
        create.requests = Some(per_op(create_req.0, create_req.1, n));
        open.requests = Some(per_op(open_req.0, open_req.1, n));
        rows.push(create);
        rows.push(open);
        Ok(())
    }

    /// `writers` puts of a big object at once, one instance (or native client) each.
    async fn writers(&mut self, writers: usize, rows: &mut Vec<Row>) -> Result<(), BenchError> {
        let size = self.sizes.big;
        progress(&format!("{writers} concurrent puts of {}", mib(size)));
        if writers == 1 {
            for w in 0..4 {
                self.store(&format!("writers-{w}"))
                    .await?
                    .create(b"bench")
                    .await?;
            }
        }
        let mut row = Row::new(format!("{writers} × put {} at once", mib(size)));
        row.bytes = Some((writers * size) as u64);
        for _ in 0..self.sizes.samples.min(3) {
            let mut work = Vec::new();
            for w in 0..writers {
                let store = self.store(&format!("writers-{w}")).await?;
                work.push((store, Bytes::from(self.rng.bytes(size)), self.rng.mac()));
            }
            let mut tasks = tokio::task::JoinSet::new();
            let t = Instant::now();
            for (mut store, data, mac) in work {
                tasks.spawn(async move {
                    store.put_bytes(Kind::Packfile, &mac, &data).await?;
                    Ok::<_, BenchError>(())
                });
            }
            row.component.push(join_all(tasks, t).await?);

            let mut work = Vec::new();
            for w in 0..writers {
                let native = self.native(&format!("writers-{w}"));
                work.push((native, Bytes::from(self.rng.bytes(size)), self.rng.mac()));
            }
            let mut tasks = tokio::task::JoinSet::new();
            let t = Instant::now();
            for (native, data, mac) in work {
                tasks.spawn(async move {
                    native.put(PACKFILE, &mac, data).await?;
                    Ok::<_, BenchError>(())
                });
            }
            row.native.push(join_all(tasks, t).await?);
        }
        rows.push(row);
        Ok(())
    }
}

/// Waits for every task (started together at `t`); returns the time until the last ended.
pub(super) async fn join_all(
    mut tasks: tokio::task::JoinSet<Result<(), BenchError>>,
    t: Instant,
) -> Result<Duration, BenchError> {
    while let Some(done) = tasks.join_next().await {
        done.map_err(BenchError::new)??;
    }
    Ok(t.elapsed())
}

fn per_op(component: u64, native: u64, ops: usize) -> (f64, f64) {
    let ops = ops.max(1) as f64;
    (component as f64 / ops, native as f64 / ops)
}

pub(super) fn check_size(got: u64, expected: usize) -> Result<(), BenchError> {
    if got == expected as u64 {
        Ok(())
    } else {
        Err(BenchError::new(format!("expected {expected}, got {got}")))
    }
}
