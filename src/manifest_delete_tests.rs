use super::*;
use crate::http::Method::{Delete, Get, Put};
use crate::location::Location;
use crate::testing::{oci_error, Answer, FakeClock, Scripted};

const TAG: &str = "kloset-state-07";
const MANIFEST: &[u8] = br#"{"schemaVersion":2,"annotations":{"n":"1"}}"#;

fn registry(t: &Scripted) -> Registry {
    let location = Location::parse("oci://127.0.0.1:5000/backups/laptop", None).unwrap();
    Registry::new(t.boxed(), location)
}

fn delete(registry: &Registry, clock: &FakeClock) -> Result<Deletion> {
    delete_tagged_manifest(registry, clock, TAG, MANIFEST)
}

fn by_digest() -> String {
    format!("/manifests/{}", Digest::of(MANIFEST))
}

fn by_tag() -> String {
    format!("/manifests/{TAG}")
}

fn unknown() -> Answer {
    Answer::new(404).body(oci_error("MANIFEST_UNKNOWN"))
}

/// distribution 3, most of the time: the delete by digest took the tag, whose delete finds
/// nothing.
#[test]
fn a_registry_that_untags_costs_one_tag_delete() {
    let t = Scripted::default();
    t.expect(Delete, &by_digest(), Answer::new(202));
    t.expect(Delete, &by_tag(), unknown());
    let done = delete(&registry(&t), &FakeClock::default()).unwrap();
    assert_eq!(done, Deletion::Done);
    assert_eq!(t.remaining(), 0);
}

/// go-containerregistry, or distribution 3's folder race: the tag survives the delete by
/// digest and is deleted by tag.
#[test]
fn a_tag_that_survives_is_deleted() {
    let t = Scripted::default();
    t.expect(Delete, &by_digest(), Answer::new(202));
    t.expect(Delete, &by_tag(), Answer::new(202));
    delete(&registry(&t), &FakeClock::default()).unwrap();
    assert_eq!(t.remaining(), 0);
    assert!(t.seen()[1].head.url.ends_with(&by_tag()));
}

/// distribution 2.8 refuses tag deletes: the first refusal is remembered, and the tag is
/// read instead, then and on every later delete.
#[test]
fn a_registry_that_refuses_tag_deletes_is_asked_once() {
    let t = Scripted::default();
    let r = registry(&t);
    t.expect(Delete, &by_digest(), Answer::new(202));
    t.expect(
        Delete,
        &by_tag(),
        Answer::new(400).body(oci_error("DIGEST_INVALID")),
    );
    t.expect(Get, &by_tag(), unknown());
    delete(&r, &FakeClock::default()).unwrap();
    t.expect(Delete, &by_digest(), Answer::new(202));
    t.expect(Get, &by_tag(), unknown());
    delete(&r, &FakeClock::default()).unwrap();
    assert_eq!(t.remaining(), 0);
    // A tag put again after the delete names another manifest: the delete is done.
    t.expect(Delete, &by_digest(), Answer::new(202));
    t.expect(
        Get,
        &by_tag(),
        Answer::new(200).body(&br#"{"schemaVersion":2}"#[..]),
    );
    delete(&r, &FakeClock::default()).unwrap();
    assert_eq!(t.remaining(), 0);
}

/// A registry that keeps the tag and deletes no tags would leave an object that reads back.
#[test]
fn a_kept_tag_that_cannot_be_deleted_is_unsupported() {
    let t = Scripted::default();
    t.expect(Delete, &by_digest(), Answer::new(202));
    t.expect(
        Delete,
        &by_tag(),
        Answer::new(405).body(oci_error("UNSUPPORTED")),
    );
    t.expect(Get, &by_tag(), Answer::new(200).body(MANIFEST));
    let e = delete(&registry(&t), &FakeClock::default()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert!(e.message.contains("kept tag"), "{e}");
    assert_eq!(t.remaining(), 0);
}

/// distribution 2.8's half-done delete (its untag failed, the DELETE sent again found the
/// manifest gone and the tag kept): the manifest is put back and deleted again.
#[test]
fn a_delete_answered_not_found_is_finished() {
    let t = Scripted::default();
    let clock = FakeClock::default();
    t.expect(Delete, &by_digest(), unknown());
    t.expect(Put, &by_tag(), Answer::new(201));
    t.expect(Delete, &by_digest(), Answer::new(202));
    t.expect(Delete, &by_tag(), unknown());
    delete(&registry(&t), &clock).unwrap();
    assert_eq!(t.remaining(), 0);
    assert_eq!(t.seen()[1].body, MANIFEST, "the same manifest is put back");
    assert_eq!(*clock.sleeps.borrow(), [Duration::from_millis(15)]);
}

/// A manifest that stays gone, put back or not, ends in a bounded number of requests.
#[test]
fn a_delete_that_keeps_finding_nothing_gives_up() {
    let t = Scripted::default();
    let clock = FakeClock::default();
    for _ in 0..REPAIRS {
        t.expect(Delete, &by_digest(), unknown());
        t.expect(Put, &by_tag(), Answer::new(201));
    }
    t.expect(Delete, &by_digest(), unknown());
    let e = delete(&registry(&t), &clock).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    assert!(e.message.contains("not-found 4 times"), "{e}");
    assert_eq!(t.remaining(), 0);
    let waited: Duration = clock.sleeps.borrow().iter().sum();
    assert_eq!(waited, Duration::from_millis(15 + 60 + 240));
}

/// Docker Hub, GHCR: the refusal is remembered for the tombstones to take over.
#[test]
fn a_refused_delete_is_reported_and_remembered() {
    let t = Scripted::default();
    t.expect(
        Delete,
        &by_digest(),
        Answer::new(405).body(oci_error("UNSUPPORTED")),
    );
    let r = registry(&t);
    assert_eq!(
        delete(&r, &FakeClock::default()).unwrap(),
        Deletion::Refused
    );
    assert_eq!(t.seen().len(), 1);
    assert!(r.refuses_deletes.get());
}
