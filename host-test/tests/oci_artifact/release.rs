//! The release artifacts, and one publication of them (with `scripts/publish`) to a registry
//! shared by the tests of this binary.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use kloset_oci_host::{Backend, HostImports, PullOptions};

use crate::common::registry::Registry;

/// The cargo target directory this crate was built in.
pub fn target_dir() -> PathBuf {
    PathBuf::from(env!("KLOSET_OCI_HOST_TARGET_DIR"))
}

fn dist() -> PathBuf {
    let dist = target_dir().join("dist");
    assert!(
        dist.join("release.env").is_file(),
        "no release artifacts in {}: run scripts/release (scripts/test does)",
        dist.display()
    );
    dist
}

pub fn component_bytes() -> Vec<u8> {
    std::fs::read(dist().join("kloset-oci.wasm")).unwrap()
}

pub fn self_contained_bytes() -> Vec<u8> {
    std::fs::read(dist().join("kloset-oci-self-contained.wasm")).unwrap()
}

pub fn wit_bytes() -> Vec<u8> {
    std::fs::read(dist().join("kloset-storage.wasm")).unwrap()
}

/// `release.env`: VERSION, WIT_VERSION, SOURCE, REVISION, CREATED.
pub fn release_env() -> HashMap<String, String> {
    let text = std::fs::read_to_string(dist().join("release.env")).unwrap();
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// wkg: the set-up's copy under the target directory, else PATH.
pub fn wkg() -> Command {
    let installed = target_dir().join("tools/bin/wkg");
    Command::new(if installed.is_file() {
        installed
    } else {
        PathBuf::from("wkg")
    })
}

/// What `scripts/publish` printed: each artifact's repository and manifest digest.
pub struct Published {
    pub registry: Registry,
    pub component_digest: String,
    pub self_contained_digest: String,
    pub wit_digest: String,
}

impl Published {
    pub fn authority(&self) -> String {
        self.registry.authority()
    }

    /// `oci://127.0.0.1:PORT/kloset/oci@sha256:...`
    pub fn component_pin(&self) -> String {
        format!(
            "oci://{}/kloset/oci@{}",
            self.authority(),
            self.component_digest
        )
    }

    /// `oci://127.0.0.1:PORT/kloset/oci-self-contained@sha256:...`
    pub fn self_contained_pin(&self) -> String {
        format!(
            "oci://{}/kloset/oci-self-contained@{}",
            self.authority(),
            self.self_contained_digest
        )
    }
}

/// Publishes the release once per test binary.
pub fn published() -> &'static Published {
    static PUBLISHED: OnceLock<Published> = OnceLock::new();
    PUBLISHED.get_or_init(|| {
        let registry = Registry::start_new();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/publish");
        let out = Command::new(&script)
            .arg(registry.authority())
            .env("CARGO_TARGET_DIR", target_dir())
            .output()
            .expect("run scripts/publish");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "scripts/publish failed ({}): {stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let env = release_env();
        let digest_of = |repository: &str, tag: &str| {
            let prefix = format!("{}/{repository}:{tag}@", registry.authority());
            let line = stdout
                .lines()
                .find(|l| l.starts_with(&prefix))
                .unwrap_or_else(|| panic!("no {prefix} line in:\n{stdout}"));
            line[prefix.len()..].to_string()
        };
        let component_digest = digest_of("kloset/oci", &env["VERSION"]);
        let self_contained_digest = digest_of("kloset/oci-self-contained", &env["VERSION"]);
        let wit_digest = digest_of("kloset/storage", &env["WIT_VERSION"]);
        Published {
            registry,
            component_digest,
            self_contained_digest,
            wit_digest,
        }
    })
}

/// A cache directory for pulled components that lives as long as the test process.
pub fn pull_cache() -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap())
        .path()
        .to_path_buf()
}

/// The published component, pulled back by digest and loaded.
pub fn pulled_backend() -> Backend {
    pull_and_load(&published().component_pin(), HostImports::WasiAndDigest)
}

/// The published self-contained component, pulled back by digest and loaded by a host that
/// links WASI alone, as any WASI 0.2 host.
pub fn pulled_self_contained_backend() -> Backend {
    pull_and_load(&published().self_contained_pin(), HostImports::WasiOnly)
}

fn pull_and_load(pin: &str, imports: HostImports) -> Backend {
    let options = PullOptions {
        cache_dir: Some(pull_cache().join("conformance")),
        ..PullOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(Backend::load_reference_linked(pin, &options, imports))
        .unwrap_or_else(|e| panic!("load {pin}: {e}"))
}
