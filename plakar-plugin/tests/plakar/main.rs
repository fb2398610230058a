//! Real Plakar (v1.1.4) on a real registry through the plugin, installed from its package:
//! the commands Plakar's users type, checked against the registry's own view.

mod harness;
#[path = "../../../host-test/tests/common/htpasswd.rs"]
mod htpasswd;
mod registry_view;
mod tree;

use std::time::{Duration, Instant};

use base64::Engine as _;
use harness::{snapshot_ids, Plakar};
use kloset_oci_host::testkit::local_registry::LocalRegistry;

const MIB: usize = 1 << 20;

/// create, backup, ls, cat, restore (compared byte for byte), check; a second backup that
/// stores few new packfiles; rm and maintenance deleting what only the first snapshot used;
/// the registry's garbage collection changing nothing.
#[test]
fn backup_restore_check_and_maintenance_on_a_registry() {
    let mut registry = LocalRegistry::start_with_config("").expect("registry");
    let mut plakar = Plakar::new();
    plakar.set_env("PLAKAR_GRACEPERIOD", "1s");
    let repository = "plakar/helloworld";
    let location = format!("oci://{}/{repository}", registry.authority());
    let at = |args: &[&str]| {
        let mut all = vec!["at", location.as_str()];
        all.extend_from_slice(args);
        all.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |args: &[&str]| plakar.ok(&at(args).iter().map(String::as_str).collect::<Vec<_>>());

    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("tree");
    // The large file's 200 MiB fill at least one packfile (64 MiB) of its own: Plakar packs
    // with one data worker here (-concurrency 1), so a file's chunks are contiguous.
    tree::make(&source, 200 * MIB);
    let source_arg = source.to_str().unwrap();

    run(&["create"]);
    let again = plakar.run(
        &at(&["create"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(
        !again.success,
        "a second create must fail: {}",
        again.text()
    );

    let backup = || {
        plakar.ok(&[
            "-concurrency",
            "1",
            "-silent",
            "at",
            &location,
            "backup",
            source_arg,
        ])
    };
    backup();
    let ls = run(&["ls"]);
    let first = snapshot_ids(&ls);
    assert_eq!(first.len(), 1, "{ls}");
    let first = first[0].clone();
    let packfiles_1 = registry_view::packfiles(&registry.authority(), repository);
    assert!(!packfiles_1.is_empty(), "no packfile in the registry");
    println!(
        "first backup: {} packfiles in the registry",
        packfiles_1.len()
    );

    let file = source.join("sources/src/lib.rs");
    let cat = run(&["cat", &format!("{first}:{}", file.display())]);
    assert_eq!(cat.as_bytes(), std::fs::read(&file).unwrap(), "cat");

    let restored = work.path().join("restored-1");
    run(&["restore", "-to", restored.to_str().unwrap(), &first]);
    let differences = tree::differences(&source, &restored);
    assert!(differences.is_empty(), "restore differs: {differences:#?}");
    let check = run(&["check"]);
    assert!(!check.contains("KO"), "{check}");

    // A second backup after a few changes stores only a few packfiles. The large file is
    // replaced by a small one: its old bytes fill packfiles that only the first snapshot uses.
    std::fs::write(
        source.join("random/r0.bin"),
        tree::random_bytes(999, 50_000),
    )
    .unwrap();
    std::fs::write(source.join("large/big.bin"), tree::random_bytes(998, MIB)).unwrap();
    std::fs::write(
        source.join("sources/new-file.txt"),
        b"new in the second backup\n",
    )
    .unwrap();
    std::fs::remove_file(source.join("twins/a.bin")).unwrap();
    backup();
    let packfiles_2 = registry_view::packfiles(&registry.authority(), repository);
    let new = packfiles_2
        .iter()
        .filter(|p| !packfiles_1.contains(p))
        .count();
    println!(
        "second backup: {new} new packfiles ({} in all)",
        packfiles_2.len()
    );
    assert!(
        (1..=4).contains(&new),
        "{new} new packfiles for a few changed files"
    );
    let ids = snapshot_ids(&run(&["ls"]));
    assert_eq!(ids.len(), 2, "{ids:?}");
    let second = ids.into_iter().find(|id| *id != first).unwrap();

    // rm the first snapshot, then maintenance twice past the grace period: what only the
    // first snapshot used is deleted from the registry.
    run(&["rm", "-apply", &first]);
    println!("maintenance: {}", run(&["maintenance"]).trim());
    std::thread::sleep(Duration::from_secs(2));
    println!("maintenance: {}", run(&["maintenance"]).trim());
    let packfiles_3 = registry_view::packfiles(&registry.authority(), repository);
    let deleted = packfiles_2
        .iter()
        .filter(|p| !packfiles_3.contains(p))
        .count();
    println!(
        "after rm and maintenance: {deleted} packfiles deleted, {} left",
        packfiles_3.len()
    );
    assert!(deleted >= 1, "maintenance deleted nothing");
    assert!(
        packfiles_2
            .iter()
            .filter(|p| !packfiles_3.contains(p))
            .all(|p| packfiles_1.contains(p)),
        "maintenance deleted a packfile of the second backup"
    );
    assert!(
        packfiles_3.iter().all(|p| packfiles_2.contains(p)),
        "maintenance added packfiles"
    );
    let ids = snapshot_ids(&run(&["ls"]));
    assert_eq!(ids, vec![second.clone()]);

    // The registry's garbage collection (stopped) takes the untagged blobs and nothing else.
    let blobs_before = registry.blob_count();
    registry.stop();
    registry.garbage_collect().expect("garbage-collect");
    registry.start().expect("restart the registry");
    println!(
        "garbage collection: {} blobs before, {} after",
        blobs_before,
        registry.blob_count()
    );
    assert!(
        registry.blob_count() < blobs_before,
        "the deleted packfiles' blobs stay"
    );

    let restored = work.path().join("restored-2");
    run(&["restore", "-to", restored.to_str().unwrap(), &second]);
    let differences = tree::differences(&source, &restored);
    assert!(
        differences.is_empty(),
        "restore after maintenance and GC differs: {differences:#?}"
    );
    let check = run(&["check"]);
    assert!(!check.contains("KO"), "{check}");
}

/// The registry stopped mid-backup: a clear error, and a later backup succeeds (no stale lock
/// holds it). A missing store and an unreachable registry: one clear message, non-zero exit.
#[test]
fn a_registry_that_goes_away_mid_backup_and_other_failures() {
    let mut registry = LocalRegistry::start_with_config("").expect("registry");
    let plakar = Plakar::new();
    let location = format!("oci://{}/plakar/faults", registry.authority());
    plakar.ok(&["at", &location, "create"]);

    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("tree");
    for i in 0..8 {
        let path = source.join(format!("big-{i}.bin"));
        std::fs::create_dir_all(&source).unwrap();
        std::fs::write(path, tree::random_bytes(300 + i, 40 * MIB)).unwrap();
    }
    let blobs_before = registry.blob_count();
    let backup = plakar.spawn(&["at", &location, "backup", source.to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(120);
    // Past the lock (a blob and a manifest) and into the packfiles.
    while registry.blob_count() <= blobs_before + 4 {
        assert!(
            Instant::now() < deadline,
            "the backup stored nothing in 120 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    registry.stop();
    let failed = backup.wait();
    assert!(
        !failed.success,
        "a backup whose registry stopped succeeded: {}",
        failed.text()
    );
    println!("backup with the registry stopped: {}", failed.stderr.trim());
    assert!(failed.stderr.contains("kloset-oci"), "{}", failed.text());

    registry.start().expect("restart the registry");
    let retried = plakar.run(&["at", &location, "backup", source.to_str().unwrap()]);
    assert!(
        retried.success,
        "the backup after the registry came back: {}",
        retried.text()
    );
    let ids = snapshot_ids(&plakar.ok(&["at", &location, "ls"]));
    assert_eq!(ids.len(), 1, "{ids:?}");
    let check = plakar.ok(&["at", &location, "check"]);
    assert!(!check.contains("KO"), "{check}");

    // A store that does not exist.
    let missing = format!("oci://{}/plakar/never-created", registry.authority());
    let out = plakar.run(&["at", &missing, "ls"]);
    assert!(!out.success, "{}", out.text());
    println!("missing store: {}", out.stderr.trim());
    assert!(out.stderr.contains("create"), "{}", out.text());

    // A registry nobody answers for.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let unreachable = format!("oci://127.0.0.1:{port}/plakar/nowhere");
    let out = plakar.run(&["at", &unreachable, "ls"]);
    assert!(!out.success, "{}", out.text());
    println!("unreachable registry: {}", out.stderr.trim());
    assert!(out.stderr.contains("try again"), "{}", out.text());
}

/// Credentials from Plakar's store config (`plakar store add NAME LOCATION username=...
/// password=...`) on a registry with Basic auth: the right password works, a wrong one is
/// one clear message, and neither password is ever printed.
#[test]
fn credentials_from_the_store_config() {
    const RIGHT: &str = "r1ght-Passw0rd-for-plakar";
    const WRONG: &str = "wr0ng-Passw0rd-for-plakar";
    let auth_dir = tempfile::tempdir().unwrap();
    let htpasswd_file = auth_dir.path().join("htpasswd");
    htpasswd::write(&htpasswd_file, &[("alice", RIGHT)]);
    let registry = LocalRegistry::start_with_config(&format!(
        "auth:\n  htpasswd:\n    realm: kloset-oci\n    path: {}\n",
        htpasswd_file.display()
    ))
    .expect("registry with htpasswd");
    let plakar = Plakar::new();
    let location = format!("oci://{}/plakar/auth", registry.authority());
    let password = |p: &str| format!("password={p}");
    plakar.ok(&[
        "store",
        "add",
        "good",
        &location,
        "username=alice",
        &password(RIGHT),
    ]);
    plakar.ok(&[
        "store",
        "add",
        "bad",
        &location,
        "username=alice",
        &password(WRONG),
    ]);
    plakar.ok(&["store", "add", "anonymous", &location]);

    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("file.txt"), b"backed up with a password\n").unwrap();
    let mut printed = String::new();
    for args in [
        &["at", "@good", "create"][..],
        &["at", "@good", "backup", work.path().to_str().unwrap()],
        &["at", "@good", "check"],
    ] {
        let out = plakar.run(args);
        assert!(out.success, "plakar {args:?}: {}", out.text());
        printed.push_str(&out.text());
    }
    for store in ["@bad", "@anonymous"] {
        let out = plakar.run(&["at", store, "ls"]);
        assert!(!out.success, "{}", out.text());
        println!("{store}: {}", out.stderr.trim());
        assert!(out.stderr.contains("unauthorized"), "{}", out.text());
        printed.push_str(&out.text());
    }
    // Docker's config.json (docker login) serves a store config without credentials.
    let docker = plakar.home.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("alice:{RIGHT}"));
    let entry = format!(
        r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
        registry.authority()
    );
    std::fs::write(docker.join("config.json"), entry).unwrap();
    let out = plakar.run(&["at", "@anonymous", "ls"]);
    assert!(out.success, "with Docker's config.json: {}", out.text());
    assert_eq!(snapshot_ids(&out.stdout).len(), 1, "{}", out.text());
    printed.push_str(&out.text());
    assert!(
        !printed.contains(RIGHT) && !printed.contains(WRONG),
        "a password was printed"
    );
}
