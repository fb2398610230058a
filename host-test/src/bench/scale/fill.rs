//! Filling a store fast: several component instances put small objects at once, each taking
//! the next object from a shared counter, as several backup clients would.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::super::workloads::join_all;
use super::super::BenchError;
use kloset_oci_host::testkit::xorshift::XorShift;
use kloset_oci_host::{Backend, Kind};

/// Component instances putting at once.
pub const WORKERS: usize = 32;
/// Object sizes, in bytes: a few hundred.
const SIZE_MIN: u64 = 200;
const SIZE_MAX: u64 = 600;

/// The kind of the `i`th object filled: of every 50, 1 lock, 4 states and 45 packfiles.
pub fn kind_of(i: usize) -> Kind {
    match i % 50 {
        0 => Kind::Lock,
        1..=4 => Kind::State,
        _ => Kind::Packfile,
    }
}

/// What the store holds: the objects filled, and the packfiles the measurements put.
#[derive(Clone, Copy, Debug, Default)]
pub struct Contents {
    pub filled: usize,
    pub measured_packfiles: usize,
}

impl Contents {
    /// The objects of `kind` a list must find.
    pub fn expected(&self, kind: Kind) -> usize {
        let filled = (0..self.filled).filter(|&i| kind_of(i) == kind).count();
        match kind {
            Kind::Packfile => filled + self.measured_packfiles,
            _ => filled,
        }
    }

    pub fn total(&self) -> usize {
        self.filled + self.measured_packfiles
    }
}

/// Puts objects `contents.filled..to` into the store at `location` from [`WORKERS`]
/// instances at once; returns the time from the first put to the last.
pub async fn fill(
    backend: &Backend,
    location: &str,
    options: &[(String, String)],
    contents: &mut Contents,
    to: usize,
    rng: &mut XorShift,
) -> Result<Duration, BenchError> {
    let next = Arc::new(AtomicUsize::new(contents.filled));
    let mut stores = Vec::with_capacity(WORKERS);
    for _ in 0..WORKERS {
        stores.push(backend.connect(location, options).await?);
    }
    let mut tasks = tokio::task::JoinSet::new();
    let t = Instant::now();
    for mut store in stores {
        let next = next.clone();
        let mut rng = XorShift::new(rng.next_u64());
        tasks.spawn(async move {
            // Bounded: every turn takes a new index, and indices end at `to`.
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= to {
                    return Ok(());
                }
                let size = rng.between(SIZE_MIN, SIZE_MAX) as usize;
                let data = rng.bytes(size);
                store.put_bytes(kind_of(i), &rng.mac(), &data).await?;
            }
        });
    }
    let elapsed = join_all(tasks, t).await?;
    contents.filled = to.max(contents.filled);
    Ok(elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_objects_are_packfiles() {
        let contents = Contents {
            filled: 1000,
            measured_packfiles: 5,
        };
        assert_eq!(contents.expected(Kind::Packfile), 905);
        assert_eq!(contents.expected(Kind::State), 80);
        assert_eq!(contents.expected(Kind::Lock), 20);
        assert_eq!(contents.total(), 1005);
    }
}
