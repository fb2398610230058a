//! Forwarding to the upstream registry over a kept-alive HTTP/1.1 connection, and the
//! answers a profile makes itself.

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, CONTENT_TYPE};
use http::{Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request or answer body, streamed or made by the proxy.
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

/// Headers of one connection, never forwarded (RFC 9110, section 7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The connection to the upstream registry that one client connection uses.
pub struct Upstream {
    authority: String,
    sender: Option<SendRequest<Body>>,
}

impl Upstream {
    pub fn new(authority: &str) -> Upstream {
        Upstream {
            authority: authority.to_string(),
            sender: None,
        }
    }

    /// Sends `request` (origin-form target, headers as they should arrive) upstream, on the
    /// kept connection while it lasts, else on a new one.
    async fn send(&mut self, request: Request<Body>) -> Result<Response<Incoming>, BoxError> {
        let alive = match self.sender.as_mut() {
            Some(sender) => sender.ready().await.is_ok(),
            None => false,
        };
        if !alive {
            let stream = TcpStream::connect(&self.authority).await?;
            let _ = stream.set_nodelay(true);
            let (sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(connection);
            self.sender = Some(sender);
        }
        let sender = self.sender.as_mut().expect("connected just above");
        Ok(sender.send_request(request).await?)
    }

    /// Sends the client's request on as it came, body streamed; returns the registry's
    /// answer, body streamed.
    pub async fn forward(
        &mut self,
        request: Request<Incoming>,
    ) -> Result<Response<Body>, BoxError> {
        let (parts, body) = request.into_parts();
        self.forward_parts(parts, body.map_err(BoxError::from).boxed_unsync())
            .await
    }

    /// Sends the client's request on with `body` in place of the one it came with.
    pub async fn forward_parts(
        &mut self,
        mut parts: http::request::Parts,
        body: Body,
    ) -> Result<Response<Body>, BoxError> {
        strip_hop_by_hop(&mut parts.headers);
        Ok(streamed(self.send(Request::from_parts(parts, body)).await?))
    }

    /// `GET path` upstream with the client's `Host` and credentials and `accept`; the
    /// status, headers and body (at most `limit` bytes) of the answer.
    pub async fn get(
        &mut self,
        client: &HeaderMap,
        path: &str,
        accept: Option<&str>,
        limit: usize,
    ) -> Result<(StatusCode, HeaderMap, Bytes), BoxError> {
        let mut request = Request::get(path);
        for name in [http::header::HOST, http::header::AUTHORIZATION] {
            if let Some(value) = client.get(&name) {
                request = request.header(name, value);
            }
        }
        if let Some(accept) = accept {
            request = request.header(http::header::ACCEPT, accept);
        }
        let answer = self.send(request.body(empty())?).await?;
        let (parts, body) = answer.into_parts();
        let bytes = Limited::new(body, limit).collect().await?.to_bytes();
        Ok((parts.status, parts.headers, bytes))
    }
}

/// The registry's answer with its body streamed on.
fn streamed(answer: Response<Incoming>) -> Response<Body> {
    let (mut parts, body) = answer.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    Response::from_parts(parts, body.map_err(BoxError::from).boxed_unsync())
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Names a `Connection` header lists are of this connection only, too.
    let listed: Vec<HeaderName> = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// An answer of the registry's that the proxy read whole, passed on as it came.
pub fn passed_on(status: StatusCode, mut headers: HeaderMap, body: Bytes) -> Response<Body> {
    strip_hop_by_hop(&mut headers);
    let mut answer = Response::new(full(body));
    *answer.status_mut() = status;
    *answer.headers_mut() = headers;
    answer
}

pub fn empty() -> Body {
    full(Bytes::new())
}

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A JSON answer the proxy makes itself.
pub fn json(status: StatusCode, body: String) -> Response<Body> {
    let mut answer = Response::new(full(body));
    *answer.status_mut() = status;
    let headers = answer.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        "application/json; charset=utf-8".parse().unwrap(),
    );
    answer
}

/// An OCI error answer: `{"errors":[{"code":CODE,"message":MESSAGE}]}`.
pub fn oci_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let body = serde_json::json!({ "errors": [{ "code": code, "message": message }] });
    json(status, body.to_string())
}

/// What the client gets when the registry could not be reached (it is stopped, say).
pub fn bad_gateway(error: &BoxError) -> Response<Body> {
    let mut answer = Response::new(full(format!("quirk proxy: {error}")));
    *answer.status_mut() = StatusCode::BAD_GATEWAY;
    answer
        .headers_mut()
        .insert(CONTENT_TYPE, "text/plain".parse().unwrap());
    answer
}

/// Reads the client's body to its end (at most `limit` bytes are read), so that an answer
/// made before the body is taken reaches a client still sending it.
pub async fn drain(body: Incoming, limit: u64) -> Result<(), BoxError> {
    let mut body = body;
    let mut read = 0u64;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            read += data.len() as u64;
            if read > limit {
                return Err(format!("a request body over {limit} bytes").into());
            }
        }
    }
    Ok(())
}
