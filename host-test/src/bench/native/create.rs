//! The native client's create: the requests of the component's lone create (src/create.rs),
//! with the manifests its `layout` writes.

use bytes::Bytes;
use kloset_oci::digest::Digest;
use kloset_oci::layout::{self, CANDIDATE_TAG_PREFIX};

use super::{empty, BenchError, NativeClient};

impl NativeClient {
    /// kloset's create as the component makes it when no other create runs: the config tag
    /// must be absent; the `{}` and config blobs; no candidate tagged; its own candidate; the
    /// tag list and the config tag checked again; the config manifest; the candidate removed.
    pub async fn create(&self, config: &[u8]) -> Result<(), BenchError> {
        if self.resolve("kloset-config").await?.is_some() {
            return Err(BenchError::new("a store exists already"));
        }
        self.push_blob(Bytes::from_static(b"{}")).await?;
        let blob = self.push_blob(Bytes::copy_from_slice(config)).await?;
        if self.candidates().await? > 0 {
            return Err(BenchError::new("another create is under way"));
        }
        // Any number will do for the one create of a new repository.
        let nonce = self.requests();
        let candidate = layout::candidate_manifest(blob, nonce);
        self.put_manifest(&layout::candidate_tag(nonce), candidate.clone())
            .await?;
        if self.candidates().await? != 1 || self.resolve("kloset-config").await?.is_some() {
            return Err(BenchError::new("another create is under way"));
        }
        self.put_manifest("kloset-config", layout::config_manifest(blob))
            .await?;
        let url = self.url(&format!("manifests/{}", Digest::of(&candidate)));
        self.exchange(http::Method::DELETE, &url, &[], empty(), &[202])
            .await
            .map(drop)
    }

    /// How many candidate configs are tagged (a repository without tags answers 404).
    async fn candidates(&self) -> Result<usize, BenchError> {
        self.count_tags(CANDIDATE_TAG_PREFIX, &[200, 404]).await
    }
}
