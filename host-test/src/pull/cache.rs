//! Pulled manifests and components on disk, named by their digest:
//! `<root>/manifests/sha256/<hex>` and `<root>/blobs/sha256/<hex>`.
//!
//! - Root: `$KLOSET_OCI_PULL_CACHE`, else `$XDG_CACHE_HOME/kloset-oci/pulled`, else
//!   `$HOME/.cache/kloset-oci/pulled`.
//! - A file is written to a temporary name in its directory and renamed into place, so a
//!   reader sees a whole file or none.
//! - Every read checks the file against its digest; a file that does not match is removed
//!   and counts as absent, so it is fetched again.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::reference::Digest;
use crate::error::StoreError;

/// Environment variable naming the cache directory of pulled components.
pub const PULL_CACHE_ENV: &str = "KLOSET_OCI_PULL_CACHE";

/// The cache root from the environment, if one can be found.
pub fn default_root() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var(PULL_CACHE_ENV) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("kloset-oci").join("pulled"));
    }
    var("HOME").map(|home| PathBuf::from(home).join(".cache/kloset-oci/pulled"))
}

/// Which kind of content: the directory it lives in.
#[derive(Debug, Clone, Copy)]
pub enum Entry {
    Manifest,
    Blob,
}

impl Entry {
    fn dir(self) -> &'static str {
        match self {
            Entry::Manifest => "manifests",
            Entry::Blob => "blobs",
        }
    }
}

pub struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(root: PathBuf) -> Cache {
        Cache { root }
    }

    pub fn path(&self, entry: Entry, digest: &Digest) -> PathBuf {
        self.root
            .join(entry.dir())
            .join("sha256")
            .join(digest.hex())
    }

    /// The bytes of a cached file whose content matches `digest`, or `None`.
    pub fn get(&self, entry: Entry, digest: &Digest) -> Option<Vec<u8>> {
        let path = self.path(entry, digest);
        let bytes = std::fs::read(&path).ok()?;
        if Digest::of(&bytes) == *digest {
            Some(bytes)
        } else {
            // Corrupt or tampered with: never use it; fetch again.
            let _ = std::fs::remove_file(&path);
            None
        }
    }

    /// Stores `bytes`, which the caller has checked against `digest`; returns the path.
    pub fn put(&self, entry: Entry, digest: &Digest, bytes: &[u8]) -> Result<PathBuf, StoreError> {
        let path = self.path(entry, digest);
        let dir = path.parent().expect("a cache path has a parent");
        let fail = |e: std::io::Error| {
            StoreError::from_io(
                &format!("cannot write the component cache {}", dir.display()),
                e,
            )
        };
        std::fs::create_dir_all(dir).map_err(fail)?;
        let mut tmp = tempfile_in(dir).map_err(fail)?;
        tmp.1
            .write_all(bytes)
            .and_then(|()| tmp.1.sync_all())
            .map_err(fail)?;
        std::fs::rename(&tmp.0, &path).map_err(fail)?;
        tmp.0 = PathBuf::new(); // renamed: nothing left to remove
        Ok(path)
    }
}

/// A new file `<dir>/.tmp-<pid>-<n>`, removed on drop unless its path is cleared.
struct TempFile(PathBuf, std::fs::File);

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.0.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

fn tempfile_in(dir: &Path) -> std::io::Result<TempFile> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    for _ in 0..100 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".tmp-{}-{n}", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => return Ok(TempFile(path, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free temporary file name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_then_get_and_corruption_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf());
        let digest = Digest::of(b"component");
        assert_eq!(cache.get(Entry::Blob, &digest), None);
        let path = cache.put(Entry::Blob, &digest, b"component").unwrap();
        assert!(path.ends_with(format!("blobs/sha256/{}", digest.hex())));
        assert_eq!(
            cache.get(Entry::Blob, &digest).as_deref(),
            Some(&b"component"[..])
        );
        assert_eq!(
            cache.get(Entry::Manifest, &digest),
            None,
            "kinds do not mix"
        );

        std::fs::write(&path, b"swapped!!").unwrap();
        assert_eq!(cache.get(Entry::Blob, &digest), None);
        assert!(!path.exists(), "a file that fails its digest is removed");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert!(leftovers.is_empty(), "no temporary files are left behind");
    }
}
