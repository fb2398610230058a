//! Test 4: faults injected into about 10% of a store's requests by the host's `send_request`
//! hook (dropped connections before and after the body, 500/502/503, 429 with Retry-After,
//! stalled and truncated bodies), over more than 1,000 mixed store operations against a real
//! docker-registry. Seeded: `KLOSET_OCI_FAULT_SEED` repeats a run (the seed is printed).
//!
//! Every successful read must return exactly the right bytes; every failure must carry a
//! typed kind; afterwards a store without faults must find every acknowledged object whole,
//! no acknowledged delete, and for a failed put or delete either outcome, whole.
//!
//! Needs `docker-registry` on PATH and the component built with
//! `cargo build --release -p kloset-oci --target wasm32-wasip2`.

mod common;
mod fault_model;

use std::collections::BTreeSet;
use std::sync::Arc;

use kloset_oci_host::net::faults::{FaultInjector, FaultPlan};
use kloset_oci_host::testkit::xorshift::XorShift;
use kloset_oci_host::{Backend, ByteRange, ErrorKind, HostSettings, Kind, Mac, Store};

use common::registry::Registry;
use fault_model::check::{verify, Tally};
use fault_model::{check_read, Content, Model};

const SEED_ENV: &str = "KLOSET_OCI_FAULT_SEED";
const DEFAULT_SEED: u64 = 0x00c0_ffee_2026;
const OPERATIONS: usize = 1200;
const FAULTS_PER_MILLE: u32 = 100;
const CONFIG: &[u8] = b"_KLOSET_fault-test-config";
/// Locks are re-put under a few MACs, as kloset does every few minutes.
const LOCKS: usize = 4;

fn seed() -> u64 {
    match std::env::var(SEED_ENV) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{SEED_ENV} must be a number, not {text:?}")),
        Err(_) => DEFAULT_SEED,
    }
}

fn options(between_bytes: &str) -> Vec<(String, String)> {
    vec![(
        "between_bytes_timeout".to_string(),
        between_bytes.to_string(),
    )]
}

struct Run {
    rng: XorShift,
    model: Model,
    tally: Tally,
    /// Objects whose put failed, to put again (kloset retries a failed packfile).
    failed_puts: Vec<(Kind, Mac, Content)>,
    locks: Vec<Mac>,
}

impl Run {
    fn content(&mut self, len: usize) -> Content {
        Content {
            seed: self.rng.next_u64(),
            len,
        }
    }

    /// A size: mostly small, a few over the 4 MiB streaming threshold.
    fn size(&mut self) -> usize {
        match self.rng.between(0, 99) {
            0..=4 => self.rng.between(5 << 20, 8 << 20) as usize,
            5..=14 => self.rng.between(64 << 10, 1 << 20) as usize,
            _ => self.rng.between(1, 16 << 10) as usize,
        }
    }

    /// An object the run put: nine times in ten one that may be there, else any.
    fn pick_known(&mut self, kind: Kind) -> Option<Mac> {
        let keys = match self.rng.between(0, 9) {
            0 => self.model.keys(kind),
            _ => self.model.maybe_present(kind),
        };
        (!keys.is_empty()).then(|| keys[self.rng.between(0, keys.len() as u64 - 1) as usize])
    }

    async fn put(&mut self, store: &mut Store, kind: Kind, mac: Mac, content: Content) {
        self.tally.op("put");
        let bytes = content.bytes();
        match store.put_bytes(kind, &mac, &bytes).await {
            Ok(n) if n == bytes.len() as u64 => self.model.settle(kind, &mac, Some(content)),
            Ok(n) => {
                self.tally
                    .problem(format!("put {kind} of {} bytes reported {n}", bytes.len()));
                self.model.maybe(kind, &mac, Some(content));
            }
            Err(e) => {
                self.tally.failed("put", e.kind, &e.message);
                self.model.maybe(kind, &mac, Some(content));
                if kind != Kind::Lock {
                    self.failed_puts.push((kind, mac, content));
                }
            }
        }
    }

    async fn get(&mut self, store: &mut Store, kind: Kind, mac: Mac, ranged: bool) {
        let possible = self.model.possible(kind, &mac);
        // A range every possible content holds.
        let shortest = possible.iter().flatten().map(|c| c.len).min();
        let range = match shortest {
            Some(len) if ranged && len > 0 => {
                let offset = self.rng.between(0, len as u64 - 1);
                let length = self.rng.between(1, (len as u64 - offset).min(4 << 20));
                Some((offset, length as u32))
            }
            _ => None,
        };
        self.tally
            .op(if range.is_some() { "range get" } else { "get" });
        let wanted = range.map(|(offset, length)| ByteRange::new(offset, length));
        match store.get_bytes(kind, &mac, wanted).await {
            Ok(got) => match check_read(&possible, &got, range) {
                // A few bytes may match several contents by chance; a whole read may not.
                Ok(content) if range.is_none() || possible.len() == 1 => {
                    self.model.settle(kind, &mac, Some(content))
                }
                Ok(_) => {}
                Err(why) => self
                    .tally
                    .problem(format!("get {kind}: wrong bytes: {why}")),
            },
            Err(e) if e.kind == ErrorKind::NotFound => {
                if possible.len() == 1 && possible.contains(&None) {
                    self.tally.absent += 1;
                    return;
                }
                self.tally.failed("get", e.kind, &e.message);
                if possible.contains(&None) {
                    self.model.settle(kind, &mac, None);
                } else {
                    self.tally
                        .problem(format!("get {kind}: a stored object is lost: {e}"));
                }
            }
            Err(e) if e.kind == ErrorKind::OutOfRange => {
                self.tally.failed("get", e.kind, &e.message);
                self.tally
                    .problem(format!("get {kind}: a range every content holds: {e}"));
            }
            Err(e) => self.tally.failed("get", e.kind, &e.message),
        }
    }

    async fn delete(&mut self, store: &mut Store, kind: Kind, mac: Mac) {
        self.tally.op("delete");
        let possible = self.model.possible(kind, &mac);
        match store.delete(kind, &mac).await {
            Ok(()) => self.model.settle(kind, &mac, None),
            Err(e) => {
                self.tally.failed("delete", e.kind, &e.message);
                if e.kind == ErrorKind::NotFound && !possible.contains(&None) {
                    self.tally
                        .problem(format!("delete {kind}: a stored object was not found: {e}"));
                }
                self.model.maybe(kind, &mac, None);
            }
        }
    }

    async fn list(&mut self, store: &mut Store, kind: Kind) {
        self.tally.op("list");
        match store.list(kind).await {
            Ok(listed) => {
                let listed: BTreeSet<Mac> = listed.into_iter().collect();
                for (mac, _) in self.model.certainly_present(kind) {
                    if !listed.contains(&mac) {
                        self.tally
                            .problem(format!("list {kind} lacks a stored object"));
                    }
                }
                for mac in self.model.certainly_absent(kind) {
                    if listed.contains(&mac) {
                        self.tally
                            .problem(format!("list {kind} names a deleted object"));
                    }
                }
            }
            Err(e) => self.tally.failed("list", e.kind, &e.message),
        }
    }

    async fn open(&mut self, store: &mut Store) {
        self.tally.op("open");
        match store.open().await {
            Ok(config) if config == CONFIG => {}
            Ok(config) => self
                .tally
                .problem(format!("open returned {} wrong bytes", config.len())),
            Err(e) => self.tally.failed("open", e.kind, &e.message),
        }
    }

    /// One operation, drawn from a mix like kloset's backups, restores and maintenance.
    async fn step(&mut self, store: &mut Store) {
        let kind = if self.rng.between(0, 3) == 0 {
            Kind::State
        } else {
            Kind::Packfile
        };
        match self.rng.between(0, 99) {
            0..=29 => {
                let (mac, size) = (self.rng.mac(), self.size());
                let content = self.content(size);
                self.put(store, kind, mac, content).await;
            }
            30..=33 => match self.failed_puts.is_empty() {
                false => {
                    let (kind, mac, content) = self.failed_puts.remove(0);
                    self.put(store, kind, mac, content).await;
                }
                true => {
                    let (mac, size) = (self.rng.mac(), self.size());
                    let content = self.content(size);
                    self.put(store, kind, mac, content).await;
                }
            },
            34..=41 => {
                let mac = self.locks[self.rng.between(0, LOCKS as u64 - 1) as usize];
                let len = self.rng.between(60, 200) as usize;
                let content = self.content(len);
                self.put(store, Kind::Lock, mac, content).await;
            }
            42..=63 => match self.pick_known(kind) {
                Some(mac) => self.get(store, kind, mac, false).await,
                None => self.list(store, kind).await,
            },
            64..=83 => match self.pick_known(kind) {
                Some(mac) => self.get(store, kind, mac, true).await,
                None => self.list(store, kind).await,
            },
            84..=85 => {
                let mac = self.locks[self.rng.between(0, LOCKS as u64 - 1) as usize];
                self.get(store, Kind::Lock, mac, false).await;
            }
            86..=93 => {
                let present = self.model.maybe_present(kind);
                match present.get(self.rng.between(0, 1 << 20) as usize % present.len().max(1)) {
                    Some(mac) => self.delete(store, kind, *mac).await,
                    None => self.list(store, kind).await,
                }
            }
            94..=98 => {
                let kind =
                    [Kind::Packfile, Kind::State, Kind::Lock][self.rng.between(0, 2) as usize];
                self.list(store, kind).await;
            }
            _ => self.open(store).await,
        }
    }
}

#[test]
fn a_thousand_operations_under_injected_faults_lose_nothing() {
    let seed = seed();
    eprintln!("fault injection seed {seed} (set {SEED_ENV} to repeat a run)");
    let registry = Registry::start_new();
    let location = format!("oci://{}/faults/run-{seed}", registry.authority());
    let backend = Backend::load_default().unwrap_or_else(|e| panic!("{e}"));
    let injector = Arc::new(FaultInjector::new(FaultPlan {
        seed,
        per_mille: FAULTS_PER_MILLE,
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let mut clean = backend.connect(&location, &options("5")).await.unwrap();
        clean.create(CONFIG).await.expect("create the store");
        let settings = HostSettings {
            faults: Some(injector.clone()),
            ..HostSettings::default()
        };
        let mut faulty = backend
            .connect_with(&location, &options("0.2"), &settings)
            .await
            .expect("connect makes no request");
        let mut rng = XorShift::new(seed);
        let locks = (0..LOCKS).map(|_| rng.mac()).collect();
        let mut run = Run {
            rng,
            model: Model::default(),
            tally: Tally::default(),
            failed_puts: Vec::new(),
            locks,
        };
        for _ in 0..OPERATIONS {
            run.step(&mut faulty).await;
        }
        let layers = faulty.layer_stats().await.expect("stats");
        let requests = faulty.stats().requests();
        let faults = injector.stats();
        let checked = verify(&mut clean, &run.model, &mut run.tally).await;
        let operations: u64 = run.tally.operations.values().sum();
        let summary = format!(
            "seed {seed}: operations {operations} {:?}; requests {requests} (drawn {}); \
             faults injected {} (dropped before body {}, dropped after body {}, 5xx {}, \
             429 {}, stalled {}, truncated {}); retries {}; failures {} {:?}; \
             reads of deleted objects (not found, as expected) {}; \
             objects checked afterwards {checked}; problems {}",
            run.tally.operations,
            faults.requests,
            faults.injected(),
            faults.dropped_before_body,
            faults.dropped_after_body,
            faults.server_errors,
            faults.too_many_requests,
            faults.stalled_bodies,
            faults.truncated_bodies,
            layers.retries,
            run.tally.failures.values().sum::<u64>(),
            run.tally.failures,
            run.tally.absent,
            run.tally.problems.len(),
        );
        println!("{summary}");
        eprintln!("{summary}");
        assert!(operations >= 1000, "{summary}");
        // Every made-up 5xx or 429 was retried, or ended an operation.
        let failures: u64 = run.tally.failures.values().sum();
        assert!(
            layers.retries + failures >= faults.server_errors + faults.too_many_requests,
            "{summary}"
        );
        assert_eq!(faults.requests, requests, "every request was drawn for");
        let rate = faults.injected() as f64 / faults.requests as f64;
        assert!(
            (0.07..=0.13).contains(&rate),
            "fault rate {rate}: {summary}"
        );
        assert!(
            run.tally.problems.is_empty(),
            "{}\n{summary}",
            run.tally.problems.join("\n")
        );
    });
}
