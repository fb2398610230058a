//! The registry implementations a [`LocalRegistry`](super::LocalRegistry) can run: where
//! each program is found, its command line, its storage layout on disk, and what it can do
//! (docs/registries.md).

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use super::{io_error, RegistryError};

/// Environment variable naming distribution 2.8's program (default: `docker-registry` on PATH).
pub const REGISTRY_BIN_ENV: &str = "KLOSET_OCI_REGISTRY_BIN";
/// Environment variable naming distribution 3's program, which is called `registry`: a name
/// too generic to look up on PATH, so it must be set (scripts/setup.sh sets it).
pub const DISTRIBUTION3_BIN_ENV: &str = "KLOSET_OCI_DISTRIBUTION3_BIN";
/// Environment variable naming `crane` (default: `crane` on PATH; scripts/setup.sh sets it).
pub const CRANE_BIN_ENV: &str = "KLOSET_OCI_CRANE_BIN";

const SETUP_HINT: &str =
    "scripts/setup.sh installs it and sets the variable: `source scripts/setup.sh && install_missing`";

/// Which registry program runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Implementation {
    /// distribution 2.8: Debian's `docker-registry serve CONFIG`.
    Distribution2,
    /// distribution 3: `registry serve CONFIG` (`go install .../distribution/v3/cmd/registry`),
    /// with the same YAML config as 2.8.
    Distribution3,
    /// go-containerregistry's registry: `crane registry serve --address ADDR --disk DIR`.
    /// Blobs go to the directory, manifests and tags stay in memory.
    GoContainerRegistry,
}

impl fmt::Display for Implementation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Implementation::Distribution2 => "distribution 2.8 (docker-registry)",
            Implementation::Distribution3 => "distribution 3 (registry)",
            Implementation::GoContainerRegistry => "go-containerregistry (crane registry serve)",
        })
    }
}

impl Implementation {
    /// Whether it reads a distribution YAML config (to which callers may append sections).
    pub fn takes_config(self) -> bool {
        !matches!(self, Implementation::GoContainerRegistry)
    }

    /// Whether `garbage-collect --delete-untagged` exists for it. go-containerregistry's
    /// registry has no garbage collector (nothing in pkg/registry removes unreferenced blobs).
    pub fn has_garbage_collector(self) -> bool {
        self.takes_config()
    }

    /// Whether what was pushed survives a stop and a start on the same directory.
    /// go-containerregistry keeps manifests and tags in a map in memory
    /// (pkg/registry/manifest.go, `manifests.manifests`), even with `--disk`.
    pub fn keeps_data_across_restarts(self) -> bool {
        self.takes_config()
    }

    /// The program to run: from its environment variable, else its usual name on PATH.
    pub(super) fn program(self) -> Result<OsString, RegistryError> {
        let (env, usual) = match self {
            Implementation::Distribution2 => (REGISTRY_BIN_ENV, Some("docker-registry")),
            Implementation::Distribution3 => (DISTRIBUTION3_BIN_ENV, None),
            Implementation::GoContainerRegistry => (CRANE_BIN_ENV, Some("crane")),
        };
        let program = match (std::env::var_os(env).filter(|v| !v.is_empty()), usual) {
            (Some(program), _) => program,
            (None, Some(usual)) => usual.into(),
            (None, None) => {
                return Err(RegistryError(format!(
                    "{env} is not set: it names the program of {self}; {SETUP_HINT}"
                )))
            }
        };
        let path = Path::new(&program);
        if path.components().count() > 1 && !path.is_file() {
            return Err(RegistryError(format!(
                "{env} names {}, which does not exist; {SETUP_HINT}",
                path.display()
            )));
        }
        Ok(program)
    }

    /// Writes what the program reads in `dir` (the distribution config, deletes enabled or
    /// not, with `extra` appended) and returns the arguments that serve on `127.0.0.1:port`
    /// with storage in `data`.
    pub(super) fn prepare(
        self,
        dir: &Path,
        data: &Path,
        port: u16,
        extra: &str,
        deletes: bool,
    ) -> Result<Vec<OsString>, RegistryError> {
        if !self.takes_config() {
            if !deletes {
                return Err(RegistryError(format!("{self} cannot refuse deletes")));
            }
            if !extra.trim().is_empty() {
                return Err(RegistryError(format!(
                    "{self} takes no YAML config; cannot add:\n{extra}"
                )));
            }
            return Ok(vec![
                "registry".into(),
                "serve".into(),
                "--address".into(),
                format!("127.0.0.1:{port}").into(),
                "--disk".into(),
                data.into(),
            ]);
        }
        let config = self.config_path(dir);
        // distribution 3 reads 2.8's keys unchanged (configuration/configuration.go keeps
        // version 0.1, log.accesslog.disabled, storage.delete.enabled and http.secret).
        let yaml = format!(
            "version: 0.1\n\
             log:\n  level: warn\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: {deletes}\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: kloset-oci-test-secret\n{extra}",
            data = data.display(),
        );
        fs::write(&config, yaml).map_err(io_error("write the registry config"))?;
        Ok(vec!["serve".into(), config.into()])
    }

    /// The arguments of `garbage-collect --delete-untagged`, where there is one.
    pub(super) fn garbage_collect_args(self, dir: &Path) -> Result<Vec<OsString>, RegistryError> {
        if !self.has_garbage_collector() {
            return Err(RegistryError(format!("{self} has no garbage collector")));
        }
        Ok(vec![
            "garbage-collect".into(),
            "--delete-untagged".into(),
            self.config_path(dir).into(),
        ])
    }

    fn config_path(self, dir: &Path) -> PathBuf {
        dir.join("config.yml")
    }

    /// How many blobs it keeps under its storage root `data`: distribution stores
    /// `docker/registry/v2/blobs/sha256/<2 hex>/<hex>/data`, go-containerregistry's disk
    /// handler `sha256/<hex>` (pkg/registry/blobs_disk.go).
    pub(super) fn blob_count(self, data: &Path) -> usize {
        if !self.takes_config() {
            return fs::read_dir(data.join("sha256"))
                .map(|blobs| blobs.flatten().filter(|b| b.path().is_file()).count())
                .unwrap_or(0);
        }
        let root = data.join("docker/registry/v2/blobs/sha256");
        let Ok(prefixes) = fs::read_dir(&root) else {
            return 0;
        };
        prefixes
            .flatten()
            .filter_map(|prefix| fs::read_dir(prefix.path()).ok())
            .flat_map(|blobs| blobs.flatten())
            .filter(|blob| blob.path().join("data").is_file())
            .count()
    }
}
