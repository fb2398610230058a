//! Loading the component from a registry: `oci://HOST[:PORT]/REPO:TAG` or
//! `oci://HOST[:PORT]/REPO@sha256:DIGEST`, fetched natively by the host (the component
//! plays no part in its own download).
//!
//! - A tag is resolved to a manifest digest once per process; later pulls of that tag in the
//!   same process use the same digest, even if the tag moves meanwhile.
//! - The manifest must hash to its digest and the component to its layer's digest before
//!   either is kept or used: a mismatch is an error, never a run.
//! - Only a manifest of exactly one `application/wasm` layer of at most
//!   [`PullOptions::max_size`] bytes is accepted.
//! - Manifests and components are cached on disk by digest (see [`cache`]): a pull by digest
//!   whose files are cached makes no request at all.
//! - Plain HTTP is used for loopback registries, https for every other one, unless
//!   [`PullOptions::plain_http`] says otherwise.
//!
//! `reference` parses a reference, `client` fetches over the network module's pool and TLS
//! client (the address policy and the trust of a store), `manifest` checks a manifest,
//! `cache` keeps what was checked, and `load` adds `Backend::load_reference`. Uses the network
//! module, the runtime (`Backend::load`) and the error type; nothing but the crate's public
//! API uses this module.

mod cache;
mod client;
mod load;
mod manifest;
mod reference;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

pub use cache::PULL_CACHE_ENV;
pub use manifest::{OCI_MANIFEST, WASM_LAYER};
pub use reference::{ComponentReference, Digest};

use cache::{Cache, Entry};
use client::RegistryClient;

use crate::error::{ErrorKind, StoreError};
use crate::net::tls::CaBundle;

/// The default bound on a component's size.
pub const MAX_COMPONENT_SIZE: u64 = 64 * 1024 * 1024;

/// How to pull.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// `Some(true)`: plain HTTP; `Some(false)`: https; `None`: plain HTTP for loopback hosts
    /// only.
    pub plain_http: Option<bool>,
    /// Where pulled files are cached; `None`: [`PULL_CACHE_ENV`], else the user's cache
    /// directory.
    pub cache_dir: Option<PathBuf>,
    /// The largest component accepted, in bytes.
    pub max_size: u64,
    /// Trust anchors for https beside the system's roots (`--ca-file`, `-o ca_file=`).
    pub ca: Option<CaBundle>,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            plain_http: None,
            cache_dir: None,
            max_size: MAX_COMPONENT_SIZE,
            ca: None,
        }
    }
}

/// A component fetched and checked: where it is on disk and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledComponent {
    /// The manifest's digest: what pins this component.
    pub manifest_digest: Digest,
    /// The digest of the component's bytes (its layer).
    pub component_digest: Digest,
    pub size: u64,
    /// The cached component file.
    pub path: PathBuf,
}

/// Tags already resolved in this process: `authority/repository:tag` -> manifest digest.
fn resolved_tags() -> &'static Mutex<HashMap<String, Digest>> {
    static RESOLVED: OnceLock<Mutex<HashMap<String, Digest>>> = OnceLock::new();
    RESOLVED.get_or_init(Default::default)
}

/// Pulls components from one registry into the cache.
pub struct Puller {
    reference: ComponentReference,
    client: RegistryClient,
    cache: Cache,
    max_size: u64,
}

impl Puller {
    /// A puller for `reference`'s registry; no request is made here.
    pub fn new(
        reference: &ComponentReference,
        options: &PullOptions,
    ) -> Result<Puller, StoreError> {
        let root =
            options
                .cache_dir
                .clone()
                .or_else(cache::default_root)
                .ok_or_else(|| {
                    StoreError::new(
                ErrorKind::InvalidConfig,
                format!("no cache directory for pulled components: set {PULL_CACHE_ENV} or HOME"),
            )
                })?;
        let plain_http = options
            .plain_http
            .unwrap_or_else(|| reference.is_loopback());
        Ok(Puller {
            reference: reference.clone(),
            client: RegistryClient::new(reference.authority(), plain_http, options.ca.clone()),
            cache: Cache::new(root),
            max_size: options.max_size,
        })
    }

    /// Requests this puller has sent.
    pub fn requests(&self) -> u64 {
        self.client.requests()
    }

    /// Fetches (or finds in the cache) the component of the reference, checked against its
    /// digests.
    pub async fn pull(&self) -> Result<PulledComponent, StoreError> {
        Ok(self.pull_verified().await?.0)
    }

    /// [`Puller::pull`], with the component's bytes as they were checked against its digest:
    /// what is to run, rather than the cached file, which could change once checked.
    pub(crate) async fn pull_verified(&self) -> Result<(PulledComponent, Vec<u8>), StoreError> {
        let r = &self.reference;
        let manifest_digest = match r.digest() {
            Some(digest) => *digest,
            None => self.resolve_tag().await?,
        };
        let manifest = self.manifest(&manifest_digest).await?;
        let layer = manifest::wasm_layer(&manifest, self.max_size)
            .map_err(|e| StoreError::new(e.kind, format!("{r}: {}", e.message)))?;
        // Read once and checked: these bytes, never the file again, are what may run.
        let (path, blob) = match self.cache.get(Entry::Blob, &layer.digest) {
            Some(blob) if blob.len() as u64 == layer.size => {
                (self.cache.path(Entry::Blob, &layer.digest), blob)
            }
            _ => {
                let what = format!("component {} of {r}", layer.digest);
                let path = format!("/v2/{}/blobs/{}", r.repository(), layer.digest);
                let blob = self.client.get(&path, "*/*", layer.size, &what).await?.body;
                if blob.len() as u64 != layer.size || Digest::of(&blob) != layer.digest {
                    return Err(mismatch(&what, &layer.digest, &blob));
                }
                (self.cache.put(Entry::Blob, &layer.digest, &blob)?, blob)
            }
        };
        let pulled = PulledComponent {
            manifest_digest,
            component_digest: layer.digest,
            size: layer.size,
            path,
        };
        Ok((pulled, blob))
    }

    /// The manifest digest a tag names, asked of the registry once per process.
    async fn resolve_tag(&self) -> Result<Digest, StoreError> {
        let r = &self.reference;
        let tag = r.tag().expect("a reference has a tag or a digest");
        let key = format!("{}/{}:{tag}", r.authority(), r.repository());
        if let Some(digest) = resolved_tags().lock().unwrap().get(&key) {
            return Ok(*digest);
        }
        let what = format!("manifest of {r}");
        let answer = self.get_manifest(tag, &what).await?;
        let digest = Digest::of(&answer.body);
        let announced = answer
            .headers
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok());
        if announced.is_some_and(|d| d != digest.to_string()) {
            return Err(StoreError::new(
                ErrorKind::Protocol,
                format!("{what}: the registry announced a digest other than the manifest's own"),
            ));
        }
        self.cache.put(Entry::Manifest, &digest, &answer.body)?;
        let mut resolved = resolved_tags().lock().unwrap();
        Ok(*resolved.entry(key).or_insert(digest))
    }

    /// The manifest of `digest`, from the cache or the registry, checked against the digest.
    async fn manifest(&self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        if let Some(bytes) = self.cache.get(Entry::Manifest, digest) {
            return Ok(bytes);
        }
        let what = format!("manifest {digest} of {}", self.reference);
        let body = self.get_manifest(&digest.to_string(), &what).await?.body;
        if Digest::of(&body) != *digest {
            return Err(mismatch(&what, digest, &body));
        }
        self.cache.put(Entry::Manifest, digest, &body)?;
        Ok(body)
    }

    async fn get_manifest(
        &self,
        reference: &str,
        what: &str,
    ) -> Result<client::Answer, StoreError> {
        let path = format!("/v2/{}/manifests/{reference}", self.reference.repository());
        self.client
            .get(&path, OCI_MANIFEST, manifest::MAX_MANIFEST_SIZE, what)
            .await
    }
}

fn mismatch(what: &str, expected: &Digest, got: &[u8]) -> StoreError {
    StoreError::new(
        ErrorKind::Protocol,
        format!(
            "{what}: digest mismatch: expected {expected}, the registry sent {} bytes hashing to {}",
            got.len(),
            Digest::of(got)
        ),
    )
}
