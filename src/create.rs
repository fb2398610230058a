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
//! `kloset-config`; `list` never shows candidates.

use std::time::Duration;

use crate::clock::{share, Clock};
use crate::digest::Digest;
use crate::error::{Error, ErrorKind, Result};
use crate::layout::{self, BlobRef, CANDIDATE_TAG_PREFIX, CONFIG_TAG, EMPTY_CONTENT};
use crate::manifest_delete::delete_tagged_manifest;
use crate::manifest_put::put_manifest;
use crate::registry::Registry;
use crate::upload::push_monolithic;

/// Rounds a create tries before giving up with `transient`.
pub const ATTEMPTS: u32 = 16;
/// A candidate tagged this long is reported as a dead create's.
pub const STALE_AFTER: Duration = Duration::from_secs(30);
/// Pauses between rounds and between looks at other candidates: random in [1, 2] times this.
const PAUSE: Duration = Duration::from_millis(60);

/// A candidate seen while waiting, and when it was first seen.
struct Seen {
    tag: String,
    since: Duration,
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
        let _ = delete_tagged_manifest(registry, clock, &tag, &candidate);
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
                seen.push(Seen { tag, since: now });
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

/// The candidate tags of the repository (none where it does not exist yet).
fn candidate_tags(registry: &Registry) -> Result<Vec<String>> {
    let tags = registry.tags()?.unwrap_or_default();
    Ok(tags
        .into_iter()
        .filter(|t| t.starts_with(CANDIDATE_TAG_PREFIX))
        .collect())
}

fn exists() -> Error {
    Error::new(ErrorKind::AlreadyExists, "a store already exists there")
}
