//! Faults that may pass: bounded retries, Retry-After, reads that resume.

use super::*;

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

/// A streamed put whose closing PUT reached the registry but whose answer was lost: the PUT
/// sent again finds its session used up. The blob is there (HEAD), so the put completes; the
/// streamed bytes could not have been sent again anyway.
#[test]
fn a_streamed_put_whose_close_answer_was_lost_finds_its_blob() {
    let bytes: Vec<u8> = (0..STREAM_THRESHOLD + 100)
        .map(|i| (i % 253) as u8)
        .collect();
    let digest = Digest::of(&bytes);
    for blob_there in [true, false] {
        let t = Scripted::default();
        t.expect(
            Post,
            "/blobs/uploads/",
            Answer::new(202).header("location", "u1"),
        );
        t.expect(
            Patch,
            "/blobs/uploads/u1",
            Answer::new(202).header("location", "u1?_state=2"),
        );
        let close = format!("u1?_state=2&digest={digest}");
        t.expect(Put, &close, Answer::new(0));
        t.expect(
            Put,
            &close,
            Answer::new(404).body(oci_error("BLOB_UPLOAD_UNKNOWN")),
        );
        let head = if blob_there {
            Answer::new(200).header("content-length", &bytes.len().to_string())
        } else {
            Answer::new(404)
        };
        t.expect(Head, &format!("/blobs/{digest}"), head);
        if blob_there {
            t.expect(Put, &tag_path(Kind::Packfile, &MAC), Answer::new(201));
        }
        let mut w = store(&t).put(Kind::Packfile, MAC);
        for chunk in bytes.chunks(1 << 20) {
            w.write(chunk).unwrap();
        }
        let result = w.finish();
        if blob_there {
            assert_eq!(result.unwrap(), bytes.len() as u64);
        } else {
            let e = result.unwrap_err();
            assert_eq!(e.kind, ErrorKind::Transient, "{e}");
        }
        assert_eq!(t.remaining(), 0, "blob there: {blob_there}");
    }
}

/// A delete whose answer was lost is sent again and finds the manifest gone: the object is
/// deleted, as asked, and the delete succeeds.
#[test]
fn a_delete_whose_answer_was_lost_succeeds() {
    let bytes = b"state".to_vec();
    let manifest = layout::object_manifest(Kind::State, &MAC, blob_of(&bytes));
    let by_digest = format!("/manifests/{}", Digest::of(&manifest));
    let t = Scripted::default();
    t.expect(
        Get,
        &tag_path(Kind::State, &MAC),
        Answer::new(200).body(manifest.clone()),
    );
    t.expect(Delete, &by_digest, Answer::new(0));
    t.expect(
        Delete,
        &by_digest,
        Answer::new(404).body(oci_error("MANIFEST_UNKNOWN")),
    );
    // Not-found may be distribution's half-done delete (manifest_delete.rs): put back,
    // deleted again.
    t.expect(Put, &tag_path(Kind::State, &MAC), Answer::new(201));
    t.expect(Delete, &by_digest, Answer::new(202));
    t.expect(Delete, &tag_path(Kind::State, &MAC), Answer::new(404));
    let s = store(&t);
    s.delete(Kind::State, MAC).unwrap();
    assert_eq!(t.remaining(), 0);
    assert_eq!(s.stats().retries, 1);

    // A manifest that is not there at all is still reported missing.
    let t = Scripted::default();
    t.expect(
        Get,
        &tag_path(Kind::State, &MAC),
        Answer::new(404).body(oci_error("MANIFEST_UNKNOWN")),
    );
    let e = store(&t).delete(Kind::State, MAC).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
}

/// A manifest or tag list whose connection breaks mid-body is asked for again, as a
/// connection failure before the answer would be; a body that keeps breaking ends in a
/// transient error after the bounded attempts.
#[test]
fn a_manifest_or_tag_list_cut_short_is_asked_for_again() {
    let bytes = b"state bytes".to_vec();
    let manifest = layout::object_manifest(Kind::State, &MAC, blob_of(&bytes));
    let t = Scripted::default();
    let cut = Answer::new(200).body(manifest.clone()).breaking_after(20);
    t.expect(Get, &tag_path(Kind::State, &MAC), cut);
    t.expect(
        Get,
        &tag_path(Kind::State, &MAC),
        Answer::new(200).body(manifest.clone()),
    );
    t.expect(
        Get,
        &format!("/blobs/{}", Digest::of(&bytes)),
        Answer::new(200).body(bytes.clone()),
    );
    let tags = format!(
        r#"{{"tags":["{CONFIG_TAG}","{}"]}}"#,
        layout::tag(Kind::State, &MAC)
    );
    t.expect(
        Get,
        "/tags/list",
        Answer::new(200).body(tags.clone()).breaking_after(5),
    );
    t.expect(Get, "/tags/list", Answer::new(200).body(tags));
    let s = store(&t);
    let mut r = s.get(Kind::State, MAC, None).unwrap();
    assert_eq!(read_all(&mut r, 64).unwrap(), bytes);
    assert_eq!(s.list(Kind::State).unwrap(), vec![MAC]);
    assert_eq!(s.stats().retries, 2);
    assert_eq!(t.remaining(), 0);

    let t = Scripted::default();
    let attempts = crate::retry::RetryLimits::default().attempts;
    for _ in 0..attempts {
        let cut = Answer::new(200).body(manifest.clone()).breaking_after(20);
        t.expect(Get, &tag_path(Kind::State, &MAC), cut);
    }
    let e = store(&t).get(Kind::State, MAC, None).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    assert_eq!(t.remaining(), 0);
}
