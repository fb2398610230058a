//! The bytes of Put and Get between gRPC messages and the host library's streaming calls.
//!
//! - [`put_body`]: a Put's chunk messages as one `AsyncRead`. A stream that breaks (the
//!   client reset it, the connection ended) is a read error, so the component's writer is
//!   dropped unfinished and the object is never stored.
//! - [`GetSink`]: an `AsyncWrite` whose every write becomes one `GetResponse`, sent on a
//!   bounded channel: a slow reader holds the component back instead of filling memory.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_stream::{self as stream, Stream, StreamExt};
use tokio_util::io::StreamReader;
use tokio_util::sync::PollSender;
use tonic::Status;

use crate::proto::{GetResponse, PutRequest};

/// `head` (a chunk the first message may carry), then the chunks of `rest`.
pub fn put_body<'a, S>(head: Bytes, rest: S) -> impl AsyncRead + Send + Unpin + 'a
where
    S: Stream<Item = Result<PutRequest, Status>> + Send + 'a,
{
    let chunks = stream::once(Ok(head)).chain(rest.map(|message| {
        message.map(|m| m.chunk).map_err(|status| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the put stream ended before its end ({})", status.message()),
            )
        })
    }));
    StreamReader::new(Box::pin(chunks))
}

/// Reads what is left of a Put stream, to its end. Plakar's client reports a Put that the
/// plugin answered before the last chunk as a bare "EOF" (its send fails and the status is
/// never read): after a failure the plugin takes the rest, then answers with the status.
pub async fn drain<S>(mut rest: S)
where
    S: Stream<Item = Result<PutRequest, Status>> + Unpin,
{
    while let Some(Ok(_)) = rest.next().await {}
}

/// A Get's responses: every write is one chunk (the host library writes at most 1 MiB at once).
pub struct GetSink {
    sender: PollSender<Result<GetResponse, Status>>,
}

impl GetSink {
    pub fn new(sender: mpsc::Sender<Result<GetResponse, Status>>) -> Self {
        GetSink {
            sender: PollSender::new(sender),
        }
    }
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the get call was cancelled")
}

impl AsyncWrite for GetSink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.sender.poll_reserve(cx)).map_err(|_| gone())?;
        let chunk = Bytes::copy_from_slice(buf);
        self.sender
            .send_item(Ok(GetResponse { chunk }))
            .map_err(|_| gone())?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn chunk(bytes: &'static [u8]) -> Result<PutRequest, Status> {
        Ok(PutRequest {
            chunk: Bytes::from_static(bytes),
            ..PutRequest::default()
        })
    }

    #[tokio::test]
    async fn a_put_body_is_its_chunks_in_order() {
        let rest = stream::iter(vec![chunk(b"bc"), chunk(b""), chunk(b"def")]);
        let mut body = put_body(Bytes::from_static(b"a"), rest);
        let mut all = Vec::new();
        body.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"abcdef");
    }

    #[tokio::test]
    async fn a_broken_put_stream_is_a_read_error() {
        let rest = stream::iter(vec![chunk(b"bc"), Err(Status::cancelled("reset"))]);
        let mut body = put_body(Bytes::new(), rest);
        let mut all = Vec::new();
        let err = body.read_to_end(&mut all).await.expect_err("broken stream");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[tokio::test]
    async fn drain_reads_to_the_end_or_the_first_error() {
        let mut rest = stream::iter(vec![
            chunk(b"a"),
            chunk(b"b"),
            Err(Status::cancelled("x")),
            chunk(b"c"),
        ]);
        drain(&mut rest).await;
        assert!(rest.next().await.is_some(), "stops at the error");
        let mut rest = stream::iter(vec![chunk(b"a"), chunk(b"b")]);
        drain(&mut rest).await;
        assert!(rest.next().await.is_none());
    }

    #[tokio::test]
    async fn each_write_is_one_response_and_a_dropped_receiver_is_an_error() {
        let (tx, mut rx) = mpsc::channel(1);
        let mut sink = GetSink::new(tx);
        sink.write_all(b"first").await.unwrap();
        let got = rx.recv().await.unwrap().unwrap();
        assert_eq!(&got.chunk[..], b"first");
        drop(rx);
        let err = sink.write_all(b"second").await.expect_err("nobody reads");
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
