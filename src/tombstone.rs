//! Deleting on a registry that refuses deletes: tombstones.
//!
//! Docker Hub and GHCR answer a manifest DELETE through the registry API with 405
//! `UNSUPPORTED` (deletes go through their own web APIs), as does distribution with
//! `storage.delete.enabled: false` (distribution-spec, "Deleting Manifests": a registry MAY
//! refuse with 405). A tag cannot be removed there, only moved. So where the registry refuses
//! the delete, the object's tag is moved to a small *tombstone* manifest:
//!
//! - the tombstone is an OCI artifact (`artifactType` [`TOMBSTONE_ARTIFACT_TYPE`], the empty
//!   config, the empty descriptor as its one layer) annotated with the object's kind and MAC,
//!   so each object's tombstone is a manifest of its own;
//! - a marker tag `kloset-gone-<kind>-<mac hex>` names it too, tagged before the object's tag
//!   moves. `list` reads the object's tag only where such a marker exists: a tombstone is
//!   skipped, a manifest put again after the delete is listed. Everything else is listed from
//!   the tag list alone, as on any registry;
//! - `get` and `delete` of a tombstoned object answer `not-found`; `put` moves the tag back
//!   to a real manifest.
//!
//! The cost: one GET per tombstoned object of the kind at each `list`, and two tags that stay
//! per deleted object. Space comes back only through the registry's own retention tools
//! (Docker Hub's and GHCR's web APIs or retention policies): delete the tags
//! `kloset-gone-*` and the tags with the same `<kind>-<mac>` that name a tombstone.

use crate::clock::Clock;
use crate::error::Result;
use crate::layout::{self, Annotations, Descriptor, Kind, Mac, Manifest, MANIFEST_MEDIA_TYPE};
use crate::manifest_put::put_manifest;
use crate::registry::Registry;

pub const TOMBSTONE_ARTIFACT_TYPE: &str = "application/vnd.kloset.tombstone.v1";
/// Marker tags: this, then the object's tag.
pub const MARKER_PREFIX: &str = "kloset-gone-";

/// The tombstone of one object.
pub fn tombstone_manifest(kind: Kind, mac: &Mac) -> Vec<u8> {
    tombstone(Annotations {
        kind: Some(kind.name().to_string()),
        mac: Some(mac.hex()),
        create: None,
    })
}

/// The tombstone of a create's candidate config (`create.rs`), named by its nonce.
pub fn candidate_tombstone(nonce: u64) -> Vec<u8> {
    tombstone(Annotations {
        kind: Some("config".to_string()),
        mac: None,
        create: Some(format!("{nonce:016x}")),
    })
}

/// A tombstone annotated with `annotations`, which make it a manifest of its own.
fn tombstone(annotations: Annotations) -> Vec<u8> {
    let m = Manifest {
        schema_version: 2,
        media_type: Some(MANIFEST_MEDIA_TYPE.to_string()),
        artifact_type: Some(TOMBSTONE_ARTIFACT_TYPE.to_string()),
        config: Descriptor::empty_config(),
        layers: vec![Descriptor::empty_config()],
        annotations,
    };
    serde_json::to_vec(&m).expect("a manifest always serialises")
}

/// Whether a fetched manifest is a tombstone (of any object: a tombstone is never data).
pub fn is_tombstone(manifest: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Typed {
        #[serde(rename = "artifactType")]
        artifact_type: Option<String>,
    }
    serde_json::from_slice::<Typed>(manifest)
        .is_ok_and(|m| m.artifact_type.as_deref() == Some(TOMBSTONE_ARTIFACT_TYPE))
}

/// The marker tag of an object's tombstone.
pub fn marker_tag(kind: Kind, mac: &Mac) -> String {
    format!("{MARKER_PREFIX}{}", layout::tag(kind, mac))
}

/// The object a marker tag names, if it is one.
pub fn parse_marker(tag: &str) -> Option<(Kind, Mac)> {
    layout::parse_tag(tag.strip_prefix(MARKER_PREFIX)?)
}

/// Moves the object's tag to its tombstone, the marker first (see the module comment).
pub fn bury(registry: &Registry, clock: &dyn Clock, kind: Kind, mac: &Mac) -> Result<()> {
    let tombstone = tombstone_manifest(kind, mac);
    put_manifest(registry, clock, &marker_tag(kind, mac), &tombstone)?;
    put_manifest(registry, clock, &layout::tag(kind, mac), &tombstone)
}

/// Of `macs` (objects of `kind` found in `tags`), those that are not tombstones: an object
/// with a marker is read to decide.
pub fn without_buried(
    registry: &Registry,
    kind: Kind,
    tags: &[String],
    macs: Vec<Mac>,
) -> Result<Vec<Mac>> {
    let mut marked: Vec<Mac> = tags
        .iter()
        .filter_map(|t| parse_marker(t))
        .filter(|(k, _)| *k == kind)
        .map(|(_, mac)| mac)
        .collect();
    marked.sort_unstable();
    if marked.is_empty() {
        return Ok(macs);
    }
    let mut live = Vec::with_capacity(macs.len());
    for mac in macs {
        if marked.binary_search(&mac).is_ok() {
            match registry.get_manifest(&layout::tag(kind, &mac))? {
                Some(manifest) if !is_tombstone(&manifest) => {}
                // A tombstone, or gone meanwhile.
                _ => continue,
            }
        }
        live.push(mac);
    }
    Ok(live)
}
