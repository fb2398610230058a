//! Deleting a tagged manifest so that its tag goes with it, whatever the registry does with
//! the tag: the one place where an object (or a create's candidate) stops being visible.
//!
//! distribution-spec, "Deleting Manifests" (end-9): once a manifest is deleted by digest, "a
//! `GET` to `/v2/<name>/manifests/<digest>` and any tag pointing to that digest will return
//! a 404". Three registry behaviours keep the tag all the same:
//!
//! - **A delete that half happened (distribution 2.8).** distribution deletes in two
//!   steps: it removes the manifest's revision, then reads the link of every tag of the
//!   repository to untag those that name it (registry/handlers/manifests.go,
//!   `DeleteManifest`; registry/storage/tagstore.go, `Lookup`). 2.8's filesystem driver
//!   rewrites a link in place (truncate, then write; 3 writes a new file and renames it), so a tag that another request is
//!   tagging at that moment reads empty: the lookup fails, the DELETE answers 500 ("invalid
//!   checksum digest format"), and the tag stays, naming a manifest that is gone: listed,
//!   yet 404 to a GET. The retry layer sends the DELETE again and meets 404. Measured with 8
//!   clients each tagging and deleting 40 manifests at once: 3 to 8 deletes of 320. So a
//!   DELETE answered not-found, after the manifest was just read, is finished by putting the
//!   manifest back under its tag and deleting it again (at most [`REPAIRS`] times, after a
//!   short, growing pause). A not-found with another cause (another client deleted it, or
//!   the answer of our first DELETE was lost) costs the same two requests and ends the same
//!   way: the tag gone.
//! - **A tag left behind.** go-containerregistry's registry removes the digest's entry and its
//!   tags keep resolving (pkg/registry/manifest.go, the `DELETE` case;
//!   google/go-containerregistry#1578). distribution 3 untags by removing the tag's folder,
//!   and a put of the same tag at that moment can leave the folder with an index link and no
//!   current link: a tag that is listed, and 404 to a GET, after both requests succeeded
//!   (measured: 2 rounds of 300 of a lock re-put racing its delete). So once the manifest is
//!   deleted, its tag is deleted too ("Deleting tags", end-9): 404 where it went with the
//!   manifest. Deleting by tag first is no way out: 3 untags without deleting the manifest.
//!   A tag that a put named again after the delete by digest goes too: the delete came last.
//! - **No tag deletes (distribution 2.8).** It refuses deletes by tag (400 `DIGEST_INVALID`:
//!   it parses the reference as a digest) and untags with the manifest. After its first refusal the store stops asking, and reads the
//!   tag instead: where it still names the deleted manifest, the delete fails `unsupported`
//!   rather than leave an object that reads back. (Its folder race above was not seen on
//!   2.8 in 600 rounds.)

use std::time::Duration;

use crate::clock::{share, Clock};
use crate::digest::Digest;
use crate::error::{Error, ErrorKind, Result};
use crate::manifest_put::put_manifest;
use crate::registry::{Registry, TagDelete};

/// Times a DELETE answered not-found is finished by putting the manifest back and deleting
/// it again.
pub const REPAIRS: u32 = 3;
/// The pause before the first repair; each further pause is 4 times longer (10, 40, 160 ms),
/// plus up to as much again of jitter, so that writers racing on the repository's tags spread.
const FIRST_PAUSE: Duration = Duration::from_millis(10);

/// What a delete came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Deletion {
    Done,
    /// The registry refuses to delete manifests (405 `UNSUPPORTED`): nothing changed, and the
    /// registry remembers it (`tombstone.rs` takes over).
    Refused,
}

/// Deletes `manifest`, which `tag` names, and `tag` with it. `not-found` only where the
/// manifest is gone and stays gone after [`REPAIRS`] repairs (see the module comment).
pub fn delete_tagged_manifest(
    registry: &Registry,
    clock: &dyn Clock,
    tag: &str,
    manifest: &[u8],
) -> Result<Deletion> {
    if registry.refuses_deletes.get() {
        return Ok(Deletion::Refused);
    }
    let digest = Digest::of(manifest);
    let mut pause = FIRST_PAUSE;
    for repair in 0..=REPAIRS {
        match registry.delete_manifest(&digest) {
            Ok(()) => return untag(registry, tag, &digest).map(|()| Deletion::Done),
            Err(e) if e.kind == ErrorKind::Unsupported => {
                registry.refuses_deletes.set(true);
                return Ok(Deletion::Refused);
            }
            Err(e) if e.kind == ErrorKind::NotFound && repair < REPAIRS => {
                clock.sleep(pause + share(pause, clock.jitter()));
                pause *= 4;
                put_manifest(registry, clock, tag, manifest)
                    .map_err(|e| e.context(format!("put back {tag} to finish its delete")))?;
            }
            Err(e) if e.kind == ErrorKind::NotFound => {
                return Err(Error::new(
                    ErrorKind::Transient,
                    format!(
                        "deleting {tag}: the registry answered not-found {} times, also after \
                         the manifest was put back ({})",
                        REPAIRS + 1,
                        e.message
                    ),
                ))
            }
            Err(e) => return Err(e),
        }
    }
    unreachable!("the last repair returns")
}

/// Deletes `tag` after the delete by digest, or checks that it went where the registry
/// refuses tag deletes (see the module comment).
fn untag(registry: &Registry, tag: &str, digest: &Digest) -> Result<()> {
    if !registry.refuses_tag_deletes.get() {
        // Absent: gone with its manifest, or deleted by another client, as asked here.
        match registry
            .delete_tag(tag)
            .map_err(|e| e.context(format!("delete tag {tag}")))?
        {
            TagDelete::Deleted | TagDelete::Absent => return Ok(()),
            TagDelete::Refused => registry.refuses_tag_deletes.set(true),
        }
    }
    match registry.get_manifest(tag)? {
        Some(manifest) if Digest::of(&manifest) == *digest => Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "the registry kept tag {tag} after deleting its manifest, and does not delete \
                 tags"
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[path = "manifest_delete_tests.rs"]
mod tests;
