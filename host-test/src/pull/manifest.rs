//! The manifest of a component artifact: an OCI image manifest with exactly one layer, of
//! media type `application/wasm`, within the size bound. Anything else is refused before any
//! blob is fetched.

use serde_json::Value;

use super::reference::Digest;
use crate::error::{ErrorKind, StoreError};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const WASM_LAYER: &str = "application/wasm";
/// What a manifest may weigh (distribution refuses larger ones too).
pub const MAX_MANIFEST_SIZE: u64 = 4 * 1024 * 1024;

/// The component blob a manifest names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WasmLayer {
    pub digest: Digest,
    pub size: u64,
}

/// Reads the one `application/wasm` layer of `manifest`, refusing other shapes, other media
/// types and layers over `max_size` bytes.
pub fn wasm_layer(manifest: &[u8], max_size: u64) -> Result<WasmLayer, StoreError> {
    let protocol =
        |why: String| StoreError::new(ErrorKind::Protocol, format!("component manifest: {why}"));
    let json: Value =
        serde_json::from_slice(manifest).map_err(|e| protocol(format!("not JSON: {e}")))?;
    if json["schemaVersion"] != 2 {
        return Err(protocol("schemaVersion is not 2".into()));
    }
    match json.get("mediaType").and_then(Value::as_str) {
        None | Some(OCI_MANIFEST) => {}
        Some(other) => {
            return Err(protocol(format!(
                "media type {other:?}, not an OCI image manifest"
            )))
        }
    }
    let layers = json["layers"]
        .as_array()
        .ok_or_else(|| protocol("no layers".into()))?;
    let [layer] = layers.as_slice() else {
        return Err(protocol(format!(
            "{} layers, expected exactly one",
            layers.len()
        )));
    };
    let media_type = layer["mediaType"].as_str().unwrap_or("");
    if media_type != WASM_LAYER {
        return Err(protocol(format!(
            "layer media type {:?}, only {WASM_LAYER} is accepted",
            media_type.chars().take(100).collect::<String>()
        )));
    }
    let digest = Digest::parse(layer["digest"].as_str().unwrap_or(""))
        .map_err(|e| protocol(format!("layer {}", e.message)))?;
    let size = layer["size"]
        .as_u64()
        .ok_or_else(|| protocol("layer without a size".into()))?;
    if size > max_size {
        return Err(protocol(format!(
            "the component is {size} bytes, over the {max_size}-byte bound"
        )));
    }
    Ok(WasmLayer { digest, size })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn manifest(layers: &str) -> Vec<u8> {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}",
               "config":{{"mediaType":"application/vnd.wasm.config.v0+json","digest":"sha256:{HEX}","size":10}},
               "layers":[{layers}]}}"#
        )
        .into_bytes()
    }

    fn layer(media_type: &str, size: u64) -> String {
        format!(r#"{{"mediaType":"{media_type}","digest":"sha256:{HEX}","size":{size}}}"#)
    }

    #[test]
    fn one_wasm_layer_within_the_bound() {
        let got = wasm_layer(&manifest(&layer(WASM_LAYER, 1000)), 1000).unwrap();
        assert_eq!(
            got,
            WasmLayer {
                digest: Digest::parse(&format!("sha256:{HEX}")).unwrap(),
                size: 1000
            }
        );
    }

    #[test]
    fn other_shapes_are_refused() {
        let wasm = layer(WASM_LAYER, 10);
        for (bytes, why) in [
            (
                manifest(&layer("application/vnd.oci.image.layer.v1.tar+gzip", 10)),
                "media type",
            ),
            (manifest(&layer(WASM_LAYER, 1001)), "over the"),
            (manifest(""), "0 layers"),
            (manifest(&format!("{wasm},{wasm}")), "2 layers"),
            (b"<html>".to_vec(), "not JSON"),
            (as_index(manifest(&wasm)), "not an OCI image manifest"),
        ] {
            let err = wasm_layer(&bytes, 1000).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Protocol);
            assert!(err.message.contains(why), "{why}: {err}");
        }
    }

    fn as_index(manifest: Vec<u8>) -> Vec<u8> {
        String::from_utf8(manifest)
            .unwrap()
            .replace(OCI_MANIFEST, "application/vnd.oci.image.index.v1+json")
            .into_bytes()
    }
}
