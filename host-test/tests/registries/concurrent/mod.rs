//! The concurrency suite: many writers and readers on one store at once, written once against
//! a [`Fixture`](crate::suite::Fixture) and run on each registry setup by
//! `concurrency_suite!`. Every case is bounded in operations; each prints its counts (writers,
//! operations, failures) and fails on any failure.

pub mod creates;
pub mod races;
pub mod writers;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

/// `concurrency_suite!(module_name, SETUP)` makes `mod module_name` with one `#[test]` per case.
#[macro_export]
macro_rules! concurrency_suite {
    ($name:ident, $setup:expr) => {
        mod $name {
            $crate::concurrency_suite!(@cases $setup;
                writers::writers_in_one_process,
                writers::writers_in_separate_processes,
                races::lock_reputs_race_reads,
                races::puts_race_deletes,
                races::readers_during_writes,
                creates::creates_race,
            );
        }
    };
    (@cases $setup:expr; $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                let setup: &'static $crate::suite::Setup = $setup;
                $crate::suite::fixture::run_case(setup, stringify!($case), |fx| {
                    Box::pin($crate::concurrent::$module::$case(fx))
                });
            }
        )*
    };
}

/// What a case counted, shared by its tasks: named counts, and every failure in words.
#[derive(Clone, Default)]
pub struct Tally(Arc<Mutex<TallyInner>>);

#[derive(Default)]
struct TallyInner {
    counts: Vec<(&'static str, u64)>,
    failures: Vec<String>,
}

impl Tally {
    pub fn count(&self, what: &'static str) {
        self.add(what, 1);
    }

    pub fn add(&self, what: &'static str, n: u64) {
        let mut inner = self.0.lock().unwrap();
        match inner.counts.iter_mut().find(|(name, _)| *name == what) {
            Some((_, count)) => *count += n,
            None => inner.counts.push((what, n)),
        }
    }

    pub fn get(&self, what: &str) -> u64 {
        let inner = self.0.lock().unwrap();
        inner
            .counts
            .iter()
            .find(|(name, _)| *name == what)
            .map_or(0, |(_, n)| *n)
    }

    pub fn fail(&self, what: String) {
        self.0.lock().unwrap().failures.push(what);
    }

    /// Prints `concurrency <setup>/<case>: counts, failures: N` and fails the test on any
    /// failure, quoting the first few.
    pub fn finish(&self, setup: &str, case: &str) {
        let inner = self.0.lock().unwrap();
        let mut line = format!("concurrency {setup}/{case}:");
        for (what, n) in &inner.counts {
            let _ = write!(line, " {what} {n},");
        }
        let _ = write!(line, " failures {}", inner.failures.len());
        println!("{line}");
        assert!(
            inner.failures.is_empty(),
            "{line}\nfirst failures:\n{}",
            inner.failures[..inner.failures.len().min(5)].join("\n")
        );
    }
}
