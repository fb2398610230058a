//! Concurrent writers and readers through the plugin, as several Plakar hosts on one store
//! make them: two plugins put packfiles at once (half of them twins) while a third lists and
//! reads them; one plugin re-puts a lock while another reads it. Counts are printed (run with
//! `--show-output`); any failure fails the test.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::calls::{get, list, put};
use crate::common::{bytes, mac, start, Plugin};
use kloset_oci_plakar::proto::*;

const LIMIT: Duration = Duration::from_secs(180);
/// Packfiles each writing plugin puts at once; every odd one is a twin.
const PUTS_EACH: u64 = 24;
const LOCK_REPUTS: u64 = 30;
/// Reads (or walks) a reader makes at most.
const READS_MAX: usize = 1_000;

/// A second plugin on the store of `location` (another host).
async fn joined(location: &str) -> Plugin {
    let mut plugin = start().await;
    plugin
        .init(&[("location", location), ("concurrency", "4")])
        .await
        .expect("init");
    plugin
}

#[derive(Default)]
struct Counts {
    puts: u64,
    /// Objects whose put has returned.
    stored: std::collections::BTreeSet<Vec<u8>>,
    /// Listed before they could be read: their put was finishing (distribution lists a tag
    /// once its folder exists, before its link is written).
    listed_early: u64,
    walks: u64,
    whole_reads: u64,
    failures: Vec<String>,
}

#[tokio::test]
async fn concurrent_puts_from_two_hosts_while_a_third_reads() {
    let (first, location) = Plugin::created(&[("concurrency", "4")]).await;
    let second = joined(&location).await;
    let reader = joined(&location).await;
    let twin = bytes(0x7111, 300 << 10);
    let mut objects = BTreeMap::new();
    for seed in 0..2 * PUTS_EACH {
        let data = if seed % 2 == 1 {
            twin.clone()
        } else {
            bytes(seed, (64 << 10) + 4099 * seed as usize)
        };
        objects.insert(mac(0x1000 + seed), data);
    }
    let objects = Arc::new(objects);
    let counts = Arc::new(Mutex::new(Counts::default()));
    let done = Arc::new(AtomicBool::new(false));
    let walker = {
        let (mut client, objects, counts, done) = (
            reader.client.clone(),
            objects.clone(),
            counts.clone(),
            done.clone(),
        );
        tokio::spawn(async move {
            for _ in 0..READS_MAX {
                let last_walk = done.load(Ordering::Acquire);
                let listed = list(&mut client, StorageResource::Packfile).await;
                counts.lock().unwrap().walks += 1;
                for m in listed {
                    let put_returned = counts.lock().unwrap().stored.contains(&m);
                    let outcome = match objects.get(&m) {
                        None => Err("list shows a packfile nobody put".to_string()),
                        Some(want) => {
                            match get(&mut client, StorageResource::Packfile, &m, None).await {
                                Ok((got, _)) if got == *want => Ok(()),
                                Err(status)
                                    if status.code() == tonic::Code::NotFound && !put_returned =>
                                {
                                    counts.lock().unwrap().listed_early += 1;
                                    continue;
                                }
                                Ok((got, _)) => {
                                    Err(format!("read {} of {} bytes", got.len(), want.len()))
                                }
                                Err(status) => Err(format!("get a listed packfile: {status}")),
                            }
                        }
                    };
                    let mut counts = counts.lock().unwrap();
                    match outcome {
                        Ok(()) => counts.whole_reads += 1,
                        Err(e) => counts.failures.push(e),
                    }
                }
                if last_walk {
                    return;
                }
            }
        })
    };
    let mut puts = tokio::task::JoinSet::new();
    for (i, (m, data)) in objects.iter().enumerate() {
        let mut client = if i % 2 == 0 { &first } else { &second }.client.clone();
        let (m, data, counts) = (m.clone(), data.clone(), counts.clone());
        puts.spawn(async move {
            let result = put(&mut client, StorageResource::Packfile, &m, &data, 1 << 20).await;
            let mut counts = counts.lock().unwrap();
            match result {
                Ok(n) if n == data.len() as i64 => {
                    counts.puts += 1;
                    counts.stored.insert(m.clone());
                }
                Ok(n) => counts
                    .failures
                    .push(format!("put wrote {n} of {} bytes", data.len())),
                Err(status) => counts.failures.push(format!("put: {status}")),
            }
        });
    }
    tokio::time::timeout(LIMIT, puts.join_all())
        .await
        .expect("the puts finish");
    done.store(true, Ordering::Release);
    tokio::time::timeout(LIMIT, walker)
        .await
        .expect("the reader finishes")
        .expect("the reader does not panic");
    let mut client = reader.client.clone();
    let listed = list(&mut client, StorageResource::Packfile).await;
    let counts = counts.lock().unwrap();
    println!(
        "concurrency plugin: writers 2 plugins x 4 instances, puts {}, reader walks {}, \
         whole reads {}, listed before readable {}, listed afterwards {} of {}, failures {}",
        counts.puts,
        counts.walks,
        counts.whole_reads,
        counts.listed_early,
        listed.len(),
        objects.len(),
        counts.failures.len()
    );
    assert!(
        counts.failures.is_empty(),
        "{:?}",
        &counts.failures[..counts.failures.len().min(5)]
    );
    assert_eq!(listed, objects.keys().cloned().collect::<Vec<_>>());
}

#[tokio::test]
async fn concurrent_lock_reputs_read_whole_from_another_host() {
    let (mut writer, location) = Plugin::created(&[]).await;
    let reader = joined(&location).await;
    let lock = mac(0x10C);
    let versions = Arc::new([bytes(1, 900), bytes(2, 2100)]);
    put(
        &mut writer.client,
        StorageResource::Lock,
        &lock,
        &versions[0],
        1 << 20,
    )
    .await
    .expect("the first put of the lock");
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (mut client, lock, versions, done) = (
                reader.client.clone(),
                lock.clone(),
                versions.clone(),
                done.clone(),
            );
            tokio::spawn(async move {
                let (mut reads, mut failures) = (0u64, Vec::new());
                for _ in 0..READS_MAX {
                    if done.load(Ordering::Acquire) {
                        break;
                    }
                    match get(&mut client, StorageResource::Lock, &lock, None).await {
                        Ok((got, _)) if versions.contains(&got) => reads += 1,
                        Ok((got, _)) => {
                            failures.push(format!("read {} bytes, neither version", got.len()))
                        }
                        Err(status) => failures.push(format!("get lock: {status}")),
                    }
                }
                (reads, failures)
            })
        })
        .collect();
    let mut failures = Vec::new();
    for i in 1..=LOCK_REPUTS {
        let data = &versions[(i % 2) as usize];
        if let Err(status) = put(
            &mut writer.client,
            StorageResource::Lock,
            &lock,
            data,
            1 << 20,
        )
        .await
        {
            failures.push(format!("re-put lock: {status}"));
        }
    }
    done.store(true, Ordering::Release);
    let mut reads = 0;
    for reader in readers {
        let (n, mut more) = tokio::time::timeout(LIMIT, reader)
            .await
            .expect("the reader finishes")
            .expect("the reader does not panic");
        reads += n;
        failures.append(&mut more);
    }
    println!(
        "concurrency plugin: lock re-puts {LOCK_REPUTS}, reads by another host {reads}, failures {}",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{:?}",
        &failures[..failures.len().min(5)]
    );
    assert!(reads > 0, "no read happened while the lock was re-put");
}
