//! Credentials from Docker's `config.json` (`$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`), looked up by the registry's `host[:port]`:
//!
//! 1. `credHelpers.<host>`, else `credsStore`: the program `docker-credential-<name> get`,
//!    given the server on stdin, answers `{"Username": ..., "Secret": ...}`; the username
//!    `<token>` means the secret is an identity token;
//! 2. `auths.<host>`: `identitytoken` (a token), else `auth` = base64(`user:password`).
//!
//! Keys of `auths` and `credHelpers` may carry a scheme and a path
//! (`https://index.docker.io/v1/`): only their host part is compared. Messages name the file
//! and the host, never a credential.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use super::secret::{Credentials, Secret};
use crate::error::{ErrorKind, StoreError};

/// The largest `config.json` read.
const MAX_CONFIG_BYTES: u64 = 4 << 20;
/// The largest answer read from a credential helper.
const MAX_HELPER_OUTPUT: u64 = 1 << 20;
/// How long a credential helper may take.
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);
const HELPER_POLL: Duration = Duration::from_millis(10);
/// The server name Docker uses for Docker Hub.
const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";

/// `$DOCKER_CONFIG`, else `$HOME/.docker`.
pub fn default_dir() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .map(|home| PathBuf::from(home).join(".docker")),
    }
}

/// The credentials `dir/config.json` holds for `registry` (`host[:port]`), and a word on
/// where they came from. No file, or no entry: `None`.
pub fn lookup(dir: &Path, registry: &str) -> Result<Option<(Credentials, String)>, StoreError> {
    let path = dir.join("config.json");
    let Some(config) = read_config(&path)? else {
        return Ok(None);
    };
    let shown = path.display();
    let registry = registry.to_ascii_lowercase();
    let helper = find_entry(config.get("credHelpers"), &registry)
        .map(|(_, name)| name)
        .or_else(|| config.get("credsStore"))
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty());
    if let Some(name) = helper {
        if let Some(credentials) = run_helper(name, &server_name(&registry))? {
            return Ok(Some((
                credentials,
                format!("docker-credential-{name} (named by {shown})"),
            )));
        }
    }
    let Some((_, entry)) = find_entry(config.get("auths"), &registry) else {
        return Ok(None);
    };
    let found = auths_entry(entry).map_err(|why| {
        StoreError::new(
            ErrorKind::InvalidConfig,
            format!("{shown}: the auths entry for {registry} {why}"),
        )
    })?;
    Ok(found.map(|credentials| (credentials, shown.to_string())))
}

fn read_config(path: &Path) -> Result<Option<Value>, StoreError> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(StoreError::from_io(
                &format!("cannot read {}", path.display()),
                e,
            ))
        }
    };
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| StoreError::from_io(&format!("cannot read {}", path.display()), e))?;
    // serde_json's message names a line and column, never the text.
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        StoreError::new(
            ErrorKind::InvalidConfig,
            format!("{} is not valid JSON: {e}", path.display()),
        )
    })
}

/// The host part of a key such as `https://host:port/v1/`, lowercase.
fn key_host(key: &str) -> String {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or("").to_ascii_lowercase()
}

/// Docker Hub goes by several names; its entries are kept under `index.docker.io`.
fn canonical(host: &str) -> &str {
    match host {
        "docker.io" | "registry-1.docker.io" | "index.docker.io" => "index.docker.io",
        other => other,
    }
}

fn find_entry<'a>(map: Option<&'a Value>, registry: &str) -> Option<(&'a String, &'a Value)> {
    let map = map?.as_object()?;
    let wanted = canonical(registry);
    map.iter()
        .find(|(key, _)| canonical(&key_host(key)) == wanted)
}

/// The server name given to a credential helper.
fn server_name(registry: &str) -> String {
    if canonical(registry) == "index.docker.io" {
        DOCKER_HUB_SERVER.to_string()
    } else {
        registry.to_string()
    }
}

/// An `auths` entry: `identitytoken`, else `auth`, else `username` + `password`.
fn auths_entry(entry: &Value) -> Result<Option<Credentials>, &'static str> {
    let field = |name: &str| {
        entry
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if let Some(token) = field("identitytoken") {
        return Ok(Some(Credentials::Token(Secret::new(token))));
    }
    if let Some(auth) = field("auth") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| "has an `auth` that is not base64")?;
        let text = String::from_utf8(decoded).map_err(|_| "has an `auth` that is not UTF-8")?;
        let (username, password) = text
            .split_once(':')
            .ok_or("has an `auth` without the `user:password` colon")?;
        if username.is_empty() || password.is_empty() {
            return Err("has an `auth` with an empty user or password");
        }
        return Ok(Some(Credentials::Password {
            username: username.to_string(),
            password: Secret::new(password),
        }));
    }
    match (field("username"), field("password")) {
        (Some(username), Some(password)) => Ok(Some(Credentials::Password {
            username: username.to_string(),
            password: Secret::new(password),
        })),
        _ => Ok(None),
    }
}

/// Runs `docker-credential-<name> get` with `server` on stdin. "credentials not found" is
/// `None`; any other failure is an error naming the helper (never its output, which might
/// hold a secret).
fn run_helper(name: &str, server: &str) -> Result<Option<Credentials>, StoreError> {
    let program = format!("docker-credential-{name}");
    let fail = |why: String| StoreError::new(ErrorKind::InvalidConfig, format!("{program}: {why}"));
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(StoreError::new(
            ErrorKind::InvalidConfig,
            "config.json names a credential helper with characters other than letters, digits, '-', '_' and '.'",
        ));
    }
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| fail(format!("cannot run it: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading gives a broken pipe: its status says more.
        let _ = stdin.write_all(server.as_bytes());
    }
    let mut stdout = child.stdout.take().expect("piped stdout");
    // The answer is small: read it on a thread while the wait below is bounded.
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = (&mut stdout)
            .take(MAX_HELPER_OUTPUT)
            .read_to_end(&mut bytes);
        bytes
    });
    let deadline = Instant::now() + HELPER_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(HELPER_POLL),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!(
                    "gave no answer within {} s",
                    HELPER_TIMEOUT.as_secs()
                )));
            }
            Err(e) => return Err(fail(format!("cannot wait for it: {e}"))),
        }
    };
    let output = reader.join().unwrap_or_default();
    if !status.success() {
        if String::from_utf8_lossy(&output).contains("credentials not found") {
            return Ok(None);
        }
        return Err(fail(format!("failed ({status})")));
    }
    let answer: Value = serde_json::from_slice(&output)
        .map_err(|_| fail("answered something other than JSON".into()))?;
    let field = |name: &str| answer.get(name).and_then(Value::as_str).unwrap_or("");
    let (username, secret) = (field("Username"), field("Secret"));
    if secret.is_empty() {
        return Ok(None);
    }
    if username == "<token>" {
        return Ok(Some(Credentials::Token(Secret::new(secret))));
    }
    if username.is_empty() {
        return Err(fail("answered a secret without a username".into()));
    }
    Ok(Some(Credentials::Password {
        username: username.to_string(),
        password: Secret::new(secret),
    }))
}
