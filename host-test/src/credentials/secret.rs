//! A secret string (a password, a token): its `Debug` and `Display` never show it, so it
//! cannot leak into a message or a log line by accident. Only [`Secret::expose`] reads it.
//! And the [`Credentials`] made of secrets, as `docker_config` finds them and the options
//! give them.

use std::fmt;

/// A password or a token. Compared in full; shown as `Secret(***)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Credentials for one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Basic credentials (sent to the registry, or to its token realm).
    Basic { username: String, password: Secret },
    /// A pre-issued bearer or identity token.
    Token(Secret),
}

impl Credentials {
    /// The component's store options for these credentials.
    pub fn to_options(&self) -> Vec<(String, String)> {
        match self {
            Credentials::Basic { username, password } => vec![
                ("username".into(), username.clone()),
                ("password".into(), password.expose().to_string()),
            ],
            Credentials::Token(token) => vec![("token".into(), token.expose().to_string())],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neither_debug_nor_display_shows_the_secret() {
        let secret = Secret::new("hunter2-s3cr3t");
        for shown in [
            format!("{secret:?}"),
            format!("{secret}"),
            format!("{:#?}", Some(&secret)),
        ] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        assert_eq!(secret.expose(), "hunter2-s3cr3t");
    }
}
