//! Pushing a blob through an upload session (distribution spec, "Pushing blobs").
//!
//! Bytes are hashed as they arrive. A blob that stays under [`STREAM_THRESHOLD`] is kept in
//! memory and pushed monolithically once its digest is known: POST opens the session, PUT
//! `?digest=` carries the bytes (2 requests). A larger one opens a session as soon as it
//! crosses the threshold and goes on as the registry takes uploads (`strategy.rs`): through
//! one streamed PATCH then an empty PUT `?digest=` (3 requests), or in chunks. Memory stays
//! bounded by the threshold, a probe or a chunk, plus one write.

pub(crate) mod session;
pub mod strategy;

use std::rc::Rc;

use crate::digest::{Digest, Hasher};
use crate::error::{ErrorKind, Result};
use crate::http::Exchange;
use crate::layout::BlobRef;
use crate::registry::Registry;
use session::Patched;
use strategy::{chunk_for, smaller_chunk, Strategy, CHUNK, PROBE};

/// Blobs up to this size are pushed in one PUT; larger ones go through PATCHes.
pub const STREAM_THRESHOLD: usize = 4 << 20;

enum State {
    Buffering(Vec<u8>),
    /// A session is open at `url` and holds `offset` bytes; `held` are not sent yet.
    Open {
        url: String,
        min_chunk: Option<usize>,
        offset: u64,
        held: Vec<u8>,
    },
    /// A streamed PATCH is under way.
    Streaming {
        exchange: Box<dyn Exchange>,
        url: String,
    },
    /// A request failed: the store drops the writer.
    Failed,
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
                return Ok(());
            }
            State::Buffering(buffer) => {
                let mut held = std::mem::take(buffer);
                held.extend_from_slice(chunk);
                let opened = session::open(registry);
                let opened = self.failing(opened)?;
                self.state = State::Open {
                    url: opened.url,
                    min_chunk: opened.min_chunk,
                    offset: 0,
                    held,
                };
            }
            State::Open { held, .. } => held.extend_from_slice(chunk),
            State::Streaming { exchange, .. } => {
                let Err(e) = exchange.write(chunk) else {
                    return Ok(());
                };
                let State::Streaming { exchange, .. } =
                    std::mem::replace(&mut self.state, State::Failed)
                else {
                    unreachable!()
                };
                return Err(session::explain_write_failure(exchange, e));
            }
            State::Failed => return Err(failed()),
        }
        let sent = self.send_held(registry, false);
        self.failing(sent)
    }

    /// Completes the upload and returns the stored blob's descriptor.
    pub fn finish(mut self, registry: &Registry) -> Result<BlobRef> {
        self.send_held(registry, true)?;
        let blob = BlobRef {
            size: self.hasher.bytes_hashed(),
            digest: self.hasher.finish()?,
        };
        match self.state {
            State::Buffering(buffer) => push_monolithic(registry, buffer, blob.digest)?,
            State::Open { url, held, .. } => close_checked(registry, &url, blob, held)?,
            State::Streaming { exchange, url } => {
                let url = session::end_stream(exchange, &url)?;
                close_checked(registry, &url, blob, Vec::new())?
            }
            State::Failed => return Err(failed()),
        }
        Ok(blob)
    }

    /// Marks the upload failed where `result` is an error.
    fn failing<T>(&mut self, result: Result<T>) -> Result<T> {
        if result.is_err() {
            self.state = State::Failed;
        }
        result
    }

    /// In an open session, sends of the held bytes what the registry's strategy says: all of
    /// them into a streamed PATCH, or whole chunks (the probe, for an unproven registry). When
    /// `finishing`, what one request may carry is left for the closing PUT.
    fn send_held(&mut self, registry: &Registry, finishing: bool) -> Result<()> {
        // Bounded: each round sends bytes, or halves the chunk (down to a floor), or returns.
        loop {
            let State::Open {
                url,
                min_chunk,
                offset,
                held,
            } = &mut self.state
            else {
                return Ok(());
            };
            let strategy = registry.upload.get();
            let chunk = match plan(strategy, *offset, *min_chunk, held.len(), finishing)? {
                Next::Wait => return Ok(()),
                Next::Chunk(chunk) => chunk,
                Next::Stream => {
                    let (url, held) = (std::mem::take(url), std::mem::take(held));
                    self.state = State::Failed;
                    let mut exchange = session::start_stream(registry, &url)?;
                    if let Err(e) = exchange.write(&held) {
                        return Err(session::explain_write_failure(exchange, e));
                    }
                    self.state = State::Streaming { exchange, url };
                    return Ok(());
                }
            };
            let sending = Rc::new(held.drain(..chunk.min(held.len())).collect::<Vec<u8>>());
            match session::patch_chunk(registry, url, *offset, Rc::clone(&sending))? {
                Patched::Taken(next) => {
                    *url = next;
                    *offset += sending.len() as u64;
                    if strategy == Strategy::Unproven {
                        registry.upload.set(Strategy::Streamed);
                    }
                }
                Patched::TooLarge(refusal) => {
                    let smaller = smaller_chunk(sending.len(), *min_chunk, &refusal)?;
                    registry.upload.set(Strategy::Chunked { chunk: smaller });
                    let mut again = Rc::unwrap_or_clone(sending);
                    again.append(held);
                    *held = again;
                    if *offset == 0 {
                        // A session refused its first PATCH may be unusable, and nothing is
                        // lost by leaving it: the bytes start again in a new one.
                        let opened = session::open(registry)?;
                        (*url, *min_chunk) = (opened.url, opened.min_chunk);
                    }
                }
            }
        }
    }
}

/// What an open session does next with its held bytes.
enum Next {
    Wait,
    Stream,
    /// PATCH a chunk of at most this size.
    Chunk(usize),
}

/// What to send of `held` bytes in a session holding `offset` bytes, by the registry's
/// strategy. At the end (`finishing`), bytes one request is sure to carry wait for the
/// closing PUT.
fn plan(
    strategy: Strategy,
    offset: u64,
    min_chunk: Option<usize>,
    held: usize,
    finishing: bool,
) -> Result<Next> {
    let (chunk, last_limit) = match strategy {
        // A stream starts with a chunk's worth: less fits in the closing PUT.
        Strategy::Streamed if offset == 0 => {
            let enough = if finishing {
                held > CHUNK
            } else {
                held >= CHUNK
            };
            return Ok(if enough { Next::Stream } else { Next::Wait });
        }
        // A session that took a chunk goes on in chunks: go-containerregistry refuses a
        // streamed PATCH after any write ("Stream uploads after first write are not
        // allowed", pkg/registry/blobs.go).
        Strategy::Streamed => {
            let probe = chunk_for(PROBE, min_chunk)?;
            (probe, probe)
        }
        // The probe; at the end, a closing PUT of more than a chunk could be refused.
        Strategy::Unproven => (chunk_for(PROBE, min_chunk)?, CHUNK),
        Strategy::Chunked { chunk } => {
            let chunk = chunk_for(chunk, min_chunk)?;
            (chunk, chunk)
        }
    };
    let enough = if finishing {
        held > last_limit
    } else {
        held >= chunk
    };
    Ok(if enough {
        Next::Chunk(chunk)
    } else {
        Next::Wait
    })
}

/// Closes the session with its last bytes. The close may have reached the registry and only
/// its answer been lost: sent again, it finds the session used up. The blob, named by its
/// digest, then tells whether it was stored.
fn close_checked(registry: &Registry, url: &str, blob: BlobRef, last: Vec<u8>) -> Result<()> {
    match session::close(registry, url, blob.digest, Rc::new(last)) {
        Err(e) if e.kind == ErrorKind::NotFound => {
            if registry.has_blob(blob)? {
                Ok(())
            } else {
                Err(session::lost(e))
            }
        }
        closed => closed,
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
        let opened = session::open(registry)?;
        result = session::close(registry, &opened.url, digest, Rc::clone(&bytes));
        match &result {
            Err(e) if e.kind == ErrorKind::NotFound => continue,
            _ => return result,
        }
    }
    result.map_err(session::lost)
}

fn failed() -> crate::error::Error {
    crate::error::Error::invalid_argument("the upload already failed")
}
