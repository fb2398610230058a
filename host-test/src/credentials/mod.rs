//! Registry credentials as the component takes them (store options `username` + `password`,
//! or `token`), and where the `kloset-oci` command finds them: `-o username=` with a password
//! from an environment variable or stdin, `-o token_env=`, or Docker's `config.json`.
//!
//! A secret is never taken as a plain command-line value: `-o password=` and `-o token=`
//! are refused (the value would sit in the shell history and in `ps`). A Plakar store config
//! may carry them ([`Sources::plain_secrets`]): Plakar keeps it in its own config file.
//! Explicit credentials win over `config.json`. No message here ever shows a secret.
//!
//! `secret.rs` holds the values ([`Secret`], [`Credentials`]), `docker_config.rs` reads
//! Docker's `config.json` into them, and this module sorts out the options, asking
//! `docker_config` last: this module uses `docker_config`, never the other way round. Uses
//! the network module's [`CaBundle`] (`-o ca_file=`) and the error type; no other module of
//! the library uses this one (the command, the Plakar plugin and the tests do).

pub mod docker_config;
mod secret;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use secret::{Credentials, Secret};

use crate::error::{ErrorKind, StoreError};
use crate::net::tls::CaBundle;

/// The most bytes read from stdin for a password.
pub const MAX_STDIN_SECRET: u64 = 64 * 1024;

/// Where the command's secrets come from: the environment, stdin and Docker's config
/// directory. Tests give their own.
pub struct Sources<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub stdin: &'a mut dyn Read,
    /// Whether the command reads its data from stdin (then stdin cannot carry a password).
    pub stdin_is_data: bool,
    /// The directory of Docker's `config.json`; `None`: do not look.
    pub docker_config_dir: Option<PathBuf>,
    /// Whether `password` and `token` may be given as option values (a Plakar store config,
    /// which lives in Plakar's own config file, not on a command line).
    pub plain_secrets: bool,
}

impl Sources<'_> {
    /// The process's own environment, stdin and `$DOCKER_CONFIG` (else `~/.docker`).
    pub fn process(stdin: &mut dyn Read, stdin_is_data: bool) -> Sources<'_> {
        Sources {
            env: &|name| std::env::var(name).ok(),
            stdin,
            stdin_is_data,
            docker_config_dir: docker_config::default_dir(),
            plain_secrets: false,
        }
    }
}

/// The command's `-o` options sorted out: what goes to the component, the credentials
/// (kept apart so that `Debug` never shows them), and the host's own TLS option.
#[derive(Debug, Clone)]
pub struct ResolvedOptions {
    /// Options passed to the component as they are (no secrets among them).
    pub options: Vec<(String, String)>,
    pub credentials: Option<Credentials>,
    /// Where the credentials came from, for messages: "-o username", "config.json", ...
    pub credentials_source: Option<String>,
    /// The CA file to trust besides the system roots (a host option, never the component's).
    pub ca_bundle: Option<CaBundle>,
    /// `private_hosts=true`: hosts the registry names may be internal (a host option:
    /// [`HostSettings::private_hosts`](crate::HostSettings)).
    pub private_hosts: bool,
}

impl ResolvedOptions {
    /// Every option for the component's `connect`, credentials included.
    pub fn component_options(&self) -> Vec<(String, String)> {
        let mut all = self.options.clone();
        if let Some(credentials) = &self.credentials {
            all.extend(credentials.to_options());
        }
        all
    }
}

fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::new(ErrorKind::InvalidConfig, message)
}

/// Refuses `-o password=` and `-o token=`, which every command refuses (`kloset-oci bench`
/// too, which takes no credentials at all): the value would sit in the shell history and in
/// `ps`. The message never shows the value.
pub fn refuse_command_line_secrets(options: &[(String, String)]) -> Result<(), StoreError> {
    match options
        .iter()
        .find(|(key, _)| key == "password" || key == "token")
    {
        Some((key, _)) => Err(command_line_secret(key)),
        None => Ok(()),
    }
}

fn command_line_secret(key: &str) -> StoreError {
    match key {
        "token" => invalid(
            "a token is never taken as a command-line value: use -o token_env=NAME or \
             Docker's config.json",
        ),
        _ => invalid(
            "a password is never taken as a command-line value: use -o password_env=NAME, \
             -o password_stdin=true, or Docker's config.json",
        ),
    }
}

/// Sorts out the `-o` options of a command for the registry `registry` (`host[:port]`),
/// with `ca_file` from `--ca-file`.
pub fn resolve(
    raw: Vec<(String, String)>,
    ca_file: Option<&Path>,
    registry: &str,
    mut sources: Sources<'_>,
) -> Result<ResolvedOptions, StoreError> {
    let mut options = Vec::new();
    let mut given = Given::default();
    let mut ca_option: Option<PathBuf> = None;
    let mut private_hosts = false;
    for (key, value) in raw {
        match key.as_str() {
            "password" if sources.plain_secrets => given.password_value = Some(Secret::new(value)),
            "token" if sources.plain_secrets => given.token_value = Some(Secret::new(value)),
            "password" | "token" => return Err(command_line_secret(&key)),
            "username" => given.username = Some(value),
            "password_env" => given.password_env = Some(value),
            "token_env" => given.token_env = Some(value),
            "password_stdin" => {
                given.password_stdin = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(invalid("password_stdin must be true or false")),
                }
            }
            "ca_file" => ca_option = Some(PathBuf::from(value)),
            "private_hosts" => {
                private_hosts = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(invalid("private_hosts must be true or false")),
                }
            }
            _ => options.push((key, value)),
        }
    }
    let ca_path = match (ca_file, ca_option) {
        (Some(flag), Some(option)) if flag != option => {
            return Err(invalid("two CA files: give --ca-file or -o ca_file=, once"))
        }
        (Some(flag), _) => Some(flag.to_path_buf()),
        (None, option) => option,
    };
    let ca_bundle = ca_path.map(|path| CaBundle::load(&path)).transpose()?;

    let explicit = explicit_credentials(given, &mut sources)?;
    let (credentials, credentials_source) = match explicit {
        Some((credentials, source)) => (Some(credentials), Some(source)),
        None => match &sources.docker_config_dir {
            Some(dir) => match docker_config::lookup(dir, registry)? {
                Some((credentials, source)) => (Some(credentials), Some(source)),
                None => (None, None),
            },
            None => (None, None),
        },
    };
    Ok(ResolvedOptions {
        options,
        credentials,
        credentials_source,
        ca_bundle,
        private_hosts,
    })
}

/// The credential options as given, before they are looked up.
#[derive(Default)]
struct Given {
    username: Option<String>,
    password_env: Option<String>,
    password_stdin: bool,
    /// `password=` itself (only where [`Sources::plain_secrets`]).
    password_value: Option<Secret>,
    token_env: Option<String>,
    /// `token=` itself (only where [`Sources::plain_secrets`]).
    token_value: Option<Secret>,
}

/// Credentials given as options: username + a password (from the environment, stdin, or the
/// store config), or a token (from the environment or the store config).
fn explicit_credentials(
    given: Given,
    sources: &mut Sources<'_>,
) -> Result<Option<(Credentials, String)>, StoreError> {
    let Given {
        username,
        password_env,
        password_stdin,
        password_value,
        token_env,
        token_value,
    } = given;
    let password_given = password_env.is_some() || password_stdin || password_value.is_some();
    let token = match (token_env, token_value) {
        (Some(_), Some(_)) => return Err(invalid("give the token once: token_env= or token=")),
        (Some(name), None) => Some((from_env(sources, &name)?, format!("-o token_env={name}"))),
        (None, Some(token)) => Some((token, "the store config's token".to_string())),
        (None, None) => None,
    };
    if let Some((token, source)) = token {
        if username.is_some() || password_given {
            return Err(invalid(
                "give either -o username= with a password, or a token, not both",
            ));
        }
        return Ok(Some((Credentials::Token(token), source)));
    }
    let password = match (password_env, password_stdin, password_value) {
        (None, false, None) => None,
        (Some(name), false, None) => {
            Some((from_env(sources, &name)?, format!("-o password_env={name}")))
        }
        (None, true, None) => Some((from_stdin(sources)?, "-o password_stdin".to_string())),
        (None, false, Some(password)) => {
            Some((password, "the store config's password".to_string()))
        }
        _ => {
            return Err(invalid(
                "give the password once: -o password_env=NAME or -o password_stdin=true",
            ))
        }
    };
    match (username, password) {
        (None, None) => Ok(None),
        (Some(username), Some((password, source))) => {
            if username.is_empty() {
                return Err(invalid("-o username= is empty"));
            }
            Ok(Some((Credentials::Password { username, password }, source)))
        }
        (Some(_), None) => Err(invalid(
            "-o username= needs a password: -o password_env=NAME or -o password_stdin=true",
        )),
        (None, Some(_)) => Err(invalid("a password needs -o username=")),
    }
}

fn from_env(sources: &Sources<'_>, name: &str) -> Result<Secret, StoreError> {
    if name.is_empty() {
        return Err(invalid("the environment variable name is empty"));
    }
    match (sources.env)(name) {
        Some(value) if !value.is_empty() => Ok(Secret::new(value)),
        _ => Err(invalid(format!(
            "the environment variable {name} is not set or empty"
        ))),
    }
}

/// All of stdin (at most [`MAX_STDIN_SECRET`] bytes), less one trailing newline.
fn from_stdin(sources: &mut Sources<'_>) -> Result<Secret, StoreError> {
    if sources.stdin_is_data {
        return Err(invalid(
            "stdin carries the data of this command: give a FILE, or the password another way",
        ));
    }
    let mut bytes = Vec::new();
    sources
        .stdin
        .take(MAX_STDIN_SECRET + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| StoreError::from_io("cannot read the password from stdin", e))?;
    if bytes.len() as u64 > MAX_STDIN_SECRET {
        return Err(invalid("the password on stdin is too long"));
    }
    let mut text =
        String::from_utf8(bytes).map_err(|_| invalid("the password on stdin is not UTF-8"))?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    if text.is_empty() {
        return Err(invalid("no password on stdin"));
    }
    Ok(Secret::new(text))
}
