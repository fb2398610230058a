//! The registry side of a pull: GET requests with a bound on the body, redirects followed a
//! bounded number of times, and registry answers turned into [`StoreError`] kinds.
//!
//! Requests go through a keep-alive [`ConnectionPool`] of the pull's own (HTTP/1.1), https with
//! the host's [`TlsClient`]: the system's roots plus the CA file of [`PullOptions::ca`](super::PullOptions::ca), as for
//! stores.
//!
//! Redirects follow the store's rules, with the component's own code
//! ([`kloset_oci::url::Hops`], at most [`kloset_oci::url::MAX_REDIRECTS`] hops): a `Location` is
//! resolved against the request, and refused unless it is http(s) and, from https, https
//! again. A plain-http pull (loopback, or `plain_http`) may go either way, as a plain-http store
//! may. A pull sends no credentials; were they added, they belong in [`RegistryClient::get`],
//! for requests to the registry's own origin (`scheme://host:port`,
//! [`kloset_oci::http::origin_of`]) only, never on a redirect elsewhere.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{header, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use wasmtime_wasi_http::RequestOptions;

// Redirects followed for one GET (blob GETs are often sent to storage or a CDN): the
// store's rules and bound.
use kloset_oci::url::Hops;

use crate::error::{ErrorKind, StoreError};
use crate::net::address_policy::ConnectPolicy;
use crate::net::pool::ConnectionPool;
use crate::net::tls::client::TlsClient;
use crate::net::tls::CaBundle;

const TIMEOUTS: RequestOptions = RequestOptions {
    connect_timeout: Some(Duration::from_secs(30)),
    first_byte_timeout: Some(Duration::from_secs(60)),
    between_bytes_timeout: Some(Duration::from_secs(60)),
};

/// A successful answer: its headers and the whole body.
pub(crate) struct Answer {
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

/// Talks to one registry.
pub(crate) struct RegistryClient {
    /// `http://host:port` or `https://host`.
    base: String,
    requests: AtomicU64,
    pool: ConnectionPool,
    /// The https client for the pull's trust, made on the first https request.
    ca: Option<CaBundle>,
}

impl RegistryClient {
    pub fn new(authority: &str, plain_http: bool, ca: Option<CaBundle>) -> RegistryClient {
        let scheme = if plain_http { "http" } else { "https" };
        RegistryClient {
            base: format!("{scheme}://{authority}"),
            requests: AtomicU64::new(0),
            pool: ConnectionPool::new(),
            ca,
        }
    }

    /// Requests sent so far (redirects included).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// GET `path` (e.g. `/v2/<repo>/manifests/<ref>`) with `accept`; a 200 answer whose body
    /// is at most `limit` bytes, or an error naming `what`.
    pub async fn get(
        &self,
        path: &str,
        accept: &str,
        limit: u64,
        what: &str,
    ) -> Result<Answer, StoreError> {
        let mut url = format!("{}{path}", self.base);
        let mut hops = Hops::default();
        loop {
            let uri: Uri = url.parse().map_err(|_| match url.starts_with(&self.base) {
                true => StoreError::new(ErrorKind::InvalidConfig, format!("{what}: bad URL")),
                false => StoreError::new(
                    ErrorKind::Protocol,
                    format!("{what}: a redirect to an unusable URL"),
                ),
            })?;
            // hyper's connection-level client sends exactly the headers given: Host included.
            let host = uri
                .authority()
                .map(|a| a.as_str().to_string())
                .unwrap_or_default();
            let request = Request::get(uri.clone())
                .header(header::HOST, host)
                .header(header::ACCEPT, accept)
                .header(
                    header::USER_AGENT,
                    concat!("kloset-oci/", env!("CARGO_PKG_VERSION")),
                )
                .body(
                    Empty::<Bytes>::new()
                        .map_err(|never| match never {})
                        .boxed_unsync(),
                )
                .map_err(|e| StoreError::host(format!("{what}: cannot build a request: {e}")))?;
            self.requests.fetch_add(1, Ordering::Relaxed);
            // The operator named the component's registry; a pull sends no credentials.
            let policy = ConnectPolicy::anywhere();
            let sent = match uri.scheme() == Some(&http::uri::Scheme::HTTPS) {
                true => {
                    let tls = TlsClient::for_trust(self.ca.as_ref());
                    let sent = self
                        .pool
                        .send_checked(request, Some(TIMEOUTS), Some(&tls), &policy);
                    sent.await
                }
                false => self.pool.send(request, Some(TIMEOUTS)).await,
            };
            let (response, _) = sent.map_err(|e| transport_error(what, e))?;
            // A response dropped unread closes its connection: returning early stops it.
            let status = response.status();
            if status.is_redirection() {
                // Bounded: `hops` refuses the hop past the bound.
                url = redirect_target(&mut hops, &url, response.headers(), what)?;
                continue;
            }
            if status != StatusCode::OK {
                return Err(status_error(status, what));
            }
            let declared = content_length(response.headers());
            if declared.is_some_and(|n| n > limit) {
                return Err(too_large(what, limit));
            }
            let headers = response.headers().clone();
            let mut body_stream = response.into_body();
            let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit) as usize);
            while let Some(frame) = body_stream.frame().await {
                let frame = frame
                    .map_err(|e| StoreError::new(ErrorKind::Transient, format!("{what}: {e}")))?;
                if let Ok(data) = frame.into_data() {
                    if body.len() as u64 + data.len() as u64 > limit {
                        return Err(too_large(what, limit));
                    }
                    body.extend_from_slice(&data);
                }
            }
            if declared.is_some_and(|n| n != body.len() as u64) {
                return Err(StoreError::new(
                    ErrorKind::Protocol,
                    format!("{what}: the body is not the Content-Length the registry announced"),
                ));
            }
            return Ok(Answer { headers, body });
        }
    }
}

/// A failed request: a certificate the trust refuses, or another TLS failure, is `Tls` (never
/// worth retrying); anything else of the transport may pass.
fn transport_error(what: &str, e: wasmtime_wasi_http::Error) -> StoreError {
    use wasmtime_wasi_http::Error as E;
    let error = match e {
        E::TlsCertificateError => kloset_oci::error::Error::tls_certificate(),
        E::TlsProtocolError | E::TlsAlertReceived { .. } => kloset_oci::error::Error::tls(e),
        e => kloset_oci::error::Error::new(ErrorKind::Transient, e.to_string()),
    };
    error.context(what).into()
}

fn content_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

fn too_large(what: &str, limit: u64) -> StoreError {
    StoreError::new(
        ErrorKind::Protocol,
        format!("{what}: larger than the {limit}-byte bound"),
    )
}

/// Where a redirect from `from` leads: its `Location` resolved against the request, by the
/// rule the store follows (never from https down to plain http).
fn redirect_target(
    hops: &mut Hops,
    from: &str,
    headers: &http::HeaderMap,
    what: &str,
) -> Result<String, StoreError> {
    let location = headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            StoreError::new(
                ErrorKind::Protocol,
                format!("{what}: a redirect without a usable Location"),
            )
        })?;
    hops.next(from, location)
        .map_err(|e| StoreError::from(e.context(what)))
}

/// A registry's refusal as an error kind a caller can act on: the store's classification
/// ([`kloset_oci::error::classify`]; a pull reads no error body).
fn status_error(status: StatusCode, what: &str) -> StoreError {
    kloset_oci::error::classify(status.as_u16(), b"")
        .context(what)
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(from: &str, location: &str) -> Result<String, StoreError> {
        let mut headers = http::HeaderMap::new();
        headers.insert(header::LOCATION, location.parse().unwrap());
        redirect_target(&mut Hops::default(), from, &headers, "blob")
    }

    #[test]
    fn redirects_resolve_against_the_request() {
        let from = "http://127.0.0.1:5000/v2/x/blobs/sha256:ab";
        assert_eq!(
            target(from, "/storage/blob?sig=1").unwrap(),
            "http://127.0.0.1:5000/storage/blob?sig=1"
        );
        assert_eq!(
            target(from, "https://cdn.example/b").unwrap(),
            "https://cdn.example/b"
        );
        assert_eq!(
            target(from, "other").unwrap(),
            "http://127.0.0.1:5000/v2/x/blobs/other"
        );
        assert!(target(from, "ftp://127.0.0.1/b").is_err());
        let no_location = http::HeaderMap::new();
        assert!(redirect_target(&mut Hops::default(), from, &no_location, "blob").is_err());
    }

    #[test]
    fn https_never_leads_down_to_plain_http() {
        let from = "https://registry.example/v2/x/blobs/sha256:ab";
        for location in ["http://cdn.example/b", "HTTP://registry.example/b"] {
            let err = target(from, location).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Protocol);
            assert!(
                err.message.contains("from https down to plain http"),
                "{err}"
            );
        }
        assert_eq!(
            target(from, "//cdn.example/b").unwrap(),
            "https://cdn.example/b"
        );
    }

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(
            status_error(StatusCode::NOT_FOUND, "x").kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            status_error(StatusCode::UNAUTHORIZED, "x").kind,
            ErrorKind::Unauthorized
        );
        assert_eq!(
            status_error(StatusCode::BAD_GATEWAY, "x").kind,
            ErrorKind::Transient
        );
        let teapot = status_error(StatusCode::IM_A_TEAPOT, "blob");
        assert_eq!(teapot.kind, ErrorKind::Other);
        assert_eq!(teapot.message, "blob: registry answered 418");
    }
}
