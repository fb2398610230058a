//! The `kloset-oci` command against an htpasswd-protected registry: credentials from
//! Docker's config.json (`auths`, `credHelpers`), from `-o username` with a password from
//! the environment or stdin; refused command-line secrets (`bench` too); `--stats`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::common::auth::{self, PASSWORD, USER};
use crate::common::data::XorShift;
use crate::common::registry::Registry;

const BIN: &str = env!("CARGO_BIN_EXE_kloset-oci");

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(auth::start_htpasswd)
}

fn fresh_location(test: &str) -> String {
    registry().fresh_location("cli-auth", test)
}

/// Runs the command with `DOCKER_CONFIG=docker_dir` (never the machine's own config),
/// `env`, and `stdin`.
fn run<S: AsRef<std::ffi::OsStr>>(
    docker_dir: &Path,
    location: &str,
    args: &[S],
    env: &[(&str, &str)],
    stdin: &[u8],
) -> Output {
    let mut command = Command::new(BIN);
    command
        .arg("--location")
        .arg(location)
        .args(args)
        .env_remove("KLOSET_OCI_LOCATION")
        .env("DOCKER_CONFIG", docker_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("run kloset-oci");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("wait for kloset-oci")
}

#[track_caller]
fn succeeded(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "failed ({}): {stderr}", out.status);
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
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

/// The whole round: create, put, get, list, delete.
fn round_trip(docker_dir: &Path, location: &str, args: &[&str], env: &[(&str, &str)]) {
    let with =
        |more: &[&str]| -> Vec<String> { args.iter().chain(more).map(|s| s.to_string()).collect() };
    succeeded(&run(
        docker_dir,
        location,
        &with(&["create"]),
        env,
        b"_KLOSET_cfg",
    ));
    let mac = XorShift::new(301).mac();
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    let data = XorShift::new(302).bytes(70_000);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("object");
    std::fs::write(&file, &data).unwrap();
    let written = succeeded(&run(
        docker_dir,
        location,
        &with(&["put", "packfile", &hex, file.to_str().unwrap()]),
        env,
        b"",
    ));
    assert_eq!(written.trim(), data.len().to_string());
    let out = run(
        docker_dir,
        location,
        &with(&["get", "packfile", &hex]),
        env,
        b"",
    );
    succeeded(&out);
    assert!(out.stdout == data, "get returned other bytes");
    let listed = succeeded(&run(
        docker_dir,
        location,
        &with(&["list", "packfile"]),
        env,
        b"",
    ));
    assert_eq!(listed, format!("{hex}\n"));
    succeeded(&run(
        docker_dir,
        location,
        &with(&["delete", "packfile", &hex]),
        env,
        b"",
    ));
}

#[test]
fn docker_config_auths_entry() {
    let docker = auth::docker_config_dir(&registry().authority(), USER, PASSWORD);
    round_trip(docker.path(), &fresh_location("config-json"), &[], &[]);
}

#[test]
fn docker_credential_helper() {
    let docker = tempfile::tempdir().unwrap();
    let authority = registry().authority();
    std::fs::write(
        docker.path().join("config.json"),
        format!(r#"{{"credHelpers": {{"{authority}": "kloset-test"}}}}"#),
    )
    .unwrap();
    // The helper answers for this registry only, as docker-credential-* programs do.
    let helper = docker.path().join("docker-credential-kloset-test");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nread -r server\n\
             if [ \"$server\" = \"{authority}\" ]; then\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$server\"\n\
             else echo 'credentials not found in native keychain'; exit 1; fi\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        docker.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    round_trip(
        docker.path(),
        &fresh_location("helper"),
        &[],
        &[("PATH", &path)],
    );
}

#[test]
fn username_with_password_from_env_or_stdin() {
    let docker = tempfile::tempdir().unwrap();
    let location = fresh_location("password-env");
    round_trip(
        docker.path(),
        &location,
        &[
            "-o",
            &format!("username={USER}"),
            "-o",
            "password_env=KLOSET_TEST_PW",
        ],
        &[("KLOSET_TEST_PW", PASSWORD)],
    );
    let stdin = format!("{PASSWORD}\n");
    let args = [
        "-o",
        &format!("username={USER}"),
        "-o",
        "password_stdin=true",
        "ping",
    ];
    succeeded(&run(docker.path(), &location, &args, &[], stdin.as_bytes()));
}

#[test]
fn explicit_credentials_win_over_config_json() {
    let docker = auth::docker_config_dir(&registry().authority(), USER, "stale");
    let location = fresh_location("explicit");
    let line = failed(&run(docker.path(), &location, &["ping"], &[], b""));
    assert!(line.contains("unauthorized"), "{line}");
    let args = [
        "-o",
        &format!("username={USER}"),
        "-o",
        "password_env=PW",
        "ping",
    ];
    succeeded(&run(
        docker.path(),
        &location,
        &args,
        &[("PW", PASSWORD)],
        b"",
    ));
}

#[test]
fn wrong_or_missing_password_is_unauthorized_exit_1() {
    let docker = tempfile::tempdir().unwrap();
    let location = fresh_location("wrong");
    let args = [
        "-o",
        &format!("username={USER}"),
        "-o",
        "password_env=PW",
        "ping",
    ];
    let wrong = format!("{PASSWORD}-wrong");
    let line = failed(&run(
        docker.path(),
        &location,
        &args,
        &[("PW", &wrong)],
        b"",
    ));
    assert!(line.starts_with("kloset-oci: unauthorized: "), "{line}");
    assert!(!line.contains(&wrong), "{line}");
    let line = failed(&run(docker.path(), &location, &["list", "lock"], &[], b""));
    assert!(line.starts_with("kloset-oci: unauthorized: "), "{line}");
}

#[test]
fn secrets_as_command_line_values_are_refused() {
    let docker = tempfile::tempdir().unwrap();
    let location = fresh_location("refused");
    for args in [
        vec![
            "-o".to_string(),
            format!("username={USER}"),
            "-o".into(),
            format!("password={PASSWORD}"),
            "ping".into(),
        ],
        vec!["-o".into(), format!("token={PASSWORD}"), "ping".into()],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let line = failed(&run(docker.path(), &location, &args, &[], b""));
        assert!(
            line.contains("never taken as a command-line value"),
            "{line}"
        );
    }
}

/// `bench` takes no credentials, and refuses a secret on its command line with the very
/// line every other command prints. Nothing is loaded first: the component named does not
/// exist, and no registry listens at the location.
#[test]
fn bench_refuses_secrets_as_command_line_values_like_every_command() {
    let docker = tempfile::tempdir().unwrap();
    let missing = docker.path().join("absent.wasm");
    let missing = missing.to_str().unwrap();
    let location = "oci://127.0.0.1:1/bench";
    for secret in [format!("password={PASSWORD}"), format!("token={PASSWORD}")] {
        let ping = failed(&run(
            docker.path(),
            location,
            &["-o", &secret, "ping"],
            &[],
            b"",
        ));
        assert!(
            ping.contains("never taken as a command-line value"),
            "{ping}"
        );
        let args = ["--component", missing, "-o", &secret, "bench", "--quick"];
        let bench = failed(&run(docker.path(), location, &args, &[], b""));
        assert_eq!(bench, ping, "bench refuses {secret:?} as ping does");
    }
}

#[test]
fn stats_name_requests_retries_and_bytes() {
    let docker = tempfile::tempdir().unwrap();
    let location = fresh_location("stats");
    let args = [
        "--stats",
        "-o",
        &format!("username={USER}"),
        "-o",
        "password_env=PW",
        "ping",
    ];
    let out = run(docker.path(), &location, &args, &[("PW", PASSWORD)], b"");
    succeeded(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("kloset-oci: stats: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    for word in [
        "requests ",
        "GET ",
        "retries 0",
        "bytes sent ",
        "bytes received ",
    ] {
        assert!(line.contains(word), "{line}");
    }
}
