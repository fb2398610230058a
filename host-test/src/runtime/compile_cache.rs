//! A cache on disk of compiled components, so a `kloset-oci` command starts without running
//! Cranelift: `Component::serialize` once, `Component::deserialize_file` (an mmap) after.
//!
//! - Where: `$KLOSET_OCI_CACHE_DIR`, else `$XDG_CACHE_HOME/kloset-oci`, else
//!   `$HOME/.cache/kloset-oci`. `KLOSET_OCI_CACHE_DIR=off` turns the cache off.
//! - Key: the SHA-256 of the component's bytes, this host's version, and wasmtime's
//!   `Engine::precompile_compatibility_hash` (wasmtime's version, the engine's settings and
//!   the CPU features it compiles for). A changed component, host or engine config never
//!   meets an old entry.
//! - Entries are written to a temporary file in the same directory and renamed into place, so
//!   a reader sees a whole entry or none. An entry wasmtime refuses to load is compiled again
//!   and replaced. The cache is an optimisation: failing to write it is not an error.
//!
//! Loading an entry trusts the cache directory as much as the binary itself: wasmtime runs
//! the native code in it. It lives in the user's own cache directory.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

use crate::error::StoreError;

/// Environment variable naming the cache directory, or `off`.
pub const CACHE_DIR_ENV: &str = "KLOSET_OCI_CACHE_DIR";

/// How a component was obtained, for the bench and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// No cache configured: compiled.
    Disabled,
    /// Loaded from the cache.
    Hit,
    /// Compiled, then stored (or the store failed silently).
    Miss,
}

/// The cache directory from the environment; `None` when turned off or unknown.
pub fn cache_dir_from_env() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var(CACHE_DIR_ENV) {
        return (dir != "off").then(|| PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("kloset-oci"));
    }
    var("HOME").map(|home| PathBuf::from(home).join(".cache").join("kloset-oci"))
}

/// The entry name for `component` compiled by `engine`.
pub fn cache_key(engine: &Engine, component: &[u8]) -> String {
    let digest = Sha256::digest(component);
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    format!("{}-{:016x}.cwasm", hex(&digest), hasher.finish())
}

/// Compiles `bytes` (the file `path`), or loads its compiled form from `dir`.
pub fn load_component(
    engine: &Engine,
    path: &Path,
    bytes: &[u8],
    dir: Option<&Path>,
) -> Result<(Component, CacheOutcome), StoreError> {
    let compile = || {
        Component::new(engine, bytes).map_err(|e| {
            StoreError::from_wasmtime(&format!("cannot load component {}", path.display()), e)
        })
    };
    let Some(dir) = dir else {
        return Ok((compile()?, CacheOutcome::Disabled));
    };
    let entry = dir.join(cache_key(engine, bytes));
    if entry.is_file() {
        // SAFETY: the entry was written by `Component::serialize` of an engine with the same
        // compatibility hash (it is in the name), into the user's own cache directory, and is
        // only ever replaced by rename, never modified in place. wasmtime checks its header and
        // refuses an entry of another version or config.
        match unsafe { Component::deserialize_file(engine, &entry) } {
            Ok(component) => return Ok((component, CacheOutcome::Hit)),
            Err(_) => {
                let _ = std::fs::remove_file(&entry);
            }
        }
    }
    let component = compile()?;
    if let Ok(serialized) = component.serialize() {
        let _ = write_atomically(dir, &entry, &serialized);
    }
    Ok((component, CacheOutcome::Miss))
}

/// Writes `bytes` to a temporary file in `dir`, then renames it to `entry`.
fn write_atomically(dir: &Path, entry: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let temp = dir.join(format!(".tmp-{}-{nanos}", std::process::id()));
    let written = std::fs::write(&temp, bytes).and_then(|()| std::fs::rename(&temp, entry));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_changes_with_the_component_bytes() {
        let engine = Engine::default();
        let a = cache_key(&engine, b"one");
        assert_eq!(a, cache_key(&engine, b"one"));
        assert_ne!(a, cache_key(&engine, b"two"));
        assert!(a.ends_with(".cwasm"), "{a}");
    }

    #[test]
    fn the_key_changes_with_the_engine_config() {
        let mut config = wasmtime::Config::new();
        config.cranelift_opt_level(wasmtime::OptLevel::None);
        let other = Engine::new(&config).unwrap();
        assert_ne!(
            cache_key(&Engine::default(), b"one"),
            cache_key(&other, b"one")
        );
    }

    #[test]
    fn writes_replace_whole_entries_and_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let entry = dir.path().join("sub").join("x.cwasm");
        write_atomically(&dir.path().join("sub"), &entry, b"first").unwrap();
        write_atomically(&dir.path().join("sub"), &entry, b"second").unwrap();
        assert_eq!(std::fs::read(&entry).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.cwasm")]);
    }
}
