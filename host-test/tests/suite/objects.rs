//! Cases on whole objects: round trips, missing objects, overwrites, deletes, listings.

use std::collections::BTreeSet;

use kloset_oci_host::{ByteRange, ErrorKind, Kind, Mac, Store, StoreError};

use super::Fixture;
use crate::common::data::{SeededReader, SeededVerifier, XorShift};

const KINDS: [Kind; 3] = [Kind::Packfile, Kind::State, Kind::Lock];

/// Asserts that `result` failed with `kind`; returns the error for further checks.
#[track_caller]
pub fn expect_error<T: std::fmt::Debug>(
    result: Result<T, StoreError>,
    kind: ErrorKind,
    what: &str,
) -> StoreError {
    match result {
        Err(e) if e.kind == kind => e,
        Err(e) => panic!("{what}: expected {kind}, got {e}"),
        Ok(v) => {
            // Object bytes can be megabytes: show their start.
            let shown: String = format!("{v:?}").chars().take(200).collect();
            panic!("{what}: expected {kind}, got Ok({shown}...)")
        }
    }
}

pub async fn put(store: &mut Store, kind: Kind, mac: &Mac, bytes: &[u8]) {
    let written = store
        .put_bytes(kind, mac, bytes)
        .await
        .unwrap_or_else(|e| panic!("put {kind}: {e}"));
    assert_eq!(
        written,
        bytes.len() as u64,
        "put {kind} returned the wrong byte count"
    );
}

/// Puts lock `mac` again with `bytes`; `false` where the setup's tags are immutable, after
/// checking that the re-put is refused as `unsupported`, naming the setting to change.
pub async fn re_put_lock(fx: &Fixture, store: &mut Store, mac: &Mac, bytes: &[u8]) -> bool {
    if !fx.setup.immutable_tags {
        put(store, Kind::Lock, mac, bytes).await;
        return true;
    }
    let refused = store.put_bytes(Kind::Lock, mac, bytes).await;
    let e = expect_error(
        refused,
        ErrorKind::Unsupported,
        "re-put a lock, tags immutable",
    );
    assert!(e.message.contains("MUTABLE"), "names the setting: {e}");
    false
}

pub async fn get(store: &mut Store, kind: Kind, mac: &Mac) -> Vec<u8> {
    store
        .get_bytes(kind, mac, None)
        .await
        .unwrap_or_else(|e| panic!("get {kind}: {e}"))
}

pub async fn listed(store: &mut Store, kind: Kind) -> Vec<Mac> {
    store
        .list(kind)
        .await
        .unwrap_or_else(|e| panic!("list {kind}: {e}"))
}

async fn round_trip(fx: &Fixture, kind: Kind, seed: u64, len: usize) {
    let mut store = fx.fresh_store().await;
    let mut rng = XorShift::new(seed);
    let mac = rng.mac();
    let bytes = rng.bytes(len);
    put(&mut store, kind, &mac, &bytes).await;
    let got = get(&mut store, kind, &mac).await;
    assert!(
        got == bytes,
        "{kind}: got {} bytes that differ from the {} put",
        got.len(),
        bytes.len()
    );
    assert_eq!(listed(&mut store, kind).await, vec![mac], "list {kind}");
}

pub async fn round_trip_packfile(fx: &Fixture) {
    round_trip(fx, Kind::Packfile, 11, 3 * 1024 * 1024 + 17).await;
}

pub async fn round_trip_state(fx: &Fixture) {
    round_trip(fx, Kind::State, 12, 40_000).await;
}

pub async fn round_trip_lock(fx: &Fixture) {
    round_trip(fx, Kind::Lock, 13, 120).await;
}

pub async fn ecc_kinds_unsupported(fx: &Fixture) {
    let mut store = fx.fresh_store().await;
    let mac = XorShift::new(14).mac();
    for kind in [Kind::EccPackfile, Kind::EccState] {
        expect_error(
            store.put_bytes(kind, &mac, b"ecc").await,
            ErrorKind::Unsupported,
            "put ecc",
        );
        expect_error(
            store.get_bytes(kind, &mac, None).await,
            ErrorKind::Unsupported,
            "get ecc",
        );
        expect_error(store.list(kind).await, ErrorKind::Unsupported, "list ecc");
    }
}

pub async fn missing_objects(fx: &Fixture) {
    let mut store = fx.fresh_store().await;
    let mut rng = XorShift::new(15);
    // Something of each kind exists, so only the object is missing, not the kind.
    for kind in KINDS {
        put(&mut store, kind, &rng.mac(), b"present").await;
    }
    for kind in KINDS {
        let mac = rng.mac();
        expect_error(
            store.get_bytes(kind, &mac, None).await,
            ErrorKind::NotFound,
            "get missing",
        );
        let range = Some(ByteRange::new(0, 1));
        expect_error(
            store.get_bytes(kind, &mac, range).await,
            ErrorKind::NotFound,
            "range get missing",
        );
        expect_error(
            store.delete(kind, &mac).await,
            ErrorKind::NotFound,
            "delete missing",
        );
    }
}

pub async fn overwrite_lock(fx: &Fixture) {
    let location = fx.location();
    let mut store = fx.created_store(&location).await;
    let mac = XorShift::new(16).mac();
    put(&mut store, Kind::Lock, &mac, b"first lock bytes").await;
    if !re_put_lock(fx, &mut store, &mac, b"second, longer lock bytes").await {
        let kept = get(&mut store, Kind::Lock, &mac).await;
        assert_eq!(
            kept, b"first lock bytes",
            "a refused re-put changes nothing"
        );
        return;
    }
    assert_eq!(
        get(&mut store, Kind::Lock, &mac).await,
        b"second, longer lock bytes"
    );
    assert_eq!(
        listed(&mut store, Kind::Lock).await,
        vec![mac],
        "the lock is listed once"
    );
    // A fresh instance sees the same: nothing cached in the first instance decides it.
    let mut other = fx.connect(&location).await;
    assert_eq!(
        get(&mut other, Kind::Lock, &mac).await,
        b"second, longer lock bytes"
    );
}

/// Two objects with identical bytes; deleting one leaves the other whole.
async fn delete_isolation(fx: &Fixture, kinds: [Kind; 2], seed: u64) {
    let mut store = fx.fresh_store().await;
    let mut rng = XorShift::new(seed);
    let (doomed, kept) = (rng.mac(), rng.mac());
    let bytes = rng.bytes(100_000);
    put(&mut store, kinds[0], &doomed, &bytes).await;
    put(&mut store, kinds[1], &kept, &bytes).await;
    store.delete(kinds[0], &doomed).await.expect("delete");
    assert!(
        get(&mut store, kinds[1], &kept).await == bytes,
        "the twin lost its bytes"
    );
    expect_error(
        store.get_bytes(kinds[0], &doomed, None).await,
        ErrorKind::NotFound,
        "get deleted",
    );
    assert_eq!(
        listed(&mut store, kinds[1]).await,
        vec![kept],
        "list of the twin's kind"
    );
    if kinds[0] != kinds[1] {
        assert!(
            listed(&mut store, kinds[0]).await.is_empty(),
            "the deleted one is still listed"
        );
    }
    expect_error(
        store.delete(kinds[0], &doomed).await,
        ErrorKind::NotFound,
        "delete twice",
    );
}

pub async fn delete_isolation_same_kind(fx: &Fixture) {
    delete_isolation(fx, [Kind::Packfile, Kind::Packfile], 17).await;
}

pub async fn delete_isolation_across_kinds(fx: &Fixture) {
    delete_isolation(fx, [Kind::State, Kind::Packfile], 18).await;
}

/// More tags than one page of the tag list (the component asks for 1000 a page): each
/// registry pages its own way (docs/registries.md).
pub async fn list_completeness(fx: &Fixture) {
    let mut store = fx.fresh_store().await;
    let mut rng = XorShift::new(19);
    let mut expected: [BTreeSet<Mac>; 3] = Default::default();
    let counts = [1000, 7, 3];
    for (i, kind) in KINDS.into_iter().enumerate() {
        for n in 0..counts[i] {
            let mac = rng.mac();
            put(&mut store, kind, &mac, format!("{kind} {n}").as_bytes()).await;
            expected[i].insert(mac);
        }
    }
    for (i, kind) in KINDS.into_iter().enumerate() {
        let list = listed(&mut store, kind).await;
        assert_eq!(
            list.len(),
            counts[i],
            "list {kind} has duplicates or misses"
        );
        let got: BTreeSet<Mac> = list.into_iter().collect();
        assert!(got == expected[i], "list {kind} is not the set put");
    }
}

pub async fn empty_object(fx: &Fixture) {
    let mut store = fx.fresh_store().await;
    let mac = XorShift::new(20).mac();
    put(&mut store, Kind::Packfile, &mac, b"").await;
    assert!(get(&mut store, Kind::Packfile, &mac).await.is_empty());
    let range = Some(ByteRange::new(0, 1));
    expect_error(
        store.get_bytes(Kind::Packfile, &mac, range).await,
        ErrorKind::OutOfRange,
        "range of empty",
    );
    assert_eq!(listed(&mut store, Kind::Packfile).await, vec![mac]);
}

/// 64 MiB streamed in and out: the bytes are generated and checked on the fly.
pub async fn large_object_64mib(fx: &Fixture) {
    const SIZE: u64 = 64 * 1024 * 1024;
    const SEED: u64 = 21;
    let mut store = fx.fresh_store().await;
    let mac = XorShift::new(22).mac();
    let written = store
        .put_from(Kind::Packfile, &mac, SeededReader::new(SEED, SIZE))
        .await
        .expect("put 64 MiB");
    assert_eq!(written, SIZE);
    let mut verifier = SeededVerifier::new(SEED);
    let read = store
        .get_to(Kind::Packfile, &mac, None, &mut verifier)
        .await
        .expect("get 64 MiB");
    assert_eq!(read, SIZE);
    assert_eq!(verifier.written, SIZE);
    assert_eq!(verifier.first_mismatch, None, "the bytes differ");
}
