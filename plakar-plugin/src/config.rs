//! Plakar's store config, as `Init` gives it: `location` and the keys the user gave to
//! `plakar store add` or `plakar at`, mapped to the component's options and the host's
//! settings. Credentials are found as the `kloset-oci` command finds them (the host library's
//! `credentials::resolve`: explicit keys first, then Docker's `config.json` and credential
//! helpers); here `password=` and `token=` are accepted as values too, since Plakar keeps
//! store configs in its own config file. No message ever shows a value.

use std::collections::HashMap;

use kloset_oci_host::credentials::{self, docker_config, Sources};
use kloset_oci_host::{AllowedAuthority, ErrorKind, HostSettings, StoreError};

/// The plugin's own key: how many component instances (object transfers) run at once.
pub const CONCURRENCY_KEY: &str = "concurrency";
/// The default for [`CONCURRENCY_KEY`].
pub const DEFAULT_CONCURRENCY: usize = 8;
/// The most [`CONCURRENCY_KEY`] accepts.
const MAX_CONCURRENCY: usize = 64;

/// What a store is connected with.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// `oci://host[:port]/repository`.
    pub location: String,
    /// The component's options, credentials included (never shown: `Debug` is not used in
    /// messages, and the component names no value).
    pub options: Vec<(String, String)>,
    pub settings: HostSettings,
    /// Component instances at most, so object transfers at once.
    pub concurrency: usize,
}

fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::new(ErrorKind::InvalidConfig, message)
}

impl StoreConfig {
    /// The config of `Init(proto, config)`. The location is `proto://...`, as Plakar rewrote
    /// it; a package registered under another scheme than `oci` still names an OCI store.
    pub fn from_init(proto: &str, mut config: HashMap<String, String>) -> Result<Self, StoreError> {
        let location = config.remove("location").ok_or_else(|| {
            invalid("the store config has no location: give oci://host[:port]/repository")
        })?;
        let location = match location.split_once("://") {
            // Credentials in the location would be shown wherever the location is: refused
            // with a message that repeats none of it.
            Some((_, rest)) if rest.split('/').next().unwrap_or("").contains('@') => {
                return Err(invalid(
                    "the location carries credentials (user:password@): remove them and give \
                     username= and password= in the store config instead",
                ))
            }
            Some((scheme, rest)) if scheme == "oci" || scheme == proto => format!("oci://{rest}"),
            _ => {
                return Err(invalid(format!(
                    "the location must be oci://host[:port]/repository (or {proto}://...)"
                )))
            }
        };
        let concurrency = match config.remove(CONCURRENCY_KEY) {
            None => DEFAULT_CONCURRENCY,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) => n,
                _ => {
                    return Err(invalid(format!(
                        "{CONCURRENCY_KEY} must be a whole number from 1 to {MAX_CONCURRENCY}"
                    )))
                }
            },
        };
        let registry = AllowedAuthority::from_location(&location)?;
        // Sorted, so that messages about the options do not depend on the map's order.
        let mut pairs: Vec<(String, String)> = config.into_iter().collect();
        pairs.sort();
        let mut no_stdin: &[u8] = b"";
        let resolved = credentials::resolve(
            pairs,
            None,
            &registry.display(),
            Sources {
                env: &|name| std::env::var(name).ok(),
                // stdin is the gRPC connection: never a password source.
                stdin: &mut no_stdin,
                stdin_is_data: true,
                docker_config_dir: docker_config::default_dir(),
                plain_secrets: true,
            },
        )?;
        Ok(StoreConfig {
            location,
            options: resolved.component_options(),
            settings: HostSettings {
                ca: resolved.ca_bundle.clone(),
                private_hosts: resolved.private_hosts,
                ..HostSettings::default()
            },
            concurrency,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cret-value";

    fn init(pairs: &[(&str, &str)]) -> Result<StoreConfig, StoreError> {
        let config = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        StoreConfig::from_init("oci", config)
    }

    #[test]
    fn the_location_and_options_reach_the_component() {
        let config = init(&[
            ("location", "oci://127.0.0.1:5000/backups/laptop"),
            ("plain_http", "true"),
            ("connect_timeout", "5"),
        ])
        .unwrap();
        assert_eq!(config.location, "oci://127.0.0.1:5000/backups/laptop");
        assert!(config
            .options
            .contains(&("plain_http".into(), "true".into())));
        assert!(config
            .options
            .contains(&("connect_timeout".into(), "5".into())));
        assert_eq!(config.concurrency, DEFAULT_CONCURRENCY);
    }

    #[test]
    fn another_scheme_of_the_package_names_an_oci_store() {
        let config = StoreConfig::from_init(
            "ociw",
            [("location".to_string(), "ociw://127.0.0.1/r".to_string())].into(),
        )
        .unwrap();
        assert_eq!(config.location, "oci://127.0.0.1/r");
    }

    #[test]
    fn a_password_in_the_store_config_is_accepted_and_never_shown() {
        let config = init(&[
            ("location", "oci://127.0.0.1/r"),
            ("username", "alice"),
            ("password", SECRET),
        ])
        .unwrap();
        assert!(config.options.contains(&("password".into(), SECRET.into())));
        assert!(config
            .options
            .contains(&("username".into(), "alice".into())));
        // Every refusal that sees the password keeps it out of its message.
        for pairs in [
            &[("location", "oci://127.0.0.1/r"), ("password", SECRET)][..],
            &[
                ("location", "oci://127.0.0.1/r"),
                ("username", "a"),
                ("password", SECRET),
                ("token", SECRET),
            ],
            &[
                ("location", "oci://127.0.0.1/r"),
                ("username", "a"),
                ("password", SECRET),
                ("password_env", "X"),
            ],
        ] {
            let err = init(pairs).expect_err("refused");
            assert_eq!(err.kind, ErrorKind::InvalidConfig, "{err}");
            assert!(!err.to_string().contains(SECRET), "{err}");
        }
    }

    #[test]
    fn a_token_in_the_store_config_is_accepted() {
        let config = init(&[("location", "oci://127.0.0.1/r"), ("token", SECRET)]).unwrap();
        assert_eq!(
            config.options,
            vec![("token".to_string(), SECRET.to_string())]
        );
    }

    #[test]
    fn the_plugins_own_key_is_checked() {
        let config = init(&[("location", "oci://127.0.0.1/r"), (CONCURRENCY_KEY, "3")]).unwrap();
        assert_eq!(config.concurrency, 3);
        assert!(config.options.is_empty(), "{:?}", config.options);
        for bad in ["0", "65", "many", ""] {
            let err =
                init(&[("location", "oci://127.0.0.1/r"), (CONCURRENCY_KEY, bad)]).expect_err(bad);
            assert!(err.message.contains(CONCURRENCY_KEY), "{err}");
        }
    }

    #[test]
    fn credentials_in_the_location_are_refused_unshown() {
        let err = init(&[("location", &format!("oci://alice:{SECRET}@127.0.0.1/r"))])
            .expect_err("userinfo");
        assert!(!err.to_string().contains(SECRET), "{err}");
        assert!(!err.to_string().contains("alice"), "{err}");
    }

    #[test]
    fn a_missing_or_foreign_location_is_refused() {
        let err = init(&[]).expect_err("no location");
        assert!(err.message.contains("no location"), "{err}");
        let err = init(&[("location", "s3://bucket/x")]).expect_err("s3");
        assert!(err.message.contains("oci://"), "{err}");
    }

    #[test]
    fn a_ca_file_is_the_hosts_and_must_exist() {
        let err = init(&[
            ("location", "oci://127.0.0.1/r"),
            ("ca_file", "/nonexistent/ca.pem"),
        ])
        .expect_err("missing CA file");
        assert!(err.message.contains("/nonexistent/ca.pem"), "{err}");
    }
}
