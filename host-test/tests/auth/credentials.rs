//! Where the command's credentials come from (`-o` options, the environment, stdin, Docker's
//! config.json) and that no secret shows in a message or in `Debug` output. No registry.

use std::path::Path;

use kloset_oci_host::credentials::{docker_config, resolve, Credentials, ResolvedOptions, Sources};
use kloset_oci_host::{ErrorKind, Secret, StoreError};

const SECRET: &str = "pw-Zx81-never-shown";
const REGISTRY: &str = "127.0.0.1:5000";

fn opts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn env(name: &str) -> Option<String> {
    match name {
        "REG_PASSWORD" | "REG_TOKEN" => Some(SECRET.to_string()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

/// Resolves with the test environment, `stdin`, and `docker_dir` (None: no config.json).
fn resolve_with(
    pairs: &[(&str, &str)],
    stdin: &[u8],
    stdin_is_data: bool,
    docker_dir: Option<&Path>,
) -> Result<ResolvedOptions, StoreError> {
    let mut input = stdin;
    resolve(
        opts(pairs),
        None,
        REGISTRY,
        Sources {
            env: &env,
            stdin: &mut input,
            stdin_is_data,
            docker_config_dir: docker_dir.map(Path::to_path_buf),
            plain_secrets: false,
        },
    )
}

#[track_caller]
fn refused(result: Result<ResolvedOptions, StoreError>, says: &str) -> StoreError {
    let err = result.expect_err("accepted");
    assert_eq!(err.kind, ErrorKind::InvalidConfig, "{err}");
    assert!(err.message.contains(says), "{err}");
    assert!(!err.to_string().contains(SECRET), "{err}");
    assert!(!format!("{err:?}").contains(SECRET), "{err:?}");
    err
}

fn basic(username: &str, password: &str) -> Credentials {
    Credentials::Password {
        username: username.into(),
        password: Secret::new(password),
    }
}

#[test]
fn a_password_or_token_value_on_the_command_line_is_refused_without_echo() {
    refused(
        resolve_with(&[("username", "u"), ("password", SECRET)], b"", false, None),
        "never taken",
    );
    refused(
        resolve_with(&[("token", SECRET)], b"", false, None),
        "never taken",
    );
}

#[test]
fn username_with_password_env() {
    let resolved = resolve_with(
        &[
            ("username", "alice"),
            ("password_env", "REG_PASSWORD"),
            ("plain_http", "true"),
        ],
        b"",
        false,
        None,
    )
    .unwrap();
    assert_eq!(resolved.credentials, Some(basic("alice", SECRET)));
    assert_eq!(resolved.options, opts(&[("plain_http", "true")]));
    assert_eq!(
        resolved.component_options(),
        opts(&[
            ("plain_http", "true"),
            ("username", "alice"),
            ("password", SECRET)
        ])
    );
    let debug = format!("{resolved:?} {:#?}", resolved.credentials);
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(debug.contains("alice"), "{debug}");
}

#[test]
fn a_missing_or_empty_variable_is_named() {
    refused(
        resolve_with(
            &[("username", "a"), ("password_env", "NOT_SET")],
            b"",
            false,
            None,
        ),
        "NOT_SET is not set",
    );
    refused(
        resolve_with(
            &[("username", "a"), ("password_env", "EMPTY")],
            b"",
            false,
            None,
        ),
        "EMPTY is not set or empty",
    );
}

#[test]
fn password_from_stdin_less_its_newline() {
    let stdin = format!("{SECRET}\r\n");
    let resolved = resolve_with(
        &[("username", "bob"), ("password_stdin", "true")],
        stdin.as_bytes(),
        false,
        None,
    )
    .unwrap();
    assert_eq!(resolved.credentials, Some(basic("bob", SECRET)));
    refused(
        resolve_with(
            &[("username", "bob"), ("password_stdin", "true")],
            b"x",
            true,
            None,
        ),
        "stdin carries the data",
    );
    refused(
        resolve_with(
            &[("username", "bob"), ("password_stdin", "true")],
            b"\n",
            false,
            None,
        ),
        "no password on stdin",
    );
}

#[test]
fn incomplete_or_doubled_credentials_are_refused() {
    refused(
        resolve_with(&[("username", "a")], b"", false, None),
        "needs a password",
    );
    refused(
        resolve_with(&[("password_env", "REG_PASSWORD")], b"", false, None),
        "needs -o username",
    );
    refused(
        resolve_with(
            &[
                ("username", "a"),
                ("password_env", "REG_PASSWORD"),
                ("password_stdin", "true"),
            ],
            b"",
            false,
            None,
        ),
        "once",
    );
    refused(
        resolve_with(
            &[
                ("username", "a"),
                ("password_env", "REG_PASSWORD"),
                ("token_env", "REG_TOKEN"),
            ],
            b"",
            false,
            None,
        ),
        "not both",
    );
}

#[test]
fn token_from_the_environment() {
    let resolved = resolve_with(&[("token_env", "REG_TOKEN")], b"", false, None).unwrap();
    assert_eq!(
        resolved.credentials,
        Some(Credentials::Token(Secret::new(SECRET)))
    );
    assert_eq!(resolved.component_options(), opts(&[("token", SECRET)]));
}

fn write_config(dir: &Path, json: &str) {
    std::fs::write(dir.join("config.json"), json).unwrap();
}

fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn docker_config_auth_entries() {
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &format!(
            r#"{{"auths": {{
                "other.example": {{"auth": "{other}"}},
                "https://127.0.0.1:5000/v1/": {{"auth": "{mine}"}},
                "tok.example:443": {{"auth": "{other}", "identitytoken": "{SECRET}"}},
                "fields.example": {{"username": "f", "password": "{SECRET}"}}
            }}}}"#,
            other = b64("x:y"),
            mine = b64(&format!("carol:{SECRET}")),
        ),
    );
    let lookup = |host| {
        docker_config::lookup(dir.path(), host)
            .unwrap()
            .map(|(c, _)| c)
    };
    assert_eq!(lookup(REGISTRY), Some(basic("carol", SECRET)));
    assert_eq!(
        lookup("TOK.example:443"),
        Some(Credentials::Token(Secret::new(SECRET)))
    );
    assert_eq!(lookup("fields.example"), Some(basic("f", SECRET)));
    assert_eq!(lookup("127.0.0.1:5001"), None);
    assert_eq!(lookup("127.0.0.1"), None);
}

#[test]
fn docker_config_is_used_unless_options_name_credentials() {
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &format!(
            r#"{{"auths": {{"{REGISTRY}": {{"auth": "{}"}}}}}}"#,
            b64("dave:from-file")
        ),
    );
    let from_file = resolve_with(&[], b"", false, Some(dir.path())).unwrap();
    assert_eq!(from_file.credentials, Some(basic("dave", "from-file")));
    assert!(from_file
        .credentials_source
        .unwrap()
        .contains("config.json"));
    let explicit = resolve_with(
        &[("username", "erin"), ("password_env", "REG_PASSWORD")],
        b"",
        false,
        Some(dir.path()),
    )
    .unwrap();
    assert_eq!(explicit.credentials, Some(basic("erin", SECRET)));
}

#[test]
fn no_config_file_means_no_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let resolved = resolve_with(&[], b"", false, Some(dir.path())).unwrap();
    assert_eq!(resolved.credentials, None);
    assert!(resolved.component_options().is_empty());
}

#[test]
fn broken_config_files_are_reported_without_their_content() {
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &format!(r#"{{"auths": {{"{REGISTRY}": {{"auth": "{SECRET}!"}}}}"#),
    );
    refused(
        resolve_with(&[], b"", false, Some(dir.path())),
        "not valid JSON",
    );
    write_config(
        dir.path(),
        &format!(r#"{{"auths": {{"{REGISTRY}": {{"auth": "{SECRET}!"}}}}}}"#),
    );
    refused(
        resolve_with(&[], b"", false, Some(dir.path())),
        "not base64",
    );
    write_config(
        dir.path(),
        &format!(
            r#"{{"auths": {{"{REGISTRY}": {{"auth": "{}"}}}}}}"#,
            b64(SECRET)
        ),
    );
    refused(resolve_with(&[], b"", false, Some(dir.path())), "colon");
}

#[test]
fn a_ca_file_must_exist_and_hold_pem_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.pem");
    let ca = |path: &Path| {
        let mut input: &[u8] = b"";
        resolve(
            Vec::new(),
            Some(path),
            REGISTRY,
            Sources {
                env: &env,
                stdin: &mut input,
                stdin_is_data: false,
                docker_config_dir: None,
                plain_secrets: false,
            },
        )
    };
    refused(ca(&missing), "absent.pem");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    refused(ca(&garbage), "no PEM certificate");
    let bad = dir.path().join("bad.pem");
    std::fs::write(
        &bad,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    refused(ca(&bad), "trust anchor");
    // ca_file is the host's option: it never reaches the component.
    let result = resolve_with(&[("ca_file", missing.to_str().unwrap())], b"", false, None);
    refused(result, "absent.pem");
}

/// `private_hosts` is the host's option: read here, never passed to the component.
#[test]
fn private_hosts_is_a_host_option_of_true_or_false() {
    let resolved = resolve_with(&[("private_hosts", "true")], b"", false, None).unwrap();
    assert!(resolved.private_hosts);
    assert!(resolved.component_options().is_empty());
    let resolved = resolve_with(&[], b"", false, None).unwrap();
    assert!(!resolved.private_hosts, "off unless asked for");
    refused(
        resolve_with(&[("private_hosts", "yes")], b"", false, None),
        "private_hosts must be true or false",
    );
}
