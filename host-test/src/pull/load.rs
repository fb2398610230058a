//! `Backend::load_reference`: a component by path or by registry reference.
//!
//! A pulled component runs as the very bytes that were checked against its digest: the
//! cached file is read once, checked, and never read again (it could be replaced in between,
//! e.g. in a cache directory others can write). The bytes reach the compiler through a file
//! of this process's own, in a new private temporary directory (the backend loads from a
//! path), removed once the component is compiled.

use std::io::Write;
use std::path::Path;

use super::{ComponentReference, PullOptions, PulledComponent, Puller};
use crate::error::StoreError;
use crate::runtime::backend::{Backend, HostImports};
use crate::runtime::compile_cache::cache_dir_from_env;

impl Backend {
    /// Loads the component `source` names: an `oci://` reference is pulled (see
    /// [`crate::Puller`]), checked against its digests and cached, then loaded from the bytes
    /// that were checked; anything else is a file path.
    pub async fn load_reference(
        source: &str,
        options: &PullOptions,
    ) -> Result<Backend, StoreError> {
        Backend::load_reference_linked(source, options, HostImports::WasiAndDigest).await
    }

    /// [`Backend::load_reference`], linking the component with `imports`.
    pub async fn load_reference_linked(
        source: &str,
        options: &PullOptions,
        imports: HostImports,
    ) -> Result<Backend, StoreError> {
        if !ComponentReference::is_reference(source) {
            return Backend::load_linked(source, cache_dir_from_env().as_deref(), imports);
        }
        let reference = ComponentReference::parse(source)?;
        let (pulled, bytes) = Puller::new(&reference, options)?.pull_verified().await?;
        #[cfg(test)]
        tests::after_check(&pulled.path);
        load_checked(&pulled, &bytes, imports)
    }
}

/// Compiles `bytes`, the component `pulled` as checked against its digest.
fn load_checked(
    pulled: &PulledComponent,
    bytes: &[u8],
    imports: HostImports,
) -> Result<Backend, StoreError> {
    let fail = |e: std::io::Error| {
        StoreError::from_io("cannot stage the pulled component for compiling", e)
    };
    // Made with a random name, readable by this user only, removed on drop.
    let private = tempfile::Builder::new()
        .prefix("kloset-oci-pulled-")
        .tempdir()
        .map_err(fail)?;
    let path = private
        .path()
        .join(format!("{}.wasm", pulled.component_digest.hex()));
    write_new(&path, bytes).map_err(fail)?;
    Backend::load_linked(&path, cache_dir_from_env().as_deref(), imports)
}

/// Writes a file that must not exist yet.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(test)]
pub(super) mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::pull::cache::{Cache, Entry};
    use crate::pull::{Digest, OCI_MANIFEST, WASM_LAYER};

    thread_local! {
        /// What happens to the cached component once it was checked (a test's seam).
        static AFTER_CHECK: Cell<Option<fn(&Path)>> = const { Cell::new(None) };
    }

    pub(super) fn after_check(path: &Path) {
        if let Some(hook) = AFTER_CHECK.with(Cell::get) {
            hook(path);
        }
    }

    const SWAPPED: &[u8] = b"not the component that was checked";

    /// The cached component is replaced right after its digest was checked: what is loaded
    /// is still the component that was checked (the old code compiled the file again, and
    /// failed on what it found there).
    #[tokio::test]
    async fn a_cached_component_swapped_after_its_check_does_not_run() {
        let component = std::fs::read(crate::default_component_path())
            .expect("the component, built with `cargo build --release -p kloset-oci --target wasm32-wasip2`");
        let layer = Digest::of(&component);
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.wasm.config.v0+json",
                       "digest": Digest::of(b"{}").to_string(), "size": 2},
            "layers": [{"mediaType": WASM_LAYER, "digest": layer.to_string(),
                        "size": component.len()}],
        })
        .to_string()
        .into_bytes();
        let pin = Digest::of(&manifest);
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::new(root.path().to_path_buf());
        cache.put(Entry::Manifest, &pin, &manifest).unwrap();
        let cached = cache.put(Entry::Blob, &layer, &component).unwrap();

        AFTER_CHECK.with(|hook| hook.set(Some(|path| std::fs::write(path, SWAPPED).unwrap())));
        let options = PullOptions {
            cache_dir: Some(root.path().to_path_buf()),
            ..PullOptions::default()
        };
        // Cached by digest: no request is made (nothing listens on port 1 anyway).
        let loaded = Backend::load_reference(&format!("oci://127.0.0.1:1/x@{pin}"), &options).await;
        AFTER_CHECK.with(|hook| hook.set(None));
        assert_eq!(std::fs::read(&cached).unwrap(), SWAPPED, "the seam ran");
        let backend = loaded.unwrap_or_else(|e| panic!("the checked component: {e}"));
        // Connecting makes no request: it instantiates the component that was checked.
        backend
            .connect("oci://127.0.0.1:1/x", &[])
            .await
            .expect("an instance of the checked component");
    }
}
