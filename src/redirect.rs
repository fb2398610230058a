//! Following redirects (blob reads are often answered 307 to storage or a CDN).
//!
//! - GET and HEAD follow 301, 302, 303, 307 and 308; PUT follows only 307 and 308, which
//!   keep the method and body (RFC 9110 §15.4). Streamed bodies are never redirected.
//! - Every header but `Authorization` travels on: `Range` survives. `Authorization` is
//!   dropped whenever the host changes (the auth layer below adds credentials only for the
//!   registry itself, so nothing of ours reaches a storage host).
//! - At most [`MAX_REDIRECTS`](crate::url::MAX_REDIRECTS) hops; never from https down to
//!   http ([`crate::url`]).

use std::cell::Cell;
use std::rc::Rc;

use crate::error::Result;
use crate::http::{authority_of, send, Layer, Layered, Method, Request, Response, Transport};
use crate::url::Hops;

pub type Redirect = Layered<RedirectLayer>;

pub struct RedirectLayer {
    inner: Box<dyn Transport>,
    followed: Rc<Cell<u64>>,
}

impl Redirect {
    pub fn new(inner: Box<dyn Transport>) -> Redirect {
        Layered(Rc::new(RedirectLayer {
            inner,
            followed: Rc::default(),
        }))
    }

    /// A counter of the redirects followed so far.
    pub fn counter(&self) -> Rc<Cell<u64>> {
        Rc::clone(&self.0.followed)
    }
}

impl Layer for RedirectLayer {
    fn below(&self) -> &dyn Transport {
        self.inner.as_ref()
    }

    fn send(&self, mut request: Request) -> Result<Response> {
        let mut hops = Hops::default();
        loop {
            let response = send(self.inner.as_ref(), request.clone())?;
            response.check_headers()?;
            if !follows(request.method, response.status) {
                return Ok(response);
            }
            let Some(location) = response.header("location") else {
                return Ok(response);
            };
            // Bounded: `hops` refuses the hop past MAX_REDIRECTS.
            let next = hops.next(&request.url, location)?;
            drop(response);
            if authority_of(&next) != request.authority() {
                request.remove_header("authorization");
            }
            request.url = next;
            self.followed.set(self.followed.get() + 1);
        }
    }
}

fn follows(method: Method, status: u16) -> bool {
    match method {
        Method::Get | Method::Head => matches!(status, 301 | 302 | 303 | 307 | 308),
        Method::Put => matches!(status, 307 | 308),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::testing::{Answer, Scripted};
    use crate::url::MAX_REDIRECTS;

    const BLOB: &str = "https://registry.example/v2/r/blobs/sha256:aa";

    fn get(t: &Scripted, request: Request) -> Result<Response> {
        send(&Redirect::new(t.boxed()), request)
    }

    #[test]
    fn range_survives_and_authorization_stays_home() {
        let t = Scripted::default();
        t.expect(
            Method::Get,
            "/r/blobs/sha256:aa",
            Answer::new(307).header("location", "/v2/r/blobs/moved"),
        );
        t.expect(
            Method::Get,
            "/v2/r/blobs/moved",
            Answer::new(302).header("location", "https://storage.example/obj?sig=1"),
        );
        t.expect(
            Method::Get,
            "storage.example/obj?sig=1",
            Answer::new(206).body("xy"),
        );
        let request = Request::new(Method::Get, BLOB)
            .header("range", "bytes=0-1")
            .header("authorization", "Bearer t");
        let response = get(&t, request).unwrap();
        assert_eq!(response.status, 206);
        let seen = t.seen();
        assert_eq!(
            seen[1].header("authorization"),
            Some("Bearer t"),
            "same host keeps it"
        );
        assert_eq!(
            seen[2].header("authorization"),
            None,
            "another host never gets it"
        );
        assert!(seen.iter().all(|s| s.header("range") == Some("bytes=0-1")));
    }

    #[test]
    fn oversized_headers_are_refused() {
        let t = Scripted::default();
        let huge = format!("/{}", "a".repeat(crate::http::HEADERS_LIMIT));
        t.expect(Method::Get, "", Answer::new(307).header("location", &huge));
        let e = get(&t, Request::new(Method::Get, BLOB)).err().unwrap();
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert!(e.message.contains("headers"), "{}", e.message);
        assert_eq!(t.seen().len(), 1, "the redirect was not followed");
    }

    #[test]
    fn endless_redirects_end_in_an_error() {
        let t = Scripted::default();
        for _ in 0..=MAX_REDIRECTS {
            t.expect(Method::Get, "", Answer::new(302).header("location", BLOB));
        }
        let e = get(&t, Request::new(Method::Get, BLOB)).err().unwrap();
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert_eq!(t.remaining(), 0);
    }

    #[test]
    fn downgrades_and_odd_methods_are_not_followed() {
        let t = Scripted::default();
        t.expect(
            Method::Get,
            "",
            Answer::new(301).header("location", "http://registry.example/x"),
        );
        assert_eq!(
            get(&t, Request::new(Method::Get, BLOB)).err().unwrap().kind,
            ErrorKind::Protocol
        );
        let t = Scripted::default();
        t.expect(
            Method::Put,
            "",
            Answer::new(302).header("location", "/elsewhere"),
        );
        let put = Request::new(Method::Put, BLOB).bytes(b"x".to_vec());
        assert_eq!(
            get(&t, put).unwrap().status,
            302,
            "a PUT follows only 307 and 308"
        );
        let t = Scripted::default();
        t.expect(
            Method::Put,
            "",
            Answer::new(307).header("location", "/again"),
        );
        t.expect(Method::Put, "registry.example/again", Answer::new(201));
        let put = Request::new(Method::Put, BLOB).bytes(b"body".to_vec());
        assert_eq!(get(&t, put).unwrap().status, 201);
        assert_eq!(t.seen()[1].body, b"body");
    }
}
