//! A response body with a between-bytes timeout (wasi:http's `between-bytes-timeout`), for
//! the connections of the keep-alive pool.

use crate::net::connection_error::from_hyper;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use wasmtime_wasi_http::Error as HttpError;

/// A response body that fails when no frame arrives within `limit` of the previous one.
pub(crate) struct TimedBody {
    incoming: hyper::body::Incoming,
    limit: Duration,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        match Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(frame) => {
                self.deadline = None;
                Poll::Ready(frame.map(|f| f.map_err(from_hyper)))
            }
            Poll::Pending => {
                let limit = self.limit;
                let deadline = self
                    .deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                match deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}

impl TimedBody {
    pub(crate) fn new(incoming: hyper::body::Incoming, limit: Duration) -> Self {
        TimedBody {
            incoming,
            limit,
            deadline: None,
        }
    }
}
