//! Upload limits of hosted registries.
//!
//! `BodyCap` (GHCR): an upload request whose body is over 4 MiB is refused with `416` and
//! the OCI error `REQUESTED_RANGE_NOT_SATISFIABLE`, "the request body is too large and
//! exceeds the maximum permissible limit of 4.00MiB" (quoted whole in wasmCloud/wash#268 and
//! ocx-sh/ocx#237; oras-project/rust-oci-client#37 chunks at 4 MiB for it). Smaller PATCHes
//! with `Content-Range` are taken, and the blob is assembled from them.
//!
//! `ChunkMinimum` (ECR): every part of an upload but the last must be at least 5 MiB (Amazon
//! ECR API reference, `UploadLayerPart` and `InvalidLayerPartException`; the `5 MiB` minimum
//! is in "Amazon ECR service quotas", "Layer part size"). The POST answer says so with
//! `OCI-Chunk-Min-Length` (distribution spec 1.1, "Pushing a blob in chunks"), a PATCH is
//! answered `201 Created` rather than 202 (a quirk of ECR's noted in containerd/containerd
//! and in `upload.rs`), and a PATCH that follows a smaller one in the same session is
//! refused with `400` and `BLOB_UPLOAD_INVALID`.
//!
//! Both read an upload request's body whole before forwarding it (at most [`BODY_LIMIT`]).

use std::collections::HashMap;
use std::sync::Mutex;

use http::{Method, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::forward::{drain, full, oci_error, Body, BoxError, Upstream};
use super::Shared;

/// GHCR's cap on a request body.
pub const BODY_CAP: usize = 4 << 20;
/// ECR's smallest part but the last.
pub const CHUNK_MIN: usize = 5 << 20;
/// The largest body read (the suites put objects of 64 MiB).
const BODY_LIMIT: u64 = 128 << 20;

/// The size of the last PATCH of each upload session (by its path), for `ChunkMinimum`.
#[derive(Default)]
pub struct Parts(Mutex<HashMap<String, usize>>);

fn is_upload(request: &http::Request<Incoming>) -> bool {
    request.uri().path().contains("/blobs/uploads/")
}

/// `BodyCap`.
pub async fn serve_capped(
    shared: &Shared,
    upstream: &mut Upstream,
    request: http::Request<Incoming>,
) -> Result<http::Response<Body>, BoxError> {
    let carries_body = matches!(*request.method(), Method::PATCH | Method::PUT);
    if !(is_upload(&request) && carries_body) {
        return upstream.forward(request).await;
    }
    let (parts, body) = request.into_parts();
    let mut body = body;
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            bytes.extend_from_slice(&data);
            if bytes.len() > BODY_CAP {
                drain(body, BODY_LIMIT).await?;
                shared.applied();
                return Ok(oci_error(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "REQUESTED_RANGE_NOT_SATISFIABLE",
                    "the request body is too large and exceeds the maximum permissible limit \
                     of 4.00MiB",
                ));
            }
        }
    }
    upstream.forward_parts(parts, full(bytes)).await
}

/// `ChunkMinimum`.
pub async fn serve_chunk_minimum(
    shared: &Shared,
    upstream: &mut Upstream,
    request: http::Request<Incoming>,
) -> Result<http::Response<Body>, BoxError> {
    if !is_upload(&request) {
        return upstream.forward(request).await;
    }
    let method = request.method().clone();
    let session = request.uri().path().to_string();
    if method == Method::POST {
        let mut answer = upstream.forward(request).await?;
        if answer.status() == StatusCode::ACCEPTED {
            shared.applied();
            answer
                .headers_mut()
                .insert("oci-chunk-min-length", CHUNK_MIN.to_string().parse()?);
        }
        return Ok(answer);
    }
    if method != Method::PATCH {
        return upstream.forward(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = http_body_util::Limited::new(body, BODY_LIMIT as usize)
        .collect()
        .await?
        .to_bytes();
    let previous = shared.parts.0.lock().unwrap().get(&session).copied();
    if previous.is_some_and(|size| size < CHUNK_MIN) {
        shared.applied();
        return Ok(oci_error(
            StatusCode::BAD_REQUEST,
            "BLOB_UPLOAD_INVALID",
            &format!(
                "InvalidLayerPartException: a layer part but the last is at least {CHUNK_MIN} \
                 bytes; the one before this was {} bytes",
                previous.unwrap_or(0)
            ),
        ));
    }
    let size = bytes.len();
    let mut answer = upstream.forward_parts(parts, full(bytes)).await?;
    if answer.status() == StatusCode::ACCEPTED {
        *answer.status_mut() = StatusCode::CREATED;
        // The next PATCH goes to the Location the registry gave (distribution keeps the
        // session's path and changes only its query): the part is recorded under its path.
        let next = answer
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|location| {
                let path = location.split('?').next().unwrap_or(location);
                path.find("/v2/").map_or(path, |at| &path[at..]).to_string()
            });
        shared
            .parts
            .0
            .lock()
            .unwrap()
            .insert(next.unwrap_or(session), size);
    }
    Ok(answer)
}
