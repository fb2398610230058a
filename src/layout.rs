//! How a store is laid out in one OCI repository (README.md, "Storage layout").
//!
//! - The store's config is a blob referenced by the manifest tagged `kloset-config`.
//! - Each object is a blob referenced by its own manifest, tagged `<kind>-<mac hex>`.
//! - Every manifest is an OCI artifact: `artifactType` names the kind, the config is the empty
//!   descriptor, and annotations name the kind and the MAC, so no two objects ever share a
//!   manifest (deleting one cannot remove another with identical bytes), and every live blob is
//!   reachable from a tag (garbage collection keeps it).

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};

pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
pub const EMPTY_CONTENT: &[u8] = b"{}";
pub const OBJECT_LAYER_MEDIA_TYPE: &str = "application/vnd.kloset.object.v1";
pub const CONFIG_LAYER_MEDIA_TYPE: &str = "application/vnd.kloset.config.v1";
pub const CONFIG_ARTIFACT_TYPE: &str = "application/vnd.kloset.config.v1";
pub const CONFIG_TAG: &str = "kloset-config";
/// A create's candidate config is tagged this followed by its nonce, until the create ends
/// (`create.rs`); `list` never shows it (it names no kind).
pub const CANDIDATE_TAG_PREFIX: &str = "kloset-create-";

/// Manifests larger than this are refused (distribution's own limit is 4 MiB).
pub const MANIFEST_LIMIT: usize = 4 << 20;

/// The kinds of object this backend stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Packfile,
    State,
    Lock,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Packfile, Kind::State, Kind::Lock];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Packfile => "packfile",
            Kind::State => "state",
            Kind::Lock => "lock",
        }
    }

    pub fn artifact_type(self) -> &'static str {
        match self {
            Kind::Packfile => "application/vnd.kloset.packfile.v1",
            Kind::State => "application/vnd.kloset.state.v1",
            Kind::Lock => "application/vnd.kloset.lock.v1",
        }
    }

    /// Packfiles and states are named by the MAC of their content, so their blob never
    /// changes; a lock is re-put with new bytes under the same MAC.
    pub fn is_immutable(self) -> bool {
        !matches!(self, Kind::Lock)
    }
}

/// An object's 32-byte MAC.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub [u8; 32]);

impl Mac {
    pub fn from_slice(bytes: &[u8]) -> Result<Mac> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| {
            Error::invalid_argument(format!("a MAC is 32 bytes, not {}", bytes.len()))
        })?;
        Ok(Mac(array))
    }

    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Debug for Mac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}

/// `<kind> <mac hex>`, the way messages name an object.
pub fn object_name(kind: Kind, mac: &Mac) -> String {
    format!("{} {}", kind.name(), mac.hex())
}

/// The tag of an object: `<kind>-<64 hex>`, at most 73 characters.
pub fn tag(kind: Kind, mac: &Mac) -> String {
    format!("{}-{}", kind.name(), mac.hex())
}

/// The object a tag names, if it is one of ours.
pub fn parse_tag(tag: &str) -> Option<(Kind, Mac)> {
    let (kind, hex_part) = tag.split_once('-')?;
    let kind = Kind::ALL.into_iter().find(|k| k.name() == kind)?;
    if hex_part.len() != 64 || hex_part.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let mut mac = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut mac).ok()?;
    Some((kind, Mac(mac)))
}

/// An OCI content descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

impl Descriptor {
    pub fn empty_config() -> Descriptor {
        Descriptor {
            media_type: EMPTY_MEDIA_TYPE.to_string(),
            digest: Digest::of(EMPTY_CONTENT).to_string(),
            size: EMPTY_CONTENT.len() as u64,
        }
    }
}

/// An OCI image manifest, as far as this backend writes and reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    #[serde(rename = "artifactType", default)]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default)]
    pub annotations: Annotations,
}

/// The manifest annotations this backend writes, in key order (so the JSON is the same as a
/// sorted map's); other annotations of a fetched manifest are ignored. A struct rather than a
/// map: a `BTreeMap` would add about 8 KiB to the component (docs/performance.md, "What bounds the figures").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotations {
    #[serde(
        rename = "io.kloset.kind",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<String>,
    #[serde(
        rename = "io.kloset.mac",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub mac: Option<String>,
    /// A candidate config's nonce: no two candidates share a manifest, so deleting one by
    /// digest removes no other tag (and never `kloset-config`).
    #[serde(
        rename = "io.kloset.create",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub create: Option<String>,
}

/// What a manifest says of its one blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobRef {
    pub digest: Digest,
    pub size: u64,
}

fn artifact(
    artifact_type: &str,
    layer_type: &str,
    blob: BlobRef,
    kind: &str,
    mac: Option<&Mac>,
) -> Manifest {
    let annotations = Annotations {
        kind: Some(kind.to_string()),
        mac: mac.map(Mac::hex),
        create: None,
    };
    Manifest {
        schema_version: 2,
        media_type: Some(MANIFEST_MEDIA_TYPE.to_string()),
        artifact_type: Some(artifact_type.to_string()),
        config: Descriptor::empty_config(),
        layers: vec![Descriptor {
            media_type: layer_type.to_string(),
            digest: blob.digest.to_string(),
            size: blob.size,
        }],
        annotations,
    }
}

/// The manifest of one object. The same object always gets byte-identical JSON.
pub fn object_manifest(kind: Kind, mac: &Mac, blob: BlobRef) -> Vec<u8> {
    let m = artifact(
        kind.artifact_type(),
        OBJECT_LAYER_MEDIA_TYPE,
        blob,
        kind.name(),
        Some(mac),
    );
    serde_json::to_vec(&m).expect("a manifest always serialises")
}

/// The manifest of the store's config.
pub fn config_manifest(blob: BlobRef) -> Vec<u8> {
    let m = artifact(
        CONFIG_ARTIFACT_TYPE,
        CONFIG_LAYER_MEDIA_TYPE,
        blob,
        "config",
        None,
    );
    serde_json::to_vec(&m).expect("a manifest always serialises")
}

/// The tag of the candidate config a create names by `nonce`.
pub fn candidate_tag(nonce: u64) -> String {
    format!("{CANDIDATE_TAG_PREFIX}{nonce:016x}")
}

/// A candidate config's manifest: the config manifest with the nonce annotated.
pub fn candidate_manifest(blob: BlobRef, nonce: u64) -> Vec<u8> {
    let mut m = artifact(
        CONFIG_ARTIFACT_TYPE,
        CONFIG_LAYER_MEDIA_TYPE,
        blob,
        "config",
        None,
    );
    m.annotations.create = Some(format!("{nonce:016x}"));
    serde_json::to_vec(&m).expect("a manifest always serialises")
}

/// Checks a fetched manifest is the one we wrote for `kind`/`mac` and returns its blob.
/// A registry (or anyone with push rights) could answer with another object's manifest.
pub fn parse_object_manifest(bytes: &[u8], kind: Kind, mac: &Mac) -> Result<BlobRef> {
    let m = parse(bytes)?;
    let kind_ok = m.annotations.kind.as_deref() == Some(kind.name());
    let mac_ok = m.annotations.mac == Some(mac.hex());
    if m.artifact_type.as_deref() != Some(kind.artifact_type()) || !kind_ok || !mac_ok {
        return Err(Error::protocol(format!(
            "the manifest tagged {} describes another object",
            tag(kind, mac)
        )));
    }
    single_blob(&m, OBJECT_LAYER_MEDIA_TYPE)
}

/// Checks a fetched manifest is a store config and returns its blob.
pub fn parse_config_manifest(bytes: &[u8]) -> Result<BlobRef> {
    let m = parse(bytes)?;
    if m.artifact_type.as_deref() != Some(CONFIG_ARTIFACT_TYPE) {
        return Err(Error::protocol(format!(
            "the manifest tagged {CONFIG_TAG} is not a kloset store config"
        )));
    }
    single_blob(&m, CONFIG_LAYER_MEDIA_TYPE)
}

fn parse(bytes: &[u8]) -> Result<Manifest> {
    let m: Manifest = serde_json::from_slice(bytes)
        .map_err(|e| Error::protocol(format!("malformed manifest: {e}")))?;
    if m.schema_version != 2 || m.media_type.as_deref() != Some(MANIFEST_MEDIA_TYPE) {
        return Err(Error::protocol("manifest is not an OCI image manifest"));
    }
    Ok(m)
}

fn single_blob(m: &Manifest, layer_type: &str) -> Result<BlobRef> {
    match m.layers.as_slice() {
        [layer] if layer.media_type == layer_type => Ok(BlobRef {
            digest: Digest::parse(&layer.digest)?,
            size: layer.size,
        }),
        _ => Err(Error::protocol(format!(
            "manifest must have exactly one {layer_type} layer"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: Mac = Mac([0xab; 32]);

    #[test]
    fn tags_round_trip_and_foreign_tags_are_ignored() {
        let t = tag(Kind::Packfile, &MAC);
        assert_eq!(t.len(), 73);
        assert_eq!(parse_tag(&t), Some((Kind::Packfile, MAC)));
        assert_eq!(parse_tag(CONFIG_TAG), None);
        assert_eq!(parse_tag("latest"), None);
        assert_eq!(parse_tag(&format!("lock-{}", "AB".repeat(32))), None);
        assert_eq!(parse_tag(&format!("lock-{}", "ab".repeat(31))), None);
        assert_eq!(parse_tag(&format!("ecc-{}", "ab".repeat(32))), None);
    }

    #[test]
    fn object_manifests_are_unique_per_object_and_deterministic() {
        let blob = BlobRef {
            digest: Digest::of(b"same bytes"),
            size: 10,
        };
        let a = object_manifest(Kind::Packfile, &MAC, blob);
        assert_eq!(a, object_manifest(Kind::Packfile, &MAC, blob));
        assert_ne!(a, object_manifest(Kind::Packfile, &Mac([1; 32]), blob));
        assert_ne!(a, object_manifest(Kind::State, &MAC, blob));
        assert_eq!(
            parse_object_manifest(&a, Kind::Packfile, &MAC).unwrap(),
            blob
        );
        let json: serde_json::Value = serde_json::from_slice(&a).unwrap();
        assert_eq!(json["config"]["digest"], Digest::of(b"{}").to_string());
        assert_eq!(json["artifactType"], "application/vnd.kloset.packfile.v1");
    }

    #[test]
    fn annotations_are_written_in_key_order_and_foreign_ones_are_ignored() {
        let blob = BlobRef {
            digest: Digest::of(b"x"),
            size: 1,
        };
        let object = String::from_utf8(object_manifest(Kind::State, &MAC, blob)).unwrap();
        let expected = format!(
            r#","annotations":{{"io.kloset.kind":"state","io.kloset.mac":"{}"}}}}"#,
            "ab".repeat(32)
        );
        assert!(object.ends_with(&expected), "{object}");
        let config = String::from_utf8(config_manifest(blob)).unwrap();
        assert!(
            config.ends_with(r#","annotations":{"io.kloset.kind":"config"}}"#),
            "{config}"
        );
        let annotated = object.replace(
            r#""annotations":{"#,
            r#""annotations":{"org.opencontainers.image.created":"2026-01-01T00:00:00Z","#,
        );
        assert_ne!(annotated, object);
        assert_eq!(
            parse_object_manifest(annotated.as_bytes(), Kind::State, &MAC).unwrap(),
            blob
        );
        let unannotated = object.replace(&expected, "}");
        assert!(parse_object_manifest(unannotated.as_bytes(), Kind::State, &MAC).is_err());
    }

    #[test]
    fn a_manifest_of_another_object_is_refused() {
        let blob = BlobRef {
            digest: Digest::of(b"x"),
            size: 1,
        };
        let other = object_manifest(Kind::Packfile, &Mac([1; 32]), blob);
        let e = parse_object_manifest(&other, Kind::Packfile, &MAC).unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::Protocol);
        let state = object_manifest(Kind::State, &MAC, blob);
        assert!(parse_object_manifest(&state, Kind::Packfile, &MAC).is_err());
        assert!(parse_object_manifest(b"<html>", Kind::Packfile, &MAC).is_err());
        assert!(parse_config_manifest(&object_manifest(Kind::Lock, &MAC, blob)).is_err());
        assert_eq!(parse_config_manifest(&config_manifest(blob)).unwrap(), blob);
    }
}
