//! The [`Clock`] over `wasi:clocks/monotonic-clock`, with nonces from `wasi:random/random`.

use std::cell::Cell;
use std::time::Duration;

use wasi::clocks::monotonic_clock;

use crate::clock::Clock;

pub struct WasiClock {
    /// xorshift state for jitter, seeded from the clock.
    state: Cell<u64>,
}

impl Default for WasiClock {
    fn default() -> Self {
        WasiClock {
            state: Cell::new(monotonic_clock::now() | 1),
        }
    }
}

impl Clock for WasiClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(monotonic_clock::now())
    }

    fn sleep(&self, duration: Duration) {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        monotonic_clock::subscribe_duration(nanos).block();
    }

    fn jitter(&self) -> u32 {
        let mut x = self.state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state.set(x);
        (x >> 32) as u32
    }

    fn nonce(&self) -> u64 {
        wasi::random::random::get_random_u64()
    }
}
