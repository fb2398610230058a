//! Tagging a manifest, with the registry's "blob unknown" answers handled: the one place where
//! an object (or the store's config) becomes visible.
//!
//! A manifest PUT answered `MANIFEST_BLOB_UNKNOWN` (distribution spec, "Pushing Manifests":
//! every blob a manifest references must be known first) has two causes this store meets:
//!
//! - The empty config blob is missing: a store created by another tool, or a registry that
//!   lost it. It is pushed once, after a HEAD has shown it missing (pushing it blindly would
//!   rewrite its link and race the other writers, as below), and the PUT is tried again.
//! - The blob was just uploaded (its upload answered 201) but the registry's check of it read
//!   a half-written record. distribution 2.8's filesystem driver rewrites a repository's blob
//!   `link` file in place (truncate, then write) each time an upload of the same bytes
//!   commits, and a manifest PUT that reads the link in between parses an empty digest: it
//!   answers 400 with `DIGEST_INVALID` ("provided digest did not match uploaded content")
//!   followed by `MANIFEST_BLOB_UNKNOWN` (registry/handlers/manifests.go, `PutManifest`, the
//!   `ErrDigestInvalidFormat` case). Objects with identical bytes (twins) put at once meet
//!   it about once in 30 puts. The link is whole again within microseconds, so the PUT is
//!   tried again after a short, growing pause, a bounded number of times.
//!
//! Any other 400 is an error at once: a blanket retry would hide real protocol errors.

use std::time::Duration;

use crate::clock::{share, Clock};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::layout::{BlobRef, EMPTY_CONTENT};
use crate::registry::{ManifestPut, Registry};
use crate::upload::push_monolithic;

/// Further PUTs after a blob-unknown answer whose blobs are all present.
pub const BLOB_UNKNOWN_RETRIES: u32 = 4;
/// The pause before the first of them; each further pause is 4 times longer (10, 40, 160,
/// 640 ms: under a second in all).
const FIRST_PAUSE: Duration = Duration::from_millis(10);

/// Tags `manifest` as `tag`; see the module comment for the answers handled.
pub fn put_manifest(
    registry: &Registry,
    clock: &dyn Clock,
    tag: &str,
    manifest: &[u8],
) -> Result<()> {
    if registry.put_manifest(tag, manifest)? == ManifestPut::Stored {
        return Ok(());
    }
    let empty = BlobRef {
        digest: Digest::of(EMPTY_CONTENT),
        size: EMPTY_CONTENT.len() as u64,
    };
    if !registry.has_blob(empty)? {
        push_monolithic(registry, EMPTY_CONTENT.to_vec(), empty.digest)?;
    }
    let mut pause = FIRST_PAUSE;
    for _ in 0..BLOB_UNKNOWN_RETRIES {
        if registry.put_manifest(tag, manifest)? == ManifestPut::Stored {
            return Ok(());
        }
        // A quarter of the pause again at most, so that writers racing on one link spread.
        clock.sleep(pause + share(pause / 4, clock.jitter()));
        pause *= 4;
    }
    if registry.put_manifest(tag, manifest)? == ManifestPut::Stored {
        return Ok(());
    }
    Err(Error::protocol(format!(
        "the registry does not find the blobs the manifest references ({} tries over about a \
         second)",
        BLOB_UNKNOWN_RETRIES + 2
    )))
}
