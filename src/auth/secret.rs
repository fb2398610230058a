//! Credentials, kept out of every message, log line and `Debug` output.

use std::fmt;

use crate::encoding::base64_encode;
use crate::error::{Error, Result};

/// A secret string. It has no `Display`, and its `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that puts it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// What the store may authenticate with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Credentials {
    #[default]
    Anonymous,
    /// Sent as Basic credentials to a `Basic` challenge, or to a token realm.
    Password { username: String, password: Secret },
    /// An identity token (Docker's): an OAuth2 refresh token, sent only to the realm of the
    /// registry's Bearer challenge, in exchange for a registry token; never to the registry.
    Token(Secret),
}

impl Credentials {
    /// From the store options `username`, `password` and `token`.
    pub fn from_options(
        username: Option<&str>,
        password: Option<&str>,
        token: Option<&str>,
    ) -> Result<Credentials> {
        match (username, password, token) {
            (None, None, None) => Ok(Credentials::Anonymous),
            (Some(u), Some(p), None) if !u.is_empty() => {
                if u.contains(':') {
                    return Err(Error::invalid_config(
                        "a username cannot contain ':' (Basic credentials)",
                    ));
                }
                Ok(Credentials::Password {
                    username: u.to_string(),
                    password: Secret::new(p),
                })
            }
            (_, None, Some(t)) if !t.is_empty() => Ok(Credentials::Token(Secret::new(t))),
            (Some(_), None, None) => Err(Error::invalid_config(
                "option username needs option password",
            )),
            (None, Some(_), _) => Err(Error::invalid_config(
                "option password needs option username",
            )),
            (_, Some(_), Some(_)) => Err(Error::invalid_config(
                "options password and token exclude each other",
            )),
            _ => Err(Error::invalid_config("empty credentials")),
        }
    }

    /// The store options that give these credentials: the inverse of
    /// [`Credentials::from_options`] (what a host passes to `connect`).
    pub fn to_options(&self) -> Vec<(String, String)> {
        match self {
            Credentials::Anonymous => Vec::new(),
            Credentials::Password { username, password } => vec![
                ("username".into(), username.clone()),
                ("password".into(), password.expose().to_string()),
            ],
            Credentials::Token(token) => vec![("token".into(), token.expose().to_string())],
        }
    }

    /// `Basic <base64(user:password)>`, where there is a password.
    pub fn basic_header(&self) -> Option<Secret> {
        match self {
            Credentials::Password { username, password } => {
                let pair = format!("{username}:{}", password.expose());
                Some(Secret::new(format!(
                    "Basic {}",
                    base64_encode(pair.as_bytes())
                )))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_a_secret() {
        let c =
            Credentials::from_options(Some("alice"), Some("hunter2-very-secret"), None).unwrap();
        let shown = format!("{c:?} {:?}", c.basic_header());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            !shown.contains(&base64_encode(b"alice:hunter2-very-secret")),
            "{shown}"
        );
        let t = Credentials::from_options(None, None, Some("tok-123456")).unwrap();
        assert!(!format!("{t:?}").contains("tok-123456"));
    }

    #[test]
    fn credentials_come_in_whole_pairs() {
        assert_eq!(
            Credentials::from_options(None, None, None).unwrap(),
            Credentials::Anonymous
        );
        assert!(Credentials::from_options(Some("a"), None, None).is_err());
        assert!(Credentials::from_options(None, Some("p"), None).is_err());
        assert!(Credentials::from_options(Some("a"), Some("p"), Some("t")).is_err());
        assert!(Credentials::from_options(Some("a:b"), Some("p"), None).is_err());
        let basic = Credentials::from_options(Some("aladdin"), Some("opensesame"), None).unwrap();
        let options = basic.to_options();
        let option = |key: &str| {
            options
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            Credentials::from_options(option("username"), option("password"), option("token")),
            Ok(basic.clone())
        );
        assert!(Credentials::Anonymous.to_options().is_empty());
        assert_eq!(
            basic.basic_header().unwrap().expose(),
            "Basic YWxhZGRpbjpvcGVuc2VzYW1l"
        );
    }
}
