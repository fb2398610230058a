//! Reading a blob, whole or by range, and refusing anything but the bytes asked for.
//!
//! - A whole read is hashed as it streams; the end is reported only once the length and the
//!   digest match the manifest's descriptor. A mismatch is a protocol error, never data.
//! - A range read sends `Range: bytes=a-b` and accepts a 206 only when its `Content-Range`
//!   names exactly that range of an object of the expected size. A registry that ignores
//!   `Range` answers 200 with the whole blob (distribution spec: range support is a SHOULD):
//!   then the reader skips to the offset and stops after the length, so the caller still gets
//!   exactly the range.
//! - A body that ends early, or runs past what was announced, is a protocol error.

use crate::digest::Hasher;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Body, Method, Request, Response};
use crate::layout::BlobRef;
use crate::registry::{expect, Registry};

/// Reads larger than this are cut to it, so one read never holds more in memory.
pub const MAX_READ: usize = 16 << 20;

/// A byte range: `length` bytes from `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    pub offset: u64,
    pub length: u32,
}

impl ByteRange {
    /// Whether the range lies wholly inside an object of `size` bytes.
    pub fn fits(&self, size: u64) -> bool {
        self.offset
            .checked_add(u64::from(self.length))
            .is_some_and(|end| end <= size)
    }
}

enum Mode {
    /// Whole blob: hash everything, check at the end.
    Whole { hasher: Hasher, expected: BlobRef },
    /// Range: drop `skip` bytes, then pass `remaining`.
    Range { skip: u64, remaining: u64 },
    /// Finished; further reads return the end (or the error that ended it).
    Done(Option<Error>),
}

/// The bytes of one blob, or of one range of it, pulled in chunks.
pub struct BlobReader {
    body: Option<Box<dyn Body>>,
    mode: Mode,
}

impl BlobReader {
    /// A reader of nothing, for a zero-length range (no request is needed).
    pub fn empty() -> BlobReader {
        BlobReader {
            body: None,
            mode: Mode::Done(None),
        }
    }

    /// Starts reading `blob`, whole or `range` of it. The caller has checked the range fits.
    pub fn open(
        registry: &Registry,
        blob: BlobRef,
        range: Option<ByteRange>,
    ) -> Result<BlobReader> {
        let mut head = Request::new(Method::Get, registry.url(&format!("blobs/{}", blob.digest)));
        if let Some(r) = range {
            if r.length == 0 {
                return Ok(BlobReader::empty());
            }
            let last = r.offset + u64::from(r.length) - 1;
            head = head.header("range", format!("bytes={}-{last}", r.offset));
        }
        let response = expect(registry.send(head)?, &[200, 206], Method::Get)?;
        let mode = match (range, response.status) {
            (None, 200) => {
                check_length(&response, blob.size)?;
                Mode::Whole {
                    hasher: Hasher::default(),
                    expected: blob,
                }
            }
            (Some(r), 206) => {
                check_content_range(&response, r, blob.size)?;
                check_length(&response, u64::from(r.length))?;
                Mode::Range {
                    skip: 0,
                    remaining: u64::from(r.length),
                }
            }
            (Some(r), 200) => {
                check_length(&response, blob.size)?;
                Mode::Range {
                    skip: r.offset,
                    remaining: u64::from(r.length),
                }
            }
            (None, status) => {
                return Err(Error::protocol(format!(
                    "a whole-blob read was answered {status}"
                )))
            }
            (Some(_), status) => {
                return Err(Error::protocol(format!(
                    "a range read was answered {status}"
                )))
            }
        };
        Ok(BlobReader {
            body: Some(response.body),
            mode,
        })
    }

    /// Up to `max` bytes; an empty vector once everything asked for has been read and checked.
    pub fn read(&mut self, max: usize) -> Result<Vec<u8>> {
        if max == 0 {
            return Err(Error::invalid_argument("a read of 0 bytes"));
        }
        let result = self.step(max.min(MAX_READ));
        match &result {
            Err(e) => self.finish(Some(e.clone())),
            Ok(chunk) if chunk.is_empty() => self.finish(None),
            Ok(_) => {}
        }
        result
    }

    fn finish(&mut self, error: Option<Error>) {
        self.mode = Mode::Done(error);
        self.body = None; // drops the response, and with it the connection
    }

    fn step(&mut self, max: usize) -> Result<Vec<u8>> {
        let body = match (&mut self.body, &self.mode) {
            (_, Mode::Done(None)) => return Ok(Vec::new()),
            (_, Mode::Done(Some(e))) => return Err(e.clone()),
            (Some(body), _) => body,
            (None, _) => return Ok(Vec::new()),
        };
        match &mut self.mode {
            Mode::Whole { hasher, expected } => {
                let chunk = body.read(max)?;
                if chunk.is_empty() {
                    let got = std::mem::take(hasher);
                    let (len, digest) = (got.len(), got.finish());
                    if len != expected.size {
                        return Err(short_body(len, expected.size));
                    }
                    if digest != expected.digest {
                        return Err(Error::protocol(format!(
                            "blob {} arrived with digest {digest}",
                            expected.digest
                        )));
                    }
                    return Ok(chunk);
                }
                if hasher.len() + chunk.len() as u64 > expected.size {
                    return Err(Error::protocol(format!(
                        "blob {} runs past its {} bytes",
                        expected.digest, expected.size
                    )));
                }
                hasher.update(&chunk);
                Ok(chunk)
            }
            Mode::Range { skip, remaining } => {
                while *skip > 0 {
                    let want = (*skip).min(MAX_READ as u64) as usize;
                    let dropped = body.read(want)?;
                    if dropped.is_empty() {
                        return Err(Error::protocol("the body ended before the range began"));
                    }
                    *skip -= dropped.len() as u64;
                }
                if *remaining == 0 {
                    return Ok(Vec::new());
                }
                let want = (*remaining).min(max as u64) as usize;
                let mut chunk = body.read(want)?;
                if chunk.is_empty() {
                    return Err(Error::protocol(format!(
                        "the body ended {remaining} bytes before the end of the range"
                    )));
                }
                if chunk.len() as u64 > *remaining {
                    // Only a misbehaving body returns more than asked; never pass it on.
                    chunk.truncate(*remaining as usize);
                }
                *remaining -= chunk.len() as u64;
                Ok(chunk)
            }
            Mode::Done(_) => unreachable!("handled above"),
        }
    }
}

fn short_body(got: u64, expected: u64) -> Error {
    Error::protocol(format!(
        "the body has {got} bytes where {expected} were announced"
    ))
}

/// A `Content-Length` that disagrees with what we expect means other bytes are coming.
fn check_length(response: &Response, expected: u64) -> Result<()> {
    match response.content_length()? {
        Some(n) if n != expected => Err(Error::protocol(format!(
            "the registry announced {n} bytes where {expected} were expected"
        ))),
        _ => Ok(()),
    }
}

/// `Content-Range: bytes a-b/total` must be exactly the range asked for (RFC 9110 §14.4).
fn check_content_range(response: &Response, range: ByteRange, size: u64) -> Result<()> {
    let value = response
        .header("content-range")
        .ok_or_else(|| Error::protocol("a 206 answer without Content-Range"))?;
    let bad = || {
        Error::protocol(format!(
            "unexpected Content-Range {:?}",
            value.chars().take(80).collect::<String>()
        ))
    };
    let spec = value.trim().strip_prefix("bytes ").ok_or_else(bad)?;
    let (span, total) = spec.split_once('/').ok_or_else(bad)?;
    let (first, last) = span.split_once('-').ok_or_else(bad)?;
    let first: u64 = first.trim().parse().map_err(|_| bad())?;
    let last: u64 = last.trim().parse().map_err(|_| bad())?;
    let expected_last = range.offset + u64::from(range.length) - 1;
    if first != range.offset || last != expected_last {
        return Err(Error::protocol(format!(
            "asked for bytes {}-{expected_last}, the registry sent {first}-{last}",
            range.offset
        )));
    }
    match total.trim() {
        "*" => Ok(()),
        t if t.parse::<u64>().ok() == Some(size) => Ok(()),
        _ => Err(Error::new(
            ErrorKind::Protocol,
            format!("the registry reports another blob size than the manifest's {size}: {value}"),
        )),
    }
}
