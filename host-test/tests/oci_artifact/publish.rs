//! What `scripts/publish` puts in the registry, read back with an independent client (plain
//! HTTP here) and with wkg: exact bytes, media types and annotations.

use serde_json::Value;

use crate::http::{get_blob, get_manifest, sha256, OCI_MANIFEST};
use crate::release::{
    component_bytes, published, release_env, self_contained_bytes, wit_bytes, wkg,
};

const WASM_CONFIG: &str = "application/vnd.wasm.config.v0+json";
const ANNOTATIONS: [(&str, &str); 3] = [
    ("org.opencontainers.image.source", "SOURCE"),
    ("org.opencontainers.image.revision", "REVISION"),
    ("org.opencontainers.image.created", "CREATED"),
];

/// Checks one artifact's manifest (by tag and by digest), config and layer; returns the
/// config JSON.
fn check_artifact(repository: &str, version: &str, digest: &str, bytes: &[u8]) -> Value {
    let p = published();
    let env = release_env();
    let by_tag = get_manifest(&p.authority(), repository, version);
    assert_eq!(
        sha256(&by_tag.body),
        digest,
        "the tag names the printed digest"
    );
    assert_eq!(by_tag.header("docker-content-digest"), Some(digest));
    let by_digest = get_manifest(&p.authority(), repository, digest);
    assert_eq!(by_digest.body, by_tag.body);

    let manifest: Value = serde_json::from_slice(&by_tag.body).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(manifest["mediaType"], OCI_MANIFEST);
    assert_eq!(manifest["config"]["mediaType"], WASM_CONFIG);
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{manifest}");
    assert_eq!(layers[0]["mediaType"], "application/wasm");
    assert_eq!(layers[0]["digest"], sha256(bytes));
    assert_eq!(layers[0]["size"], bytes.len() as u64);
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.version"],
        version
    );
    for (key, field) in ANNOTATIONS {
        assert!(!env[field].is_empty(), "{field} is empty");
        assert_eq!(manifest["annotations"][key], env[field].as_str(), "{key}");
    }

    let layer = get_blob(
        &p.authority(),
        repository,
        layers[0]["digest"].as_str().unwrap(),
    );
    assert!(
        layer == bytes,
        "the layer is the release artifact, byte for byte"
    );
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    let config_bytes = get_blob(&p.authority(), repository, config_digest);
    assert_eq!(sha256(&config_bytes), config_digest);
    let config: Value = serde_json::from_slice(&config_bytes).unwrap();
    assert_eq!(config["architecture"], "wasm");
    assert_eq!(config["os"], "wasip2");
    assert_eq!(config["layerDigests"], serde_json::json!([sha256(bytes)]));
    config
}

fn strings(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

/// A published component's imports, once its artifact is checked and it exports the store
/// and imports outgoing HTTP.
fn component_imports(repository: &str, digest: &str, bytes: &[u8]) -> Vec<String> {
    let config = check_artifact(repository, &release_env()["VERSION"], digest, bytes);
    let exports = strings(&config["component"]["exports"]);
    assert_eq!(exports, ["kloset:storage/store@0.1.0"]);
    let imports: Vec<String> = strings(&config["component"]["imports"])
        .into_iter()
        .map(String::from)
        .collect();
    assert!(
        imports
            .iter()
            .any(|i| i == "wasi:http/outgoing-handler@0.2.12"),
        "{imports:?}"
    );
    imports
}

#[test]
fn the_component_is_a_wasm_artifact_naming_its_exports_and_imports() {
    let p = published();
    let imports = component_imports("kloset/oci", &p.component_digest, &component_bytes());
    // The host's SHA-256, which any host of the world must provide (wit/digest.wit).
    assert!(
        imports.iter().any(|i| i == "kloset:storage/digest@0.1.0"),
        "{imports:?}"
    );
    assert!(
        imports
            .iter()
            .all(|i| i.starts_with("wasi:") || i.starts_with("kloset:storage/")),
        "{imports:?}"
    );
}

#[test]
fn the_self_contained_component_needs_nothing_but_wasi() {
    let p = published();
    let imports = component_imports(
        "kloset/oci-self-contained",
        &p.self_contained_digest,
        &self_contained_bytes(),
    );
    // Besides WASI, only `types`: the store's type definitions, with no function a host must
    // provide (the WASI-only host of the conformance suite links nothing for it).
    assert!(
        imports
            .iter()
            .all(|i| i.starts_with("wasi:") || i == "kloset:storage/types@0.1.0"),
        "{imports:?}"
    );
    assert_ne!(self_contained_bytes(), component_bytes());
}

#[test]
fn the_wit_package_is_a_wasm_artifact_of_the_contract() {
    let p = published();
    let config = check_artifact(
        "kloset/storage",
        &release_env()["WIT_VERSION"],
        &p.wit_digest,
        &wit_bytes(),
    );
    let exports = strings(&config["component"]["exports"]);
    for interface in ["kloset:storage/store@0.1.0", "kloset:storage/types@0.1.0"] {
        assert!(exports.contains(&interface), "{exports:?}");
    }
}

#[test]
fn wkg_pulls_back_the_same_bytes() {
    let p = published();
    let dir = tempfile::tempdir().unwrap();
    let env = release_env();
    for (repository, tag, expected) in [
        ("kloset/oci", &env["VERSION"], component_bytes()),
        (
            "kloset/oci-self-contained",
            &env["VERSION"],
            self_contained_bytes(),
        ),
        ("kloset/storage", &env["WIT_VERSION"], wit_bytes()),
    ] {
        let out_file = dir.path().join(repository.replace('/', "-"));
        let out = wkg()
            .args(["oci", "pull", "--insecure", &p.authority()])
            .arg(format!("{}/{repository}:{tag}", p.authority()))
            .arg("-o")
            .arg(&out_file)
            .output()
            .expect("run wkg");
        assert!(
            out.status.success(),
            "wkg oci pull: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            std::fs::read(&out_file).unwrap() == expected,
            "{repository}: bytes differ"
        );
    }
}

/// The host developer's way in: `wkg get --registry HOST kloset:storage@WIT_VERSION`, as WIT
/// text and as the WIT package binary (the config only says the registry is plain HTTP).
#[test]
fn a_host_developer_fetches_the_wit_with_wkg_get() {
    let p = published();
    let version = &release_env()["WIT_VERSION"];
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("wkg-config.toml");
    std::fs::write(
        &config,
        format!(
            "[registry.\"{a}\".oci]\nprotocol = \"http\"\n",
            a = p.authority()
        ),
    )
    .unwrap();
    let get = |format: &str, file: &str| {
        let out = wkg()
            .arg("get")
            .arg("--config")
            .arg(&config)
            .args(["--registry", &p.authority()])
            .arg("--cache")
            .arg(dir.path().join("cache"))
            .args(["--format", format])
            .arg(format!("kloset:storage@{version}"))
            .arg("-o")
            .arg(dir.path().join(file))
            .output()
            .expect("run wkg");
        assert!(
            out.status.success(),
            "wkg get: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(dir.path().join(file)).unwrap()
    };
    let text = String::from_utf8(get("wit", "storage.wit")).unwrap();
    assert!(
        text.contains(&format!("package kloset:storage@{version};")),
        "{text}"
    );
    assert!(text.contains("resource store"), "{text}");
    assert!(get("wasm", "storage.wasm") == wit_bytes());
}

#[test]
fn the_artifacts_carry_their_package_metadata() {
    use kloset_oci_host::metadata::read;
    let env = release_env();
    let component = read(&component_bytes()).unwrap();
    assert_eq!(component.name.as_deref(), Some("kloset:oci"));
    assert_eq!(component.version.as_deref(), Some(env["VERSION"].as_str()));
    assert_eq!(
        component.revision.as_deref(),
        Some(env["REVISION"].as_str())
    );
    assert_eq!(component.licenses.as_deref(), Some("Apache-2.0"));
    let self_contained = read(&self_contained_bytes()).unwrap();
    assert_eq!(
        self_contained.name.as_deref(),
        Some("kloset:oci-self-contained")
    );
    assert_eq!(
        self_contained.version.as_deref(),
        Some(env["VERSION"].as_str())
    );
    let wit = read(&wit_bytes()).unwrap();
    assert_eq!(wit.name.as_deref(), Some("kloset:storage"));
    assert_eq!(wit.version.as_deref(), Some(env["WIT_VERSION"].as_str()));
}
