//! `create`, alone and meeting other creates (src/create.rs).

use super::*;
use crate::tombstone;

const CONFIG_PATH: &str = "/manifests/kloset-config";
const TAGS: &str = "/tags/list?n=";

fn tags_answer(tags: &[&str]) -> Answer {
    let tags: Vec<String> = tags.iter().map(|t| format!("\"{t}\"")).collect();
    Answer::new(200).body(format!(
        r#"{{"name":"backups/laptop","tags":[{}]}}"#,
        tags.join(",")
    ))
}

/// The tag and manifest of the candidate drawn with `nonce` (the fake clock draws 1, 2, ...).
fn candidate(config: &[u8], nonce: u64) -> (String, Vec<u8>) {
    (
        layout::candidate_tag(nonce),
        layout::candidate_manifest(blob_of(config), nonce),
    )
}

/// Scripts the check that no store exists and the pushes of the `{}` and config blobs.
fn no_store_then_blobs(t: &Scripted, config: &[u8]) {
    t.expect(Get, CONFIG_PATH, Answer::new(404));
    for digest in [Digest::of(b"{}"), Digest::of(config)] {
        t.expect(
            Post,
            "/blobs/uploads/",
            Answer::new(202).header("location", "/v2/backups/laptop/blobs/uploads/u"),
        );
        t.expect(
            Put,
            &format!("/uploads/u?digest={digest}"),
            Answer::new(201),
        );
    }
}

/// Scripts one round up to the config check after the list: no other create waiting before,
/// own candidate tagged, the list showing `listed`, `kloset-config` answering `config`.
fn round(t: &Scripted, tag: &str, listed: &[&str], config: Answer) {
    t.expect(Get, TAGS, tags_answer(&[]));
    t.expect(Put, &format!("/manifests/{tag}"), Answer::new(201));
    t.expect(Get, TAGS, tags_answer(listed));
    t.expect(Get, CONFIG_PATH, config);
}

/// Scripts the removal of a candidate: deleted by digest, and its tag found gone.
fn removed(t: &Scripted, tag: &str, manifest: &[u8]) {
    let delete = format!("/manifests/{}", Digest::of(manifest));
    t.expect(Delete, &delete, Answer::new(202));
    t.expect(Delete, &format!("/manifests/{tag}"), Answer::new(404));
}

#[test]
fn a_lone_create_tags_a_candidate_then_the_config_then_removes_the_candidate() {
    let t = Scripted::default();
    no_store_then_blobs(&t, b"cfg");
    let (tag, manifest) = candidate(b"cfg", 1);
    round(&t, &tag, &[&tag, "lock-00"], Answer::new(404));
    t.expect(Put, CONFIG_PATH, Answer::new(201));
    removed(&t, &tag, &manifest);
    store(&t).create(b"cfg").unwrap();
    assert_eq!(t.remaining(), 0);
    let seen = t.seen();
    assert_eq!(seen[4].body, b"cfg");
    assert_eq!(seen[6].body, manifest, "the candidate carries its nonce");
    assert_eq!(seen[9].body, layout::config_manifest(blob_of(b"cfg")));
    assert_ne!(
        manifest, seen[9].body,
        "deleting the candidate keeps the config"
    );
}

#[test]
fn a_create_that_lists_another_candidate_loses_to_the_store_that_won() {
    let t = Scripted::default();
    no_store_then_blobs(&t, b"mine");
    let (tag, manifest) = candidate(b"mine", 1);
    let theirs = layout::candidate_tag(0xffff);
    round(&t, &tag, &[&theirs, &tag], Answer::new(404));
    removed(&t, &tag, &manifest);
    let winner = layout::config_manifest(blob_of(b"theirs"));
    t.expect(Get, CONFIG_PATH, Answer::new(200).body(winner));
    let e = store(&t).create(b"mine").unwrap_err();
    assert_eq!(e.kind, ErrorKind::AlreadyExists);
    assert_eq!(t.remaining(), 0, "the config was never tagged");
}

#[test]
fn a_create_that_finds_the_config_after_listing_does_not_tag_it() {
    let t = Scripted::default();
    no_store_then_blobs(&t, b"mine");
    let (tag, manifest) = candidate(b"mine", 1);
    let winner = layout::config_manifest(blob_of(b"theirs"));
    round(&t, &tag, &[&tag], Answer::new(200).body(winner.clone()));
    removed(&t, &tag, &manifest);
    t.expect(Get, CONFIG_PATH, Answer::new(200).body(winner));
    assert_eq!(
        store(&t).create(b"mine").unwrap_err().kind,
        ErrorKind::AlreadyExists
    );
    assert_eq!(t.remaining(), 0);
}

#[test]
fn creates_that_meet_and_all_lose_try_again_after_a_pause() {
    let t = Scripted::default();
    no_store_then_blobs(&t, b"cfg");
    let (first, first_manifest) = candidate(b"cfg", 1);
    let other = layout::candidate_tag(0xabc);
    round(&t, &first, &[&first, &other], Answer::new(404));
    removed(&t, &first, &first_manifest);
    t.expect(Get, CONFIG_PATH, Answer::new(404));
    // The other create lost too and removed its candidate: this one tries again alone.
    let (second, second_manifest) = candidate(b"cfg", 2);
    round(&t, &second, &[&second], Answer::new(404));
    t.expect(Put, CONFIG_PATH, Answer::new(201));
    removed(&t, &second, &second_manifest);
    let (s, clock) = store_and_clock(&t);
    s.create(b"cfg").unwrap();
    assert_eq!(t.remaining(), 0);
    assert_eq!(
        clock.sleeps.borrow().len(),
        1,
        "one pause between the rounds"
    );
}

#[test]
fn a_create_waits_for_one_under_way_and_names_a_candidate_that_never_goes() {
    let t = Scripted::default();
    no_store_then_blobs(&t, b"cfg");
    let stuck = layout::candidate_tag(0x5);
    // Every look: the list shows the other candidate, and no config appears. Waited for 2 s
    // (the 23rd look: each pause is 90 ms with the fake clock's jitter), it is read once: a
    // live candidate, not a tombstone.
    let (_, live) = candidate(b"theirs", 0x5);
    for look in 0..1000 {
        t.expect(Get, TAGS, tags_answer(&[&stuck]));
        if look == 23 {
            let read = Answer::new(200).body(live.clone());
            t.expect(Get, &format!("/manifests/{stuck}"), read);
        }
        t.expect(Get, CONFIG_PATH, Answer::new(404));
    }
    let (s, clock) = store_and_clock(&t);
    let e = s.create(b"cfg").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient);
    assert!(e.message.contains(&stuck), "{}", e.message);
    assert!(e.message.contains("remove that tag"), "{}", e.message);
    let waited: std::time::Duration = clock.sleeps.borrow().iter().sum();
    let stale = crate::create::STALE_AFTER;
    assert!(waited >= stale && waited < stale * 2, "{waited:?}");
    let tagged = t
        .seen()
        .iter()
        .any(|r| r.head.method == Put && r.head.url.contains("/manifests/"));
    assert!(!tagged, "no candidate was tagged");
    let reads = t
        .seen()
        .iter()
        .filter(|r| r.head.url.ends_with(&stuck))
        .count();
    assert_eq!(reads, 1, "the candidate is read once");
}

/// A registry that refuses deletes keeps each candidate: a losing create buries its own, and
/// once it knows deletes are refused it reads the candidates it lists and skips the buried.
#[test]
fn creates_on_a_registry_without_deletes_bury_their_candidates() {
    let t = Scripted::default();
    no_store_then_blobs(&t, b"cfg");
    let (first, first_manifest) = candidate(b"cfg", 1);
    let other = layout::candidate_tag(0xabc);
    round(&t, &first, &[&first, &other], Answer::new(404));
    let refused = Answer::new(405).body(oci_error("UNSUPPORTED"));
    t.expect(Delete, &Digest::of(&first_manifest).to_string(), refused);
    t.expect(Put, &format!("/manifests/{first}"), Answer::new(201));
    t.expect(Get, CONFIG_PATH, Answer::new(404));
    // Round 2: both earlier candidates are buried; this one goes on alone.
    let buried = |nonce| Answer::new(200).body(tombstone::candidate_tombstone(nonce));
    t.expect(Get, TAGS, tags_answer(&[&first, &other]));
    t.expect(Get, &format!("/manifests/{first}"), buried(1));
    t.expect(Get, &format!("/manifests/{other}"), buried(0xabc));
    let (second, second_manifest) = candidate(b"cfg", 2);
    t.expect(Put, &format!("/manifests/{second}"), Answer::new(201));
    t.expect(Get, TAGS, tags_answer(&[&first, &other, &second]));
    t.expect(Get, &format!("/manifests/{first}"), buried(1));
    t.expect(Get, &format!("/manifests/{other}"), buried(0xabc));
    t.expect(
        Get,
        &format!("/manifests/{second}"),
        Answer::new(200).body(second_manifest),
    );
    t.expect(Get, CONFIG_PATH, Answer::new(404));
    t.expect(Put, CONFIG_PATH, Answer::new(201));
    // Known to refuse: buried without asking to delete.
    t.expect(Put, &format!("/manifests/{second}"), Answer::new(201));
    store(&t).create(b"cfg").unwrap();
    assert_eq!(t.remaining(), 0);
    assert_eq!(t.seen()[10].body, tombstone::candidate_tombstone(1));
    assert_eq!(
        t.seen().last().unwrap().body,
        tombstone::candidate_tombstone(2)
    );
}
