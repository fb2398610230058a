//! The native baseline: the same HTTP requests as the component, made from native code over
//! the same keep-alive pool (hyper HTTP/1.1), hashing with the `sha2` crate (SHA-NI where the
//! CPU has it, detected at run time). It writes the same layout, so both sides can read what
//! the other wrote.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Empty, Full};
use sha2::{Digest, Sha256};
use wasmtime_wasi_http::WasiBody;

mod create;
mod tags;

use super::BenchError;
use kloset_oci::digest::Digest as BlobDigest;
use kloset_oci::layout::{self, BlobRef, Kind, Mac};
use kloset_oci::upload::STREAM_THRESHOLD;
use kloset_oci_host::ConnectionPool;

/// Request bodies are handed over in slices of this size.
const SLICE: usize = 1 << 20;
const MANIFEST_TYPE: &str = layout::MANIFEST_MEDIA_TYPE;

/// A stored blob: its digest and size, as the component's layout names it.
pub type Blob = BlobRef;

/// A client of one repository.
pub struct NativeClient {
    pool: ConnectionPool,
    base: String,
    repo: String,
    requests: AtomicU64,
}

impl NativeClient {
    /// `authority` is `host:port` (plain HTTP).
    pub fn new(pool: ConnectionPool, authority: &str, repo: &str) -> Self {
        NativeClient {
            pool,
            base: format!("http://{authority}"),
            repo: repo.to_string(),
            requests: AtomicU64::new(0),
        }
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn url(&self, rest: &str) -> String {
        format!("{}/v2/{}/{rest}", self.base, self.repo)
    }

    async fn send(
        &self,
        method: http::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: WasiBody,
    ) -> Result<http::Response<WasiBody>, BenchError> {
        let mut request = http::Request::builder().method(method.clone()).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body).map_err(BenchError::new)?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let (response, _io) = self.pool.send(request, None).await?;
        Ok(response)
    }

    /// Sends and reads the whole answer; fails unless the status is one of `ok`.
    async fn exchange(
        &self,
        method: http::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: WasiBody,
        ok: &[u16],
    ) -> Result<(http::response::Parts, Bytes), BenchError> {
        let response = self.send(method.clone(), url, headers, body).await?;
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await?.to_bytes();
        if !ok.contains(&parts.status.as_u16()) {
            return Err(BenchError::new(format!(
                "{method} {url}: {} {}",
                parts.status,
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            )));
        }
        Ok((parts, bytes))
    }

    /// Stores `data` as the object `kind`/`mac`: 3 requests up to 4 MiB, 4 above.
    pub async fn put(&self, kind: Kind, mac: &[u8; 32], data: Bytes) -> Result<Blob, BenchError> {
        let blob = self.push_blob(data).await?;
        self.put_object_manifest(kind, mac, blob).await?;
        Ok(blob)
    }

    /// Tags `blob` as the object `kind`/`mac`, with the manifest the component writes.
    pub async fn put_object_manifest(
        &self,
        kind: Kind,
        mac: &[u8; 32],
        blob: Blob,
    ) -> Result<(), BenchError> {
        let mac = Mac(*mac);
        let manifest = layout::object_manifest(kind, &mac, blob);
        self.put_manifest(&layout::tag(kind, &mac), manifest).await
    }

    /// Pushes a blob: POST, then PUT `?digest=` with the bytes, or a streamed PATCH that
    /// hashes as it sends and an empty PUT `?digest=`.
    pub async fn push_blob(&self, data: Bytes) -> Result<Blob, BenchError> {
        let size = data.len() as u64;
        let post = self.url("blobs/uploads/");
        let (parts, _) = self
            .exchange(
                http::Method::POST,
                &post,
                &[("content-length", "0")],
                empty(),
                &[202],
            )
            .await?;
        let session = self.location(&parts)?;
        let (session, digest, body) = if data.len() <= STREAM_THRESHOLD {
            (session, BlobDigest::of(&data), full(data))
        } else {
            let hasher = Arc::new(Mutex::new(Sha256::new()));
            let body = HashingBody {
                data,
                hasher: hasher.clone(),
            };
            let headers = [("content-type", "application/octet-stream")];
            let (parts, _) = self
                .exchange(
                    http::Method::PATCH,
                    &session,
                    &headers,
                    body.boxed_unsync(),
                    &[202],
                )
                .await?;
            let hasher = std::mem::take(&mut *hasher.lock().expect("hasher lock"));
            (self.location(&parts)?, digest_of(hasher), empty())
        };
        let sep = if session.contains('?') { '&' } else { '?' };
        let url = format!("{session}{sep}digest={digest}");
        let length = if body.size_hint().exact() == Some(0) {
            0
        } else {
            size
        };
        let length = length.to_string();
        let headers = [
            ("content-type", "application/octet-stream"),
            ("content-length", length.as_str()),
        ];
        self.exchange(http::Method::PUT, &url, &headers, body, &[201])
            .await?;
        Ok(Blob { digest, size })
    }

    pub async fn put_manifest(&self, tag: &str, manifest: Vec<u8>) -> Result<(), BenchError> {
        let url = self.url(&format!("manifests/{tag}"));
        let headers = [("content-type", MANIFEST_TYPE)];
        self.exchange(
            http::Method::PUT,
            &url,
            &headers,
            full(manifest.into()),
            &[201],
        )
        .await
        .map(drop)
    }

    /// The blob an object's manifest names (1 request); `None` when there is no such tag.
    pub async fn resolve(&self, tag: &str) -> Result<Option<Blob>, BenchError> {
        let url = self.url(&format!("manifests/{tag}"));
        let headers = [("accept", MANIFEST_TYPE)];
        let (parts, bytes) = self
            .exchange(http::Method::GET, &url, &headers, empty(), &[200, 404])
            .await?;
        if parts.status == 404 {
            return Ok(None);
        }
        let manifest: serde_json::Value = serde_json::from_slice(&bytes)?;
        let layer = &manifest["layers"][0];
        match (layer["digest"].as_str(), layer["size"].as_u64()) {
            (Some(digest), Some(size)) => Ok(Some(Blob {
                digest: BlobDigest::parse(digest)
                    .map_err(|e| BenchError::new(format!("{tag}: {e}")))?,
                size,
            })),
            _ => Err(BenchError::new(format!(
                "{tag}: a manifest without a layer"
            ))),
        }
    }

    /// Reads a whole blob, checking its size and digest; returns its size.
    pub async fn get(&self, blob: &Blob) -> Result<u64, BenchError> {
        let url = self.url(&format!("blobs/{}", blob.digest));
        let response = self.send(http::Method::GET, &url, &[], empty()).await?;
        if response.status() != 200 {
            return Err(BenchError::new(format!("GET {url}: {}", response.status())));
        }
        let mut body = response.into_body();
        let mut hasher = Sha256::new();
        let mut total = 0u64;
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                hasher.update(&data);
                total += data.len() as u64;
            }
        }
        if total != blob.size || digest_of(hasher) != blob.digest {
            return Err(BenchError::new(format!("{}: wrong bytes", blob.digest)));
        }
        Ok(total)
    }

    /// Reads `length` bytes of a blob from `offset` with one `Range` request.
    pub async fn get_range(
        &self,
        blob: &Blob,
        offset: u64,
        length: u32,
    ) -> Result<u64, BenchError> {
        let url = self.url(&format!("blobs/{}", blob.digest));
        let range = format!("bytes={offset}-{}", offset + u64::from(length) - 1);
        let response = self
            .send(
                http::Method::GET,
                &url,
                &[("range", range.as_str())],
                empty(),
            )
            .await?;
        if response.status() != 206 {
            return Err(BenchError::new(format!(
                "GET {url} {range}: {}",
                response.status()
            )));
        }
        let mut body = response.into_body();
        let mut total = 0u64;
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                total += data.len() as u64;
            }
        }
        if total != u64::from(length) {
            return Err(BenchError::new(format!("{range}: got {total} bytes")));
        }
        Ok(total)
    }

    /// kloset's open: the config manifest, then the config blob.
    pub async fn open(&self) -> Result<u64, BenchError> {
        let blob = self
            .resolve("kloset-config")
            .await?
            .ok_or_else(|| BenchError::new("no store"))?;
        self.get(&blob).await
    }

    fn location(&self, parts: &http::response::Parts) -> Result<String, BenchError> {
        let location = parts
            .headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| BenchError::new("an upload answer without Location"))?;
        Ok(self.absolute(location))
    }

    /// A URL the registry gave, which distribution gives as a path.
    fn absolute(&self, target: &str) -> String {
        if target.starts_with('/') {
            format!("{}{target}", self.base)
        } else {
            target.to_string()
        }
    }
}

fn empty() -> WasiBody {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn full(bytes: Bytes) -> WasiBody {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn digest_of(hasher: Sha256) -> BlobDigest {
    BlobDigest::from(<[u8; 32]>::from(hasher.finalize()))
}

/// A request body of 1 MiB slices of `data`, each hashed as it is handed to the connection.
struct HashingBody {
    data: Bytes,
    hasher: Arc<Mutex<Sha256>>,
}

impl Body for HashingBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.data.is_empty() {
            return Poll::Ready(None);
        }
        let n = self.data.len().min(SLICE);
        let slice = self.data.split_to(n);
        self.hasher.lock().expect("hasher lock").update(&slice);
        Poll::Ready(Some(Ok(Frame::data(slice))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_empty()
    }
}
