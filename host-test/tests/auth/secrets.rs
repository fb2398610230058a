//! No secret shows anywhere: the command is run in every failing way we know with a known
//! password or token (wrong credentials, refused command-line values, broken config.json,
//! a failing credential helper), and neither its stderr nor its stdout holds
//! the secret; the library's errors (`Display`, `Debug`) and the credential types' `Debug`
//! never do either.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::auth::{self, USER};
use base64::Engine as _;
use kloset_oci_host::credentials::Credentials;
use kloset_oci_host::{Backend, Kind, Secret};

const BIN: &str = env!("CARGO_BIN_EXE_kloset-oci");
/// The secret every scenario uses, as password or token.
const SECRET: &str = "sEcReT-4711-must-never-show";

struct Scenario<'a> {
    name: &'a str,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: String,
}

/// Runs the command; returns its exit code and everything it printed.
fn run(docker: &Path, location: &str, scenario: &Scenario) -> (Option<i32>, String) {
    let path = format!(
        "{}:{}",
        docker.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new(BIN)
        .arg("--location")
        .arg(location)
        .args(&scenario.args)
        .env_remove("KLOSET_OCI_LOCATION")
        .env("DOCKER_CONFIG", docker)
        .env("PATH", path)
        .envs(scenario.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kloset-oci");
    let mut input = child.stdin.take().unwrap();
    let _ = input.write_all(scenario.stdin.as_bytes());
    drop(input);
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    (out.status.code(), text)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn no_failing_command_prints_the_secret() {
    let registry = auth::start_htpasswd();
    let location = format!("oci://{}/secrets/repo", registry.authority());
    let docker = tempfile::tempdir().unwrap();
    let user = format!("username={USER}");
    let env = vec![("PW".to_string(), SECRET.to_string())];
    let scenarios = [
        Scenario {
            name: "wrong password from env",
            args: strings(&["--stats", "-o", &user, "-o", "password_env=PW", "ping"]),
            env: env.clone(),
            stdin: String::new(),
        },
        Scenario {
            name: "wrong password from stdin",
            args: strings(&["-o", &user, "-o", "password_stdin=true", "list", "lock"]),
            env: vec![],
            stdin: format!("{SECRET}\n"),
        },
        Scenario {
            name: "token for a Basic registry",
            args: strings(&["-o", "token_env=PW", "open"]),
            env: env.clone(),
            stdin: String::new(),
        },
        Scenario {
            name: "password on the command line",
            args: strings(&["-o", &user, "-o", &format!("password={SECRET}"), "ping"]),
            env: vec![],
            stdin: String::new(),
        },
        Scenario {
            name: "token on the command line",
            args: strings(&["-o", &format!("token={SECRET}"), "ping"]),
            env: vec![],
            stdin: String::new(),
        },
        Scenario {
            name: "password without a username",
            args: strings(&["-o", "password_env=PW", "ping"]),
            env: env.clone(),
            stdin: String::new(),
        },
        Scenario {
            name: "secret as an unknown option",
            args: strings(&["-o", &format!("passwrd={SECRET}"), "ping"]),
            env: vec![],
            stdin: String::new(),
        },
    ];
    for scenario in &scenarios {
        let (code, printed) = run(docker.path(), &location, scenario);
        assert_eq!(code, Some(1), "{}: {printed}", scenario.name);
        assert!(!printed.contains(SECRET), "{}: {printed}", scenario.name);
    }

    // config.json: a wrong password, then an entry that is not base64, then broken JSON.
    let entry = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{SECRET}"));
    let authority = registry.authority();
    for config in [
        format!(r#"{{"auths": {{"{authority}": {{"auth": "{entry}"}}}}}}"#),
        format!(r#"{{"auths": {{"{authority}": {{"auth": "{SECRET}"}}}}}}"#),
        format!(r#"{{"auths": {{"{authority}": {{"auth": "{SECRET}"#),
        format!(r#"{{"auths": {{"{authority}": {{"identitytoken": "{SECRET}"}}}}}}"#),
    ] {
        std::fs::write(docker.path().join("config.json"), &config).unwrap();
        let scenario = Scenario {
            name: "config.json",
            args: strings(&["ping"]),
            env: vec![],
            stdin: String::new(),
        };
        let (code, printed) = run(docker.path(), &location, &scenario);
        assert_eq!(code, Some(1), "{config}: {printed}");
        assert!(!printed.contains(SECRET), "{config}: {printed}");
    }

    // A credential helper that fails after printing the secret, and one that answers a
    // wrong one.
    std::fs::write(
        docker.path().join("config.json"),
        format!(r#"{{"credHelpers": {{"{authority}": "leaky"}}, "credsStore": "wrong"}}"#),
    )
    .unwrap();
    for (name, script) in [
        (
            "leaky",
            format!("#!/bin/sh\necho '{SECRET}'\necho '{SECRET}' >&2\nexit 7\n"),
        ),
        (
            "wrong",
            format!("#!/bin/sh\nprintf '{{\"Username\":\"{USER}\",\"Secret\":\"{SECRET}\"}}'\n"),
        ),
    ] {
        let helper = docker.path().join(format!("docker-credential-{name}"));
        std::fs::write(&helper, script).unwrap();
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let scenario = Scenario {
        name: "helpers",
        args: strings(&["ping"]),
        env: vec![],
        stdin: String::new(),
    };
    let (code, printed) = run(docker.path(), &location, &scenario);
    assert_eq!(code, Some(1), "{printed}");
    assert!(printed.contains("docker-credential-leaky"), "{printed}");
    assert!(!printed.contains(SECRET), "{printed}");
    std::fs::write(
        docker.path().join("config.json"),
        r#"{"credsStore": "wrong"}"#,
    )
    .unwrap();
    let (code, printed) = run(docker.path(), &location, &scenario);
    assert_eq!(code, Some(1), "{printed}");
    assert!(printed.contains("unauthorized"), "{printed}");
    assert!(!printed.contains(SECRET), "{printed}");
}

#[test]
fn library_errors_and_debug_output_hold_no_secret() {
    let credentials = [
        Credentials::Password {
            username: USER.into(),
            password: Secret::new(SECRET),
        },
        Credentials::Token(Secret::new(SECRET)),
    ];
    for credentials in &credentials {
        let shown = format!("{credentials:?} {credentials:#?}");
        assert!(!shown.contains(SECRET), "{shown}");
    }
    let registry = auth::start_htpasswd();
    let location = format!("oci://{}/secrets/library", registry.authority());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let backend = Backend::load_default().unwrap_or_else(|e| panic!("{e}"));
        for credentials in &credentials {
            let mut store = backend
                .connect(&location, &credentials.to_options())
                .await
                .unwrap_or_else(|e| panic!("connect: {e}"));
            let errors = [
                store.ping().await.err(),
                store.open().await.err(),
                store.create(b"cfg").await.err(),
                store.put_bytes(Kind::Lock, &[1; 32], b"x").await.err(),
                store.get_bytes(Kind::Lock, &[1; 32], None).await.err(),
                store.list(Kind::State).await.err(),
                store.delete(Kind::Lock, &[1; 32]).await.err(),
            ];
            for err in errors {
                let err = err.expect("a wrong secret let us in");
                let shown = format!("{err} {err:?}");
                assert!(!shown.contains(SECRET), "{shown}");
            }
        }
        // A token and a password together are refused at connect, without echo.
        let mut both = credentials[0].to_options();
        both.extend(credentials[1].to_options());
        let err = backend
            .connect(&location, &both)
            .await
            .err()
            .expect("accepted both");
        assert!(!format!("{err} {err:?}").contains(SECRET), "{err:?}");
    });
}
