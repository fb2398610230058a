//! Where the plugin finds the kloset-oci component: `kloset_oci.wasm` beside its own
//! executable (the package carries both), unless `KLOSET_OCI_COMPONENT` names another file or
//! an `oci://host/repo@sha256:...` pin. There is no other fallback: a missing component is an
//! error that says where it was looked for.

use std::path::PathBuf;

use kloset_oci_host::{
    Backend, ComponentReference, ErrorKind, PullOptions, StoreError, COMPONENT_ENV,
};

/// The component's file name inside the package, beside the executable.
pub const COMPONENT_FILE: &str = "kloset_oci.wasm";

/// What to load: `$KLOSET_OCI_COMPONENT`, else `kloset_oci.wasm` beside the executable.
pub fn source() -> Result<String, StoreError> {
    if let Some(value) = std::env::var_os(COMPONENT_ENV).filter(|v| !v.is_empty()) {
        return value.into_string().map_err(|_| {
            StoreError::new(
                ErrorKind::InvalidConfig,
                format!("{COMPONENT_ENV} is not UTF-8"),
            )
        });
    }
    let exe = std::env::current_exe()
        .map_err(|e| StoreError::host(format!("cannot find the plugin's own executable: {e}")))?;
    let path: PathBuf = exe.with_file_name(COMPONENT_FILE);
    Ok(path.to_string_lossy().into_owned())
}

/// Loads (compiles, or takes from the compile cache) the component `source` names.
pub async fn load(source: String) -> Result<Backend, StoreError> {
    if ComponentReference::is_reference(&source) {
        return Backend::load_reference(&source, &PullOptions::default()).await;
    }
    if !std::path::Path::new(&source).is_file() {
        return Err(StoreError::host(format!(
            "the kloset-oci component {source} is missing: reinstall the plugin package \
             (plakar pkg add), or set {COMPONENT_ENV} to a component file"
        )));
    }
    // Compiling runs Cranelift for a second or two on a cache miss: off the async workers.
    tokio::task::spawn_blocking(move || Backend::load(&source))
        .await
        .map_err(|e| StoreError::host(format!("loading the component failed: {e}")))?
}
