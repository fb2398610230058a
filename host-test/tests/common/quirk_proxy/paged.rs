//! `Paged`: tag lists the way registries that page them on their own terms answer.
//!
//! The proxy answers `GET /v2/<name>/tags/list` itself, from the whole list the registry
//! gives (asked without `n` or `last`): pages of [`PAGE`] tags, whatever `n` the client asked
//! for; a `Link: </v2/<name>/tags/list?n=100&cursor=K>; rel="next"` while more follow, whose
//! cursor is the proxy's own and opaque (a `last` is ignored); the tags of a page in no
//! order (a fixed shuffle); and each page after the first starting with the tag the page
//! before ended with.
//!
//! Sources: distribution-spec, "Listing Tags", and opencontainers/distribution-spec#470 (a
//! registry that sends `Link` may answer fewer tags than `n`); Quay paged by 50 with `Link:
//! </v2/<name>/tags/list?next_page=<opaque token>&n=50>; rel="next"` and ignored `last`
//! (deitch/docker_registry2#56, regclient/regclient#272, until 2024:
//! deitch/docker_registry2#107); Docker Hub pages by 100 with `Link` and lists tags "in
//! repository-internal index order" (gadievron/raptor#495); distribution 2.8 does not sort
//! them either (distribution/distribution#3143). No registry is known to repeat a tag
//! across pages; the overlap stands for a page boundary that moves while a listing goes on
//! (a tag put or deleted in between), which a client that follows `Link` must survive.

use http::{Method, StatusCode};
use hyper::body::Incoming;

use super::forward::{json, oci_error, passed_on, Body, BoxError, Upstream};
use super::{repository, Shared};
use kloset_oci_host::testkit::xorshift::XorShift;

/// Tags a page.
pub const PAGE: usize = 100;

/// The largest tag list read from the registry.
const LIST_LIMIT: usize = 64 << 20;

/// Hides the page number in the cursor.
const CURSOR_MASK: u64 = 0x6b1d_3c5a_97e2_40f8;

fn cursor(page: usize) -> String {
    format!("{:016x}", page as u64 ^ CURSOR_MASK)
}

fn page_of(cursor: &str) -> Option<usize> {
    let bits = u64::from_str_radix(cursor, 16).ok()?;
    usize::try_from(bits ^ CURSOR_MASK).ok()
}

/// The pages of `tags` (sorted): the first holds [`PAGE`] tags, each later one the last tag
/// of the page before and then `PAGE - 1` new ones; each page's order shuffled, the same way
/// every time.
pub fn pages(tags: &[String]) -> Vec<Vec<String>> {
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut next = 0;
    while next < tags.len() || pages.is_empty() {
        let mut page: Vec<String> = match pages.last() {
            Some(before) => before.last().cloned().into_iter().collect(),
            None => Vec::new(),
        };
        let fresh = (PAGE - page.len()).min(tags.len() - next);
        let mut new = tags[next..next + fresh].to_vec();
        next += fresh;
        shuffle(&mut new, pages.len() as u64);
        page.extend(new);
        pages.push(page);
    }
    pages
}

fn shuffle(tags: &mut [String], seed: u64) {
    let mut rng = XorShift::new(seed + 1);
    for i in (1..tags.len()).rev() {
        tags.swap(i, rng.between(0, i as u64) as usize);
    }
}

pub async fn serve(
    shared: &Shared,
    upstream: &mut Upstream,
    request: http::Request<Incoming>,
) -> Result<http::Response<Body>, BoxError> {
    let path = request.uri().path();
    let name = match repository(path) {
        Some(name) if path.ends_with("/tags/list") && request.method() == Method::GET => {
            name.to_string()
        }
        _ => return upstream.forward(request).await,
    };
    let query = request.uri().query().unwrap_or("");
    let asked = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("cursor="))
        .map(page_of);
    let number = match asked {
        None => 0,
        Some(Some(number)) => number,
        Some(None) => {
            return Ok(oci_error(
                StatusCode::BAD_REQUEST,
                "PAGINATION_NUMBER_INVALID",
                "invalid cursor",
            ))
        }
    };
    let list = format!("/v2/{name}/tags/list");
    let (status, headers, body) = upstream
        .get(request.headers(), &list, None, LIST_LIMIT)
        .await?;
    if status != StatusCode::OK {
        // No such repository, or not allowed: the registry's own answer.
        return Ok(passed_on(status, headers, body));
    }
    let whole: serde_json::Value = serde_json::from_slice(&body)?;
    let mut tags: Vec<String> = whole["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    tags.sort();
    let pages = pages(&tags);
    let Some(page) = pages.get(number) else {
        return Ok(oci_error(
            StatusCode::BAD_REQUEST,
            "PAGINATION_NUMBER_INVALID",
            "the cursor is past the last page",
        ));
    };
    let body = serde_json::json!({ "name": name, "tags": page }).to_string();
    let mut answer = json(StatusCode::OK, body);
    let more = number + 1 < pages.len();
    if more {
        let link = format!(
            "</v2/{name}/tags/list?n={PAGE}&cursor={}>; rel=\"next\"",
            cursor(number + 1)
        );
        answer
            .headers_mut()
            .insert(http::header::LINK, link.parse()?);
    }
    if more || number > 0 {
        // A page of a list that one page would not hold: the profile acted.
        shared.applied();
    }
    Ok(answer)
}
