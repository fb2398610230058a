//! The `kloset-oci` command against an htpasswd-protected registry serving TLS with the
//! harness's certificate: credentials from Docker's config.json, the harness CA given with
//! `--ca-file` or `-o ca_file=`; a wrong password, and a missing CA, each one clear line and
//! exit status 1.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::common::auth::{self, material, PASSWORD, USER};
use crate::common::data::XorShift;
use crate::common::registry::Registry;

const BIN: &str = env!("CARGO_BIN_EXE_kloset-oci");

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(auth::start_tls_htpasswd)
}

fn fresh_location(test: &str) -> String {
    registry().fresh_location("cli-tls", test)
}

/// A Docker config directory whose config.json holds `password` for the registry.
fn docker_config(password: &str) -> tempfile::TempDir {
    auth::docker_config_dir(&registry().authority(), USER, password)
}

fn ca_file() -> String {
    material().pki.ca_file.display().to_string()
}

/// Runs the command over https (`-o plain_http=false`: the registry is on loopback) with
/// `DOCKER_CONFIG=docker_dir`, nothing on stdin.
fn run(docker_dir: &Path, location: &str, args: &[String]) -> Output {
    Command::new(BIN)
        .arg("--location")
        .arg(location)
        .args(["-o", "plain_http=false"])
        .args(args)
        .env_remove("KLOSET_OCI_LOCATION")
        .env("DOCKER_CONFIG", docker_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run kloset-oci")
}

#[track_caller]
fn succeeded(out: &Output) -> Vec<u8> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "failed ({}): {stderr}", out.status);
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    out.stdout.clone()
}

/// Requires exit status 1 and one stderr line without the password; returns it.
#[track_caller]
fn failed(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(stderr.starts_with("kloset-oci: "), "{stderr:?}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    stderr.trim_end().to_string()
}

fn args(trust: &[String], more: &[&str]) -> Vec<String> {
    trust
        .iter()
        .cloned()
        .chain(more.iter().map(|s| s.to_string()))
        .collect()
}

/// create, put, get, list and delete with the CA given as `trust`.
fn round_trip(trust: &[String], test: &str) {
    let docker = docker_config(PASSWORD);
    let location = fresh_location(test);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, b"_KLOSET_cfg").unwrap();
    let run = |more: &[&str]| run(docker.path(), &location, &args(trust, more));
    succeeded(&run(&["create", config.to_str().unwrap()]));

    let mac = XorShift::new(401).mac();
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    let data = XorShift::new(402).bytes(90_000);
    let file = dir.path().join("object");
    std::fs::write(&file, &data).unwrap();
    let written = succeeded(&run(&["put", "packfile", &hex, file.to_str().unwrap()]));
    assert_eq!(String::from_utf8_lossy(&written).trim(), "90000");
    let got = succeeded(&run(&["get", "packfile", &hex]));
    assert!(got == data, "get returned other bytes");
    let listed = succeeded(&run(&["list", "packfile"]));
    assert_eq!(String::from_utf8_lossy(&listed), format!("{hex}\n"));
    succeeded(&run(&["delete", "packfile", &hex]));
    let gone = run(&["get", "packfile", &hex]);
    assert_eq!(gone.status.code(), Some(2), "{gone:?}");
}

#[test]
fn config_json_with_ca_file_flag() {
    round_trip(&["--ca-file".to_string(), ca_file()], "ca-file-flag");
}

#[test]
fn config_json_with_ca_file_option() {
    round_trip(
        &["-o".to_string(), format!("ca_file={}", ca_file())],
        "ca-file-option",
    );
}

#[test]
fn a_wrong_password_is_unauthorized_exit_1() {
    let docker = docker_config(&format!("{PASSWORD}-wrong"));
    let location = fresh_location("wrong");
    let out = run(
        docker.path(),
        &location,
        &args(&["--ca-file".to_string(), ca_file()], &["ping"]),
    );
    let line = failed(&out);
    assert!(line.starts_with("kloset-oci: unauthorized: "), "{line}");
    assert!(!line.contains("-wrong"), "{line}");
}

#[test]
fn a_missing_ca_is_a_certificate_error_exit_1() {
    let docker = docker_config(PASSWORD);
    let location = fresh_location("no-ca");
    let line = failed(&run(docker.path(), &location, &args(&[], &["ping"])));
    assert!(line.starts_with("kloset-oci: tls: "), "{line}");
    assert!(line.contains("TLS certificate error"), "{line}");
    assert!(line.contains("--ca-file PATH or -o ca_file=PATH"), "{line}");
}
