//! The one interface between the OCI protocol logic and the network.
//!
//! The protocol core builds [`Request`]s and reads [`Response`]s; a [`Transport`] carries
//! them. In the component that is wasi:http (`wasi_transport.rs`); in unit tests a scripted
//! transport plays the registry. Bodies stream both ways, so no object needs to sit whole in
//! memory.

use std::fmt;
use std::rc::Rc;

use crate::error::{Error, Result};

/// HTTP methods the distribution API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// The body of a request: none, bytes held in memory (which a layer may send again, for a
/// retry, a redirect or a new credential), or a stream written through [`Exchange::write`]
/// (which can be sent only once).
#[derive(Clone, Default)]
pub enum RequestBody {
    #[default]
    Empty,
    Bytes(Rc<Vec<u8>>),
    Streamed,
}

impl RequestBody {
    pub fn known_len(&self) -> Option<usize> {
        match self {
            RequestBody::Empty => Some(0),
            RequestBody::Bytes(bytes) => Some(bytes.len()),
            RequestBody::Streamed => None,
        }
    }

    /// Whether the request can be sent again as it is.
    pub fn is_replayable(&self) -> bool {
        !matches!(self, RequestBody::Streamed)
    }
}

/// A request. `url` is absolute (`scheme://authority/path?query`).
#[derive(Clone)]
pub struct Request {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: RequestBody,
    /// Where set, a successful answer's body is read whole (up to this many bytes) by the
    /// retrying layer as part of the attempt, so that a connection breaking mid-body is
    /// retried like one breaking before the answer (small bodies: manifests, tag lists).
    pub read_whole: Option<usize>,
}

impl Request {
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: RequestBody::Empty,
            read_whole: None,
        }
    }

    /// Asks for the answer's body whole, up to `limit` bytes (see [`Request::read_whole`]).
    pub fn whole_body(mut self, limit: usize) -> Self {
        self.read_whole = Some(limit);
        self
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Sets (or replaces) a header.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.remove_header(name);
        self.headers.push((name.to_string(), value.into()));
    }

    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A body held in memory; sets `Content-Length`.
    pub fn bytes(mut self, bytes: impl Into<Rc<Vec<u8>>>) -> Self {
        let bytes = bytes.into();
        self.set_header("content-length", bytes.len().to_string());
        self.body = RequestBody::Bytes(bytes);
        self
    }

    /// A body the caller writes through the exchange, of a length not known up front.
    pub fn streamed(mut self) -> Self {
        self.body = RequestBody::Streamed;
        self
    }

    /// `host[:port]` of the URL.
    pub fn authority(&self) -> &str {
        authority_of(&self.url)
    }

    /// `scheme://host[:port]` of the URL.
    pub fn origin(&self) -> &str {
        origin_of(&self.url)
    }
}

/// Whether `url` is `scheme://...` (the scheme in any case).
pub fn has_scheme(url: &str, scheme: &str) -> bool {
    // Bytes, not `str` slices: a hostile URL may have a multi-byte character at the cut.
    let bytes = url.as_bytes();
    bytes.len() > scheme.len() + 3
        && bytes[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes())
        && bytes[scheme.len()..].starts_with(b"://")
}

/// `scheme://host[:port]` of an absolute URL: the scheme is part of where a request goes, so
/// `http://host` is not `https://host`.
pub fn origin_of(url: &str) -> &str {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    &url[..scheme_end + authority_of(url).len()]
}

/// `host[:port]` of an absolute URL.
pub fn authority_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

/// Debug output never shows header values: they may carry credentials.
impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("header_names", &names)
            .field("body_len", &self.body.known_len())
            .finish()
    }
}

/// Carries requests. One method: start a request; the [`Exchange`] takes the body and
/// yields the response.
pub trait Transport {
    fn start(&self, request: Request) -> Result<Box<dyn Exchange>>;
}

/// A request in flight: chunks of a streamed body go in, then `finish` waits for the
/// response. Writing to a request whose body is not `Streamed` is a bug of the caller.
pub trait Exchange {
    fn write(&mut self, chunk: &[u8]) -> Result<()>;
    fn finish(self: Box<Self>) -> Result<Response>;
}

/// A response body, pulled in chunks.
pub trait Body {
    /// Up to `max` bytes; an empty vector at the end of the body.
    fn read(&mut self, max: usize) -> Result<Vec<u8>>;
}

/// A response: status, headers (names lowercase) and the body still to be read.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Box<dyn Body>,
}

impl Response {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, by case-insensitive name.
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Refuses an answer whose headers add up to more than [`HEADERS_LIMIT`] bytes.
    pub fn check_headers(&self) -> Result<()> {
        let size: usize = self.headers.iter().map(|(n, v)| n.len() + v.len()).sum();
        if size > HEADERS_LIMIT {
            return Err(Error::protocol(format!(
                "the answer's headers take {size} bytes, more than {HEADERS_LIMIT}"
            )));
        }
        Ok(())
    }

    /// `Content-Length`, if present; a malformed one is a protocol error.
    pub fn content_length(&self) -> Result<Option<u64>> {
        match self.header("content-length") {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| Error::protocol(format!("malformed Content-Length {v:?}"))),
        }
    }

    /// Reads the whole body, refusing one longer than `limit` bytes.
    pub fn read_to_end(mut self, limit: usize) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            let chunk = self.body.read(READ_CHUNK)?;
            if chunk.is_empty() {
                return Ok(out);
            }
            if out.len() + chunk.len() > limit {
                return Err(Error::protocol(format!(
                    "response body exceeds {limit} bytes"
                )));
            }
            out.extend_from_slice(&chunk);
        }
    }

    /// The same answer with its body read into memory, refusing one longer than `limit`.
    pub fn into_memory(mut self, limit: usize) -> Result<Response> {
        let body = std::mem::replace(&mut self.body, Box::new(MemoryBody::default()));
        let streamed = Response {
            status: self.status,
            headers: Vec::new(),
            body,
        };
        self.body = Box::new(MemoryBody {
            bytes: streamed.read_to_end(limit)?,
            at: 0,
        });
        Ok(self)
    }

    /// Reads at most `limit` bytes of the body (for error bodies, which may be huge).
    pub fn read_prefix(mut self, limit: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while out.len() < limit {
            match self.body.read(limit - out.len()) {
                Ok(chunk) if !chunk.is_empty() => out.extend_from_slice(&chunk),
                _ => break,
            }
        }
        out
    }
}

/// A body already in memory.
#[derive(Default)]
struct MemoryBody {
    bytes: Vec<u8>,
    at: usize,
}

impl Body for MemoryBody {
    fn read(&mut self, max: usize) -> Result<Vec<u8>> {
        let end = self.bytes.len().min(self.at.saturating_add(max));
        let chunk = self.bytes[self.at..end].to_vec();
        self.at = end;
        Ok(chunk)
    }
}

/// Answers with more header bytes than this are refused.
pub const HEADERS_LIMIT: usize = 64 << 10;

/// Size of the reads the protocol core makes of a response body.
pub const READ_CHUNK: usize = 1 << 20;

/// Sends a request whose body (if any) is held in memory and waits for the response.
pub fn send(transport: &dyn Transport, request: Request) -> Result<Response> {
    debug_assert!(
        request.body.is_replayable(),
        "a streamed body needs the exchange"
    );
    transport.start(request)?.finish()
}

/// A layer over a transport (retries, redirects, authentication): it sends a request whose
/// body can be sent again its own way, and hands a streamed one, prepared, to the transport
/// below, once.
pub trait Layer: 'static {
    fn below(&self) -> &dyn Transport;
    /// Sends a request whose body (none, or bytes) can be sent again.
    fn send(&self, request: Request) -> Result<Response>;
    /// Prepares a streamed request for the one time it goes down.
    fn prepare(&self, request: Request) -> Result<Request> {
        Ok(request)
    }
}

/// A layer, as a transport.
pub struct Layered<L>(pub Rc<L>);

impl<L: Layer> Transport for Layered<L> {
    fn start(&self, request: Request) -> Result<Box<dyn Exchange>> {
        if !request.body.is_replayable() {
            let request = self.0.prepare(request)?;
            return self.0.below().start(request);
        }
        Ok(Box::new(Deferred {
            layer: Rc::clone(&self.0),
            request,
        }))
    }
}

/// A replayable request, sent by its layer when the response is asked for.
struct Deferred<L> {
    layer: Rc<L>,
    request: Request,
}

impl<L: Layer> Exchange for Deferred<L> {
    fn write(&mut self, _: &[u8]) -> Result<()> {
        Err(Error::invalid_argument(
            "a write to a request whose body is already given",
        ))
    }

    fn finish(self: Box<Self>) -> Result<Response> {
        self.layer.send(self.request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_are_read_in_any_case_and_whole() {
        assert!(has_scheme("HTTPS://h/x", "https"));
        // A multi-byte character where the scheme would end (found by fuzz_tests.rs).
        assert!(!has_scheme("X:\u{e8}\u{af}3]://h", "https"));
        assert!(has_scheme("http://h", "http"));
        assert!(!has_scheme("https://h", "http"));
        assert!(!has_scheme("httpx://h", "http"));
        assert!(!has_scheme("https://", "https"), "no host");
    }
}
