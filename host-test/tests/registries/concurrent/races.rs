//! Races between writers and readers of the same objects: lock re-puts against reads, puts
//! against deletes, and readers walking a store while it is written.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use kloset_oci_host::{ByteRange, ErrorKind, Kind, Mac, Store};

use super::Tally;
use crate::common::data::XorShift;
use crate::suite::Fixture;

/// Re-puts of one lock in `lock_reputs_race_reads`.
const LOCK_REPUTS: usize = 40;
const READERS: usize = 2;
/// Reads a reader makes at most, whatever the writer's pace.
const READS_MAX: usize = 2_000;
/// Rounds of `puts_race_deletes`: half re-put an existing lock, half put a new packfile.
const DELETE_ROUNDS: usize = 24;
/// The delete of a round starts up to this long after its put.
const DELETE_DELAY_MAX_MS: u64 = 40;
/// Packfiles written under the readers of `readers_during_writes`.
const WRITTEN_UNDER_READERS: usize = 12;
/// Walks (list, then read every listed object) a reader makes at most.
const WALKS_MAX: usize = 400;

/// One writer re-puts a lock with two byte strings in turn while readers read it: every read
/// is one of the two, whole.
pub async fn lock_reputs_race_reads(fx: &Fixture) {
    let location = fx.location();
    let mut writer = fx.created_store(&location).await;
    let mut rng = XorShift::new(0x10C4);
    let mac = rng.mac();
    let versions = Arc::new([rng.bytes(1000), rng.bytes(3000)]);
    let tally = Tally::default();
    if let Err(e) = writer.put_bytes(Kind::Lock, &mac, &versions[0]).await {
        panic!("the first put of the lock: {e}");
    }
    let done = Arc::new(AtomicBool::new(false));
    let mut readers = tokio::task::JoinSet::new();
    for _ in 0..READERS {
        let mut store = fx.connect(&location).await;
        let (versions, done, tally) = (versions.clone(), done.clone(), tally.clone());
        readers.spawn(async move {
            let mut last = None;
            for _ in 0..READS_MAX {
                if done.load(Ordering::Acquire) {
                    break;
                }
                match store.get_bytes(Kind::Lock, &mac, None).await {
                    Ok(got) => match versions.iter().position(|v| *v == got) {
                        Some(i) => {
                            tally.count("reads");
                            if last.is_some_and(|l| l != i) {
                                tally.count("changes seen");
                            }
                            last = Some(i);
                        }
                        None => {
                            tally.fail(format!("a read of {} bytes, neither version", got.len()))
                        }
                    },
                    Err(e) => tally.fail(format!("get lock: {e}")),
                }
            }
        });
    }
    for i in 1..=LOCK_REPUTS {
        match writer.put_bytes(Kind::Lock, &mac, &versions[i % 2]).await {
            Ok(_) => tally.count("re-puts"),
            Err(e) => tally.fail(format!("re-put lock: {e}")),
        }
    }
    done.store(true, Ordering::Release);
    while let Some(joined) = readers.join_next().await {
        joined.expect("a reader panicked");
    }
    tally.add("readers", READERS as u64);
    if tally.get("reads") == 0 {
        tally.fail("no reader read the lock while it was re-put".into());
    }
    tally.finish(fx.setup.name, fx.case());
}

/// A put and a delete of the same object at once, from two stores: afterwards the object is
/// whole (the bytes of that put) or absent, and `list` agrees with `get`.
pub async fn puts_race_deletes(fx: &Fixture) {
    let location = fx.location();
    let mut putter = fx.created_store(&location).await;
    let mut deleter = fx.connect(&location).await;
    let mut rng = XorShift::new(0xDE1E);
    let tally = Tally::default();
    let mut outcomes = Vec::new();
    for round in 0..DELETE_ROUNDS {
        let mac = rng.mac();
        let len = rng.between(1, 64 << 10) as usize;
        let bytes = rng.bytes(len);
        // Even rounds: a lock refreshed while the host that holds it deletes it (the end of a
        // backup). Odd rounds: a new packfile deleted while it is put.
        let kind = if round % 2 == 0 {
            Kind::Lock
        } else {
            Kind::Packfile
        };
        if kind == Kind::Lock {
            let old = rng.bytes(len / 2 + 1);
            if let Err(e) = putter.put_bytes(kind, &mac, &old).await {
                tally.fail(format!("put the lock before the race: {e}"));
            }
        }
        // The delete starts at some point of the put's requests (its upload, or its tag).
        let delay = std::time::Duration::from_millis(rng.between(0, DELETE_DELAY_MAX_MS));
        let (put, delete) = tokio::join!(putter.put_bytes(kind, &mac, &bytes), async {
            tokio::time::sleep(delay).await;
            deleter.delete(kind, &mac).await
        });
        match put {
            Ok(_) => tally.count("puts"),
            Err(e) => tally.fail(format!("put {kind} racing a delete: {e}")),
        }
        match delete {
            Ok(()) => tally.count("deletes done"),
            Err(e) if e.kind == ErrorKind::NotFound => tally.count("deletes finding nothing"),
            Err(e) => tally.fail(format!("delete {kind} racing a put: {e}")),
        }
        outcomes.push((kind, mac, bytes));
    }
    let mut listed = BTreeMap::new();
    for kind in [Kind::Lock, Kind::Packfile] {
        match deleter.list(kind).await {
            Ok(macs) => {
                listed.insert(kind, macs.into_iter().collect::<BTreeSet<Mac>>());
            }
            Err(e) => tally.fail(format!("list {kind}: {e}")),
        }
    }
    for (kind, mac, bytes) in outcomes {
        let is_listed = listed.get(&kind).is_some_and(|macs| macs.contains(&mac));
        match deleter.get_bytes(kind, &mac, None).await {
            Ok(got) if got == bytes && is_listed => tally.count("whole afterwards"),
            Ok(got) if got == bytes => tally.fail(format!("a whole {kind} that list omits")),
            Ok(got) => tally.fail(format!(
                "{kind} reads {} bytes, not the {} of the last put",
                got.len(),
                bytes.len()
            )),
            Err(e) if e.kind == ErrorKind::NotFound && !is_listed => {
                tally.count("absent afterwards")
            }
            Err(e) if e.kind == ErrorKind::NotFound => {
                tally.fail(format!("list shows a {kind} that get does not find"))
            }
            Err(e) => tally.fail(format!("get {kind} after the race: {e}")),
        }
    }
    tally.finish(fx.setup.name, fx.case());
}

/// Readers list and read a store while a writer puts packfiles of up to 3 MiB: whatever is
/// listed reads back whole, by whole read and by range.
pub async fn readers_during_writes(fx: &Fixture) {
    let location = fx.location();
    let mut writer = fx.created_store(&location).await;
    let mut rng = XorShift::new(0x4EAD);
    let objects: Arc<BTreeMap<Mac, Vec<u8>>> = Arc::new(
        (0..WRITTEN_UNDER_READERS)
            .map(|_| {
                let len = rng.between(256 << 10, 3 << 20) as usize;
                (rng.mac(), rng.bytes(len))
            })
            .collect(),
    );
    let tally = Tally::default();
    let done = Arc::new(AtomicBool::new(false));
    let stored = Arc::new(Mutex::new(BTreeSet::new()));
    let mut readers = tokio::task::JoinSet::new();
    for _ in 0..READERS {
        let store = fx.connect(&location).await;
        let (objects, done, tally) = (objects.clone(), done.clone(), tally.clone());
        readers.spawn(read_while_written(
            store,
            objects,
            stored.clone(),
            done,
            tally,
        ));
    }
    for (mac, bytes) in objects.iter() {
        match writer.put_bytes(Kind::Packfile, mac, bytes).await {
            Ok(_) => {
                stored.lock().unwrap().insert(*mac);
                tally.count("puts");
            }
            Err(e) => tally.fail(format!("put: {e}")),
        }
    }
    done.store(true, Ordering::Release);
    while let Some(joined) = readers.join_next().await {
        joined.expect("a reader panicked");
    }
    tally.add("readers", READERS as u64);
    tally.finish(fx.setup.name, fx.case());
}

/// Walks the store until the writer is done (and once more after), checking every listed
/// object against what was put. An object whose put has not returned yet may be listed a
/// moment before it can be read (distribution lists a tag once its folder exists, before its
/// link is written): `not-found` is counted for it, and is a failure for any other.
async fn read_while_written(
    mut store: Store,
    objects: Arc<BTreeMap<Mac, Vec<u8>>>,
    stored: Arc<Mutex<BTreeSet<Mac>>>,
    done: Arc<AtomicBool>,
    tally: Tally,
) {
    for _ in 0..WALKS_MAX {
        let last_walk = done.load(Ordering::Acquire);
        let listed = match store.list(Kind::Packfile).await {
            Ok(listed) => listed,
            Err(e) => return tally.fail(format!("list during writes: {e}")),
        };
        tally.count("walks");
        for mac in listed {
            let Some(bytes) = objects.get(&mac) else {
                tally.fail("list shows a packfile nobody put".into());
                continue;
            };
            let put_returned = stored.lock().unwrap().contains(&mac);
            match store.get_bytes(Kind::Packfile, &mac, None).await {
                Ok(got) if got == *bytes => tally.count("whole reads"),
                Err(e) if e.kind == ErrorKind::NotFound && !put_returned => {
                    tally.count("listed before readable, put finishing");
                    continue;
                }
                Ok(got) => tally.fail(format!("a read of {} bytes of {}", got.len(), bytes.len())),
                Err(e) => tally.fail(format!("get a listed packfile: {e}")),
            }
            let tail = ByteRange::new(bytes.len() as u64 - 1000, 1000);
            match store.get_bytes(Kind::Packfile, &mac, Some(tail)).await {
                Ok(got) if got == bytes[bytes.len() - 1000..] => tally.count("range reads"),
                Ok(got) => tally.fail(format!("a range read of {} wrong bytes", got.len())),
                Err(e) => tally.fail(format!("get a range of a listed packfile: {e}")),
            }
        }
        if last_walk {
            return;
        }
    }
}
