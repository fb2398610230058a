//! Redirects of a pull follow the store's rules: never from https down to plain http (a
//! plain-http pull may move either way), and at most the store's number of hops.

use std::collections::HashMap;

use kloset_oci_host::{CaBundle, ErrorKind, PullOptions};

use crate::common::auth::material;
use crate::fake_registry::{FakeRegistry, Route};
use crate::http::sha256;
use crate::pull::{manifest, options, pull, runtime};

const LAYER: &[u8] = b"the component's bytes, behind a redirect";

/// Routes of a one-layer artifact `x` whose manifest is served and whose blob path answers
/// `blob`; returns them and the manifest's digest.
fn artifact(blob: Route) -> (HashMap<String, Route>, String) {
    let manifest = manifest(LAYER, "application/wasm");
    let digest = sha256(&manifest);
    let mut routes = HashMap::new();
    routes.insert(format!("/v2/x/manifests/{digest}"), Route::ok(&manifest));
    routes.insert(format!("/v2/x/blobs/{}", sha256(LAYER)), blob);
    (routes, digest)
}

/// A plain-http host serving the layer at `/storage/layer`.
fn storage() -> FakeRegistry {
    let mut routes = HashMap::new();
    routes.insert("/storage/layer".to_string(), Route::ok(LAYER));
    FakeRegistry::serve(routes)
}

/// An https registry whose blob answers 307 to plain http: refused before any request goes
/// out in cleartext, with an error that says why; nothing is cached.
#[test]
fn a_redirect_from_https_down_to_plain_http_is_refused() {
    let plain = storage();
    let target = format!("http://{}/storage/layer", plain.authority());
    let (routes, digest) = artifact(Route::redirect(&target));
    let registry = FakeRegistry::serve_tls(routes, &material().pki);
    let cache = tempfile::tempdir().unwrap();
    let https = PullOptions {
        plain_http: Some(false),
        ca: Some(CaBundle::load(&material().pki.ca_file).expect("the harness CA")),
        ..options(&cache)
    };
    let reference = format!("oci://{}/x@{digest}", registry.authority());
    let (got, requests) = runtime().block_on(pull(&reference, &https));
    let err = got.expect_err("a pull that went down to plain http");
    assert_eq!(err.kind, ErrorKind::Protocol, "{err}");
    assert!(
        err.message.contains("from https down to plain http"),
        "{err}"
    );
    assert_eq!(requests, 2, "the manifest, then the blob's redirect");
    assert_eq!(registry.requests().len(), 2, "{:?}", registry.requests());
    assert!(
        plain.requests().is_empty(),
        "the plain-http host was reached: {:?}",
        plain.requests()
    );
    let blobs = cache.path().join("blobs/sha256");
    assert!(
        !blobs.exists() || std::fs::read_dir(&blobs).unwrap().next().is_none(),
        "nothing is cached"
    );
}

/// A plain-http pull (a loopback registry) follows a redirect to another plain-http host,
/// and an https one could go to https only; a redirect loop ends after the store's hops.
#[test]
fn a_plain_http_pull_follows_redirects_within_the_hop_limit() {
    let plain = storage();
    let target = format!("http://{}/storage/layer", plain.authority());
    let (routes, digest) = artifact(Route::redirect(&target));
    let registry = FakeRegistry::serve(routes);
    let cache = tempfile::tempdir().unwrap();
    let rt = runtime();
    let reference = format!("oci://{}/x@{digest}", registry.authority());
    let (got, requests) = rt.block_on(pull(&reference, &options(&cache)));
    assert_eq!(got.expect("pulled through the redirect"), LAYER);
    assert_eq!(requests, 3, "the manifest, the redirect, the layer");
    assert_eq!(plain.requests(), ["GET /storage/layer HTTP/1.1"]);

    // The blob path redirects to itself, relative: at most 5 redirects, then an error.
    let (routes, digest) = artifact(Route::redirect(&format!("/v2/x/blobs/{}", sha256(LAYER))));
    let looping = FakeRegistry::serve(routes);
    let fresh = tempfile::tempdir().unwrap();
    let reference = format!("oci://{}/x@{digest}", looping.authority());
    let (got, requests) = rt.block_on(pull(&reference, &options(&fresh)));
    let err = got.expect_err("a redirect loop");
    assert_eq!(err.kind, ErrorKind::Protocol, "{err}");
    assert!(err.message.contains("more than 5 redirects"), "{err}");
    assert_eq!(
        requests,
        1 + 6,
        "the manifest, then the first GET and 5 redirects"
    );
}
