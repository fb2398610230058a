//! The store against scripted registry answers, especially those a real registry won't give.

use crate::blob_read::ByteRange;
use crate::digest::Digest;
use crate::error::ErrorKind;
use crate::http::Method::{Delete, Get, Patch, Post, Put};
use crate::layout::{self, BlobRef, Kind, Mac, CONFIG_TAG};
use crate::store::Store;
use crate::testing::{oci_error, Answer, Scripted};
use crate::upload::STREAM_THRESHOLD;

const LOC: &str = "oci://127.0.0.1:5000/backups/laptop";
const MAC: Mac = Mac([7; 32]);

fn store(t: &Scripted) -> Store {
    let clock = std::rc::Rc::new(crate::testing::FakeClock::default());
    Store::connect(t.boxed(), clock, LOC, &crate::options::Options::default()).unwrap()
}

fn blob_of(bytes: &[u8]) -> BlobRef {
    BlobRef {
        digest: Digest::of(bytes),
        size: bytes.len() as u64,
    }
}

fn manifest_answer(kind: Kind, mac: &Mac, bytes: &[u8]) -> Answer {
    Answer::new(200).body(layout::object_manifest(kind, mac, blob_of(bytes)))
}

fn tag_path(kind: Kind, mac: &Mac) -> String {
    format!("/manifests/{}", layout::tag(kind, mac))
}

fn read_all(
    reader: &mut crate::blob_read::BlobReader,
    max: usize,
) -> crate::error::Result<Vec<u8>> {
    let mut out = Vec::new();
    for _ in 0..100_000 {
        let chunk = reader.read(max)?;
        if chunk.is_empty() {
            return Ok(out);
        }
        out.extend_from_slice(&chunk);
    }
    panic!("the reader never ended");
}

/// Scripts the manifest lookup of MAC, then one blob answer.
fn get_with(
    bytes: &[u8],
    range: Option<ByteRange>,
    blob_answer: Answer,
) -> (Scripted, crate::error::Result<Vec<u8>>) {
    let t = Scripted::default();
    t.expect(
        Get,
        &tag_path(Kind::Packfile, &MAC),
        manifest_answer(Kind::Packfile, &MAC, bytes),
    );
    t.expect(Get, &format!("/blobs/{}", Digest::of(bytes)), blob_answer);
    let result = store(&t)
        .get(Kind::Packfile, MAC, range)
        .and_then(|mut r| read_all(&mut r, 7));
    (t, result)
}

#[test]
fn a_range_is_asked_for_and_checked() {
    let bytes: Vec<u8> = (0..100u8).collect();
    let answer = Answer::new(206)
        .header("content-range", "bytes 10-19/100")
        .body(&bytes[10..20]);
    let (t, got) = get_with(
        &bytes,
        Some(ByteRange {
            offset: 10,
            length: 10,
        }),
        answer,
    );
    assert_eq!(got.unwrap(), &bytes[10..20]);
    assert_eq!(t.seen()[1].header("range"), Some("bytes=10-19"));
    let accept = t.seen()[0].header("accept").unwrap().to_string();
    assert_eq!(accept, layout::MANIFEST_MEDIA_TYPE);
}

#[test]
fn a_200_to_a_range_request_is_sliced_not_passed_off() {
    let bytes: Vec<u8> = (0..100u8).collect();
    let answer = Answer::new(200)
        .header("content-length", "100")
        .body(bytes.clone())
        .chunked(3);
    let (_, got) = get_with(
        &bytes,
        Some(ByteRange {
            offset: 95,
            length: 5,
        }),
        answer,
    );
    assert_eq!(got.unwrap(), &bytes[95..100]);
}

#[test]
fn a_wrong_content_range_is_refused() {
    let bytes: Vec<u8> = (0..100u8).collect();
    for header in [
        "bytes 0-9/100",
        "bytes 10-20/100",
        "bytes 10-19/101",
        "items 10-19/100",
        "bytes */100",
    ] {
        let answer = Answer::new(206)
            .header("content-range", header)
            .body(&bytes[10..20]);
        let (_, got) = get_with(
            &bytes,
            Some(ByteRange {
                offset: 10,
                length: 10,
            }),
            answer,
        );
        assert_eq!(got.unwrap_err().kind, ErrorKind::Protocol, "{header}");
    }
    let missing = Answer::new(206).body(&bytes[10..20]);
    let (_, got) = get_with(
        &bytes,
        Some(ByteRange {
            offset: 10,
            length: 10,
        }),
        missing,
    );
    assert_eq!(got.unwrap_err().kind, ErrorKind::Protocol);
}

#[test]
fn short_and_long_bodies_are_refused() {
    let bytes: Vec<u8> = (0..100u8).collect();
    let short = Answer::new(206)
        .header("content-range", "bytes 10-19/100")
        .body(&bytes[10..15]);
    let (_, got) = get_with(
        &bytes,
        Some(ByteRange {
            offset: 10,
            length: 10,
        }),
        short,
    );
    assert_eq!(got.unwrap_err().kind, ErrorKind::Protocol);
    let (_, got) = get_with(&bytes, None, Answer::new(200).body(&bytes[..99]));
    assert_eq!(got.unwrap_err().kind, ErrorKind::Protocol);
    let mut long = bytes.clone();
    long.push(0);
    let (_, got) = get_with(&bytes, None, Answer::new(200).body(long));
    assert_eq!(got.unwrap_err().kind, ErrorKind::Protocol);
    let lying = Answer::new(200)
        .header("content-length", "50")
        .body(bytes.clone());
    let (_, got) = get_with(&bytes, None, lying);
    assert_eq!(got.unwrap_err().kind, ErrorKind::Protocol);
}

#[test]
fn a_digest_mismatch_is_an_error_not_data() {
    let bytes = b"the bytes the manifest describes".to_vec();
    let mut other = bytes.clone();
    other[3] ^= 1;
    let (_, got) = get_with(&bytes, None, Answer::new(200).body(other));
    let e = got.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol);
    assert!(e.message.contains("digest"), "{}", e.message);
    let (_, got) = get_with(
        &bytes,
        None,
        Answer::new(200).body(bytes.clone()).chunked(5),
    );
    assert_eq!(got.unwrap(), bytes);
}

#[test]
fn a_range_outside_the_object_is_out_of_range_without_a_blob_request() {
    let bytes = vec![1u8; 100];
    for (offset, length) in [(100, 1), (95, 6), (u64::MAX, 1), (1 << 40, 10)] {
        let t = Scripted::default();
        t.expect(
            Get,
            &tag_path(Kind::Packfile, &MAC),
            manifest_answer(Kind::Packfile, &MAC, &bytes),
        );
        let e = store(&t)
            .get(Kind::Packfile, MAC, Some(ByteRange { offset, length }))
            .err()
            .unwrap();
        assert_eq!(e.kind, ErrorKind::OutOfRange, "{offset}+{length}");
        assert_eq!(t.remaining(), 0);
    }
    let answer = Answer::new(416).header("content-range", "bytes */100");
    let (_, got) = get_with(
        &bytes,
        Some(ByteRange {
            offset: 0,
            length: 10,
        }),
        answer,
    );
    assert_eq!(got.unwrap_err().kind, ErrorKind::OutOfRange);
}

#[test]
fn a_known_object_costs_one_request_per_range_read() {
    let t = Scripted::default();
    let s = store(&t);
    let bytes = b"hello world".to_vec();
    t.expect(
        Post,
        "/blobs/uploads/",
        Answer::new(202).header("location", "/v2/backups/laptop/blobs/uploads/u1?_state=abc"),
    );
    let digest = Digest::of(&bytes);
    t.expect(
        Put,
        &format!("/uploads/u1?_state=abc&digest={digest}"),
        Answer::new(201),
    );
    t.expect(Put, &tag_path(Kind::Packfile, &MAC), Answer::new(201));
    let mut w = s.put(Kind::Packfile, MAC);
    w.write(&bytes[..5]).unwrap();
    w.write(&bytes[5..]).unwrap();
    assert_eq!(w.finish().unwrap(), 11);
    assert_eq!(t.seen().len(), 3, "a small put is 3 requests");
    assert_eq!(t.seen()[1].body, bytes);
    assert_eq!(w.finish().unwrap_err().kind, ErrorKind::InvalidArgument);
    for (offset, length) in [(0u64, 1u32), (6, 5)] {
        let end = offset + u64::from(length) - 1;
        let answer = Answer::new(206).header("content-range", &format!("bytes {offset}-{end}/11"));
        t.expect(
            Get,
            &format!("/blobs/{digest}"),
            answer.body(&bytes[offset as usize..=end as usize]),
        );
        let mut r = s
            .get(Kind::Packfile, MAC, Some(ByteRange { offset, length }))
            .unwrap();
        assert_eq!(
            read_all(&mut r, 1 << 20).unwrap(),
            &bytes[offset as usize..=end as usize]
        );
    }
    assert_eq!(t.seen().len(), 5);
}

#[test]
fn a_large_put_streams_through_one_patch() {
    let t = Scripted::default();
    let s = store(&t);
    let bytes: Vec<u8> = (0..STREAM_THRESHOLD + 1000)
        .map(|i| (i % 251) as u8)
        .collect();
    t.expect(
        Post,
        "/blobs/uploads/",
        Answer::new(202).header("location", "u1"),
    );
    t.expect(
        Patch,
        "/blobs/uploads/u1",
        Answer::new(202).header("location", "/v2/backups/laptop/blobs/uploads/u1?_state=2"),
    );
    t.expect(
        Put,
        &format!("/u1?_state=2&digest={}", Digest::of(&bytes)),
        Answer::new(201),
    );
    t.expect(Put, &tag_path(Kind::Lock, &MAC), Answer::new(201));
    let mut w = s.put(Kind::Lock, MAC);
    for chunk in bytes.chunks(1 << 20) {
        w.write(chunk).unwrap();
    }
    assert_eq!(w.finish().unwrap(), bytes.len() as u64);
    let seen = t.seen();
    assert_eq!(seen[1].body, bytes);
    assert_eq!(seen[1].header("content-length"), None, "the PATCH streams");
    assert!(seen[2].body.is_empty());
    assert_eq!(
        seen[3].header("content-type"),
        Some(layout::MANIFEST_MEDIA_TYPE)
    );
}

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

#[test]
fn server_faults_and_throttling_are_classified_after_bounded_retries() {
    let attempts = crate::retry::RetryLimits::default().attempts as usize;
    for (status, body, kind, tries) in [
        (500, "".to_string(), ErrorKind::Transient, attempts),
        (
            503,
            "<html>busy</html>".to_string(),
            ErrorKind::Transient,
            attempts,
        ),
        (
            429,
            oci_error("TOOMANYREQUESTS"),
            ErrorKind::RateLimited,
            attempts,
        ),
        (401, oci_error("UNAUTHORIZED"), ErrorKind::Unauthorized, 1),
        (0, "".to_string(), ErrorKind::Transient, attempts),
    ] {
        let t = Scripted::default();
        for _ in 0..tries {
            t.expect(
                Get,
                &tag_path(Kind::State, &MAC),
                Answer::new(status).body(body.clone()),
            );
        }
        let s = store(&t);
        let e = s.get(Kind::State, MAC, None).err().unwrap();
        assert_eq!(e.kind, kind, "{status}");
        assert!(
            e.message.starts_with(&format!("state {}", MAC.hex())),
            "{}",
            e.message
        );
        assert_eq!(t.remaining(), 0, "{status}: every attempt was made");
        assert_eq!(s.stats().retries, tries as u64 - 1);
    }
}

#[test]
fn a_passing_fault_is_retried_and_retry_after_honoured() {
    let t = Scripted::default();
    let clock = std::rc::Rc::new(crate::testing::FakeClock::default());
    let s = Store::connect(
        t.boxed(),
        clock.clone(),
        LOC,
        &crate::options::Options::default(),
    )
    .unwrap();
    let bytes = b"state bytes".to_vec();
    t.expect(Get, &tag_path(Kind::State, &MAC), Answer::new(503));
    t.expect(
        Get,
        &tag_path(Kind::State, &MAC),
        Answer::new(429).header("retry-after", "7"),
    );
    t.expect(
        Get,
        &tag_path(Kind::State, &MAC),
        manifest_answer(Kind::State, &MAC, &bytes),
    );
    t.expect(
        Get,
        &format!("/blobs/{}", Digest::of(&bytes)),
        Answer::new(200).body(bytes.clone()),
    );
    let mut r = s.get(Kind::State, MAC, None).unwrap();
    assert_eq!(read_all(&mut r, 4).unwrap(), bytes);
    let sleeps = clock.sleeps.borrow().clone();
    assert_eq!(sleeps.len(), 2);
    assert_eq!(sleeps[1], std::time::Duration::from_secs(7));
    assert_eq!(s.stats().retries, 2);
}

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
    store(&t).delete(Kind::State, MAC).unwrap();
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
    // Deletes switched off.
    let t = Scripted::default();
    t.expect(
        Get,
        &tag_path(Kind::State, &MAC),
        Answer::new(200).body(manifest.clone()),
    );
    t.expect(Delete, "", Answer::new(405).body(oci_error("UNSUPPORTED")));
    assert_eq!(
        store(&t).delete(Kind::State, MAC).unwrap_err().kind,
        ErrorKind::Unsupported
    );
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
        "/tags/list?n=1000",
        Answer::new(200)
            .header(
                "link",
                "</v2/backups/laptop/tags/list?n=1000&last=x>; rel=\"next\"",
            )
            .body(page1),
    );
    t.expect(
        Get,
        "/tags/list?n=1000&last=x",
        Answer::new(200).body(format!(r#"{{"tags":["{lock}","{b}","{a}"]}}"#)),
    );
    let macs = store(&t).list(Kind::Packfile).unwrap();
    assert_eq!(macs, vec![Mac([1; 32]), Mac([2; 32])]);

    let t = Scripted::default();
    t.expect(
        Get,
        "/tags/list?n=1000",
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
        "/tags/list?n=1000",
        Answer::new(404).body(oci_error("NAME_UNKNOWN")),
    );
    assert_eq!(
        store(&t).list(Kind::Lock).unwrap_err().kind,
        ErrorKind::NotFound
    );
    let t = Scripted::default();
    t.expect(
        Get,
        "/tags/list?n=1000",
        Answer::new(200)
            .header("link", "<list?n=1000>; rel=\"next\"")
            .body("{\"tags\":[]}"),
    );
    assert_eq!(
        store(&t).list(Kind::Lock).unwrap_err().kind,
        ErrorKind::Protocol,
        "a self-link ends"
    );
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

#[test]
fn create_uploads_the_empty_config_blob_then_the_config() {
    let t = Scripted::default();
    t.expect(Get, &format!("/manifests/{CONFIG_TAG}"), Answer::new(404));
    for digest in [Digest::of(b"{}"), Digest::of(b"cfg")] {
        t.expect(
            Post,
            "/blobs/uploads/",
            Answer::new(202).header(
                "location",
                "http://127.0.0.1:5000/v2/backups/laptop/blobs/uploads/u",
            ),
        );
        t.expect(
            Put,
            &format!("/uploads/u?digest={digest}"),
            Answer::new(201).header("docker-content-digest", &digest.to_string()),
        );
    }
    t.expect(Put, &format!("/manifests/{CONFIG_TAG}"), Answer::new(201));
    store(&t).create(b"cfg").unwrap();
    assert_eq!(t.seen()[4].body, b"cfg");
    assert_eq!(t.remaining(), 0);
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
    assert_eq!(t.seen()[4].body, b"{}");
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

#[test]
fn a_read_whose_connection_breaks_resumes_where_it_stopped() {
    let bytes: Vec<u8> = (0..100u8).collect();
    let digest = Digest::of(&bytes);
    // A whole read: 40 bytes, a break, then the rest by range; the digest covers it all.
    let t = Scripted::default();
    t.expect(
        Get,
        &tag_path(Kind::Packfile, &MAC),
        manifest_answer(Kind::Packfile, &MAC, &bytes),
    );
    t.expect(
        Get,
        &format!("/blobs/{digest}"),
        Answer::new(200).body(bytes.clone()).breaking_after(40),
    );
    let rest = Answer::new(206)
        .header("content-range", "bytes 40-99/100")
        .body(&bytes[40..]);
    t.expect(Get, &format!("/blobs/{digest}"), rest.breaking_after(30));
    let last = Answer::new(206)
        .header("content-range", "bytes 70-99/100")
        .body(&bytes[70..]);
    t.expect(Get, &format!("/blobs/{digest}"), last);
    let mut r = store(&t).get(Kind::Packfile, MAC, None).unwrap();
    assert_eq!(read_all(&mut r, 16).unwrap(), bytes);
    let seen = t.seen();
    assert_eq!(seen[1].header("range"), None);
    assert_eq!(seen[2].header("range"), Some("bytes=40-99"));
    assert_eq!(seen[3].header("range"), Some("bytes=70-99"));

    // A range read resumes inside its range; a registry that answers 200 is sliced again.
    let t = Scripted::default();
    t.expect(
        Get,
        &tag_path(Kind::Packfile, &MAC),
        manifest_answer(Kind::Packfile, &MAC, &bytes),
    );
    let first = Answer::new(206)
        .header("content-range", "bytes 10-59/100")
        .body(&bytes[10..60]);
    t.expect(Get, &format!("/blobs/{digest}"), first.breaking_after(5));
    t.expect(
        Get,
        &format!("/blobs/{digest}"),
        Answer::new(200).body(bytes.clone()),
    );
    let mut r = store(&t)
        .get(
            Kind::Packfile,
            MAC,
            Some(ByteRange {
                offset: 10,
                length: 50,
            }),
        )
        .unwrap();
    assert_eq!(read_all(&mut r, 7).unwrap(), &bytes[10..60]);
    assert_eq!(t.seen()[2].header("range"), Some("bytes=15-59"));
}

#[test]
fn a_read_that_keeps_breaking_ends_in_a_transient_error() {
    let bytes = vec![9u8; 64];
    let digest = Digest::of(&bytes);
    let t = Scripted::default();
    t.expect(
        Get,
        &tag_path(Kind::State, &MAC),
        manifest_answer(Kind::State, &MAC, &bytes),
    );
    t.expect(
        Get,
        &format!("/blobs/{digest}"),
        Answer::new(200).body(bytes.clone()).breaking_after(0),
    );
    for _ in 0..crate::blob_read::MAX_RESUMES {
        // Nothing was passed on yet: the whole blob is asked for again.
        let again = Answer::new(200).body(bytes.clone());
        t.expect(Get, &format!("/blobs/{digest}"), again.breaking_after(0));
    }

    let mut r = store(&t).get(Kind::State, MAC, None).unwrap();
    assert_eq!(read_all(&mut r, 16).unwrap_err().kind, ErrorKind::Transient);
    assert_eq!(t.remaining(), 0);
    assert_eq!(
        r.read(16).unwrap_err().kind,
        ErrorKind::Transient,
        "the error stays"
    );
}
