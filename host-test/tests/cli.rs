//! The `kloset-oci` command line against a local registry.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use common::data::XorShift;
use common::registry::Registry;

const BIN: &str = env!("CARGO_BIN_EXE_kloset-oci");

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::start_new)
}

fn fresh_location(test: &str) -> String {
    registry().fresh_location("cli", test)
}

fn hex(mac: &[u8; 32]) -> String {
    mac.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs the CLI with `--location` and `args`, feeding `stdin`.
fn run(location: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .arg("--location")
        .arg(location)
        .args(args)
        .env_remove("KLOSET_OCI_LOCATION")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kloset-oci");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("wait for kloset-oci")
}

/// Runs and requires success; returns stdout.
#[track_caller]
fn ok(location: &str, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let out = run(location, args, stdin);
    assert!(
        out.status.success(),
        "kloset-oci {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Requires exit status `code` and exactly one line on stderr; returns that line.
#[track_caller]
fn fails(location: &str, args: &[&str], code: i32) -> String {
    let out = run(location, args, b"");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "kloset-oci {args:?}: stderr {stderr:?}"
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "kloset-oci {args:?}: stderr is not one line: {stderr:?}"
    );
    assert!(stderr.starts_with("kloset-oci: "), "{stderr:?}");
    stderr.trim_end().to_string()
}

fn created(test: &str) -> String {
    let location = fresh_location(test);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, b"_KLOSET_cli-config").unwrap();
    ok(&location, &["create", config.to_str().unwrap()], b"");
    location
}

#[test]
fn create_from_file_then_open() {
    let location = created("create-file");
    assert_eq!(ok(&location, &["open"], b""), b"_KLOSET_cli-config");
    let line = fails(&location, &["create"], 1);
    assert!(line.contains("already exists"), "{line}");
}

#[test]
fn create_from_stdin() {
    let location = fresh_location("create-stdin");
    ok(&location, &["create"], b"_KLOSET_from-stdin");
    assert_eq!(ok(&location, &["open"], b""), b"_KLOSET_from-stdin");
}

#[test]
fn open_without_store_is_not_found() {
    let location = fresh_location("no-store");
    let line = fails(&location, &["open"], 2);
    assert!(line.contains("not found"), "{line}");
}

#[test]
fn put_get_list_delete() {
    let location = created("objects");
    let mut rng = XorShift::new(51);
    let bytes = rng.bytes(2 * 1024 * 1024 + 3);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("object");
    std::fs::write(&file, &bytes).unwrap();
    let macs: Vec<String> = (0..5).map(|_| hex(&rng.mac())).collect();

    // From a file, then from stdin; each prints the byte count.
    let out = ok(
        &location,
        &["put", "packfile", &macs[0], file.to_str().unwrap()],
        b"",
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("{}\n", bytes.len())
    );
    for (i, mac) in macs[1..].iter().enumerate() {
        let body = format!("object {i}");
        let out = ok(&location, &["put", "packfile", mac], body.as_bytes());
        assert_eq!(String::from_utf8(out).unwrap(), format!("{}\n", body.len()));
    }
    ok(&location, &["put", "state", &macs[0]], b"a state");

    // Sorted, lowercase, one per line; only that kind.
    let mut sorted = macs.clone();
    sorted.sort();
    let listing = String::from_utf8(ok(&location, &["list", "packfile"], b"")).unwrap();
    assert_eq!(
        listing,
        sorted.iter().map(|m| format!("{m}\n")).collect::<String>()
    );
    let states = String::from_utf8(ok(&location, &["list", "state"], b"")).unwrap();
    assert_eq!(states, format!("{}\n", macs[0]));
    assert_eq!(ok(&location, &["list", "lock"], b""), b"");

    // Whole and ranged gets; an uppercase MAC names the same object.
    assert!(ok(&location, &["get", "packfile", &macs[0]], b"") == bytes);
    let upper = macs[0].to_uppercase();
    let part = ok(
        &location,
        &[
            "get", "packfile", &upper, "--offset", "1048570", "--length", "100",
        ],
        b"",
    );
    assert!(part == bytes[1_048_570..1_048_670], "wrong range bytes");
    assert_eq!(ok(&location, &["get", "state", &macs[0]], b""), b"a state");

    // Delete one; it is gone, the others stay.
    ok(&location, &["delete", "packfile", &macs[1]], b"");
    let line = fails(&location, &["get", "packfile", &macs[1]], 2);
    assert!(
        line.contains("not found") && line.contains(&format!("packfile {}", macs[1])),
        "{line}"
    );
    let line = fails(&location, &["delete", "packfile", &macs[1]], 2);
    assert!(
        line.contains("not found") && line.contains(&macs[1]),
        "{line}"
    );
    let listing = String::from_utf8(ok(&location, &["list", "packfile"], b"")).unwrap();
    assert!(!listing.contains(&macs[1]));
    assert_eq!(listing.lines().count(), 4);
    assert_eq!(
        ok(&location, &["get", "packfile", &macs[2]], b""),
        b"object 1"
    );
}

#[test]
fn missing_object_exits_2_with_one_line() {
    let location = created("missing");
    let mac = hex(&XorShift::new(52).mac());
    let line = fails(&location, &["get", "packfile", &mac], 2);
    assert!(line.contains("not found"), "{line}");
    assert!(line.contains(&format!("packfile {mac}")), "{line}");
    let line = fails(
        &location,
        &["get", "lock", &mac, "--offset", "0", "--length", "1"],
        2,
    );
    assert!(line.contains(&format!("lock {mac}")), "{line}");
}

#[test]
fn out_of_range_exits_1() {
    let location = created("range");
    let mac = hex(&XorShift::new(53).mac());
    ok(&location, &["put", "state", &mac], b"0123456789");
    let line = fails(
        &location,
        &["get", "state", &mac, "--offset", "10", "--length", "1"],
        1,
    );
    assert!(line.contains("out of range"), "{line}");
}

#[test]
fn bad_arguments_exit_1() {
    let location = fresh_location("bad-args");
    let mac = hex(&XorShift::new(54).mac());
    for args in [
        vec!["get", "packfile", "abc"],
        vec!["get", "packfile", &mac[..63]],
        vec!["delete", "state", "zz"],
    ] {
        let line = fails(&location, &args, 1);
        assert!(line.contains("MAC"), "{args:?}: {line}");
    }
    for args in [
        vec!["get", "packfiles", &mac],
        vec!["list", "ecc"],
        vec!["put", "Lock", &mac],
    ] {
        let line = fails(&location, &args, 1);
        assert!(line.contains("kind"), "{args:?}: {line}");
    }
    // --offset and --length go together; usage errors are 1, not 2.
    fails(&location, &["get", "packfile", &mac, "--offset", "3"], 1);
    fails(&location, &["get", "packfile", &mac, "--length", "3"], 1);
    fails(&location, &["frobnicate"], 1);
    fails(&location, &[], 1);
    // An option without '=' is refused without echoing it.
    let line = fails(&location, &["-o", "hunter2", "ping"], 1);
    assert!(!line.contains("hunter2"), "{line}");
}

#[test]
fn unknown_option_value_is_not_echoed() {
    let location = fresh_location("options");
    let line = fails(&location, &["-o", "password_typo=hunter2", "ping"], 1);
    assert!(line.contains("invalid config"), "{line}");
    assert!(!line.contains("hunter2"), "{line}");
}

#[test]
fn mode_size_ping() {
    let location = created("describe");
    assert_eq!(ok(&location, &["mode"], b""), b"read,write\n");
    assert_eq!(ok(&location, &["size"], b""), b"-1\n");
    ok(&location, &["ping"], b"");
    assert_eq!(
        ok(&location, &["-o", "plain_http=true", "mode"], b""),
        b"read,write\n"
    );
}

#[test]
fn location_from_the_environment() {
    let location = created("env");
    let out = Command::new(BIN)
        .arg("open")
        .env("KLOSET_OCI_LOCATION", &location)
        .stdin(Stdio::null())
        .output()
        .expect("run kloset-oci");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"_KLOSET_cli-config");
}

#[test]
fn missing_component_names_the_build_command() {
    let location = fresh_location("no-component");
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.wasm");
    let line = fails(
        &location,
        &["--component", missing.to_str().unwrap(), "ping"],
        1,
    );
    assert!(
        line.contains("cargo build --release -p kloset-oci --target wasm32-wasip2"),
        "{line}"
    );
}
