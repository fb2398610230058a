//! Faults the host can inject into a store's requests, for tests: seeded, so a run can be
//! repeated exactly. The `send_request` hook asks [`FaultInjector::draw`] for each request
//! and sends it through [`send_with`], which applies the fault drawn, if any.
//!
//! The faults are those a real network and real registries produce: a connection dropped
//! before the request body was sent, or after (the registry acted, the answer was lost);
//! 500, 502 and 503; 429 with `Retry-After`; a body that stalls; a body cut short.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Empty};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

use crate::net::pool::IoFuture;
pub use crate::net::pool::{Sending, Sent};

/// How often, and from which seed, faults are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultPlan {
    pub seed: u64,
    /// Faults per thousand requests.
    pub per_mille: u32,
}

/// One injected fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    DropBeforeBody,
    DropAfterBody,
    Status(u16),
    TooManyRequests,
    StalledBody,
    TruncatedBody,
}

const KINDS: [Fault; 8] = [
    Fault::DropBeforeBody,
    Fault::DropAfterBody,
    Fault::Status(500),
    Fault::Status(502),
    Fault::Status(503),
    Fault::TooManyRequests,
    Fault::StalledBody,
    Fault::TruncatedBody,
];

/// What was injected so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultStats {
    pub requests: u64,
    pub dropped_before_body: u64,
    pub dropped_after_body: u64,
    pub server_errors: u64,
    pub too_many_requests: u64,
    pub stalled_bodies: u64,
    pub truncated_bodies: u64,
}

impl FaultStats {
    pub fn injected(&self) -> u64 {
        self.dropped_before_body
            + self.dropped_after_body
            + self.server_errors
            + self.too_many_requests
            + self.stalled_bodies
            + self.truncated_bodies
    }
}

/// Draws faults for the requests of one or more stores.
#[derive(Debug, Default)]
pub struct FaultInjector {
    plan: Option<FaultPlan>,
    requests: AtomicU64,
    counts: [AtomicU64; 6],
}

impl FaultInjector {
    pub fn new(plan: FaultPlan) -> FaultInjector {
        FaultInjector {
            plan: Some(plan),
            ..FaultInjector::default()
        }
    }

    /// The fault for the next request, if any: a pure function of the seed and the request's
    /// number, so the same run of requests gets the same faults.
    pub fn draw(&self) -> Option<Fault> {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let plan = self.plan?;
        let roll = splitmix(plan.seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        if roll % 1000 >= u64::from(plan.per_mille) {
            return None;
        }
        let fault = KINDS[((roll / 1000) % KINDS.len() as u64) as usize];
        self.counts[slot(fault)].fetch_add(1, Ordering::Relaxed);
        Some(fault)
    }

    pub fn stats(&self) -> FaultStats {
        let c = |i: usize| self.counts[i].load(Ordering::Relaxed);
        FaultStats {
            requests: self.requests.load(Ordering::Relaxed),
            dropped_before_body: c(0),
            dropped_after_body: c(1),
            server_errors: c(2),
            too_many_requests: c(3),
            stalled_bodies: c(4),
            truncated_bodies: c(5),
        }
    }
}

fn slot(fault: Fault) -> usize {
    match fault {
        Fault::DropBeforeBody => 0,
        Fault::DropAfterBody => 1,
        Fault::Status(_) => 2,
        Fault::TooManyRequests => 3,
        Fault::StalledBody => 4,
        Fault::TruncatedBody => 5,
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Sends `request` with `send`, with `fault` injected where one was drawn.
pub async fn send_with<F>(
    fault: Option<Fault>,
    request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    send: F,
) -> Sent
where
    F: FnOnce(http::Request<WasiBody>, Option<RequestOptions>) -> Sending,
{
    let Some(fault) = fault else {
        return send(request, options).await;
    };
    match fault {
        Fault::DropBeforeBody => Err(HttpError::ConnectionTerminated),
        Fault::Status(status) => Ok(answer(status, None)),
        Fault::TooManyRequests => Ok(answer(429, Some("1"))),
        Fault::DropAfterBody => {
            // The registry gets the whole request and acts on it; its answer is lost.
            let (response, io) = send(request, options).await?;
            drop(response.into_body().collect().await);
            drop(Pin::from(io).await);
            Err(HttpError::ConnectionTerminated)
        }
        Fault::StalledBody | Fault::TruncatedBody => {
            let stall = options
                .and_then(|o| o.between_bytes_timeout)
                .unwrap_or(crate::net::pool::DEFAULT_TIMEOUT);
            let (response, io) = send(request, options).await?;
            let response = response.map(|body| {
                let broken = if fault == Fault::StalledBody {
                    Broken::Stalled {
                        sleep: Box::pin(tokio::time::sleep(stall)),
                    }
                } else {
                    Broken::Truncated {
                        body,
                        passed: false,
                    }
                };
                broken.boxed_unsync()
            });
            Ok((response, io))
        }
    }
}

/// A made-up answer with no body.
fn answer(status: u16, retry_after: Option<&str>) -> (http::Response<WasiBody>, IoFuture) {
    let mut builder = http::Response::builder().status(status);
    if let Some(seconds) = retry_after {
        builder = builder.header("retry-after", seconds);
    }
    let body = Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed_unsync();
    let response = builder.body(body).expect("a valid made-up answer");
    (response, Box::new(async { Ok(()) }))
}

/// A body that breaks: one that stalls until the between-bytes timeout, as the transport
/// would report it, or one that passes its first frame and then fails.
enum Broken {
    Stalled { sleep: Pin<Box<tokio::time::Sleep>> },
    Truncated { body: WasiBody, passed: bool },
}

impl Body for Broken {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        match self.get_mut() {
            Broken::Stalled { sleep } => match sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout))),
                Poll::Pending => Poll::Pending,
            },
            Broken::Truncated { passed: true, .. } => {
                Poll::Ready(Some(Err(HttpError::HttpResponseIncomplete)))
            }
            Broken::Truncated { body, passed } => match Pin::new(body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) if frame.data_ref().is_some_and(|d| d.len() > 1) => {
                    // Pass half of the first frame of data, then break.
                    *passed = true;
                    let data = frame.into_data().expect("checked");
                    Poll::Ready(Some(Ok(Frame::data(data.slice(..data.len() / 2)))))
                }
                Poll::Ready(_) => {
                    *passed = true;
                    Poll::Ready(Some(Err(HttpError::HttpResponseIncomplete)))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    use std::time::Duration;

    /// A send that answers 200 with `body` and records that it was called.
    fn fake_send(
        called: Arc<AtomicBool>,
        body: &'static [u8],
    ) -> impl FnOnce(http::Request<WasiBody>, Option<RequestOptions>) -> Sending {
        move |_request, _options| {
            called.store(true, Ordering::SeqCst);
            Box::pin(async move {
                let body = http_body_util::Full::new(Bytes::from_static(body))
                    .map_err(|never| match never {})
                    .boxed_unsync();
                let response = http::Response::builder().status(200).body(body).unwrap();
                Ok((response, Box::new(async { Ok(()) }) as IoFuture))
            })
        }
    }

    fn request() -> http::Request<WasiBody> {
        let body = Empty::<Bytes>::new()
            .map_err(|never| match never {})
            .boxed_unsync();
        http::Request::get("http://127.0.0.1:1/v2/")
            .body(body)
            .unwrap()
    }

    /// Each fault does what it says: whether the request reaches the registry, and what
    /// the caller gets back.
    #[tokio::test]
    async fn each_fault_shapes_the_exchange() {
        let options = RequestOptions {
            between_bytes_timeout: Some(Duration::from_millis(10)),
            ..RequestOptions::default()
        };
        let run = |fault: Option<Fault>| {
            let called = Arc::new(AtomicBool::new(false));
            let send = fake_send(called.clone(), b"0123456789");
            async move {
                let sent = send_with(fault, request(), Some(options), send).await;
                (called.load(Ordering::SeqCst), sent)
            }
        };
        let (called, sent) = run(None).await;
        assert!(called);
        let body = sent.unwrap().0.into_body().collect().await.unwrap();
        assert_eq!(body.to_bytes(), &b"0123456789"[..]);

        let (called, sent) = run(Some(Fault::DropBeforeBody)).await;
        assert!(
            !called,
            "dropped before the body: the registry never sees it"
        );
        assert!(matches!(sent, Err(HttpError::ConnectionTerminated)));

        let (called, sent) = run(Some(Fault::DropAfterBody)).await;
        assert!(called, "dropped after the body: the registry acted");
        assert!(matches!(sent, Err(HttpError::ConnectionTerminated)));

        for (fault, status) in [(Fault::Status(502), 502), (Fault::TooManyRequests, 429)] {
            let (called, sent) = run(Some(fault)).await;
            assert!(!called);
            let response = sent.unwrap().0;
            assert_eq!(response.status(), status);
            let retry_after = response.headers().get("retry-after");
            assert_eq!(retry_after.is_some(), status == 429);
        }

        let (called, sent) = run(Some(Fault::TruncatedBody)).await;
        assert!(called);
        let mut body = sent.unwrap().0.into_body();
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(first, &b"01234"[..]);
        assert!(matches!(
            body.frame().await,
            Some(Err(HttpError::HttpResponseIncomplete))
        ));

        let (called, sent) = run(Some(Fault::StalledBody)).await;
        assert!(called);
        let mut body = sent.unwrap().0.into_body();
        assert!(matches!(
            body.frame().await,
            Some(Err(HttpError::ConnectionReadTimeout))
        ));
    }

    #[test]
    fn draws_are_reproducible_and_near_the_rate() {
        let plan = FaultPlan {
            seed: 42,
            per_mille: 100,
        };
        let (a, b) = (FaultInjector::new(plan), FaultInjector::new(plan));
        let draws_a: Vec<_> = (0..5000).map(|_| a.draw()).collect();
        let draws_b: Vec<_> = (0..5000).map(|_| b.draw()).collect();
        assert_eq!(draws_a, draws_b);
        let injected = a.stats().injected();
        assert!(
            (350..=650).contains(&injected),
            "{injected} faults in 5000 at 10%"
        );
        for kind in KINDS {
            assert!(draws_a.contains(&Some(kind)), "{kind:?} never drawn");
        }
        let other = FaultInjector::new(FaultPlan {
            seed: 43,
            per_mille: 100,
        });
        let draws_c: Vec<_> = (0..5000).map(|_| other.draw()).collect();
        assert_ne!(draws_a, draws_c);
        assert_eq!(FaultInjector::default().draw(), None);
    }
}
