//! Many writers on one store at once: stores of one host in one process, and separate
//! `kloset-oci` processes. Half of the objects are twins (identical bytes under different
//! MACs), which make distribution 2.8 rewrite one blob link while other puts read it
//! (src/manifest_put.rs).

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use kloset_oci_host::{Kind, Mac, Store};

use super::Tally;
use crate::common::data::XorShift;
use crate::suite::Fixture;

const WRITERS: usize = 4;
/// Objects each writer puts in one process; half of them twins.
const PUTS_IN_PROCESS: usize = 30;
/// Objects each writer puts as processes (one process a put); half of them twins.
const PUTS_AS_PROCESSES: usize = 16;

const BIN: &str = env!("CARGO_BIN_EXE_kloset-oci");

/// The objects writer `w` puts: `(MAC, bytes)`, every odd one a twin of `twin`.
fn objects_of(w: usize, count: usize, twin: &[u8]) -> Vec<(Mac, Vec<u8>)> {
    let mut rng = XorShift::new(0xC0C0 + w as u64);
    (0..count)
        .map(|i| {
            let mac = rng.mac();
            let bytes = if i % 2 == 1 {
                twin.to_vec()
            } else {
                let len = rng.between(1, 48 << 10) as usize;
                rng.bytes(len)
            };
            (mac, bytes)
        })
        .collect()
}

/// Every object of `expected` is listed and reads back whole; nothing else is listed.
async fn check_all(store: &mut Store, expected: &BTreeMap<Mac, Vec<u8>>, tally: &Tally) {
    match store.list(Kind::Packfile).await {
        Ok(listed) => {
            let listed: Vec<Mac> = listed;
            let wanted: Vec<Mac> = expected.keys().copied().collect();
            let mut sorted = listed.clone();
            sorted.sort();
            if sorted != wanted {
                tally.fail(format!(
                    "list shows {} packfiles, {} were put",
                    listed.len(),
                    wanted.len()
                ));
            }
        }
        Err(e) => tally.fail(format!("list: {e}")),
    }
    for (mac, bytes) in expected {
        match store.get_bytes(Kind::Packfile, mac, None).await {
            Ok(got) if got == *bytes => tally.count("objects read back"),
            Ok(got) => tally.fail(format!(
                "get: {} bytes, not the {} put",
                got.len(),
                bytes.len()
            )),
            Err(e) => tally.fail(format!("get: {e}")),
        }
    }
}

/// `WRITERS` stores of one host (one component, one connection pool) put at once.
pub async fn writers_in_one_process(fx: &Fixture) {
    let location = fx.location();
    let mut reader = fx.created_store(&location).await;
    let twin = XorShift::new(0x7117).bytes(20 << 10);
    let tally = Tally::default();
    let mut tasks = tokio::task::JoinSet::new();
    let mut expected = BTreeMap::new();
    for w in 0..WRITERS {
        let objects = objects_of(w, PUTS_IN_PROCESS, &twin);
        expected.extend(objects.iter().cloned());
        let mut store = fx.connect(&location).await;
        let tally = tally.clone();
        tasks.spawn(async move {
            for (mac, bytes) in objects {
                match store.put_bytes(Kind::Packfile, &mac, &bytes).await {
                    Ok(n) if n == bytes.len() as u64 => tally.count("puts"),
                    Ok(n) => tally.fail(format!("put: {n} bytes written, not {}", bytes.len())),
                    Err(e) => tally.fail(format!("put: {e}")),
                }
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("a writer task panicked");
    }
    tally.add("writers", WRITERS as u64);
    check_all(&mut reader, &expected, &tally).await;
    tally.finish(fx.setup.name, fx.case());
}

/// `WRITERS` threads each run `kloset-oci put` processes one after another, all at once.
pub async fn writers_in_separate_processes(fx: &Fixture) {
    let location = fx.location();
    let mut reader = fx.created_store(&location).await;
    let twin = XorShift::new(0x7118).bytes(20 << 10);
    let tally = Tally::default();
    let options: Vec<String> = fx
        .options()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mut expected = BTreeMap::new();
    let mut threads = Vec::new();
    for w in 0..WRITERS {
        let objects = objects_of(WRITERS + w, PUTS_AS_PROCESSES, &twin);
        expected.extend(objects.iter().cloned());
        let (tally, location, options) = (tally.clone(), location.clone(), options.clone());
        threads.push(tokio::task::spawn_blocking(move || {
            for (mac, bytes) in objects {
                match put_process(&location, &options, &mac, &bytes) {
                    Ok(()) => tally.count("processes"),
                    Err(e) => tally.fail(e),
                }
            }
        }));
    }
    for thread in threads {
        thread.await.expect("a writer thread panicked");
    }
    tally.add("writers", WRITERS as u64);
    check_all(&mut reader, &expected, &tally).await;
    tally.finish(fx.setup.name, fx.case());
}

/// One `kloset-oci put packfile MAC` process, the bytes on its stdin.
fn put_process(location: &str, options: &[String], mac: &Mac, bytes: &[u8]) -> Result<(), String> {
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    let mut command = Command::new(BIN);
    command.arg("--location").arg(location);
    for option in options {
        command.arg("-o").arg(option);
    }
    let mut child = command
        .args(["put", "packfile", &hex])
        .env_remove("KLOSET_OCI_LOCATION")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("run kloset-oci: {e}"))?;
    let mut input = child.stdin.take().expect("a piped stdin");
    input
        .write_all(bytes)
        .map_err(|e| format!("write kloset-oci's stdin: {e}"))?;
    drop(input);
    let out = child
        .wait_with_output()
        .map_err(|e| format!("wait for kloset-oci: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "kloset-oci put ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
