//! `NoDelete`: Docker Hub and GHCR refuse every manifest delete through the registry API,
//! by digest or by tag, with `405 Method Not Allowed` and the OCI error `UNSUPPORTED`
//! ("The operation is unsupported."); images are deleted through each service's own API or
//! web interface instead.
//!
//! Sources: docker/hub-feedback#2360 ("Support the OCI delete API": `DELETE
//! /v2/<name>/manifests/<digest>` on registry-1.docker.io fails with 405), goharbor/harbor#7369
//! (Harbor's replication to Docker Hub: "http error: code 405, message
//! {"errors":[{"code":"UNSUPPORTED",...}]}"), containers/skopeo#1880 (`skopeo delete` on
//! ghcr.io: the same body, "(405 Method Not Allowed)").

use http::{Method, StatusCode};
use hyper::body::Incoming;

use super::forward::{oci_error, Body, BoxError, Upstream};
use super::{manifest_path, Shared};

pub async fn serve(
    shared: &Shared,
    upstream: &mut Upstream,
    request: http::Request<Incoming>,
) -> Result<http::Response<Body>, BoxError> {
    if request.method() == Method::DELETE && manifest_path(request.uri().path()).is_some() {
        shared.applied();
        return Ok(oci_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            "The operation is unsupported.",
        ));
    }
    upstream.forward(request).await
}
