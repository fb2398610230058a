//! Loading by reference: digests checked before anything runs, only wasm layers within the
//! bound, a tag resolved once per process, and the on-disk cache.

use std::collections::HashMap;
use std::process::Command;

use kloset_oci_host::{ComponentReference, ErrorKind, PullOptions, Puller, StoreError};

use crate::fake_registry::{FakeRegistry, Route};
use crate::http::{self, push_blob, push_manifest, sha256, OCI_MANIFEST};
use crate::release::{component_bytes, published, wit_bytes};

const BIN: &str = env!("CARGO_BIN_EXE_kloset-oci");

pub fn options(cache: &tempfile::TempDir) -> PullOptions {
    PullOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        ..PullOptions::default()
    }
}

fn puller(reference: &str, options: &PullOptions) -> Puller {
    Puller::new(&ComponentReference::parse(reference).unwrap(), options).unwrap()
}

pub async fn pull(reference: &str, options: &PullOptions) -> (Result<Vec<u8>, StoreError>, u64) {
    let p = puller(reference, options);
    let got = p.pull().await.map(|c| std::fs::read(c.path).unwrap());
    (got, p.requests())
}

/// An artifact manifest of one layer of `media_type` holding `layer`.
pub fn manifest(layer: &[u8], media_type: &str) -> Vec<u8> {
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.wasm.config.v0+json", "digest": sha256(b"{}"), "size": 2},
        "layers": [{"mediaType": media_type, "digest": sha256(layer), "size": layer.len()}],
    })
    .to_string()
    .into_bytes()
}

/// Pushes `layer` as an artifact to `repository:tag` of the shared registry; returns the
/// manifest digest.
fn push_artifact(repository: &str, tag: &str, layer: &[u8], media_type: &str) -> String {
    let authority = published().authority();
    push_blob(&authority, repository, b"{}");
    push_blob(&authority, repository, layer);
    push_manifest(&authority, repository, tag, &manifest(layer, media_type))
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_pin_is_pulled_once_then_served_from_the_cache() {
    let pin = published().component_pin();
    let cache = tempfile::tempdir().unwrap();
    let rt = runtime();
    let (got, requests) = rt.block_on(pull(&pin, &options(&cache)));
    assert!(got.unwrap() == component_bytes());
    assert_eq!(requests, 2, "the manifest, then the component");
    let (again, requests) = rt.block_on(pull(&pin, &options(&cache)));
    assert!(again.unwrap() == component_bytes());
    assert_eq!(requests, 0, "a cached pin needs no registry");

    // A cached component that no longer matches its digest is fetched again.
    let blob = cache
        .path()
        .join("blobs/sha256")
        .join(&sha256(&component_bytes())[7..]);
    std::fs::write(&blob, b"not the component").unwrap();
    let (repaired, requests) = rt.block_on(pull(&pin, &options(&cache)));
    assert!(repaired.unwrap() == component_bytes());
    assert_eq!(
        requests, 1,
        "the component alone: its manifest was still good"
    );
}

/// A digest pin is immune to a swapped tag; a tag is resolved once per process.
#[test]
fn a_moved_tag_changes_neither_a_pin_nor_this_process() {
    let authority = published().authority();
    let first = push_artifact(
        "pull/moving",
        "stable",
        &component_bytes(),
        "application/wasm",
    );
    let cache = tempfile::tempdir().unwrap();
    let rt = runtime();
    let by_tag = format!("oci://{authority}/pull/moving:stable");
    let (got, _) = rt.block_on(pull(&by_tag, &options(&cache)));
    assert!(got.unwrap() == component_bytes());

    let second = push_artifact("pull/moving", "stable", &wit_bytes(), "application/wasm");
    assert_ne!(first, second);
    let fresh_cache = tempfile::tempdir().unwrap();
    let p = puller(&by_tag, &options(&fresh_cache));
    let pulled = rt.block_on(p.pull()).unwrap();
    assert_eq!(
        pulled.manifest_digest.to_string(),
        first,
        "resolved once per process"
    );
    assert!(std::fs::read(&pulled.path).unwrap() == component_bytes());

    let pin = format!("oci://{authority}/pull/moving@{first}");
    let (got, _) = rt.block_on(pull(&pin, &options(&fresh_cache)));
    assert!(
        got.unwrap() == component_bytes(),
        "the pin still names the first component"
    );
    let (got, _) = rt.block_on(pull(
        &format!("oci://{authority}/pull/moving@{second}"),
        &options(&cache),
    ));
    assert!(got.unwrap() == wit_bytes());
}

#[test]
fn only_one_wasm_layer_within_the_bound_is_accepted() {
    let authority = published().authority();
    let cache = tempfile::tempdir().unwrap();
    let rt = runtime();
    let tar = push_artifact(
        "pull/tarball",
        "v1",
        &component_bytes(),
        "application/vnd.oci.image.layer.v1.tar",
    );
    let (got, requests) = rt.block_on(pull(
        &format!("oci://{authority}/pull/tarball@{tar}"),
        &options(&cache),
    ));
    let err = got.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert!(err.message.contains("only application/wasm"), "{err}");
    assert_eq!(requests, 1, "the blob is never fetched");

    let small = PullOptions {
        max_size: component_bytes().len() as u64 - 1,
        ..options(&cache)
    };
    let (got, requests) = rt.block_on(pull(&published().component_pin(), &small));
    let err = got.unwrap_err();
    assert!(
        err.kind == ErrorKind::Protocol && err.message.contains("bound"),
        "{err}"
    );
    assert_eq!(requests, 1, "the blob is never fetched");
}

/// A registry that serves other bytes than the digest names: every such pull fails, and
/// nothing is cached.
#[test]
fn bytes_that_miss_their_digest_are_refused() {
    let component = component_bytes();
    let good = manifest(&component, "application/wasm");
    let mut tampered = component.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let good_digest = sha256(&good);
    let mut routes = HashMap::new();
    // A manifest pinned by digest whose bytes are another manifest's.
    let other = manifest(b"other", "application/wasm");
    let swapped_digest = sha256(&manifest(&wit_bytes(), "application/wasm"));
    routes.insert(
        format!("/v2/x/manifests/{swapped_digest}"),
        Route::ok(&other),
    );
    // The right manifest, but a component with one bit flipped.
    routes.insert(format!("/v2/x/manifests/{good_digest}"), Route::ok(&good));
    routes.insert(
        format!("/v2/x/blobs/{}", sha256(&component)),
        Route::ok(&tampered),
    );
    // A tag whose Docker-Content-Digest is not the manifest's.
    routes.insert(
        "/v2/x/manifests/lying".to_string(),
        Route::ok(&good).with_header("Docker-Content-Digest", &swapped_digest),
    );
    let fake = FakeRegistry::serve(routes);
    let cache = tempfile::tempdir().unwrap();
    let rt = runtime();
    for (reference, why) in [
        (
            format!("oci://{}/x@{swapped_digest}", fake.authority()),
            "digest mismatch",
        ),
        (
            format!("oci://{}/x@{good_digest}", fake.authority()),
            "digest mismatch",
        ),
        (
            format!("oci://{}/x:lying", fake.authority()),
            "announced a digest",
        ),
    ] {
        let (got, _) = rt.block_on(pull(&reference, &options(&cache)));
        let err = got.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol, "{reference}: {err}");
        assert!(err.message.contains(why), "{reference}: {err}");
    }
    let blobs = cache.path().join("blobs/sha256");
    assert!(
        !blobs.exists() || std::fs::read_dir(&blobs).unwrap().next().is_none(),
        "nothing bad is cached"
    );

    // The command line: the component never runs, so the store is never created.
    let location = format!("oci://{}/pull/never-created", published().authority());
    let out = Command::new(BIN)
        .arg("--component")
        .arg(format!("oci://{}/x@{good_digest}", fake.authority()))
        .args(["--location", &location, "create"])
        .env("KLOSET_OCI_PULL_CACHE", cache.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("digest mismatch"), "{stderr}");
    let config = http::request(
        &published().authority(),
        "GET",
        "/v2/pull/never-created/manifests/kloset-config",
        &[("Accept", OCI_MANIFEST)],
        b"",
    );
    assert_eq!(config.status, 404, "no store was created");
}

/// `kloset-oci --component oci://...@sha256:...` pulls, caches and runs the component.
#[test]
fn the_command_runs_a_component_pinned_by_digest() {
    let cache = tempfile::tempdir().unwrap();
    let location = format!("oci://{}/pull/cli-store", published().authority());
    let run = |args: &[&str], stdin: &[u8]| {
        use std::io::Write;
        let mut child = Command::new(BIN)
            .arg("--component")
            .arg(published().component_pin())
            .args(["--location", &location])
            .args(args)
            .env("KLOSET_OCI_PULL_CACHE", cache.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    run(&["create"], b"pulled config");
    assert_eq!(run(&["open"], b""), b"pulled config");
    let cached = cache
        .path()
        .join("blobs/sha256")
        .join(&sha256(&component_bytes())[7..]);
    assert!(std::fs::read(cached).unwrap() == component_bytes());
}
