//! The conformance suite against hosted-registry profiles: distribution 2.8 behind a loopback
//! proxy that reproduces what Docker Hub, GHCR, ECR or Harbor do differently
//! (tests/common/quirk_proxy/, each profile naming its source), once per profile; and one
//! test per profile that the profile really acted.
//!
//! Needs `docker-registry` (distribution 2.8.x) on PATH and the component built with
//! `cargo build --release -p kloset-oci --target wasm32-wasip2` (or `KLOSET_OCI_COMPONENT`).

use std::collections::{BTreeMap, BTreeSet};

use kloset_oci_host::{ErrorKind, Kind, Mac, Store};

use crate::common::data::{SeededReader, SeededVerifier, XorShift};
use crate::common::quirk_proxy::{fronted, Profile, QuirkProxy};
use crate::common::raw_http;
use crate::common::registry::Registry;
use crate::suite::fixture::run_case;
use crate::suite::objects::{expect_error, get, listed, put};
use crate::suite::Setup;

fn start_no_delete() -> Registry {
    fronted(Registry::start_new(), Profile::NoDelete)
}

fn start_rate_limited() -> Registry {
    fronted(Registry::start_new(), Profile::RateLimited)
}

fn start_paged() -> Registry {
    fronted(Registry::start_new(), Profile::Paged)
}

fn start_immutable_tags() -> Registry {
    fronted(Registry::start_new(), Profile::ImmutableTags)
}

fn start_body_cap() -> Registry {
    fronted(Registry::start_new(), Profile::BodyCap)
}

fn start_chunk_minimum() -> Registry {
    fronted(Registry::start_new(), Profile::ChunkMinimum)
}

static NO_DELETE: Setup = Setup::new("profile-no-delete", start_no_delete, Vec::new);
static RATE_LIMITED: Setup = Setup::new("profile-rate-limited", start_rate_limited, Vec::new);
static PAGED: Setup = Setup::new("profile-paged", start_paged, Vec::new);
static IMMUTABLE_TAGS: Setup =
    Setup::new("profile-immutable-tags", start_immutable_tags, Vec::new).with_immutable_tags();

crate::conformance_suite!(no_delete, &crate::profiles::NO_DELETE);
crate::conformance_suite!(rate_limited, &crate::profiles::RATE_LIMITED);
crate::conformance_suite!(paged, &crate::profiles::PAGED);
static BODY_CAP: Setup = Setup::new("profile-body-cap", start_body_cap, Vec::new);
static CHUNK_MINIMUM: Setup = Setup::new("profile-chunk-minimum", start_chunk_minimum, Vec::new);

crate::conformance_suite!(immutable_tags, &crate::profiles::IMMUTABLE_TAGS);
crate::conformance_suite!(body_cap, &crate::profiles::BODY_CAP);
crate::conformance_suite!(chunk_minimum, &crate::profiles::CHUNK_MINIMUM);

/// The proxy in front of `registry`.
fn proxy(registry: &Registry) -> &QuirkProxy {
    registry
        .companion::<QuirkProxy>()
        .expect("a registry fronted by a quirk proxy")
}

/// Runs `body` on a store created on a registry of the case's own, behind the profile of
/// `setup`, with a generator seeded with `seed`; then asserts that the profile acted, and
/// prints how often.
fn profile_case<B>(setup: &'static Setup, seed: u64, body: B)
where
    B: AsyncFnOnce(&mut Store, XorShift, &Registry) + 'static,
{
    run_case(setup, "focused", |fx| {
        Box::pin(async move {
            let registry = fx.own_registry();
            let mut store = fx.created_store(&fx.location_on(&registry)).await;
            body(&mut store, XorShift::new(seed), &registry).await;
            let proxy = proxy(&registry);
            let (profile, applied) = (proxy.profile(), proxy.quirks_applied());
            println!(
                "{profile:?} applied to {applied} of {} requests",
                proxy.requests()
            );
            assert!(applied > 0, "the {profile:?} profile never acted");
        })
    });
}

/// A refused delete is an error and leaves the object whole; a delete said done is done.
#[test]
fn no_delete_refuses_manifest_deletes() {
    profile_case(&NO_DELETE, 71, async |store, mut rng, _| {
        let mac = rng.mac();
        put(store, Kind::State, &mac, b"a state to delete").await;
        if let Err(e) = store.delete(Kind::State, &mac).await {
            println!("delete: {e}");
            let bytes = get(store, Kind::State, &mac).await;
            assert_eq!(
                bytes, b"a state to delete",
                "a refused delete changed the object"
            );
        } else {
            let after = store.get_bytes(Kind::State, &mac, None).await;
            expect_error(after, ErrorKind::NotFound, "get after a delete said done");
            assert!(
                listed(store, Kind::State).await.is_empty(),
                "deleted, yet listed"
            );
        }
    });
}

/// Every request is answered in the end: 429s are waited out and retried.
#[test]
fn rate_limited_requests_are_retried() {
    profile_case(&RATE_LIMITED, 72, async |store, mut rng, _| {
        let mut objects = BTreeMap::new();
        for n in 0..40 {
            let (mac, bytes) = (rng.mac(), format!("state {n}").into_bytes());
            put(store, Kind::State, &mac, &bytes).await;
            objects.insert(mac, bytes);
        }
        for (mac, bytes) in &objects {
            assert_eq!(get(store, Kind::State, mac).await, *bytes);
        }
        let got: BTreeSet<Mac> = listed(store, Kind::State).await.into_iter().collect();
        assert!(got.iter().eq(objects.keys()), "the list is not the set put");
        let retries = store.layer_stats().await.expect("layer stats").retries;
        assert!(retries > 0, "no request was retried");
    });
}

/// More than two pages of tags, unsorted and overlapping: each object is listed once.
#[test]
fn paged_list_names_each_object_once() {
    profile_case(&PAGED, 73, async |store, mut rng, registry| {
        let mut expected = Vec::new();
        for n in 0..260 {
            let mac = rng.mac();
            put(store, Kind::State, &mac, format!("state {n}").as_bytes()).await;
            expected.push(mac);
        }
        put(store, Kind::Lock, &rng.mac(), b"a lock").await;
        let mut got = listed(store, Kind::State).await;
        got.sort();
        expected.sort();
        assert_eq!(got.len(), expected.len(), "listed, with repeats");
        assert!(got == expected, "the list is not the set put");
        assert_eq!(listed(store, Kind::Lock).await.len(), 1, "locks");
        let name = store.root().await.expect("the repository");
        assert_pages_overlap(&registry.authority(), &name);
    });
}

/// The tags of one page of `/v2/<name>/tags/list` at `authority`, and its next page's target.
fn tag_page(authority: &str, target: &str) -> (Vec<String>, Option<String>) {
    let answer = raw_http::send("GET", authority, target, &[]);
    assert_eq!(answer.status, 200, "GET {target}: {}", answer.body);
    let list: serde_json::Value = serde_json::from_str(&answer.body).expect("a tag list");
    let tags = list["tags"].as_array().expect("tags");
    let tags = tags
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    let next = answer.header("link").map(|link| {
        let (target, rel) = link.trim_start_matches('<').split_once('>').expect("<...>");
        assert_eq!(rel.trim(), "; rel=\"next\"");
        target.to_string()
    });
    (tags, next)
}

/// The profile's pages, read without the component: 100 tags whatever `n` asks, not in
/// order, a cursor of the proxy's own, the first tag of a page the last of the one before.
fn assert_pages_overlap(authority: &str, name: &str) {
    let (first, next) = tag_page(authority, &format!("/v2/{name}/tags/list?n=1000"));
    let next = next.expect("a Link to a second page");
    assert!(next.contains("cursor="), "{next}");
    assert_eq!(first.len(), 100);
    assert!(first.windows(2).any(|w| w[0] > w[1]), "a sorted page");
    let (second, _) = tag_page(authority, &next);
    assert_eq!(second.len(), 100);
    assert_eq!(second[0], first[99], "the pages do not overlap");
}

/// A tag cannot be moved to another manifest; the same manifest again is accepted.
#[test]
fn immutable_tags_refuse_a_moved_tag() {
    profile_case(&IMMUTABLE_TAGS, 74, async |store, mut rng, registry| {
        // The same bytes under the same MAC make the same manifest: accepted again.
        let state = rng.mac();
        put(store, Kind::State, &state, b"the same state").await;
        put(store, Kind::State, &state, b"the same state").await;
        assert_eq!(proxy(registry).quirks_applied(), 0, "a re-put was refused");
        // A lock re-put with new bytes moves its tag.
        let lock = rng.mac();
        put(store, Kind::Lock, &lock, b"first lock").await;
        let second = store.put_bytes(Kind::Lock, &lock, b"second lock").await;
        let now = get(store, Kind::Lock, &lock).await;
        match second {
            Ok(_) => assert_eq!(now, b"second lock", "re-put said done"),
            Err(e) => {
                println!("lock re-put: {e}");
                assert_eq!(now, b"first lock", "a refused re-put changed the lock");
            }
        }
    });
}

/// Puts a packfile of `size` bytes of the stream of `seed` and reads it back whole.
async fn round_trip_large(store: &mut Store, mac: &Mac, size: u64, seed: u64) {
    let written = store
        .put_from(Kind::Packfile, mac, SeededReader::new(seed, size))
        .await
        .expect("put a large packfile");
    assert_eq!(written, size);
    let mut verifier = SeededVerifier::new(seed);
    let read = store
        .get_to(Kind::Packfile, mac, None, &mut verifier)
        .await
        .expect("get it back");
    assert_eq!((read, verifier.written), (size, size));
    assert_eq!(verifier.first_mismatch, None, "the bytes differ");
}

/// A registry that caps request bodies at 4 MiB refuses the first large PATCH once; that
/// put and every later one go in chunks it takes.
#[test]
fn body_cap_is_met_with_chunks() {
    profile_case(&BODY_CAP, 75, async |store, mut rng, registry| {
        round_trip_large(store, &rng.mac(), 20 << 20, 1).await;
        let refusals = proxy(registry).quirks_applied();
        assert_eq!(refusals, 1, "the probe alone was refused");
        round_trip_large(store, &rng.mac(), 9 << 20, 2).await;
        round_trip_large(store, &rng.mac(), (4 << 20) + 1, 3).await;
        assert_eq!(
            proxy(registry).quirks_applied(),
            1,
            "a later put was refused"
        );
    });
}

/// A registry that wants parts of 5 MiB and answers PATCH with 201 takes our uploads.
#[test]
fn chunk_minimum_takes_our_uploads() {
    profile_case(&CHUNK_MINIMUM, 76, async |store, mut rng, _| {
        for (n, size) in [(6u64 << 20) + 7, 20 << 20, (4 << 20) + 1]
            .into_iter()
            .enumerate()
        {
            round_trip_large(store, &rng.mac(), size, n as u64 + 10).await;
        }
    });
}
