//! The store against scripted registry answers, especially those a real registry won't give.

mod catalog;
mod creates;
mod faults;
mod reads;
mod tombstones;
mod uploads;
mod writes;

pub(super) use crate::blob_read::ByteRange;
pub(super) use crate::digest::Digest;
pub(super) use crate::error::ErrorKind;
pub(super) use crate::http::Method::{Delete, Get, Head, Patch, Post, Put};
pub(super) use crate::layout::{self, BlobRef, Kind, Mac, CONFIG_TAG};
pub(super) use crate::store::Store;
pub(super) use crate::testing::{oci_error, Answer, Scripted};
pub(super) use crate::upload::STREAM_THRESHOLD;

pub(super) const LOC: &str = "oci://127.0.0.1:5000/backups/laptop";
pub(super) const MAC: Mac = Mac([7; 32]);

pub(super) fn store(t: &Scripted) -> Store {
    store_and_clock(t).0
}

/// A store and the clock it waits on.
pub(super) fn store_and_clock(t: &Scripted) -> (Store, std::rc::Rc<crate::testing::FakeClock>) {
    let clock = std::rc::Rc::new(crate::testing::FakeClock::default());
    let store = Store::connect(
        t.boxed(),
        clock.clone(),
        LOC,
        &crate::options::Options::default(),
    )
    .unwrap();
    (store, clock)
}

/// A store at an https registry (a host that is not loopback).
pub(super) fn https_store(t: &Scripted) -> Store {
    let clock = std::rc::Rc::new(crate::testing::FakeClock::default());
    let at = "oci://registry.example/backups/laptop";
    Store::connect(t.boxed(), clock, at, &crate::options::Options::default()).unwrap()
}

pub(super) fn blob_of(bytes: &[u8]) -> BlobRef {
    BlobRef {
        digest: Digest::of(bytes),
        size: bytes.len() as u64,
    }
}

pub(super) fn manifest_answer(kind: Kind, mac: &Mac, bytes: &[u8]) -> Answer {
    Answer::new(200).body(layout::object_manifest(kind, mac, blob_of(bytes)))
}

pub(super) fn tag_path(kind: Kind, mac: &Mac) -> String {
    format!("/manifests/{}", layout::tag(kind, mac))
}

pub(super) fn read_all(
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
pub(super) fn get_with(
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
