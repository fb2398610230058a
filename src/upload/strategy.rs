//! How a blob too large for one PUT goes up, chosen by what the registry takes and learned
//! once per registry (distribution spec, "Pushing blobs" and "Pushing a blob in chunks").
//!
//! - **Streamed**: one PATCH whose body (chunked transfer encoding, no `Content-Range`)
//!   carries the bytes as they come, then an empty PUT `?digest=`: 3 requests, the bytes
//!   hashed while they travel. Docker pushes this way; distribution and
//!   go-containerregistry take it.
//! - **Chunked**: PATCHes of a fixed size with `Content-Range` and `Content-Length`, each
//!   held in memory until answered (so retried like any request whose body is in memory), the
//!   last bytes in the closing PUT. Registries that cap a request body need it: GHCR answers
//!   `416 REQUESTED_RANGE_NOT_SATISFIABLE` "the request body is too large and exceeds the
//!   maximum permissible limit of 4.00MiB" (wasmCloud/wash#268,
//!   oras-project/rust-oci-client#37); a proxy in front of a registry answers 413. ECR needs
//!   every chunk but the last to be at least 5 MiB (its `UploadLayerPart`); a registry says
//!   so with `OCI-Chunk-Min-Length` on the POST answer (distribution spec 1.1).
//!
//! Until a registry has taken a large PATCH, an upload's first PATCH is a chunk of at least
//! [`PROBE`] bytes held until answered. Taken: the registry streams from then on (the rest of
//! this blob in a second PATCH). Refused as too large (413, 416): chunks of [`CHUNK`] from
//! then on, halved on each such refusal down to [`CHUNK_FLOOR`], and the held bytes go again
//! in a new session. So no put fails to learn it, and memory stays bounded: [`PROBE`] plus a
//! write while probing, a chunk plus a write while chunking.

use crate::error::{Error, ErrorKind, Result};

/// The first PATCH to a registry not yet proven to stream: larger than any cap met.
pub const PROBE: usize = 8 << 20;
/// Chunks after a refusal: GHCR's cap.
pub const CHUNK: usize = 4 << 20;
/// Refusals halve the chunk down to this, then the put fails.
pub const CHUNK_FLOOR: usize = 256 << 10;
/// The largest `OCI-Chunk-Min-Length` followed: a chunk is held in memory.
pub const CHUNK_MAX: usize = 64 << 20;

/// What is known of a registry's uploads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Strategy {
    /// Nothing yet: the next large upload probes.
    #[default]
    Unproven,
    /// A PATCH of [`PROBE`] bytes was taken: blobs stream through one PATCH.
    Streamed,
    /// PATCHes of `chunk` bytes.
    Chunked { chunk: usize },
}

/// Whether a refused PATCH says its body was too large: 413 Content Too Large (RFC 9110,
/// section 15.5.14), or 416 as GHCR answers (above). Our PATCHes always start where the
/// session ends, so a 416 never means a chunk out of order.
pub fn too_large(status: u16) -> bool {
    status == 413 || status == 416
}

/// The chunk after a refusal of a PATCH of `refused` bytes: half of it, at most [`CHUNK`],
/// at least what the registry asks for; or an error where no smaller one is left to try.
pub fn smaller_chunk(refused: usize, min_chunk: Option<usize>, refusal: &Error) -> Result<usize> {
    let chunk = CHUNK.min(refused / 2).max(min_chunk.unwrap_or(0));
    if chunk < CHUNK_FLOOR || chunk >= refused {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "the registry refuses upload requests of {refused} bytes ({}), and kloset-oci \
                 sends no chunk smaller than {} bytes{}",
                refusal.message,
                CHUNK_FLOOR.max(min_chunk.unwrap_or(0)),
                match min_chunk {
                    Some(min) => format!(" (the registry asks for {min} at least)"),
                    None => String::new(),
                }
            ),
        ));
    }
    Ok(chunk)
}

/// The chunk to send in a session whose POST answer asked for `min_chunk` at least.
pub fn chunk_for(chunk: usize, min_chunk: Option<usize>) -> Result<usize> {
    match min_chunk {
        Some(min) if min > CHUNK_MAX => Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "the registry asks for upload chunks of at least {min} bytes \
                 (OCI-Chunk-Min-Length); kloset-oci holds at most {CHUNK_MAX} bytes of a chunk"
            ),
        )),
        Some(min) => Ok(chunk.max(min)),
        None => Ok(chunk),
    }
}

/// `OCI-Chunk-Min-Length` as bytes; a value that is no number is ignored (the header is
/// advice for chunked uploads, and streamed ones do not need it).
pub fn parse_min_chunk(value: Option<&str>) -> Option<usize> {
    value?.trim().parse::<usize>().ok().filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_halve_the_chunk_down_to_the_floor() {
        let refusal = Error::protocol("registry answered 416");
        assert_eq!(smaller_chunk(PROBE + 100, None, &refusal), Ok(CHUNK));
        assert_eq!(smaller_chunk(CHUNK, None, &refusal), Ok(CHUNK / 2));
        assert_eq!(
            smaller_chunk(2 * CHUNK_FLOOR, None, &refusal),
            Ok(CHUNK_FLOOR)
        );
        let e = smaller_chunk(CHUNK_FLOOR, None, &refusal).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unsupported);
        assert!(e.message.contains("registry answered 416"), "{}", e.message);
        // Never below what the registry asks for, and never the size refused.
        assert_eq!(smaller_chunk(PROBE, Some(5 << 20), &refusal), Ok(5 << 20));
        let e = smaller_chunk(CHUNK, Some(CHUNK), &refusal).unwrap_err();
        assert!(e.message.contains("asks for"), "{}", e.message);
    }

    #[test]
    fn the_minimum_chunk_raises_the_chunk_within_bounds() {
        assert_eq!(chunk_for(CHUNK, None), Ok(CHUNK));
        assert_eq!(chunk_for(CHUNK, Some(5 << 20)), Ok(5 << 20));
        assert_eq!(chunk_for(CHUNK, Some(1)), Ok(CHUNK));
        let e = chunk_for(CHUNK, Some(CHUNK_MAX + 1)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unsupported);
        assert_eq!(parse_min_chunk(Some(" 5242880 ")), Some(5 << 20));
        assert_eq!(parse_min_chunk(Some("five")), None);
        assert_eq!(parse_min_chunk(Some("0")), None);
        assert_eq!(parse_min_chunk(None), None);
    }
}
