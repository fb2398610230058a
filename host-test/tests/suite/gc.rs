//! Garbage collection: every live object survives `garbage-collect --delete-untagged`, every
//! deleted one stays deleted. Runs on a registry of its own, which it stops; skipped where
//! the setup's registry has no garbage collector.

use kloset_oci_host::{ErrorKind, Kind, Mac};

use super::fixture::CONFIG;
use super::objects::{expect_error, get, listed, put, re_put_lock};
use super::Fixture;
use crate::common::data::XorShift;

pub async fn gc_survival(fx: &Fixture) {
    let Some(garbage_collect) = fx.setup.garbage_collect else {
        return fx.skip("the registry has no garbage collector to survive");
    };
    let mut registry = fx.own_registry();
    let location = fx.location_on(&registry);
    let mut rng = XorShift::new(41);
    let mut live: Vec<(Kind, Mac, Vec<u8>)> = Vec::new();
    let mut deleted: Vec<(Kind, Mac)> = Vec::new();
    {
        let mut store = fx.created_store(&location).await;
        for (kind, len) in [
            (Kind::Packfile, 3 * 1024 * 1024 + 5),
            (Kind::Packfile, 70_000),
            (Kind::State, 9_000),
            (Kind::State, 1),
        ] {
            let (mac, bytes) = (rng.mac(), rng.bytes(len));
            put(&mut store, kind, &mac, &bytes).await;
            live.push((kind, mac, bytes));
        }
        // Two pairs of byte-identical objects (same kind, then different kinds); delete one
        // of each pair.
        for (doomed_kind, kept_kind) in [
            (Kind::Packfile, Kind::Packfile),
            (Kind::Packfile, Kind::State),
        ] {
            let bytes = rng.bytes(50_000);
            let (doomed, kept) = (rng.mac(), rng.mac());
            put(&mut store, doomed_kind, &doomed, &bytes).await;
            put(&mut store, kept_kind, &kept, &bytes).await;
            store
                .delete(doomed_kind, &doomed)
                .await
                .expect("delete one twin");
            live.push((kept_kind, kept, bytes));
            deleted.push((doomed_kind, doomed));
        }
        // A plain delete, and a lock put twice.
        let gone = rng.mac();
        put(&mut store, Kind::State, &gone, b"short-lived state").await;
        store
            .delete(Kind::State, &gone)
            .await
            .expect("delete a state");
        deleted.push((Kind::State, gone));
        let lock = rng.mac();
        put(&mut store, Kind::Lock, &lock, b"old lock").await;
        let kept: &[u8] = match re_put_lock(fx, &mut store, &lock, b"new lock, re-put").await {
            true => b"new lock, re-put",
            false => b"old lock",
        };
        live.push((Kind::Lock, lock, kept.to_vec()));
        store.close().await.expect("close");
    }

    registry.stop();
    let before = registry.blob_count();
    garbage_collect(&registry);
    let after = registry.blob_count();
    // The deleted state's bytes and the lock's old bytes are referenced by no tagged
    // manifest any more: a collection that removed nothing did not really run.
    assert!(
        after + 2 <= before,
        "garbage-collect removed {} of {before} blobs",
        before - after
    );
    registry.start();

    let mut store = fx.connect(&location).await;
    assert_eq!(store.open().await.expect("open after gc"), CONFIG);
    for (kind, mac, bytes) in &live {
        let got = get(&mut store, *kind, mac).await;
        assert!(
            got == *bytes,
            "{kind} of {} bytes changed after gc",
            bytes.len()
        );
    }
    for (kind, mac) in &deleted {
        expect_error(
            store.get_bytes(*kind, mac, None).await,
            ErrorKind::NotFound,
            "deleted object after gc",
        );
    }
    for kind in [Kind::Packfile, Kind::State, Kind::Lock] {
        let mut got = listed(&mut store, kind).await;
        got.sort();
        let mut expected: Vec<Mac> = live.iter().filter(|o| o.0 == kind).map(|o| o.1).collect();
        expected.sort();
        assert_eq!(got, expected, "list {kind} after gc");
    }
}
