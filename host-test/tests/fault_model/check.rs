//! Tallying the run, and checking the store after it with faults off.

use std::collections::{BTreeMap, BTreeSet};

use kloset_oci_host::{ErrorKind, Kind, Mac, Store};

use super::{check_read, is_typed, Model};

/// What the run did, for the summary line.
#[derive(Default)]
pub struct Tally {
    pub operations: BTreeMap<&'static str, u64>,
    pub failures: BTreeMap<String, u64>,
    pub problems: Vec<String>,
    /// Reads of objects certainly deleted, answered not found as they must be.
    pub absent: u64,
}

impl Tally {
    pub fn op(&mut self, name: &'static str) {
        *self.operations.entry(name).or_default() += 1;
    }

    pub fn failed(&mut self, op: &str, kind: ErrorKind, message: &str) {
        *self.failures.entry(kind.words().to_string()).or_default() += 1;
        if kind != ErrorKind::NotFound {
            eprintln!("{op} failed: {kind}: {message}");
        }
        if !is_typed(kind) {
            self.problem(format!(
                "{op} failed with an untyped error: {kind}: {message}"
            ));
        }
    }

    pub fn problem(&mut self, text: String) {
        eprintln!("PROBLEM: {text}");
        self.problems.push(text);
    }
}

/// With faults off, every object is one of its possible outcomes, and lists agree.
pub async fn verify(store: &mut Store, model: &Model, tally: &mut Tally) -> u64 {
    let mut checked = 0;
    for kind in [Kind::Packfile, Kind::State, Kind::Lock] {
        let mut present = BTreeSet::new();
        for mac in model.keys(kind) {
            checked += 1;
            let possible = model.possible(kind, &mac);
            match store.get_bytes(kind, &mac, None).await {
                Ok(got) => {
                    present.insert(mac);
                    if let Err(why) = check_read(&possible, &got, None) {
                        tally.problem(format!("after the run, {kind}: {why}"));
                    }
                }
                Err(e) if e.kind == ErrorKind::NotFound && possible.contains(&None) => {}
                Err(e) => tally.problem(format!("after the run, get {kind}: {e}")),
            }
        }
        match store.list(kind).await {
            Ok(listed) => {
                let listed: BTreeSet<Mac> = listed.into_iter().collect();
                if listed != present {
                    tally.problem(format!(
                        "after the run, list {kind} names {} objects, {} are readable",
                        listed.len(),
                        present.len()
                    ));
                }
            }
            Err(e) => tally.problem(format!("after the run, list {kind}: {e}")),
        }
    }
    checked
}
