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

/// Seconds, whole or decimal (`30`, `2.5`, `.25`), above zero and at most a day; fractions
/// finer than a nanosecond are dropped. Parsed with integers, not `f64`: float parsing would
/// add about 8 KiB to the component (docs/performance.md, "What bounds the figures").
fn parse_seconds(key: &str, value: &str) -> Result<Duration> {
    decimal_nanos(value.strip_prefix('+').unwrap_or(value))
        .filter(|n| *n > 0 && *n <= 86_400 * NANOS_PER_SECOND)
        .map(Duration::from_nanos)
        .ok_or_else(|| {
            Error::invalid_config(format!(
                "option {key} must be seconds, above 0 and at most 86400, not {value:?}"
            ))
        })
}

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// `digits[.digits]` (either side may be empty, not both) as nanoseconds; `None` if it is
/// not such a number or above `u64::MAX` nanoseconds.
fn decimal_nanos(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let mut nanos: u64 = 0;
    for b in whole.bytes() {
        nanos = nanos.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    nanos = nanos.checked_mul(NANOS_PER_SECOND)?;
    let mut scale = NANOS_PER_SECOND;
    for b in fraction.bytes().take(9) {
        scale /= 10;
        nanos = nanos.checked_add(u64::from(b - b'0') * scale)?;
    }
    Some(nanos)
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
    fn timeouts_are_decimal_seconds_within_a_day() {
        let timeout =
            |v: &str| Options::parse(&opts(&[("connect_timeout", v)])).map(|o| o.timeouts.connect);
        for (text, expected) in [
            ("30", Duration::from_secs(30)),
            ("+30", Duration::from_secs(30)),
            ("2.5", Duration::from_millis(2500)),
            (".25", Duration::from_millis(250)),
            ("7.", Duration::from_secs(7)),
            ("0.000000001", Duration::from_nanos(1)),
            ("1.0000000019", Duration::from_nanos(1_000_000_001)),
            ("86400", Duration::from_secs(86_400)),
            ("0086400.000", Duration::from_secs(86_400)),
        ] {
            assert_eq!(timeout(text).ok(), Some(expected), "{text}");
        }
        for text in [
            "",
            ".",
            "0",
            "0.0",
            "-1",
            "86400.000000001",
            "86401",
            "1e3",
            "inf",
            "NaN",
            "1.2.3",
            " 1",
            "1 ",
            "1_000",
            "99999999999999999999999",
        ] {
            let e = timeout(text).unwrap_err();
            assert!(
                e.message.contains("connect_timeout"),
                "{text}: {}",
                e.message
            );
        }
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
