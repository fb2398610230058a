//! Large uploads by the registry's capability (`upload/strategy.rs`): the probe, streaming
//! once a registry took it, chunks once it refused it, and `OCI-Chunk-Min-Length`.

use super::*;
use crate::upload::strategy::{CHUNK, PROBE};

const MIB: usize = 1 << 20;

/// `len` bytes of a pattern.
fn bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Puts `bytes` as a lock, written 1 MiB at a time.
fn put_lock(s: &Store, bytes: &[u8]) -> crate::error::Result<u64> {
    let mut w = s.put(Kind::Lock, MAC);
    for chunk in bytes.chunks(MIB) {
        w.write(chunk)?;
    }
    w.finish()
}

/// The closing PUT of the session at `url`, named by the blob's digest, then the lock's
/// manifest.
fn expect_close(t: &Scripted, url: &str, blob: &[u8]) {
    let close = format!("/{url}?digest={}", Digest::of(blob));
    t.expect(Put, &close, Answer::new(201));
    t.expect(Put, &tag_path(Kind::Lock, &MAC), Answer::new(201));
}

fn session(url: &str) -> Answer {
    Answer::new(202).header("location", url)
}

/// A registry that takes the probe streams from then on: the first large put sends a
/// chunk of PROBE bytes, the rest (under a chunk) in the closing PUT; the next streams all of
/// it through one PATCH.
#[test]
fn a_registry_that_takes_the_probe_streams_from_then_on() {
    // 202 is the spec's answer to a PATCH; ECR answers 201.
    for patch_status in [202, 201] {
        let t = Scripted::default();
        let s = store(&t);
        let first = bytes(PROBE + 2 * MIB);
        t.expect(Post, "/blobs/uploads/", session("u1"));
        t.expect(
            Patch,
            "/blobs/uploads/u1",
            Answer::new(patch_status).header("location", "u2"),
        );
        expect_close(&t, "u2", &first);
        assert_eq!(put_lock(&s, &first).unwrap(), first.len() as u64);
        let seen = t.seen();
        assert_eq!(seen[1].body, first[..PROBE]);
        assert_eq!(
            seen[1].header("content-range"),
            Some(format!("0-{}", PROBE - 1).as_str())
        );
        assert_eq!(seen[2].body, first[PROBE..]);
        assert_eq!(t.remaining(), 0);

        let second = bytes(STREAM_THRESHOLD + 1000);
        t.expect(Post, "/blobs/uploads/", session("v1"));
        t.expect(
            Patch,
            "/blobs/uploads/v1",
            Answer::new(patch_status)
                .header("location", "/v2/backups/laptop/blobs/uploads/v1?_state=2"),
        );
        t.expect(
            Put,
            &format!("/v1?_state=2&digest={}", Digest::of(&second)),
            Answer::new(201),
        );
        t.expect(Put, &tag_path(Kind::Lock, &MAC), Answer::new(201));
        put_lock(&s, &second).unwrap();
        let seen = &t.seen()[4..];
        assert_eq!(seen[1].body, second);
        assert_eq!(seen[1].header("content-length"), None, "the PATCH streams");
        assert!(seen[2].body.is_empty());
        assert_eq!(t.remaining(), 0);
    }
}

/// A blob that ends before the probe is full goes up as one chunk, then the closing PUT.
#[test]
fn a_blob_smaller_than_the_probe_is_one_chunk() {
    let t = Scripted::default();
    let s = store(&t);
    let blob = bytes(STREAM_THRESHOLD + 1000);
    t.expect(Post, "/blobs/uploads/", session("u1"));
    t.expect(Patch, "/blobs/uploads/u1", session("u2"));
    expect_close(&t, "u2", &blob);
    put_lock(&s, &blob).unwrap();
    let seen = t.seen();
    assert_eq!(seen[1].body, blob);
    assert_eq!(
        seen[1].header("content-length"),
        Some(blob.len().to_string().as_str())
    );
    assert!(seen[2].body.is_empty());
}

/// GHCR refuses request bodies over 4 MiB with 416: the probe's bytes go again in a new
/// session, in chunks of CHUNK with their ranges, the last in the closing PUT; the next put
/// goes in chunks at once.
#[test]
fn a_registry_that_refuses_the_probe_gets_chunks() {
    let t = Scripted::default();
    let s = store(&t);
    let blob = bytes(PROBE + 2 * MIB + 100);
    let too_large = Answer::new(416).body(
        r#"{"errors":[{"code":"REQUESTED_RANGE_NOT_SATISFIABLE","message":"the request body is too large and exceeds the maximum permissible limit of 4.00MiB"}]}"#,
    );
    t.expect(Post, "/blobs/uploads/", session("u1"));
    t.expect(Patch, "/blobs/uploads/u1", too_large.clone());
    t.expect(Post, "/blobs/uploads/", session("v1"));
    t.expect(Patch, "/blobs/uploads/v1", session("v2"));
    t.expect(Patch, "/blobs/uploads/v2", session("v3"));
    expect_close(&t, "v3", &blob);
    put_lock(&s, &blob).unwrap();
    assert_eq!(t.remaining(), 0);
    let seen = t.seen();
    let ranges: Vec<_> = seen.iter().map(|r| r.header("content-range")).collect();
    let (first, second) = (
        format!("0-{}", CHUNK - 1),
        format!("{CHUNK}-{}", 2 * CHUNK - 1),
    );
    assert_eq!(ranges[3], Some(first.as_str()));
    assert_eq!(ranges[4], Some(second.as_str()));
    let sent: Vec<u8> = seen[3..6].iter().flat_map(|r| r.body.clone()).collect();
    assert_eq!(
        sent, blob,
        "the chunks and the closing PUT carry the blob in order"
    );
    assert!(seen[3..6].iter().all(|r| r.body.len() <= CHUNK));

    // Learned: the next put sends chunks at once, no probe.
    t.expect(Post, "/blobs/uploads/", session("w1"));
    t.expect(Patch, "/blobs/uploads/w1", session("w2"));
    expect_close(&t, "w2", &blob[..CHUNK + 5]);
    put_lock(&s, &blob[..CHUNK + 5]).unwrap();
    assert_eq!(t.remaining(), 0);
    assert_eq!(t.seen()[8].body.len(), CHUNK);
}

/// A chunk refused as too large is halved and sent again: in a new session where it was
/// the session's first, at the same offset where it was not.
#[test]
fn a_refused_chunk_is_halved() {
    let t = Scripted::default();
    let s = store(&t);
    let blob = bytes(PROBE + MIB);
    let too_large = Answer::new(413).body("request entity too large");
    t.expect(Post, "/blobs/uploads/", session("u1"));
    t.expect(Patch, "/blobs/uploads/u1", too_large.clone());
    t.expect(Post, "/blobs/uploads/", session("v1"));
    t.expect(Patch, "/blobs/uploads/v1", too_large.clone());
    t.expect(Post, "/blobs/uploads/", session("w1"));
    t.expect(Patch, "/blobs/uploads/w1", session("w2"));
    t.expect(Patch, "/blobs/uploads/w2", too_large);
    // The 6 MiB held then, and the last write, in chunks of 1 MiB.
    for n in 2..9 {
        let (from, to) = (format!("w{n}"), format!("w{}", n + 1));
        t.expect(Patch, &format!("/blobs/uploads/{from}"), session(&to));
    }
    expect_close(&t, "w9", &blob);
    put_lock(&s, &blob).unwrap();
    assert_eq!(t.remaining(), 0);
    let seen = t.seen();
    let range = |i: usize| seen[i].header("content-range").map(str::to_string);
    let half = CHUNK / 2;
    let quarter = CHUNK / 4;
    assert_eq!(range(3), Some(format!("0-{}", CHUNK - 1)));
    assert_eq!(range(5), Some(format!("0-{}", half - 1)));
    assert_eq!(
        range(6),
        Some(format!("{half}-{}", 2 * half - 1)),
        "refused"
    );
    assert_eq!(range(7), Some(format!("{half}-{}", half + quarter - 1)));
    assert!(seen[7..14].iter().all(|r| r.body.len() == quarter));
    let sent: Vec<u8> = [5, 7, 8, 9, 10, 11, 12, 13, 14]
        .iter()
        .flat_map(|&i| seen[i].body.clone())
        .collect();
    assert_eq!(sent, blob);
}

/// `OCI-Chunk-Min-Length` (ECR needs 5 MiB): chunks are never smaller, but for the last.
#[test]
fn chunks_are_at_least_the_registrys_minimum() {
    let t = Scripted::default();
    let s = store(&t);
    let min = 5 * MIB;
    let blob = bytes(2 * min + 100);
    let post = |url: &str| session(url).header("oci-chunk-min-length", &min.to_string());
    t.expect(Post, "/blobs/uploads/", post("u1"));
    t.expect(Patch, "/blobs/uploads/u1", Answer::new(416));
    t.expect(Post, "/blobs/uploads/", post("v1"));
    t.expect(
        Patch,
        "/blobs/uploads/v1",
        Answer::new(201).header("location", "v2"),
    );
    t.expect(
        Patch,
        "/blobs/uploads/v2",
        Answer::new(201).header("location", "v3"),
    );
    expect_close(&t, "v3", &blob);
    put_lock(&s, &blob).unwrap();
    assert_eq!(t.remaining(), 0);
    let seen = t.seen();
    assert_eq!(seen[3].body.len(), min);
    assert_eq!(seen[4].body.len(), min);
    assert_eq!(seen[5].body.len(), 100);
}

/// A registry that refuses even the smallest chunk: a clear `unsupported`, nothing tagged.
#[test]
fn a_registry_refusing_every_chunk_fails_the_put_clearly() {
    let t = Scripted::default();
    let s = store(&t);
    let blob = bytes(PROBE);
    t.expect(Post, "/blobs/uploads/", session("u1"));
    t.expect(Patch, "/blobs/uploads/u1", Answer::new(413));
    let mut chunk = CHUNK;
    while chunk >= crate::upload::strategy::CHUNK_FLOOR {
        t.expect(Post, "/blobs/uploads/", session("v1"));
        t.expect(Patch, "/blobs/uploads/v1", Answer::new(413));
        chunk /= 2;
    }
    let e = put_lock(&s, &blob).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unsupported, "{e}");
    assert!(
        e.message.contains("refuses upload requests"),
        "{}",
        e.message
    );
    assert_eq!(t.remaining(), 0);
    assert!(
        t.seen().iter().all(|r| r.head.method != Put),
        "nothing was closed or tagged"
    );
}

/// After the probe, the same session goes on in chunks (go-containerregistry refuses a
/// streamed PATCH after any write); only the next session streams.
#[test]
fn the_probes_session_goes_on_in_chunks() {
    let t = Scripted::default();
    let s = store(&t);
    let blob = bytes(2 * PROBE + MIB);
    t.expect(Post, "/blobs/uploads/", session("u1"));
    t.expect(Patch, "/blobs/uploads/u1", session("u2"));
    t.expect(Patch, "/blobs/uploads/u2", session("u3"));
    expect_close(&t, "u3", &blob);
    put_lock(&s, &blob).unwrap();
    assert_eq!(t.remaining(), 0);
    let seen = t.seen();
    let second = format!("{PROBE}-{}", 2 * PROBE - 1);
    assert_eq!(seen[2].header("content-range"), Some(second.as_str()));
    assert_eq!(seen[3].body, blob[2 * PROBE..]);
}
