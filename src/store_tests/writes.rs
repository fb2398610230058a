//! Writes: upload sessions, streaming, and pushes that go wrong.

use super::*;

#[test]
fn a_missing_location_header_fails_the_put_and_tags_nothing() {
    let t = Scripted::default();
    t.expect(Post, "/blobs/uploads/", Answer::new(202));
    let mut w = store(&t).put(Kind::State, MAC);
    w.write(b"state").unwrap();
    let e = w.finish().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol);
    assert!(e.message.contains("Location"), "{}", e.message);
    assert_eq!(t.remaining(), 0);
    assert_eq!(t.seen().len(), 1, "no manifest was put");
}

/// An https registry's upload session at `http://` (its own host or another): refused, no
/// byte of the object sent there.
#[test]
fn an_upload_session_down_to_plain_http_is_refused() {
    for location in [
        "http://registry.example/v2/backups/laptop/blobs/uploads/u1",
        "http://elsewhere.example/u1",
    ] {
        let t = Scripted::default();
        t.expect(
            Post,
            "/blobs/uploads/",
            Answer::new(202).header("location", location),
        );
        let mut w = https_store(&t).put(Kind::State, MAC);
        w.write(b"state").unwrap();
        let e = w.finish().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol, "{e}");
        assert!(e.message.contains("plain http"), "{e}");
        let seen = t.seen();
        assert_eq!(seen.len(), 1, "nothing sent to {location}");
        assert!(
            seen[0].head.url.starts_with("https://"),
            "{}",
            seen[0].head.url
        );
    }
}

#[test]
fn a_stored_digest_other_than_ours_is_refused() {
    let t = Scripted::default();
    t.expect(
        Post,
        "/blobs/uploads/",
        Answer::new(202).header("location", "u"),
    );
    t.expect(
        Put,
        "",
        Answer::new(201).header("docker-content-digest", &Digest::of(b"other").to_string()),
    );
    let mut w = store(&t).put(Kind::State, MAC);
    w.write(b"mine").unwrap();
    assert_eq!(w.finish().unwrap_err().kind, ErrorKind::Protocol);
}

#[test]
fn a_manifest_without_its_empty_config_blob_pushes_it_once() {
    let t = Scripted::default();
    t.expect(
        Post,
        "/blobs/uploads/",
        Answer::new(202).header("location", "u"),
    );
    t.expect(Put, "", Answer::new(201));
    let unknown = Answer::new(400).body(oci_error("MANIFEST_BLOB_UNKNOWN"));
    t.expect(Put, &tag_path(Kind::State, &MAC), unknown);
    t.expect(
        Head,
        &format!("/blobs/{}", Digest::of(b"{}")),
        Answer::new(404),
    );
    t.expect(
        Post,
        "/blobs/uploads/",
        Answer::new(202).header("location", "u"),
    );
    t.expect(
        Put,
        &format!("?digest={}", Digest::of(b"{}")),
        Answer::new(201),
    );
    t.expect(Put, &tag_path(Kind::State, &MAC), Answer::new(201));
    let mut w = store(&t).put(Kind::State, MAC);
    w.write(b"s").unwrap();
    assert_eq!(w.finish().unwrap(), 1);
    assert_eq!(t.seen()[5].body, b"{}");
}

/// distribution 2.8's answer when a twin's upload rewrites the blob's link while the manifest
/// PUT reads it (src/manifest_put.rs).
const TORN_LINK: &str = r#"{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"},{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:b449dd1badf4c6e5b7f87cb9ae43f65889001bf84511908f1d2341e9fa47d121"}]}"#;

/// Scripts a one-byte state's upload, answered 201.
fn upload_of_a_state(t: &Scripted) {
    t.expect(
        Post,
        "/blobs/uploads/",
        Answer::new(202).header("location", "u"),
    );
    t.expect(Put, "u?digest=", Answer::new(201));
}

#[test]
fn a_torn_blob_link_is_looked_at_again_after_a_pause() {
    let t = Scripted::default();
    upload_of_a_state(&t);
    let tag = tag_path(Kind::State, &MAC);
    t.expect(Put, &tag, Answer::new(400).body(TORN_LINK));
    t.expect(
        Head,
        &format!("/blobs/{}", Digest::of(b"{}")),
        Answer::new(200),
    );
    t.expect(Put, &tag, Answer::new(400).body(TORN_LINK));
    t.expect(Put, &tag, Answer::new(201));
    let (s, clock) = store_and_clock(&t);
    let mut w = s.put(Kind::State, MAC);
    w.write(b"s").unwrap();
    assert_eq!(w.finish().unwrap(), 1);
    assert_eq!(t.remaining(), 0);
    let sleeps = clock.sleeps.borrow();
    assert_eq!(sleeps.len(), 1, "one pause, before the third PUT");
    assert!(
        sleeps[0] >= std::time::Duration::from_millis(10),
        "{sleeps:?}"
    );
}

#[test]
fn a_blob_the_registry_keeps_not_finding_fails_the_put_after_bounded_tries() {
    let t = Scripted::default();
    upload_of_a_state(&t);
    let tag = tag_path(Kind::State, &MAC);
    let tries = crate::manifest_put::BLOB_UNKNOWN_RETRIES + 2;
    t.expect(Put, &tag, Answer::new(400).body(TORN_LINK));
    t.expect(
        Head,
        &format!("/blobs/{}", Digest::of(b"{}")),
        Answer::new(200),
    );
    for _ in 1..tries {
        t.expect(Put, &tag, Answer::new(400).body(TORN_LINK));
    }
    let (s, clock) = store_and_clock(&t);
    let mut w = s.put(Kind::State, MAC);
    w.write(b"s").unwrap();
    let e = w.finish().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol);
    assert!(
        e.message.contains("does not find the blobs"),
        "{}",
        e.message
    );
    assert_eq!(t.remaining(), 0);
    assert_eq!(
        t.seen().len(),
        3 + tries as usize,
        "no request after the last PUT"
    );
    let total: std::time::Duration = clock.sleeps.borrow().iter().sum();
    assert!(total < std::time::Duration::from_secs(2), "{total:?}");
}

#[test]
fn a_digest_invalid_without_blob_unknown_is_not_tried_again() {
    let t = Scripted::default();
    upload_of_a_state(&t);
    let tag = tag_path(Kind::State, &MAC);
    t.expect(
        Put,
        &tag,
        Answer::new(400).body(oci_error("DIGEST_INVALID")),
    );
    let mut w = store(&t).put(Kind::State, MAC);
    w.write(b"s").unwrap();
    let e = w.finish().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol);
    assert!(e.message.contains("DIGEST_INVALID"), "{}", e.message);
    assert_eq!(t.seen().len(), 3);
}

#[test]
fn a_push_whose_session_was_lost_restarts_in_a_new_session() {
    let t = Scripted::default();
    let bytes = b"a state".to_vec();
    let put = format!("digest={}", Digest::of(&bytes));
    t.expect(
        Post,
        "/blobs/uploads/",
        Answer::new(202).header("location", "u1"),
    );
    t.expect(
        Put,
        &format!("u1?{put}"),
        Answer::new(404).body(oci_error("BLOB_UPLOAD_UNKNOWN")),
    );
    t.expect(
        Post,
        "/blobs/uploads/",
        Answer::new(202).header("location", "u2"),
    );
    t.expect(Put, &format!("u2?{put}"), Answer::new(201));
    t.expect(Put, &tag_path(Kind::State, &MAC), Answer::new(201));
    let mut w = store(&t).put(Kind::State, MAC);
    w.write(&bytes).unwrap();
    assert_eq!(w.finish().unwrap(), bytes.len() as u64);
    assert_eq!(t.seen()[3].body, bytes);
    assert_eq!(t.remaining(), 0);
}

#[test]
fn a_push_that_keeps_failing_tags_nothing() {
    let t = Scripted::default();
    for _ in 0..2 {
        t.expect(
            Post,
            "/blobs/uploads/",
            Answer::new(202).header("location", "u"),
        );
        t.expect(
            Put,
            "u?digest=",
            Answer::new(404).body(oci_error("BLOB_UPLOAD_UNKNOWN")),
        );
    }
    let mut w = store(&t).put(Kind::Packfile, MAC);
    w.write(b"packfile").unwrap();
    assert_eq!(
        w.finish().unwrap_err().kind,
        ErrorKind::Transient,
        "a put is never not-found"
    );
    assert_eq!(t.remaining(), 0, "no manifest was pushed");
}

/// ECR (`TAG_INVALID`) and Harbor (412) refuse to move an immutable tag: a lock re-put is
/// `unsupported`, naming the setting to change.
#[test]
fn an_immutable_tag_is_unsupported_naming_the_setting() {
    let ecr = Answer::new(400).body(
        r#"{"errors":[{"code":"TAG_INVALID","message":"The image tag 'lock-07' already exists in the 'backups' repository and cannot be overwritten because the repository is immutable."}]}"#,
    );
    let harbor = Answer::new(412).body(
        r#"{"errors":[{"code":"PRECONDITION","message":"Failed to process request due to 'backups:lock-07' configured as immutable."}]}"#,
    );
    for refusal in [ecr, harbor] {
        let t = Scripted::default();
        let session = Answer::new(202).header("location", "/v2/backups/laptop/blobs/uploads/u");
        t.expect(Post, "/blobs/uploads/", session);
        t.expect(Put, "/uploads/u?digest=", Answer::new(201));
        t.expect(Put, &tag_path(Kind::Lock, &MAC), refusal);
        let mut w = store(&t).put(Kind::Lock, MAC);
        w.write(b"lock").unwrap();
        let e = w.finish().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unsupported, "{e}");
        assert!(e.message.contains("immutable"), "{e}");
        assert!(e.message.contains("MUTABLE"), "names the setting: {e}");
        assert_eq!(t.remaining(), 0);
    }
}
