//! Retries: a pure policy, (attempt, outcome) -> wait, and the layer that applies it.
//!
//! Retried: requests whose body can be sent again (none, or bytes in memory), after a
//! connection failure (also one while reading a body the request asked to get whole), a 408,
//! a 429 or a 5xx. A streamed body (the upload PATCH) is never retried: its bytes are no
//! longer held, so the put fails and may be made again (`upload.rs`). Attempts and total time
//! are both bounded; `Retry-After` (in seconds) is honoured within the bound.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use crate::clock::Clock;
use crate::error::{ErrorKind, Result};
use crate::http::{Layer, Layered, Request, Response, Transport};

/// The bounds of the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryLimits {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// No wait makes the time since the first attempt exceed this.
    pub total: Duration,
    /// The first backoff; it doubles with each attempt, up to `max_backoff`.
    pub base: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryLimits {
    fn default() -> Self {
        RetryLimits {
            attempts: 5,
            total: Duration::from_secs(60),
            base: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// What an attempt came to, as far as the policy cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP answer, with its `Retry-After` in seconds where it had one.
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// No answer: the transport failed with this kind.
    Failed(ErrorKind),
}

/// How long to wait before attempt `attempt + 1`, or `None` to stop.
/// `attempt` counts from 1; `elapsed` is the time since the first attempt began;
/// `jitter` is a fraction of 2^32 (so in [0, 1)) and spreads waits so clients do not retry
/// in step. Integer arithmetic: no `f64` code in the component (docs/performance.md, "What bounds the figures").
pub fn next_wait(
    limits: &RetryLimits,
    attempt: u32,
    outcome: Outcome,
    elapsed: Duration,
    jitter: u32,
) -> Option<Duration> {
    let retry_after = match outcome {
        Outcome::Status {
            status,
            retry_after,
        } if is_retryable_status(status) => retry_after,
        Outcome::Failed(ErrorKind::Transient) => None,
        _ => return None,
    };
    if attempt >= limits.attempts {
        return None;
    }
    let doubling = limits.base.saturating_mul(1u32 << (attempt - 1).min(16));
    let backoff = doubling.min(limits.max_backoff);
    // "Equal jitter": half the backoff, plus up to the other half at random.
    let half = backoff / 2;
    let jittered = half + crate::clock::share(half, jitter);
    let wait = match retry_after {
        Some(asked) => asked.max(jittered),
        None => jittered,
    };
    (elapsed.saturating_add(wait) <= limits.total).then_some(wait)
}

/// 408 Request Timeout, 429 Too Many Requests, and every 5xx.
pub fn is_retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..=599).contains(&status)
}

/// `Retry-After` as delay-seconds (RFC 9110 §10.2.3). An HTTP-date is not parsed: the
/// policy's own backoff applies then.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The retrying layer over another transport.
pub type Retry = Layered<RetryLayer>;

pub struct RetryLayer {
    inner: Box<dyn Transport>,
    clock: Rc<dyn Clock>,
    limits: RetryLimits,
    retries: Rc<Cell<u64>>,
}

impl Retry {
    pub fn new(inner: Box<dyn Transport>, clock: Rc<dyn Clock>, limits: RetryLimits) -> Retry {
        Layered(Rc::new(RetryLayer {
            inner,
            clock,
            limits,
            retries: Rc::default(),
        }))
    }

    /// A counter of the retries made so far, shared with whoever reports statistics.
    pub fn counter(&self) -> Rc<Cell<u64>> {
        Rc::clone(&self.0.retries)
    }
}

impl Layer for RetryLayer {
    fn below(&self) -> &dyn Transport {
        self.inner.as_ref()
    }

    fn send(&self, request: Request) -> Result<Response> {
        let started = self.clock.now();
        for attempt in 1.. {
            let result = self
                .inner
                .start(request.clone())
                .and_then(|exchange| exchange.finish())
                .and_then(|response| match request.read_whole {
                    Some(limit) if (200..300).contains(&response.status) => {
                        response.into_memory(limit)
                    }
                    _ => Ok(response),
                });
            let outcome = match &result {
                Ok(response) => Outcome::Status {
                    status: response.status,
                    retry_after: response.header("retry-after").and_then(parse_retry_after),
                },
                Err(e) => Outcome::Failed(e.kind),
            };
            let elapsed = self.clock.now().saturating_sub(started);
            match next_wait(&self.limits, attempt, outcome, elapsed, self.clock.jitter()) {
                None => return result,
                Some(wait) => {
                    drop(result); // lets the connection go before waiting
                    self.retries.set(self.retries.get() + 1);
                    self.clock.sleep(wait);
                }
            }
        }
        unreachable!("the policy bounds the attempts")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALF: u32 = 1 << 31;

    fn wait(attempt: u32, outcome: Outcome, elapsed_s: u64, jitter: u32) -> Option<Duration> {
        next_wait(
            &RetryLimits::default(),
            attempt,
            outcome,
            Duration::from_secs(elapsed_s),
            jitter,
        )
    }

    fn status(status: u16) -> Outcome {
        Outcome::Status {
            status,
            retry_after: None,
        }
    }

    #[test]
    fn only_faults_that_may_pass_are_retried() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(wait(1, status(s), 0, 0).is_some(), "{s}");
        }
        for s in [200, 201, 206, 301, 400, 401, 403, 404, 405, 416] {
            assert_eq!(wait(1, status(s), 0, 0), None, "{s}");
        }
        assert!(wait(1, Outcome::Failed(ErrorKind::Transient), 0, 0).is_some());
        for kind in [ErrorKind::Other, ErrorKind::Denied, ErrorKind::Protocol] {
            assert_eq!(wait(1, Outcome::Failed(kind), 0, 0), None, "{kind:?}");
        }
    }

    #[test]
    fn tls_failures_are_never_retried() {
        use crate::error::Error;
        for error in [Error::tls_certificate(), Error::tls("TLS alert received")] {
            assert_eq!(error.kind, ErrorKind::Tls);
            assert_eq!(wait(1, Outcome::Failed(error.kind), 0, 0), None, "{error}");
        }
        let message = Error::tls_certificate().message;
        assert!(message.starts_with("TLS certificate error"), "{message}");
        assert!(
            message.ends_with("give the host its certificate"),
            "{message}"
        );
        // How a host takes a certificate is the host's to say (the command's --ca-file).
        assert!(!message.contains("--ca-file"), "{message}");
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let d = |attempt, jitter| wait(attempt, status(503), 0, jitter).unwrap();
        assert_eq!(d(1, 0), Duration::from_millis(100));
        assert_eq!(d(1, HALF), Duration::from_millis(150));
        // 100 ms + 100 ms * (2^32 - 1) / 2^32, to the nanosecond below.
        assert_eq!(d(1, u32::MAX), Duration::from_nanos(199_999_999));
        assert_eq!(d(2, 0), Duration::from_millis(200));
        assert_eq!(d(3, 0), Duration::from_millis(400));
        assert_eq!(d(3, u32::MAX), Duration::from_nanos(799_999_999));
        let limits = RetryLimits {
            attempts: 50,
            total: Duration::from_secs(3600),
            ..RetryLimits::default()
        };
        let late = next_wait(&limits, 40, status(503), Duration::ZERO, u32::MAX).unwrap();
        assert!(late <= limits.max_backoff, "{late:?}");
    }

    #[test]
    fn attempts_and_total_time_are_bounded() {
        assert!(wait(4, status(500), 0, HALF).is_some());
        assert_eq!(wait(5, status(500), 0, HALF), None, "five attempts in all");
        assert_eq!(wait(1, status(500), 60, HALF), None, "past the total");
        let asked = Outcome::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(61)),
        };
        assert_eq!(
            wait(1, asked, 0, HALF),
            None,
            "a Retry-After beyond the bound gives up"
        );
    }

    #[test]
    fn retry_after_is_honoured() {
        let asked = Outcome::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(wait(1, asked, 0, HALF), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 12 "), Some(Duration::from_secs(12)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
