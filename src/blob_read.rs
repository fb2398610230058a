//! Reading a blob, whole or by range, and refusing anything but the bytes asked for.
//!
//! - A whole read is hashed as it streams; the end is reported only once the length and the
//!   digest match the manifest's descriptor. A mismatch is a protocol error, never data.
//! - A range read sends `Range: bytes=a-b` and accepts a 206 only when its `Content-Range`
//!   names exactly that range of a blob of the expected size. A registry that ignores `Range`
//!   answers 200 with the whole blob (distribution spec: range support is a SHOULD): then the
//!   reader skips to the offset and stops after the length, so the caller still gets exactly
//!   the range.
//! - A body that ends before what was announced, or runs past it, is a protocol error.
//! - When the connection breaks mid-body (a transient error), the reader asks again for the
//!   bytes it has not passed on yet, with a range, up to [`MAX_RESUMES`] times. A whole read
//!   goes on hashing across the resumption, so the digest still covers every byte.

use std::rc::Rc;

use crate::digest::Hasher;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Body, Method, Request, Response};
use crate::layout::BlobRef;
use crate::registry::{expect, Registry};

/// Reads larger than this are cut to it, so one read never holds more in memory.
pub const MAX_READ: usize = 16 << 20;
/// A read resumes at most this many times after its connection broke.
pub const MAX_RESUMES: u32 = 3;

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

/// The bytes of one blob, or of one range of it, pulled in chunks.
pub struct BlobReader {
    registry: Option<Rc<Registry>>,
    blob: BlobRef,
    /// The caller gets the bytes `[next, end)` of the blob.
    next: u64,
    end: u64,
    /// For a whole read: every byte passed on, to check the digest at the end.
    hasher: Option<Hasher>,
    /// The answer being read, the bytes of it to drop before `next`, and whether it holds
    /// exactly the bytes asked for (then anything past `end` is an error).
    body: Option<Box<dyn Body>>,
    skip: u64,
    exact: bool,
    resumes: u32,
    /// `Some` once finished: the end, or the error that ended it.
    outcome: Option<Result<()>>,
}

impl BlobReader {
    /// A reader of nothing, for a zero-length range (no request is needed).
    pub fn empty() -> BlobReader {
        BlobReader {
            registry: None,
            blob: BlobRef {
                digest: crate::digest::Digest::of(b""),
                size: 0,
            },
            next: 0,
            end: 0,
            hasher: None,
            body: None,
            skip: 0,
            exact: true,
            resumes: 0,
            outcome: Some(Ok(())),
        }
    }

    /// Starts reading `blob`, whole or `range` of it. The caller has checked the range fits.
    pub fn open(
        registry: Rc<Registry>,
        blob: BlobRef,
        range: Option<ByteRange>,
    ) -> Result<BlobReader> {
        let (next, end) = match range {
            None => (0, blob.size),
            Some(r) if r.length == 0 => return Ok(BlobReader::empty()),
            Some(r) => (r.offset, r.offset + u64::from(r.length)),
        };
        let mut reader = BlobReader {
            registry: Some(registry),
            blob,
            next,
            end,
            hasher: range.is_none().then(Hasher::default),
            body: None,
            skip: 0,
            exact: true,
            resumes: 0,
            outcome: None,
        };
        reader.request()?;
        Ok(reader)
    }

    /// Asks for the bytes `[next, end)`: the whole blob while a whole read has not begun,
    /// else a range.
    fn request(&mut self) -> Result<()> {
        let registry = self
            .registry
            .as_ref()
            .expect("a reader with bytes to read has a registry");
        let mut request = Request::new(
            Method::Get,
            registry.url(&format!("blobs/{}", self.blob.digest)),
        );
        let ranged = !(self.hasher.is_some() && self.next == 0);
        if ranged {
            request = request.header("range", format!("bytes={}-{}", self.next, self.end - 1));
        }
        let response = expect(registry.send(request)?, &[200, 206], Method::Get)?;
        (self.skip, self.exact) = match (ranged, response.status) {
            (false, 200) => (0, true),
            (true, 206) => {
                check_content_range(&response, self.next, self.end - 1, self.blob.size)?;
                check_length(&response, self.end - self.next)?;
                (0, true)
            }
            (true, 200) => (self.next, false),
            (false, status) => {
                return Err(Error::protocol(format!(
                    "a whole-blob read was answered {status}"
                )))
            }
            (true, status) => {
                return Err(Error::protocol(format!(
                    "a range read was answered {status}"
                )))
            }
        };
        if response.status == 200 {
            check_length(&response, self.blob.size)?;
        }
        self.body = Some(response.body);
        Ok(())
    }

    /// Up to `max` bytes; an empty vector once everything asked for has been read and checked.
    pub fn read(&mut self, max: usize) -> Result<Vec<u8>> {
        if max == 0 {
            return Err(Error::invalid_argument("a read of 0 bytes"));
        }
        if let Some(outcome) = &self.outcome {
            return outcome.clone().map(|()| Vec::new());
        }
        let result = self.step(max.min(MAX_READ));
        match &result {
            Err(e) => self.outcome = Some(Err(e.clone())),
            Ok(chunk) if chunk.is_empty() => self.outcome = Some(Ok(())),
            Ok(_) => return result,
        }
        self.body = None; // drops the answer, and with it the connection
        result
    }

    fn step(&mut self, max: usize) -> Result<Vec<u8>> {
        loop {
            if self.next == self.end {
                return self.check_end().map(|()| Vec::new());
            }
            match self.pull(max) {
                Ok(chunk) => {
                    if let Some(hasher) = &mut self.hasher {
                        hasher.update(&chunk);
                    }
                    self.next += chunk.len() as u64;
                    return Ok(chunk);
                }
                Err(e) if e.kind == ErrorKind::Transient && self.resumes < MAX_RESUMES => {
                    self.resumes += 1;
                    self.body = None;
                    self.request()?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The next bytes of `[next, end)` from the current answer.
    fn pull(&mut self, max: usize) -> Result<Vec<u8>> {
        let body = self
            .body
            .as_mut()
            .expect("an unfinished reader has an answer");
        while self.skip > 0 {
            let dropped = body.read(self.skip.min(MAX_READ as u64) as usize)?;
            if dropped.is_empty() {
                return Err(Error::protocol("the body ended before the range began"));
            }
            self.skip -= (dropped.len() as u64).min(self.skip);
        }
        let want = (self.end - self.next).min(max as u64) as usize;
        let mut chunk = body.read(want)?;
        if chunk.is_empty() {
            return Err(Error::protocol(format!(
                "the body ended {} bytes before the end of what was asked",
                self.end - self.next
            )));
        }
        // Only a misbehaving body returns more than asked; never pass it on.
        chunk.truncate(want);
        Ok(chunk)
    }

    /// Everything asked for has arrived: an exact answer must end here, and a whole read must
    /// have the manifest's digest.
    fn check_end(&mut self) -> Result<()> {
        if let (true, Some(body)) = (self.exact, self.body.as_mut()) {
            if !body.read(1)?.is_empty() {
                return Err(Error::protocol(format!(
                    "blob {} runs past the {} bytes asked for",
                    self.blob.digest, self.end
                )));
            }
        }
        if let Some(hasher) = self.hasher.take() {
            let digest = hasher.finish()?;
            if digest != self.blob.digest {
                return Err(Error::protocol(format!(
                    "blob {} arrived with digest {digest}",
                    self.blob.digest
                )));
            }
        }
        Ok(())
    }
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
pub(crate) fn check_content_range(
    response: &Response,
    first: u64,
    last: u64,
    size: u64,
) -> Result<()> {
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
    let (a, b) = span.split_once('-').ok_or_else(bad)?;
    let a: u64 = a.trim().parse().map_err(|_| bad())?;
    let b: u64 = b.trim().parse().map_err(|_| bad())?;
    if (a, b) != (first, last) {
        return Err(Error::protocol(format!(
            "asked for bytes {first}-{last}, the registry sent {a}-{b}"
        )));
    }
    match total.trim() {
        "*" => Ok(()),
        t if t.parse::<u64>().ok() == Some(size) => Ok(()),
        _ => Err(Error::protocol(format!(
            "the registry reports another blob size than the manifest's {size}: {value}"
        ))),
    }
}
