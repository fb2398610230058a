//! The one HTTP/2 connection Plakar opens to the plugin: h2c with prior knowledge on the
//! plugin's stdin (what Plakar sends) and stdout (what it receives).
//!
//! Plakar dials exactly once and cannot reconnect, so the connection is served without an
//! accept loop and without graceful shutdown (which would send GOAWAY), with no keepalive
//! and no connection age. It ends when Plakar closes its end: the caller then exits.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use hyper::server::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::proto::store_server::StoreServer;
use crate::service::Plugin;

/// The receive window of one stream: how much of a Put may be in flight ahead of the
/// component (a few of Plakar's 1 MiB chunks).
const STREAM_WINDOW: u32 = 4 << 20;
/// The receive window of the whole connection: all Puts' bytes in flight at once.
const CONNECTION_WINDOW: u32 = 16 << 20;
/// The largest message the plugin decodes (Plakar's Put chunks are at most 1 MiB).
const MAX_MESSAGE: usize = 4 << 20;

/// Serves `plugin` on `io` until the peer closes the connection.
pub async fn serve<IO>(io: IO, plugin: Plugin) -> Result<(), hyper::Error>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = StoreServer::new(plugin).max_decoding_message_size(MAX_MESSAGE);
    http2::Builder::new(TokioExecutor::new())
        // Plakar sends many Puts and Gets at once; the instance pool bounds the work.
        .max_concurrent_streams(None)
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
        .await
}

/// Whether `error` only says that Plakar closed its end (even mid-call, or before the
/// plugin's first frame was written): an end like any other, not a failure.
pub fn ended_by_peer(error: &hyper::Error) -> bool {
    if error.is_closed() || error.is_incomplete_message() {
        return true;
    }
    let io = std::error::Error::source(error).and_then(|e| e.downcast_ref::<io::Error>());
    io.is_some_and(|e| {
        matches!(
            e.kind(),
            io::ErrorKind::BrokenPipe
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::UnexpectedEof
        )
    })
}

/// The process's stdin and stdout as one connection. File descriptor 1 is pointed at stderr
/// afterwards, so that nothing but HTTP/2 can ever reach Plakar's end of the pipe: a stray
/// print lands on stderr, which Plakar shows the user.
pub fn stdio() -> io::Result<impl AsyncRead + AsyncWrite + Unpin + Send + 'static> {
    let input = io::stdin().as_fd().try_clone_to_owned()?;
    let output = io::stdout().as_fd().try_clone_to_owned()?;
    // SAFETY: dup2 on valid descriptors of this process; fd 1 now refers to stderr's file.
    if unsafe { libc::dup2(2, 1) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd 0 stays open (it is not used again) so the pipe's reader is ours alone.
    Ok(tokio::io::join(reader(input)?, writer(output)?))
}

type BoxedRead = Box<dyn AsyncRead + Unpin + Send>;
type BoxedWrite = Box<dyn AsyncWrite + Unpin + Send>;

/// A pipe (as Plakar gives) is read without blocking a thread; anything else (a terminal,
/// a file) through tokio's blocking reader.
fn reader(fd: OwnedFd) -> io::Result<BoxedRead> {
    match tokio::net::unix::pipe::Receiver::from_owned_fd(fd.try_clone()?) {
        Ok(pipe) => Ok(Box::new(pipe)),
        Err(_) => Ok(Box::new(tokio::fs::File::from_std(std::fs::File::from(fd)))),
    }
}

fn writer(fd: OwnedFd) -> io::Result<BoxedWrite> {
    match tokio::net::unix::pipe::Sender::from_owned_fd(fd.try_clone()?) {
        Ok(pipe) => Ok(Box::new(pipe)),
        Err(_) => Ok(Box::new(tokio::fs::File::from_std(std::fs::File::from(fd)))),
    }
}
