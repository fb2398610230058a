//! The one interface between the OCI protocol logic and the network.
//!
//! The protocol core builds [`RequestHead`]s and reads [`Response`]s; a [`Transport`] carries
//! them. In the component that is wasi:http (`wasi_transport.rs`); in unit tests a scripted
//! transport plays the registry. Bodies stream both ways, so no object needs to sit whole in
//! memory.

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

/// A request without its body. `url` is absolute (`scheme://authority/path?query`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
}

impl RequestHead {
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        RequestHead {
            method,
            url: url.into(),
            headers: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// Carries requests. One method: start a request; the [`Exchange`] takes the body and
/// yields the response.
pub trait Transport {
    fn start(&self, head: RequestHead) -> Result<Box<dyn Exchange>>;
}

/// A request in flight: body chunks go in, then `finish` waits for the response.
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

/// Size of the reads the protocol core makes of a response body.
pub const READ_CHUNK: usize = 1 << 20;

/// Sends a request with a body held in memory and waits for the response.
pub fn send(transport: &dyn Transport, head: RequestHead, body: &[u8]) -> Result<Response> {
    let mut exchange = transport.start(head)?;
    if !body.is_empty() {
        exchange.write(body)?;
    }
    exchange.finish()
}
