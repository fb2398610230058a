//! How long the keep-alive pool waits for a request's answer. wasmtime-wasi-http's own client
//! bounds everything before the response head by the first-byte timeout, the upload of the
//! request body included: a large PATCH over a slow uplink then fails however steadily its
//! bytes move. Here a body's upload is bounded by its progress instead:
//!
//! - While the connection holds body bytes it has not sent on (hyper took a frame and has not
//!   asked for the next one, which it does once its buffer has room again), the
//!   between-bytes timeout runs from the last frame it took: `ConnectionWriteTimeout` only
//!   when no byte could be sent for that long.
//! - While the connection waits for the guest to write more, no clock runs: the guest's own
//!   pace (a slow source of the object) is not the network's.
//! - Once the body is done (it ended, or hyper dropped it with its `Content-Length` sent),
//!   the first-byte timeout runs: `ConnectionReadTimeout` when no answer comes in time. The
//!   bytes that hyper and the kernel still buffer at that point travel within that time.
//!
//! A request without a body waits for its answer within the first-byte timeout, as before.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use tokio::time::Instant;
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

/// The two timeouts that bound the wait for an answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub first_byte: Duration,
    pub between_bytes: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The connection holds bytes of the request it took at this instant and has not sent on.
    Sending(Instant),
    /// The connection asked for more of the body; the guest has not written it yet.
    WaitingForGuest,
    /// The whole request was handed over at this instant: the answer is due.
    Sent(Instant),
}

/// Where a request's upload stands; shared by its body and the wait for its answer.
#[derive(Clone)]
pub(crate) struct UploadClock(Arc<Mutex<Phase>>);

impl UploadClock {
    /// Watches `request`'s body: the returned request carries it on, and the clock follows it.
    pub fn watch(request: http::Request<WasiBody>) -> (http::Request<WasiBody>, UploadClock) {
        let now = Instant::now();
        let (parts, inner) = request.into_parts();
        let phase = match inner.is_end_stream() {
            true => Phase::Sent(now),
            false => Phase::Sending(now),
        };
        let clock = UploadClock(Arc::new(Mutex::new(phase)));
        let body = ProgressBody {
            inner,
            clock: clock.clone(),
        };
        (http::Request::from_parts(parts, body.boxed_unsync()), clock)
    }

    fn phase(&self) -> Phase {
        // A panic while holding the lock leaves a plain value: still usable.
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, phase: Phase) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = phase;
    }

    /// Starts the running clock again, for a new attempt at sending (a new connection after a
    /// pooled one turned out closed): time spent connecting is not the upload's.
    pub fn restart(&self) {
        let now = Instant::now();
        match self.phase() {
            Phase::Sending(_) => self.set(Phase::Sending(now)),
            Phase::Sent(_) => self.set(Phase::Sent(now)),
            Phase::WaitingForGuest => {}
        }
    }

    /// When to look again, and the error if the request has waited too long by then.
    fn deadline(&self, limits: Limits) -> (Instant, Option<HttpError>) {
        match self.phase() {
            Phase::Sending(since) => (
                since + limits.between_bytes,
                Some(HttpError::ConnectionWriteTimeout),
            ),
            Phase::WaitingForGuest => (Instant::now() + limits.between_bytes, None),
            Phase::Sent(since) => (
                since + limits.first_byte,
                Some(HttpError::ConnectionReadTimeout),
            ),
        }
    }

    /// `sent` (hyper's future of the response head), bounded as the module says.
    pub async fn answer<T>(
        &self,
        limits: Limits,
        sent: impl Future<Output = T>,
    ) -> Result<T, HttpError> {
        let mut sent = pin!(sent);
        loop {
            let (at, _) = self.deadline(limits);
            if let Ok(answer) = tokio::time::timeout_at(at, &mut sent).await {
                return Ok(answer);
            }
            // The phase may have moved on meanwhile (a frame was taken): then wait on.
            let (at, error) = self.deadline(limits);
            match error {
                Some(error) if Instant::now() >= at => return Err(error),
                _ => continue,
            }
        }
    }
}

/// A request body that tells its [`UploadClock`] what the connection does with it.
struct ProgressBody {
    inner: WasiBody,
    clock: UploadClock,
}

impl Body for ProgressBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let phase = match &polled {
            Poll::Pending => Phase::WaitingForGuest,
            Poll::Ready(Some(Ok(_))) if !self.inner.is_end_stream() => {
                Phase::Sending(Instant::now())
            }
            Poll::Ready(_) => Phase::Sent(Instant::now()),
        };
        self.clock.set(phase);
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for ProgressBody {
    /// hyper drops a body it will not poll again: every byte it wanted was taken.
    fn drop(&mut self) {
        if !matches!(self.clock.phase(), Phase::Sent(_)) {
            self.clock.set(Phase::Sent(Instant::now()));
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use http_body_util::Empty;
    use tokio::sync::{mpsc, oneshot};

    const LIMITS: Limits = Limits {
        first_byte: Duration::from_millis(300),
        between_bytes: Duration::from_secs(1),
    };
    /// A wait that never ends by itself, bounded: a test fails rather than hang.
    const BOUND: Duration = Duration::from_secs(60);

    async fn bounded<T>(wait: impl Future<Output = T>) -> T {
        tokio::time::timeout(BOUND, wait)
            .await
            .expect("ended within the bound")
    }

    /// A body the test writes through a channel, as the guest writes its outgoing body.
    struct Fed(mpsc::Receiver<Bytes>);

    impl Body for Fed {
        type Data = Bytes;
        type Error = HttpError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
            self.0
                .poll_recv(cx)
                .map(|chunk| chunk.map(|c| Ok(Frame::data(c))))
        }
    }

    /// A request body the returned sender writes.
    pub(crate) fn fed_body() -> (mpsc::Sender<Bytes>, WasiBody) {
        let (tx, rx) = mpsc::channel(1);
        (tx, Fed(rx).boxed_unsync())
    }

    fn fed() -> (mpsc::Sender<Bytes>, http::Request<WasiBody>) {
        let (tx, body) = fed_body();
        (tx, http::Request::new(body))
    }

    /// Plays the connection: takes a frame, then needs `pace` to send it before it asks for
    /// the next; once the body ends, answers `()`.
    fn connection(mut body: WasiBody, pace: Duration) -> oneshot::Receiver<()> {
        let (answer, answered) = oneshot::channel();
        tokio::spawn(async move {
            while let Some(frame) = body.frame().await {
                frame.unwrap();
                tokio::time::sleep(pace).await;
            }
            let _ = answer.send(());
        });
        answered
    }

    #[tokio::test]
    async fn a_request_without_a_body_waits_the_first_byte_timeout() {
        let body = Empty::<Bytes>::new()
            .map_err(|never| match never {})
            .boxed_unsync();
        let (_request, clock) = UploadClock::watch(http::Request::new(body));
        let start = Instant::now();
        let answer = clock.answer(LIMITS, std::future::pending::<()>());
        let err = bounded(answer).await.unwrap_err();
        assert!(matches!(err, HttpError::ConnectionReadTimeout), "{err:?}");
        assert!(start.elapsed() >= LIMITS.first_byte);
    }

    /// Ten frames 100 ms apart: the upload takes longer than the first-byte timeout, but
    /// bytes keep moving.
    #[tokio::test]
    async fn a_slow_upload_that_progresses_is_not_cut_short() {
        let (guest, request) = fed();
        let (request, clock) = UploadClock::watch(request);
        let pace = Duration::from_millis(100);
        let answered = connection(request.into_body(), pace);
        tokio::spawn(async move {
            for _ in 0..10 {
                guest.send(Bytes::from_static(b"0123456789")).await.unwrap();
            }
        });
        let start = Instant::now();
        bounded(clock.answer(LIMITS, answered))
            .await
            .expect("no timeout")
            .expect("answered");
        assert!(start.elapsed() >= 10 * pace && 10 * pace > LIMITS.first_byte);
    }

    /// The connection took a frame and could send nothing since: a write timeout, although
    /// the body has not ended.
    #[tokio::test]
    async fn an_upload_that_stalls_fails_with_a_write_timeout() {
        let (guest, request) = fed();
        let (request, clock) = UploadClock::watch(request);
        let answered = connection(request.into_body(), BOUND * 2);
        guest.send(Bytes::from_static(b"first")).await.unwrap();
        guest.send(Bytes::from_static(b"second")).await.unwrap();
        let err = bounded(clock.answer(LIMITS, answered)).await.unwrap_err();
        assert!(matches!(err, HttpError::ConnectionWriteTimeout), "{err:?}");
    }

    /// The guest writing slowly is no network stall (here it waits longer than both
    /// timeouts); once its body ends, the answer is due within the first-byte timeout.
    #[tokio::test]
    async fn the_guest_pace_is_not_timed_but_the_answer_is() {
        let (guest, request) = fed();
        let (request, clock) = UploadClock::watch(request);
        let mut body = request.into_body();
        let pause = LIMITS.between_bytes + LIMITS.first_byte + Duration::from_millis(500);
        tokio::spawn(async move {
            tokio::time::sleep(pause).await;
            guest.send(Bytes::from_static(b"late")).await.unwrap();
        });
        let taken = tokio::spawn(async move {
            while let Some(frame) = body.frame().await {
                frame.unwrap();
            }
        });
        let start = Instant::now();
        let answer = clock.answer(LIMITS, std::future::pending::<()>());
        let err = bounded(answer).await.unwrap_err();
        bounded(taken).await.unwrap();
        assert!(matches!(err, HttpError::ConnectionReadTimeout), "{err:?}");
        assert!(start.elapsed() >= pause + LIMITS.first_byte);
    }
}
