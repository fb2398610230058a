//! hyper's errors as wasi:http errors. wasmtime-wasi-http turns every `hyper::Error` into
//! `HttpProtocolError`, which the component cannot tell from a server that speaks no HTTP;
//! a connection the registry closed or reset (the registry stopped or restarted mid-request)
//! is `ConnectionTerminated` instead, a transient failure the component's retry policy
//! handles, and a timeout is `ConnectionReadTimeout`.

use std::error::Error as _;
use std::io;

use wasmtime_wasi_http::Error as HttpError;

pub(crate) fn from_hyper(error: hyper::Error) -> HttpError {
    if error.is_timeout() {
        return HttpError::ConnectionReadTimeout;
    }
    if error.is_closed() || error.is_incomplete_message() || error.is_canceled() {
        return HttpError::ConnectionTerminated;
    }
    let io_kind = error
        .source()
        .and_then(|source| source.downcast_ref::<io::Error>())
        .map(io::Error::kind);
    match io_kind {
        Some(
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof,
        ) => HttpError::ConnectionTerminated,
        _ => HttpError::from(error),
    }
}
