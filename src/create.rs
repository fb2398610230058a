//! `create` when several hosts create one store at the same moment: exactly one succeeds, and
//! the store's config is that one's.
//!
//! A registry offers no compare-and-swap on tags (a tag PUT always wins), so checking that
//! `kloset-config` is absent and then tagging it lets two creators both succeed, the last
//! config winning. Instead each create, once it found no `kloset-config`:
//!
//! 1. waits while other candidates are tagged (creates under way); a candidate that stays
//!    [`STALE_AFTER`] is reported (a create that died left it: remove that tag);
//! 2. tags its own candidate, `kloset-create-<random nonce>` (a config manifest with the nonce
//!    annotated, so no two candidates share a manifest);
//! 3. lists the tags, then reads `kloset-config`;
//! 4. wins only if that list shows no other candidate and `kloset-config` is still absent: it
//!    tags `kloset-config`, then removes its candidate;
//! 5. otherwise removes its candidate, and answers `already-exists` if `kloset-config` exists
//!    now, or tries again after a random pause (up to [`ATTEMPTS`] rounds).
//!
//! Why at most one create wins: take two candidates A and B, A tagged first. B lists after
//! its own tag was answered, so after A was tagged: B's list shows A, unless A was removed
//! before. If A lost, A is no winner. If A won, it tagged `kloset-config` before removing A,
//! and B reads `kloset-config` after its list: B loses. So of any two creates, one loses. The
//! argument needs only a registry whose tag list shows a tag once its PUT was answered (true
//! of distribution with filesystem storage); where listings lag, two creates could both win.
//!
//! Creates that meet may all lose a round; the random pauses part them. `open` reads only
//! `kloset-config`; `list` never shows candidates. On a registry that refuses deletes, a
//! candidate is buried under a tombstone instead (`tombstone.rs`); a create that knows so
//! reads each candidate it lists and skips the buried, and one that does not yet reads a
//! candidate it has waited for [`READ_AFTER`], and learns it from a tombstone.

use std::time::Duration;

use crate::clock::{share, Clock};
use crate::digest::Digest;
use crate::error::{Error, ErrorKind, Result};
use crate::layout::{self, BlobRef, CANDIDATE_TAG_PREFIX, CONFIG_TAG, EMPTY_CONTENT};
use crate::manifest_delete::{delete_tagged_manifest, Deletion};
use crate::manifest_put::put_manifest;
use crate::registry::Registry;
use crate::tombstone;
use crate::upload::push_monolithic;

/// Rounds a create tries before giving up with `transient`.
pub const ATTEMPTS: u32 = 16;
/// A candidate tagged this long is reported as a dead create's.
pub const STALE_AFTER: Duration = Duration::from_secs(30);
/// A candidate waited for this long is read once: a tombstone shows that the registry refuses
/// deletes (`tombstone.rs`), and buried candidates are skipped from then on.
const READ_AFTER: Duration = Duration::from_secs(2);
/// Pauses between rounds and between looks at other candidates: random in [1, 2] times this.
const PAUSE: Duration = Duration::from_millis(60);

/// A candidate seen while waiting, and when it was first seen.
struct Seen {
    tag: String,
    since: Duration,
    /// Whether it was read to see if it is buried (once, after [`READ_AFTER`]).
    read: bool,
}

/// Creates the store with `config`; `already-exists` if a store exists or another create won.
pub fn create(registry: &Registry, clock: &dyn Clock, config: &[u8]) -> Result<()> {
    if config_exists(registry)? {
        return Err(exists());
    }
    let blob = BlobRef {
        digest: Digest::of(config),
        size: config.len() as u64,
    };
    push_monolithic(registry, EMPTY_CONTENT.to_vec(), Digest::of(EMPTY_CONTENT))?;
    push_monolithic(registry, config.to_vec(), blob.digest)?;
    for _ in 0..ATTEMPTS {
        wait_for_other_creates(registry, clock)?;
        let nonce = clock.nonce();
        let tag = layout::candidate_tag(nonce);
        let candidate = layout::candidate_manifest(blob, nonce);
        put_manifest(registry, clock, &tag, &candidate)?;
        let candidates = candidate_tags(registry)?;
        let won = !config_exists(registry)? && candidates.iter().all(|t| *t == tag);
        if won {
            put_manifest(registry, clock, CONFIG_TAG, &layout::config_manifest(blob))?;
        }
        // A candidate left behind (a registry without deletes) is harmless once
        // `kloset-config` exists; before, later creates report it after STALE_AFTER.
        if let Ok(Deletion::Refused) = delete_tagged_manifest(registry, clock, &tag, &candidate) {
            // A registry without deletes keeps the tag: bury it, so that later rounds of
            // this create skip it (`candidate_tags`).
            let _ = put_manifest(
                registry,
                clock,
                &tag,
                &tombstone::candidate_tombstone(nonce),
            );
        }
        if won {
            return Ok(());
        }
        if config_exists(registry)? {
            return Err(exists());
        }
        pause(clock);
    }
    Err(Error::new(
        ErrorKind::Transient,
        format!("{ATTEMPTS} rounds of creates of this store met at once and none won; try again"),
    ))
}

/// Waits while other candidates are tagged. Ends with `already-exists` if `kloset-config`
/// appears meanwhile, and with `transient` naming a candidate tagged for STALE_AFTER.
fn wait_for_other_creates(registry: &Registry, clock: &dyn Clock) -> Result<()> {
    let mut seen: Vec<Seen> = Vec::new();
    // Bounded: each loop pauses, and a candidate is waited for at most STALE_AFTER.
    loop {
        let now = clock.now();
        let tags = candidate_tags(registry)?;
        if tags.is_empty() {
            return Ok(());
        }
        seen.retain(|s| tags.contains(&s.tag));
        for tag in tags {
            if !seen.iter().any(|s| s.tag == tag) {
                seen.push(Seen {
                    tag,
                    since: now,
                    read: false,
                });
            }
        }
        if !registry.refuses_deletes.get() {
            let due = seen
                .iter_mut()
                .find(|s| !s.read && now - s.since >= READ_AFTER);
            if let Some(due) = due {
                due.read = true;
                let manifest = registry.get_manifest(&due.tag)?;
                if manifest.is_some_and(|m| tombstone::is_tombstone(&m)) {
                    registry.refuses_deletes.set(true);
                    continue; // list again, buried candidates skipped
                }
            }
        }
        if let Some(stale) = seen.iter().find(|s| now - s.since >= STALE_AFTER) {
            return Err(Error::new(
                ErrorKind::Transient,
                format!(
                    "another create of this store has been under way for {} s (tag {}); if \
                     none is running, one died: remove that tag and try again",
                    STALE_AFTER.as_secs(),
                    stale.tag
                ),
            ));
        }
        pause(clock);
        if config_exists(registry)? {
            return Err(exists());
        }
    }
}

fn pause(clock: &dyn Clock) {
    clock.sleep(PAUSE + share(PAUSE, clock.jitter()));
}

fn config_exists(registry: &Registry) -> Result<bool> {
    Ok(registry.get_manifest(CONFIG_TAG)?.is_some())
}

/// The candidate tags of the repository (none where it does not exist yet). Where the
/// registry is known to refuse deletes, each is read and a buried one skipped.
fn candidate_tags(registry: &Registry) -> Result<Vec<String>> {
    let tags = registry.tags()?.unwrap_or_default();
    let mut candidates = Vec::new();
    for tag in tags
        .into_iter()
        .filter(|t| t.starts_with(CANDIDATE_TAG_PREFIX))
    {
        if registry.refuses_deletes.get() {
            match registry.get_manifest(&tag)? {
                Some(manifest) if !tombstone::is_tombstone(&manifest) => {}
                _ => continue,
            }
        }
        candidates.push(tag);
    }
    Ok(candidates)
}

fn exists() -> Error {
    Error::new(ErrorKind::AlreadyExists, "a store already exists there")
}
