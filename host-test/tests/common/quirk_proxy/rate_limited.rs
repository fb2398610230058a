//! `RateLimited`: Docker Hub answers requests over its limits with `429 Too Many Requests`.
//! Over the pull limit, the body is the OCI error `TOOMANYREQUESTS` ("You have reached your
//! pull rate limit. You may increase the limit by authenticating and upgrading: ...") and
//! the answer carries `RateLimit-Limit` and `RateLimit-Remaining`; over the overall
//! per-address limit (thousands of requests a minute, every endpoint) it is a short 429 that
//! may carry `Retry-After`.
//!
//! Sources: Docker's documentation, "Docker Hub pull usage and limits" (formerly "Download
//! rate limit", docker/docs, content/manuals/docker-hub/usage/pulls.md: the 429 body and the
//! rate-limit headers; "Other limits": the overall limit's plain 429), and
//! docker/hub-feedback#1907 (an overall-limit 429 quoted whole, with `Retry-After: 60`).
//!
//! Here every [`EVERY`]-th request of a repository (a count per repository, so that what a
//! test case meets does not depend on the cases running beside it) is refused before it
//! reaches the registry. The refusals cycle through `Retry-After: 0`, none, `Retry-After:
//! 0`, none, `Retry-After: 0`, `Retry-After: 1`: each kind is met, and the waits stay
//! short. The refused request's body is read first, so that a client still sending it gets
//! the answer rather than a reset connection.

use std::collections::HashMap;
use std::sync::Mutex;

use http::StatusCode;
use hyper::body::Incoming;

use super::forward::{drain, oci_error, Body, BoxError, Upstream};
use super::{repository, Shared};

/// One request of a repository in this many is refused.
pub const EVERY: u64 = 20;

/// The largest body read before a refusal (the suites put objects of 64 MiB).
const DRAIN_LIMIT: u64 = 128 << 20;

/// Requests and refusals so far, per repository.
#[derive(Default)]
pub struct Counters(Mutex<HashMap<String, (u64, u64)>>);

impl Counters {
    /// Counts a request of `repository`; where it is to be refused, the number of the
    /// refusal (0, 1, ...).
    fn count(&self, repository: &str) -> Option<u64> {
        let mut counts = self.0.lock().unwrap();
        let (requests, refusals) = counts.entry(repository.to_string()).or_default();
        *requests += 1;
        if !(*requests).is_multiple_of(EVERY) {
            return None;
        }
        *refusals += 1;
        Some(*refusals - 1)
    }
}

/// The `Retry-After` of refusal `n`.
fn retry_after(n: u64) -> Option<&'static str> {
    match n % 6 {
        1 | 3 => None,
        5 => Some("1"),
        _ => Some("0"),
    }
}

pub async fn serve(
    shared: &Shared,
    upstream: &mut Upstream,
    request: http::Request<Incoming>,
) -> Result<http::Response<Body>, BoxError> {
    let repository = repository(request.uri().path()).unwrap_or("").to_string();
    let Some(refusal) = shared.rate.count(&repository) else {
        return upstream.forward(request).await;
    };
    drain(request.into_body(), DRAIN_LIMIT).await?;
    shared.applied();
    let mut answer = oci_error(
        StatusCode::TOO_MANY_REQUESTS,
        "TOOMANYREQUESTS",
        "You have reached your pull rate limit. You may increase the limit by \
         authenticating and upgrading: https://www.docker.com/increase-rate-limit",
    );
    let headers = answer.headers_mut();
    headers.insert("ratelimit-limit", "100;w=21600".parse().unwrap());
    headers.insert("ratelimit-remaining", "0;w=21600".parse().unwrap());
    if let Some(seconds) = retry_after(refusal) {
        headers.insert(http::header::RETRY_AFTER, seconds.parse().unwrap());
    }
    Ok(answer)
}
