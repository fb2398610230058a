//! `ImmutableTags`: ECR repositories with tag immutability on (Harbor projects with an
//! immutability rule alike) refuse to move an existing tag to another manifest. Pushing the
//! manifest the tag already names again is accepted.
//!
//! Sources: Amazon ECR User Guide, "Preventing image tags from being overwritten in Amazon
//! ECR" (with immutability on, pushing a tag that is already in the repository returns
//! `ImageTagAlreadyExistsException`, a client fault in the ECR API reference); through the
//! registry API the refusal is the OCI error code `TAG_INVALID` with the message "The image
//! tag '<tag>' already exists in the '<repository>' repository and cannot be overwritten
//! because the tag is immutable." (osscontainertools/kaniko#204 quotes it after `PUT
//! .../manifests/<tag>`; Docker prints the code as "tag invalid:", moby/buildkit#3776,
//! aws/containers-roadmap#862, whose older text ends "because the repository is
//! immutable."). No captured answer shows the status line: 400 is the status distribution
//! registers `TAG_INVALID` with (registry/api/v2/errors.go), and a client fault's.
//! Harbor answers the same push `412 Precondition Failed` (goharbor/harbor#9427).
//!
//! A pushed tag's manifest is read whole (manifests are small), its digest compared with
//! the one the registry has for the tag, and the push forwarded or refused.

use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use sha2::{Digest, Sha256};

use super::forward::{full, oci_error, Body, BoxError, Upstream};
use super::{manifest_path, Shared};

/// The largest manifest read (distribution's own limit is 4 MiB).
const MANIFEST_LIMIT: usize = 4 << 20;

/// What the proxy asks the registry for when it reads a tag: any manifest.
const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

pub async fn serve(
    shared: &Shared,
    upstream: &mut Upstream,
    request: http::Request<Incoming>,
) -> Result<http::Response<Body>, BoxError> {
    let (name, tag) = match manifest_path(request.uri().path()) {
        // A digest reference names one manifest whatever happens: only tags move.
        Some((name, reference)) if request.method() == Method::PUT && !reference.contains(':') => {
            (name.to_string(), reference.to_string())
        }
        _ => return upstream.forward(request).await,
    };
    let (parts, body) = request.into_parts();
    let manifest: Bytes = Limited::new(body, MANIFEST_LIMIT)
        .collect()
        .await?
        .to_bytes();
    let pushed = sha256_digest(&manifest);
    let path = format!("/v2/{name}/manifests/{tag}");
    let (status, headers, current) = upstream
        .get(&parts.headers, &path, Some(ACCEPT), MANIFEST_LIMIT)
        .await?;
    if status == StatusCode::OK {
        let named = headers
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| sha256_digest(&current), str::to_string);
        if named != pushed {
            shared.applied();
            let message = format!(
                "The image tag '{tag}' already exists in the '{name}' repository and cannot \
                 be overwritten because the tag is immutable."
            );
            return Ok(oci_error(StatusCode::BAD_REQUEST, "TAG_INVALID", &message));
        }
    }
    upstream.forward_parts(parts, full(manifest)).await
}
