//! URL references in registry answers (a redirect's or an upload session's `Location`, a tag
//! list's `Link`): resolved against the request, followed only to http(s) and never from https
//! down to http, and the bound on redirects. The component's redirect layer, its upload
//! sessions and tag list, and the host's component pull all follow these rules.

use crate::error::{Error, Result};
use crate::http::{authority_of, has_scheme};

/// Redirects followed for one request, at most.
pub const MAX_REDIRECTS: usize = 5;

/// The redirects of one request: each hop checked by [`follow`], at most [`MAX_REDIRECTS`].
#[derive(Debug, Default)]
pub struct Hops {
    taken: usize,
}

impl Hops {
    /// Where a redirect from `from` with `Location: location` leads, or an error: a refused
    /// target, or one hop more than [`MAX_REDIRECTS`].
    pub fn next(&mut self, from: &str, location: &str) -> Result<String> {
        if self.taken == MAX_REDIRECTS {
            return Err(Error::protocol(format!(
                "more than {MAX_REDIRECTS} redirects"
            )));
        }
        self.taken += 1;
        follow(from, location.trim(), "a redirect")
    }
}

/// The URL an answer of the registry points to (a redirect, an upload session's Location, a
/// tag list's next page): `reference` resolved against `from`, refused unless it is http(s)
/// and, from https, https again: no credentials or object bytes ever go out in cleartext
/// after an https start (a plain-http store may move either way).
pub fn follow(from: &str, reference: &str, what: &str) -> Result<String> {
    let next = resolve(from, reference);
    if !(has_scheme(&next, "https") || has_scheme(&next, "http")) {
        return Err(Error::protocol(format!("{what} is not an http(s) URL")));
    }
    if has_scheme(from, "https") && !has_scheme(&next, "https") {
        return Err(Error::protocol(format!(
            "{what} leads from https down to plain http ({}): refused, so that no \
             credentials or data travel in cleartext",
            authority_of(&next)
        )));
    }
    Ok(next)
}

/// Resolves a URL reference (a `Location` or `Link` target) against the request URL.
/// Registries answer with absolute URLs, absolute paths, or paths relative to the request.
pub fn resolve(request_url: &str, reference: &str) -> String {
    if has_any_scheme(reference) {
        return reference.to_string();
    }
    let scheme_end = request_url.find("://").map(|i| i + 3).unwrap_or(0);
    if let Some(rest) = reference.strip_prefix("//") {
        return format!("{}{rest}", &request_url[..scheme_end]);
    }
    let path_start = request_url[scheme_end..].find('/').map(|i| i + scheme_end);
    let origin = &request_url[..path_start.unwrap_or(request_url.len())];
    if reference.starts_with('/') {
        return format!("{origin}{reference}");
    }
    let path = &request_url[origin.len()..];
    let path = path.split('?').next().unwrap_or("");
    let dir = &path[..path.rfind('/').map(|i| i + 1).unwrap_or(0)];
    format!("{origin}{dir}{reference}")
}

/// Whether a reference is an absolute URL: it starts with a scheme (RFC 3986, section 3.1:
/// a letter, then letters, digits, `+`, `-` or `.`, then `:`), in any case.
fn has_any_scheme(reference: &str) -> bool {
    reference.split_once(':').is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn references_resolve_against_the_request() {
        let req = "http://127.0.0.1:5000/v2/a/b/blobs/uploads/";
        assert_eq!(
            resolve(req, "https://s3.example/x?y"),
            "https://s3.example/x?y"
        );
        assert_eq!(
            resolve(req, "/v2/a/b/blobs/uploads/u1?_state=s"),
            "http://127.0.0.1:5000/v2/a/b/blobs/uploads/u1?_state=s"
        );
        assert_eq!(
            resolve(req, "u2"),
            "http://127.0.0.1:5000/v2/a/b/blobs/uploads/u2"
        );
        assert_eq!(
            resolve("http://h/v2/r/tags/list?n=1", "list?last=x"),
            "http://h/v2/r/tags/list?last=x"
        );
        assert_eq!(resolve(req, "//cdn.example/p"), "http://cdn.example/p");
        // Absolute in any case and with any scheme: never read as a path of the request's
        // origin, so that `follow` judges the scheme.
        assert_eq!(
            resolve(req, "HTTP://evil.example/x"),
            "HTTP://evil.example/x"
        );
        assert_eq!(resolve(req, "ftp://h/x"), "ftp://h/x");
        assert_eq!(
            resolve(req, "u3?x=a:b"),
            "http://127.0.0.1:5000/v2/a/b/blobs/uploads/u3?x=a:b"
        );
        let e = follow(req, "file:///etc/passwd", "an upload Location").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert!(e.message.contains("not an http(s) URL"), "{e}");
        let e = follow("https://h/v2/x", "HTTP://h/v2/y", "a redirect").unwrap_err();
        assert!(e.message.contains("plain http"), "{e}");
    }

    #[test]
    fn hops_end_past_the_bound() {
        let mut hops = Hops::default();
        for _ in 0..MAX_REDIRECTS {
            assert_eq!(hops.next("http://h/a", "/b").unwrap(), "http://h/b");
        }
        let e = hops.next("http://h/a", "/b").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert!(e.message.contains("more than 5 redirects"), "{e}");
    }
}
