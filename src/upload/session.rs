//! One upload session's requests (distribution spec, "Pushing blobs"): POST opens it, PATCH
//! adds bytes, PUT `?digest=` closes it.
//!
//! The session URL is always the `Location` the registry last returned (it may be relative and
//! carry state such as `_state`); it is never rebuilt.

use std::rc::Rc;

use super::strategy::{parse_min_chunk, too_large};
use crate::digest::Digest;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Exchange, Method, Request, Response};
use crate::registry::{check_digest_header, expect, Registry, ERROR_BODY_LIMIT};
use crate::url::follow;

pub const OCTET_STREAM: &str = "application/octet-stream";

/// An open upload session.
pub struct Session {
    /// Where it continues.
    pub url: String,
    /// The registry's `OCI-Chunk-Min-Length`, where it gave one.
    pub min_chunk: Option<usize>,
}

/// What became of a PATCH carrying a chunk.
pub enum Patched {
    /// Taken; the session continues at this URL.
    Taken(String),
    /// Refused as too large (`strategy::too_large`).
    TooLarge(Error),
}

/// POST opens an upload session; the answer's `Location` is where it continues.
pub fn open(registry: &Registry) -> Result<Session> {
    let url = registry.url("blobs/uploads/");
    let request = Request::new(Method::Post, url.as_str()).header("content-length", "0");
    let response = expect(registry.send(request)?, &[202], Method::Post)?;
    Ok(Session {
        min_chunk: parse_min_chunk(response.header("oci-chunk-min-length")),
        url: next(&url, &response)?,
    })
}

/// PATCH `bytes` at `offset` of the session at `url`, with `Content-Range` (inclusive, as the
/// spec writes it: `<start>-<end>`) and `Content-Length`.
pub fn patch_chunk(
    registry: &Registry,
    url: &str,
    offset: u64,
    bytes: Rc<Vec<u8>>,
) -> Result<Patched> {
    let end = offset + bytes.len() as u64 - 1;
    let request = Request::new(Method::Patch, url)
        .header("content-type", OCTET_STREAM)
        .header("content-range", format!("{offset}-{end}"))
        .bytes(bytes);
    let response = registry.send(request)?;
    response.check_headers()?;
    if too_large(response.status) {
        let status = response.status;
        let body = response.read_prefix(ERROR_BODY_LIMIT);
        return Ok(Patched::TooLarge(crate::error::classify(status, &body)));
    }
    Ok(Patched::Taken(patched(response, url)?))
}

/// Starts a PATCH whose body streams: the bytes are written to the returned exchange.
pub fn start_stream(registry: &Registry, url: &str) -> Result<Box<dyn Exchange>> {
    let head = Request::new(Method::Patch, url)
        .header("content-type", OCTET_STREAM)
        .streamed();
    registry.transport.start(head)
}

/// Ends a streamed PATCH; the URL the session continues at.
pub fn end_stream(exchange: Box<dyn Exchange>, url: &str) -> Result<String> {
    patched(exchange.finish()?, url)
}

/// The answer to a PATCH of the session at `url`: where the session continues. 202 as the
/// spec says ("Pushing a blob in chunks"); ECR answers 201.
fn patched(response: Response, url: &str) -> Result<String> {
    let response = expect(response, &[201, 202, 204], Method::Patch).map_err(lost)?;
    next(url, &response)
}

/// PUT `<session>?digest=` with the last bytes (maybe none) closes the session and stores
/// the blob.
pub fn close(registry: &Registry, url: &str, digest: Digest, bytes: Rc<Vec<u8>>) -> Result<()> {
    let separator = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{separator}digest={digest}");
    let request = Request::new(Method::Put, url)
        .header("content-type", OCTET_STREAM)
        .bytes(bytes);
    let response = expect(registry.send(request)?, &[201, 204], Method::Put)?;
    check_digest_header(&response, &digest)
}

/// A put is never "not found": a session the registry lost is a fault that may pass.
pub fn lost(e: Error) -> Error {
    match e.kind {
        ErrorKind::NotFound => Error::new(
            ErrorKind::Transient,
            format!("the registry lost the upload session ({})", e.message),
        ),
        _ => e,
    }
}

/// The session's next URL: the answer's `Location`, resolved against the request's URL.
pub(crate) fn next(request_url: &str, response: &Response) -> Result<String> {
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
pub fn explain_write_failure(exchange: Box<dyn Exchange>, write_error: Error) -> Error {
    match exchange.finish() {
        Ok(response) if response.status >= 400 => expect(response, &[], Method::Patch)
            .err()
            .unwrap_or(write_error),
        _ => write_error,
    }
}
