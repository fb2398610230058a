//! A registry that refuses deletes (distribution with `storage.delete.enabled: false`, which
//! answers 405 `UNSUPPORTED` as Docker Hub and GHCR do): a delete buries the object under a
//! tombstone (`src/tombstone.rs`), and the registry's own tag list shows how. The whole
//! conformance suite runs on this registry too (`conformance.rs`, `distribution-no-deletes`).

use crate::common::raw_http;
use crate::common::registry::Registry;
use kloset_oci_host::{Backend, ErrorKind, Kind};

const LOCK: [u8; 32] = [0x10; 32];
const OTHER: [u8; 32] = [0x20; 32];

fn tags(registry: &Registry, repository: &str) -> Vec<String> {
    let path = format!("/v2/{repository}/tags/list");
    let answer = raw_http::send("GET", &registry.authority(), &path, &[]);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let parsed: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    let tags = parsed["tags"].as_array().unwrap().iter();
    tags.map(|t| t.as_str().unwrap().to_string()).collect()
}

#[test]
fn a_delete_buries_the_object_and_a_put_brings_it_back() {
    let registry = Registry::start_without_deletes();
    let location = registry.fresh_location("nodelete", "bury");
    let repository = location["oci://".len()..].split_once('/').unwrap().1;
    crate::common::runtime::block_on(async {
        let backend = Backend::load_default().unwrap_or_else(|e| panic!("{e}"));
        let mut store = backend.connect(&location, &[]).await.unwrap();
        store.create(b"cfg").await.unwrap();
        store.put_bytes(Kind::Lock, &LOCK, b"held").await.unwrap();
        store.put_bytes(Kind::Lock, &OTHER, b"other").await.unwrap();
        store
            .delete(Kind::Lock, &LOCK)
            .await
            .expect("a delete the registry refuses");

        // The tag stays (it cannot go), moved to a tombstone, beside its marker.
        let listed = tags(&registry, repository);
        let tag = format!("lock-{}", hex::encode(LOCK));
        assert!(listed.contains(&tag), "{listed:?}");
        assert!(listed.contains(&format!("kloset-gone-{tag}")), "{listed:?}");

        assert_eq!(store.list(Kind::Lock).await.unwrap(), vec![OTHER]);
        let e = store.get_bytes(Kind::Lock, &LOCK, None).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
        let e = store.delete(Kind::Lock, &LOCK).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound, "{e}");

        // A later put of the same object replaces the tombstone.
        store.put_bytes(Kind::Lock, &LOCK, b"again").await.unwrap();
        assert_eq!(store.list(Kind::Lock).await.unwrap(), vec![LOCK, OTHER]);
        let got = store.get_bytes(Kind::Lock, &LOCK, None).await.unwrap();
        assert_eq!(got, b"again");
    });
}
