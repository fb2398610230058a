//! Time, for backoff waits and token lifetimes, and the nonce of a create: monotonic time and
//! `wasi:random` in the component (`wasi_clock.rs`), a fake that only records in unit tests.

use std::time::Duration;

pub trait Clock {
    /// Time since an arbitrary fixed point; never goes back.
    fn now(&self) -> Duration;
    fn sleep(&self, duration: Duration);
    /// A fraction of 2^32 (a number in [0, 1)) to spread retry waits; need not be
    /// unpredictable.
    fn jitter(&self) -> u32;
    /// A number no other process is likely to draw, whatever its clock: names one create's
    /// candidate config (`create.rs`).
    fn nonce(&self) -> u64;
}

/// The share `jitter` (a fraction of 2^32, as [`Clock::jitter`] draws) of `of`, in integer
/// arithmetic (the component carries no float code).
pub fn share(of: Duration, jitter: u32) -> Duration {
    let part = (of.as_nanos() * u128::from(jitter)) >> 32;
    Duration::from_nanos(u64::try_from(part).unwrap_or(u64::MAX))
}
