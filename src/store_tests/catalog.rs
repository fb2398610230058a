//! The catalogue: create, open, list and delete.

use super::*;

#[test]
fn missing_objects_are_not_found() {
    let t = Scripted::default();
    t.expect(
        Get,
        &tag_path(Kind::Lock, &MAC),
        Answer::new(404).body(oci_error("MANIFEST_UNKNOWN")),
    );
    t.expect(
        Get,
        &tag_path(Kind::Lock, &MAC),
        Answer::new(404).body(oci_error("NAME_UNKNOWN")),
    );
    let s = store(&t);
    assert_eq!(
        s.get(Kind::Lock, MAC, None).err().unwrap().kind,
        ErrorKind::NotFound
    );
    let e = s.delete(Kind::Lock, MAC).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(
        e.to_string(),
        format!("not found: lock {}: no such object", MAC.hex())
    );
}

#[test]
fn delete_removes_only_this_objects_manifest() {
    let t = Scripted::default();
    let manifest = layout::object_manifest(Kind::State, &MAC, blob_of(b"x"));
    t.expect(
        Get,
        &tag_path(Kind::State, &MAC),
        Answer::new(200).body(manifest.clone()),
    );
    t.expect(
        Delete,
        &format!("/manifests/{}", Digest::of(&manifest)),
        Answer::new(202),
    );
    t.expect(Delete, &tag_path(Kind::State, &MAC), Answer::new(404));
    store(&t).delete(Kind::State, MAC).unwrap();
    assert_eq!(t.remaining(), 0);
    // A tag that points at another object's manifest is never deleted through.
    let t = Scripted::default();
    let other = layout::object_manifest(Kind::State, &Mac([9; 32]), blob_of(b"x"));
    t.expect(
        Get,
        &tag_path(Kind::State, &MAC),
        Answer::new(200).body(other),
    );
    assert_eq!(
        store(&t).delete(Kind::State, MAC).unwrap_err().kind,
        ErrorKind::Protocol
    );
    assert_eq!(t.seen().len(), 1);
    // Deletes switched off: tombstones (`tombstones.rs`).
}

#[test]
fn list_takes_null_unsorted_and_paginated_tags() {
    let a = layout::tag(Kind::Packfile, &Mac([2; 32]));
    let b = layout::tag(Kind::Packfile, &Mac([1; 32]));
    let lock = layout::tag(Kind::Lock, &MAC);
    let t = Scripted::default();
    let page1 = format!(r#"{{"name":"backups/laptop","tags":["{a}","latest","{CONFIG_TAG}"]}}"#);
    t.expect(
        Get,
        "/tags/list?n=10000",
        linked_page("/v2/backups/laptop/tags/list?n=10000&last=x", page1),
    );
    t.expect(
        Get,
        "/tags/list?n=10000&last=x",
        Answer::new(200).body(format!(r#"{{"tags":["{lock}","{b}","{a}"]}}"#)),
    );
    let macs = store(&t).list(Kind::Packfile).unwrap();
    assert_eq!(macs, vec![Mac([1; 32]), Mac([2; 32])]);

    let t = Scripted::default();
    t.expect(
        Get,
        "/tags/list?n=10000",
        Answer::new(200).body(r#"{"name":"backups/laptop","tags":null}"#),
    );
    assert_eq!(
        store(&t).list(Kind::Packfile).unwrap_err().kind,
        ErrorKind::NotFound,
        "no config tag: no store"
    );
    let t = Scripted::default();
    t.expect(
        Get,
        "/tags/list?n=10000",
        Answer::new(404).body(oci_error("NAME_UNKNOWN")),
    );
    assert_eq!(
        store(&t).list(Kind::Lock).unwrap_err().kind,
        ErrorKind::NotFound
    );
    let t = Scripted::default();
    t.expect(
        Get,
        "/tags/list?n=10000",
        Answer::new(200)
            .header("link", "<list?n=10000>; rel=\"next\"")
            .body("{\"tags\":[]}"),
    );
    assert_eq!(
        store(&t).list(Kind::Lock).unwrap_err().kind,
        ErrorKind::Protocol,
        "a self-link ends"
    );
}

/// A registry whose tag list links A -> B -> A: refused when it links back, after 2 pages.
#[test]
fn a_tag_list_linking_back_to_a_page_is_refused() {
    let t = Scripted::default();
    let config_page = format!(r#"{{"tags":["{CONFIG_TAG}"]}}"#);
    t.expect(
        Get,
        "/tags/list?n=10000",
        linked_page("/v2/backups/laptop/tags/list?n=10000&last=b", config_page),
    );
    t.expect(
        Get,
        "/tags/list?n=10000&last=b",
        linked_page(
            "/v2/backups/laptop/tags/list?n=10000",
            r#"{"tags":[]}"#.into(),
        ),
    );
    let e = store(&t).list(Kind::Lock).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol);
    assert!(e.message.contains("links back"), "{e}");
    assert_eq!(t.seen().len(), 2);
}

/// A tag list page whose `Link` names the next page at `next`.
fn linked_page(next: &str, body: String) -> Answer {
    let link = format!("<{next}>; rel=\"next\"");
    Answer::new(200).header("link", &link).body(body)
}

/// An https registry's tag list linking its next page at `http://`: refused, not followed.
#[test]
fn a_next_page_down_to_plain_http_is_refused() {
    let t = Scripted::default();
    t.expect(
        Get,
        "/tags/list?n=10000",
        linked_page(
            "http://registry.example/v2/backups/laptop/tags/list?n=10000&last=x",
            format!(r#"{{"tags":["{CONFIG_TAG}"]}}"#),
        ),
    );
    let e = https_store(&t).list(Kind::Lock).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol, "{e}");
    assert!(e.message.contains("plain http"), "{e}");
    assert_eq!(t.seen().len(), 1, "the http page was not asked for");
}

#[test]
fn create_refuses_an_existing_store_and_open_returns_the_config() {
    let config = b"_KLOSET_config".to_vec();
    let manifest = layout::config_manifest(blob_of(&config));
    let t = Scripted::default();
    t.expect(
        Get,
        &format!("/manifests/{CONFIG_TAG}"),
        Answer::new(200).body(manifest.clone()),
    );
    assert_eq!(
        store(&t).create(b"other").unwrap_err().kind,
        ErrorKind::AlreadyExists
    );
    assert_eq!(t.seen().len(), 1, "nothing was written");

    let t = Scripted::default();
    t.expect(
        Get,
        &format!("/manifests/{CONFIG_TAG}"),
        Answer::new(200).body(manifest),
    );
    t.expect(
        Get,
        &format!("/blobs/{}", Digest::of(&config)),
        Answer::new(200).body(config.clone()),
    );
    assert_eq!(store(&t).open().unwrap(), config);

    let t = Scripted::default();
    t.expect(
        Get,
        &format!("/manifests/{CONFIG_TAG}"),
        Answer::new(404).body(oci_error("NAME_UNKNOWN")),
    );
    let e = store(&t).open().unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (
            ErrorKind::NotFound,
            "no store at oci://127.0.0.1:5000/backups/laptop"
        )
    );
}
