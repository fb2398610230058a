//! A registry that refuses deletes (Docker Hub, GHCR): objects are buried under tombstones
//! (`tombstone.rs`), and `get`, `delete` and `list` agree that they are gone.

use super::*;
use crate::tombstone::{marker_tag, tombstone_manifest};

const A: Mac = Mac([1; 32]);
const B: Mac = Mac([2; 32]);

fn refused() -> Answer {
    Answer::new(405).body(oci_error("UNSUPPORTED"))
}

fn tags_answer(tags: &[String]) -> Answer {
    let tags: Vec<String> = tags.iter().map(|t| format!("\"{t}\"")).collect();
    Answer::new(200).body(format!(
        r#"{{"name":"backups/laptop","tags":[{}]}}"#,
        tags.join(",")
    ))
}

#[test]
fn a_refused_delete_buries_the_object_and_later_deletes_do_not_ask_again() {
    let t = Scripted::default();
    let s = store(&t);
    t.expect(
        Get,
        &tag_path(Kind::Lock, &A),
        manifest_answer(Kind::Lock, &A, b"a"),
    );
    t.expect(Delete, "/manifests/sha256:", refused());
    let marker = format!("/manifests/{}", marker_tag(Kind::Lock, &A));
    t.expect(Put, &marker, Answer::new(201));
    t.expect(Put, &tag_path(Kind::Lock, &A), Answer::new(201));
    s.delete(Kind::Lock, A).unwrap();
    assert_eq!(t.remaining(), 0);
    let seen = t.seen();
    assert_eq!(seen[2].body, tombstone_manifest(Kind::Lock, &A));
    assert_eq!(
        seen[3].body,
        tombstone_manifest(Kind::Lock, &A),
        "the tag moved"
    );

    // Known to refuse: no DELETE is sent again.
    t.expect(
        Get,
        &tag_path(Kind::Lock, &B),
        manifest_answer(Kind::Lock, &B, b"b"),
    );
    let marker = format!("/manifests/{}", marker_tag(Kind::Lock, &B));
    t.expect(Put, &marker, Answer::new(201));
    t.expect(Put, &tag_path(Kind::Lock, &B), Answer::new(201));
    s.delete(Kind::Lock, B).unwrap();
    assert_eq!(t.remaining(), 0);
}

#[test]
fn a_buried_object_is_not_found_by_get_or_delete() {
    let t = Scripted::default();
    let s = store(&t);
    let tomb = || Answer::new(200).body(tombstone_manifest(Kind::State, &A));
    t.expect(Get, &tag_path(Kind::State, &A), tomb());
    assert_eq!(
        s.get(Kind::State, A, None).err().unwrap().kind,
        ErrorKind::NotFound
    );
    t.expect(Get, &tag_path(Kind::State, &A), tomb());
    assert_eq!(
        s.delete(Kind::State, A).unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(t.remaining(), 0);
}

/// Only marked objects are read: a tombstone is skipped, an object put again after its
/// delete is listed.
#[test]
fn list_skips_tombstones_and_keeps_objects_put_again() {
    let t = Scripted::default();
    let c = Mac([3; 32]);
    let tags = [
        CONFIG_TAG.to_string(),
        layout::tag(Kind::Packfile, &A),
        layout::tag(Kind::Packfile, &B),
        layout::tag(Kind::Packfile, &c),
        marker_tag(Kind::Packfile, &A),
        marker_tag(Kind::Packfile, &B),
        // Another kind's marker reads nothing for packfiles.
        marker_tag(Kind::Lock, &c),
    ];
    t.expect(Get, "/tags/list?n=", tags_answer(&tags));
    t.expect(
        Get,
        &tag_path(Kind::Packfile, &A),
        Answer::new(200).body(tombstone_manifest(Kind::Packfile, &A)),
    );
    t.expect(
        Get,
        &tag_path(Kind::Packfile, &B),
        manifest_answer(Kind::Packfile, &B, b"again"),
    );
    assert_eq!(store(&t).list(Kind::Packfile).unwrap(), vec![B, c]);
    assert_eq!(t.remaining(), 0);
}
