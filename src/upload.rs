//! Pushing a blob through an upload session (distribution spec, "Pushing blobs").
//!
//! Bytes are hashed as they arrive. A blob that stays under [`STREAM_THRESHOLD`] is kept in
//! memory and pushed monolithically once its digest is known: POST opens the session, PUT
//! `?digest=` carries the bytes (2 requests). A larger one starts streaming as soon as it
//! crosses the threshold: POST, then one PATCH whose chunked body carries the bytes as they
//! come, then PUT `?digest=` with an empty body closes the session (3 requests), so at most the
//! threshold plus one chunk is ever held in memory.
//!
//! The session URL is always the `Location` the registry last returned (it may be relative and
//! carry state such as `_state`); it is never rebuilt.

use crate::digest::{Digest, Hasher};
use std::rc::Rc;

use crate::error::{Error, ErrorKind, Result};

use crate::http::{Exchange, Method, Request, Response};
use crate::layout::BlobRef;
use crate::registry::{check_digest_header, expect, follow, Registry};

/// Blobs up to this size are pushed in one PUT; larger ones stream through a PATCH.
pub const STREAM_THRESHOLD: usize = 4 << 20;

const OCTET_STREAM: &str = "application/octet-stream";

enum State {
    Buffering(Vec<u8>),
    Streaming {
        exchange: Box<dyn Exchange>,
        session: String,
    },
}

/// A blob being pushed.
pub struct BlobUpload {
    hasher: Hasher,
    state: State,
}

impl Default for BlobUpload {
    fn default() -> Self {
        BlobUpload {
            hasher: Hasher::default(),
            state: State::Buffering(Vec::new()),
        }
    }
}

impl BlobUpload {
    pub fn write(&mut self, registry: &Registry, chunk: &[u8]) -> Result<()> {
        self.hasher.update(chunk);
        match &mut self.state {
            State::Buffering(buffer) if buffer.len() + chunk.len() <= STREAM_THRESHOLD => {
                buffer.extend_from_slice(chunk);
                Ok(())
            }
            State::Buffering(buffer) => {
                let buffered = std::mem::take(buffer);
                let session = open_session(registry)?;
                let head = Request::new(Method::Patch, session.as_str())
                    .header("content-type", OCTET_STREAM)
                    .streamed();
                let mut exchange = registry.transport.start(head)?;
                let written = exchange
                    .write(&buffered)
                    .and_then(|()| exchange.write(chunk));
                if let Err(e) = written {
                    return Err(explain_write_failure(exchange, e));
                }
                self.state = State::Streaming { exchange, session };
                Ok(())
            }
            State::Streaming { exchange, .. } => {
                let Err(e) = exchange.write(chunk) else {
                    return Ok(());
                };
                // The upload is over; the store drops this writer after an error.
                let old = std::mem::replace(&mut self.state, State::Buffering(Vec::new()));
                let State::Streaming { exchange, .. } = old else {
                    unreachable!()
                };
                Err(explain_write_failure(exchange, e))
            }
        }
    }

    /// Completes the upload and returns the stored blob's descriptor.
    pub fn finish(self, registry: &Registry) -> Result<BlobRef> {
        let blob = BlobRef {
            size: self.hasher.len(),
            digest: self.hasher.finish()?,
        };
        match self.state {
            State::Buffering(buffer) => push_monolithic(registry, buffer, blob.digest)?,
            State::Streaming { exchange, session } => {
                let response = exchange.finish()?;
                // 202 as the spec says ("Pushing a blob in chunks"); ECR answers 201.
                let response =
                    expect(response, &[201, 202, 204], Method::Patch).map_err(session_lost)?;
                let session = next_session(&session, &response)?;
                match close_session(registry, &session, blob.digest, Rc::default()) {
                    Ok(()) => {}
                    // The close may have reached the registry and only its answer been lost:
                    // sent again, it finds the session used up. The streamed bytes are gone,
                    // but the blob, named by its digest, tells whether it was stored.
                    Err(e) if e.kind == ErrorKind::NotFound => {
                        if !registry.has_blob(blob)? {
                            return Err(session_lost(e));
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(blob)
    }
}

/// Pushes bytes held in memory: POST, then PUT with the bytes and their digest.
///
/// Where the registry no longer knows the session when it is closed (a PUT sent again after
/// a dropped connection finds its session already used, or a session that expired), the push
/// restarts once in a new session: nothing is tagged until the blob is stored whole.
pub fn push_monolithic(registry: &Registry, bytes: Vec<u8>, digest: Digest) -> Result<()> {
    let bytes = Rc::new(bytes);
    let mut result = Ok(());
    for _ in 0..2 {
        let session = open_session(registry)?;
        result = close_session(registry, &session, digest, Rc::clone(&bytes));
        match &result {
            Err(e) if e.kind == ErrorKind::NotFound => continue,
            _ => return result,
        }
    }
    result.map_err(session_lost)
}

/// A put is never "not found": a session the registry lost is a fault that may pass.
fn session_lost(e: Error) -> Error {
    match e.kind {
        ErrorKind::NotFound => Error::new(
            ErrorKind::Transient,
            format!("the registry lost the upload session ({})", e.message),
        ),
        _ => e,
    }
}

/// POST opens an upload session; the answer's `Location` is where it continues.
fn open_session(registry: &Registry) -> Result<String> {
    let url = registry.url("blobs/uploads/");
    let request = Request::new(Method::Post, url.as_str()).header("content-length", "0");
    let response = expect(registry.send(request)?, &[202], Method::Post)?;
    next_session(&url, &response)
}

/// PUT `<session>?digest=` with the last bytes closes the session and stores the blob.
fn close_session(
    registry: &Registry,
    session: &str,
    digest: Digest,
    bytes: Rc<Vec<u8>>,
) -> Result<()> {
    let separator = if session.contains('?') { '&' } else { '?' };
    let url = format!("{session}{separator}digest={digest}");
    let request = Request::new(Method::Put, url)
        .header("content-type", OCTET_STREAM)
        .bytes(bytes);
    let response = expect(registry.send(request)?, &[201, 204], Method::Put)?;
    check_digest_header(&response, &digest)
}

pub(crate) fn next_session(request_url: &str, response: &Response) -> Result<String> {
    let location = response.header("location").ok_or_else(|| {
        Error::protocol(format!(
            "the registry answered {} without a Location",
            response.status
        ))
    })?;
    follow(
        request_url,
        location.trim(),
        "the upload session's Location",
    )
}

/// A write fails when the registry stops reading, usually because it already answered with an
/// error; that answer names the cause better than the broken stream does.
fn explain_write_failure(exchange: Box<dyn Exchange>, write_error: Error) -> Error {
    match exchange.finish() {
        Ok(response) if response.status >= 400 => expect(response, &[], Method::Patch)
            .err()
            .unwrap_or(write_error),
        _ => write_error,
    }
}
