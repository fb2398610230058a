//! Loading the component once: an engine, the compiled component and a pre-instantiated
//! `BackendPre`, from which every store gets a fresh, cheap instance (`Backend::connect`, in
//! `store/connect.rs`; `Backend::load_reference`, loading a pulled component, is in
//! `pull/load.rs`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine};

use crate::error::StoreError;
use crate::net::pool::ConnectionPool;
use crate::runtime::bindings;
use crate::runtime::compile_cache::{cache_dir_from_env, load_component, CacheOutcome};
use crate::runtime::state::HostState;

/// Environment variable naming the component file, overriding the default path.
pub const COMPONENT_ENV: &str = "KLOSET_OCI_COMPONENT";

/// The command that builds the component at the default path.
pub const BUILD_COMMAND: &str = "cargo build --release -p kloset-oci --target wasm32-wasip2";

/// The command that builds the self-contained component (world `backend-self-contained`).
pub const BUILD_COMMAND_SELF_CONTAINED: &str = "cargo build --release -p kloset-oci \
    --target wasm32-wasip2 --features self-contained --target-dir <target>/self-contained";

/// What a host links for the component besides WASI.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HostImports {
    /// WASI and the host's native SHA-256 (`kloset:storage/digest`): loads either build.
    #[default]
    WasiAndDigest,
    /// WASI alone, as any WASI 0.2 host: loads the self-contained build only.
    WasiOnly,
}

/// The component to load: `$KLOSET_OCI_COMPONENT` if set, else
/// `<cargo target dir>/wasm32-wasip2/release/kloset_oci.wasm` (the target directory this
/// crate was built in).
pub fn default_component_path() -> PathBuf {
    match std::env::var_os(COMPONENT_ENV) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(env!("KLOSET_OCI_HOST_TARGET_DIR"))
            .join("wasm32-wasip2")
            .join("release")
            .join("kloset_oci.wasm"),
    }
}

/// The self-contained component (`scripts/setup.sh` builds it with [`BUILD_COMMAND_SELF_CONTAINED`]):
/// `<cargo target dir>/self-contained/wasm32-wasip2/release/kloset_oci.wasm`.
pub fn self_contained_component_path() -> PathBuf {
    PathBuf::from(env!("KLOSET_OCI_HOST_TARGET_DIR"))
        .join("self-contained")
        .join("wasm32-wasip2")
        .join("release")
        .join("kloset_oci.wasm")
}

/// A loaded component, ready to make stores. Cheap to clone.
#[derive(Clone)]
pub struct Backend {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    pre: bindings::BackendPre<HostState>,
    path: PathBuf,
    pool: ConnectionPool,
    cache: CacheOutcome,
}

impl Backend {
    /// Loads the component at [`default_component_path`].
    pub fn load_default() -> Result<Backend, StoreError> {
        Backend::load(default_component_path())
    }

    /// Compiles and links the component at `path`, through the compiled-component cache
    /// the environment names (`KLOSET_OCI_CACHE_DIR`, see [`crate::runtime::compile_cache`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Backend, StoreError> {
        Backend::load_with_cache(path, cache_dir_from_env().as_deref())
    }

    /// Compiles and links the component at `path`, through the compiled-component cache in
    /// `cache_dir` (none: always compile).
    pub fn load_with_cache(
        path: impl AsRef<Path>,
        cache_dir: Option<&Path>,
    ) -> Result<Backend, StoreError> {
        Backend::load_linked(path, cache_dir, HostImports::WasiAndDigest)
    }

    /// Compiles the component at `path` (through the cache in `cache_dir`, if any) and links
    /// it with `imports`. A component importing what is not linked is a `host` error naming
    /// the missing import.
    pub fn load_linked(
        path: impl AsRef<Path>,
        cache_dir: Option<&Path>,
        imports: HostImports,
    ) -> Result<Backend, StoreError> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(StoreError::host(format!(
                "component {} not found; build it with `{BUILD_COMMAND}` or set {COMPONENT_ENV}",
                path.display()
            )));
        }
        let mut config = Config::new();
        config.wasm_component_model(true);
        let engine = Engine::new(&config)
            .map_err(|e| StoreError::from_wasmtime("cannot create the wasmtime engine", e))?;
        let context = format!("cannot load component {}", path.display());
        let bytes = std::fs::read(path).map_err(|e| StoreError::host(format!("{context}: {e}")))?;
        let (component, cache) = load_component(&engine, path, &bytes, cache_dir)?;
        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| StoreError::from_wasmtime("cannot link wasi", e))?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| StoreError::from_wasmtime("cannot link wasi:http", e))?;
        if imports == HostImports::WasiAndDigest {
            bindings::kloset::storage::digest::add_to_linker::<HostState, HasSelf<HostState>>(
                &mut linker,
                |state| state,
            )
            .map_err(|e| StoreError::from_wasmtime("cannot link kloset:storage/digest", e))?;
        }
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(|e| StoreError::from_wasmtime(&context, e))?;
        let pre = bindings::BackendPre::new(instance_pre)
            .map_err(|e| StoreError::from_wasmtime(&context, e))?;
        Ok(Backend {
            inner: Arc::new(Inner {
                engine,
                pre,
                path: path.to_path_buf(),
                pool: ConnectionPool::new(),
                cache,
            }),
        })
    }

    /// The file the component was loaded from.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Whether the compiled component came from the cache.
    pub fn cache_outcome(&self) -> CacheOutcome {
        self.inner.cache
    }

    /// The keep-alive connections every store of this backend shares.
    pub fn pool(&self) -> &ConnectionPool {
        &self.inner.pool
    }

    /// The engine the component was compiled for.
    pub(crate) fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The linked component, ready to instantiate.
    pub(crate) fn instance_pre(&self) -> &bindings::BackendPre<HostState> {
        &self.inner.pre
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn the_default_path_is_the_release_component_of_this_target_dir() {
        if std::env::var_os(COMPONENT_ENV).is_some() {
            return; // overridden for this run: nothing to check
        }
        let path = default_component_path();
        assert!(path.is_absolute(), "{}", path.display());
        assert!(
            path.ends_with("wasm32-wasip2/release/kloset_oci.wasm"),
            "{}",
            path.display()
        );
    }

    #[test]
    fn a_missing_component_says_how_to_build_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = Backend::load(dir.path().join("absent.wasm"))
            .err()
            .expect("loaded nothing");
        assert_eq!(err.kind, ErrorKind::Host);
        assert!(err.to_string().starts_with("host: "), "{err}");
        assert!(err.message.contains(BUILD_COMMAND), "{err}");
    }

    #[test]
    fn a_wasi_only_host_loads_the_self_contained_component_and_names_what_the_split_one_lacks() {
        let self_contained = self_contained_component_path();
        assert!(
            self_contained.is_file(),
            "{} not built: `{BUILD_COMMAND_SELF_CONTAINED}` (scripts/test builds it)",
            self_contained.display()
        );
        Backend::load_linked(&self_contained, None, HostImports::WasiOnly)
            .unwrap_or_else(|e| panic!("the self-contained component: {e}"));
        // It loads where the digest is linked too: a host need not know which build it got.
        Backend::load_linked(&self_contained, None, HostImports::WasiAndDigest)
            .unwrap_or_else(|e| panic!("the self-contained component: {e}"));
        let err = Backend::load_linked(default_component_path(), None, HostImports::WasiOnly)
            .err()
            .expect("the split component needs the host's digest");
        assert_eq!(err.kind, ErrorKind::Host);
        assert!(err.message.contains("kloset:storage/digest"), "{err}");
    }

    #[test]
    fn a_file_that_is_no_component_is_a_host_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("garbage.wasm");
        std::fs::write(&path, b"not wasm").unwrap();
        let err = Backend::load(&path).err().expect("loaded garbage");
        assert_eq!(err.kind, ErrorKind::Host);
    }
}
