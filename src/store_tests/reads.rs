//! Reads: ranges, whole blobs, and answers that are not the bytes asked for.

use super::*;

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
