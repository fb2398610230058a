//! The option keys a store accepts (`plakar store add NAME LOCATION key=value ...`).
//! An unknown key is refused, never ignored; a secret's value never appears in a message.

use std::time::Duration;

use crate::auth::secret::Credentials;
use crate::error::{Error, Result};

/// Timeouts of each request, passed to wasi:http.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub first_byte: Duration,
    pub between_bytes: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(30),
            first_byte: Duration::from_secs(120),
            between_bytes: Duration::from_secs(120),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `None`: plain HTTP for loopback hosts only.
    pub plain_http: Option<bool>,
    pub credentials: Credentials,
    pub timeouts: Timeouts,
}

pub const KNOWN: &[&str] = &[
    "plain_http",
    "username",
    "password",
    "token",
    "connect_timeout",
    "first_byte_timeout",
    "between_bytes_timeout",
];

impl Options {
    pub fn parse(pairs: &[(String, String)]) -> Result<Options> {
        let mut options = Options::default();
        let (mut username, mut password, mut token) = (None, None, None);
        for (key, value) in pairs {
            match key.as_str() {
                "plain_http" => options.plain_http = Some(parse_bool(key, value)?),
                "username" => username = Some(value.as_str()),
                "password" => password = Some(value.as_str()),
                "token" => token = Some(value.as_str()),
                "connect_timeout" => options.timeouts.connect = parse_seconds(key, value)?,
                "first_byte_timeout" => options.timeouts.first_byte = parse_seconds(key, value)?,
                "between_bytes_timeout" => {
                    options.timeouts.between_bytes = parse_seconds(key, value)?
                }
                _ => {
                    return Err(Error::invalid_config(format!(
                        "unknown option {key:?} (known: {})",
                        KNOWN.join(", ")
                    )))
                }
            }
        }
        options.credentials = Credentials::from_options(username, password, token)?;
        Ok(options)
    }
}

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::invalid_config(format!(
            "option {key} must be true or false"
        ))),
    }
}

/// Seconds, whole or decimal, above zero and at most a day.
fn parse_seconds(key: &str, value: &str) -> Result<Duration> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0 && *s <= 86_400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            Error::invalid_config(format!(
                "option {key} must be seconds, above 0 and at most 86400, not {value:?}"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn options_parse_and_unknown_keys_are_refused() {
        let o = Options::parse(&opts(&[
            ("plain_http", "true"),
            ("connect_timeout", "2.5"),
            ("username", "u"),
            ("password", "p"),
        ]))
        .unwrap();
        assert_eq!(o.plain_http, Some(true));
        assert_eq!(o.timeouts.connect, Duration::from_millis(2500));
        assert!(matches!(o.credentials, Credentials::Password { .. }));
        let e = Options::parse(&opts(&[("passwrd", "x")])).unwrap_err();
        assert!(
            e.message.contains("unknown option \"passwrd\""),
            "{}",
            e.message
        );
        assert!(Options::parse(&opts(&[("plain_http", "yes")])).is_err());
        assert!(Options::parse(&opts(&[("first_byte_timeout", "0")])).is_err());
        assert!(Options::parse(&opts(&[("first_byte_timeout", "soon")])).is_err());
    }

    #[test]
    fn a_secret_value_is_never_in_a_message() {
        for pairs in [
            opts(&[("password", "hunter22")]),
            opts(&[("password", "hunter22"), ("token", "hunter22")]),
        ] {
            let e = Options::parse(&pairs).unwrap_err();
            assert!(!e.message.contains("hunter22"), "{}", e.message);
        }
    }
}
