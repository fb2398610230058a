//! The `kloset-oci` command line against local registries: the cases that reach a registry
//! (`cli/registry_cases.rs`) run on each implementation (docs/registries.md), those about
//! arguments once, on distribution 2.8.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::common::data::XorShift;
use crate::common::registry::Registry;

const BIN: &str = env!("CARGO_BIN_EXE_kloset-oci");

/// The registry of this binary's argument cases (distribution 2.8).
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::start_new)
}

fn fresh_location(test: &str) -> String {
    registry().fresh_location("cli", test)
}

/// The registry-facing cases on the registry `start` gives, in a module of their own.
macro_rules! cli_suite {
    ($module:ident, $start:path) => {
        mod $module {
            use super::*;

            fn registry() -> &'static Registry {
                static REGISTRY: OnceLock<Registry> = OnceLock::new();
                REGISTRY.get_or_init($start)
            }

            fn fresh_location(test: &str) -> String {
                registry().fresh_location("cli", test)
            }

            fn created(test: &str) -> String {
                create_at(fresh_location(test))
            }

            include!("registry_cases.rs");
        }
    };
}

cli_suite!(distribution, Registry::start_new);
cli_suite!(distribution3, Registry::start_distribution3);
cli_suite!(crane, Registry::start_crane);

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

/// Creates a store at `location` with the CLI's test config; returns the location.
fn create_at(location: String) -> String {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, b"_KLOSET_cli-config").unwrap();
    ok(&location, &["create", config.to_str().unwrap()], b"");
    location
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
