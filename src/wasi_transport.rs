//! The [`Transport`] over `wasi:http/outgoing-handler`: the only file that speaks wasi:http.
//!
//! Pitfalls it respects (see the notes on wasi:http): the request is handed to the host before
//! its body is written; writes follow `check-write` permits; the output stream is dropped
//! before `outgoing-body.finish`; response bodies are read in large blocking reads.

use wasi::clocks::monotonic_clock;
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingResponse,
    Method as WasiMethod, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::poll;
use wasi::io::streams::{InputStream, OutputStream, StreamError};

use crate::error::{Error, ErrorKind, Result};
use crate::http::{Body, Exchange, Method, Request, RequestBody, Response, Transport};
use crate::options::Timeouts;

pub struct WasiTransport {
    timeouts: Timeouts,
}

impl WasiTransport {
    pub fn new(timeouts: Timeouts) -> WasiTransport {
        WasiTransport { timeouts }
    }
}

fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Transport for WasiTransport {
    fn start(&self, head: Request) -> Result<Box<dyn Exchange>> {
        let (scheme, rest) = head
            .url
            .split_once("://")
            .ok_or_else(|| Error::protocol("a request URL without a scheme"))?;
        let scheme = match scheme {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => return Err(Error::protocol(format!("unsupported URL scheme {other:?}"))),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        let entries: Vec<(String, Vec<u8>)> = head
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), v.clone().into_bytes()))
            .collect();
        let fields = Fields::from_list(&entries)
            .map_err(|e| Error::protocol(format!("a request header was refused: {e:?}")))?;
        let request = OutgoingRequest::new(fields);
        let set = request
            .set_method(&wasi_method(head.method))
            .and(request.set_scheme(Some(&scheme)))
            .and(request.set_authority(Some(authority)))
            .and(request.set_path_with_query(Some(path)));
        set.map_err(|()| Error::protocol(format!("a malformed request URL {:?}", head.url)))?;
        let body = request
            .body()
            .map_err(|()| Error::protocol("the request body was taken twice"))?;
        let options = RequestOptions::new();
        // A host that does not support a timeout keeps its own default.
        let _ = options.set_connect_timeout(Some(nanos(self.timeouts.connect)));
        let _ = options.set_first_byte_timeout(Some(nanos(self.timeouts.first_byte)));
        let _ = options.set_between_bytes_timeout(Some(nanos(self.timeouts.between_bytes)));

        // Hand the request over first: the host buffers only a little of a body it is not sending.
        let future = outgoing_handler::handle(request, Some(options)).map_err(from_error_code)?;
        let stream = body
            .write()
            .map_err(|()| Error::protocol("the request body stream was taken twice"))?;
        let mut exchange = WasiExchange {
            stream,
            body,
            future,
        };
        if let RequestBody::Bytes(bytes) = &head.body {
            exchange.write(bytes)?;
        }
        Ok(Box::new(exchange))
    }
}

fn wasi_method(method: Method) -> WasiMethod {
    match method {
        Method::Get => WasiMethod::Get,
        Method::Head => WasiMethod::Head,
        Method::Post => WasiMethod::Post,
        Method::Put => WasiMethod::Put,
        Method::Patch => WasiMethod::Patch,
        Method::Delete => WasiMethod::Delete,
    }
}

struct WasiExchange {
    // Field order is drop order: the stream goes before its body.
    stream: OutputStream,
    body: OutgoingBody,
    future: FutureIncomingResponse,
}

impl Exchange for WasiExchange {
    fn write(&mut self, mut chunk: &[u8]) -> Result<()> {
        while !chunk.is_empty() {
            let permit = match self.stream.check_write() {
                Ok(permit) => permit,
                Err(e) => return Err(send_failed(&self.future, e)),
            };
            if permit == 0 {
                self.stream.subscribe().block();
                continue;
            }
            let n = chunk.len().min(permit as usize);
            if let Err(e) = self.stream.write(&chunk[..n]) {
                return Err(send_failed(&self.future, e));
            }
            chunk = &chunk[n..];
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Response> {
        let WasiExchange {
            stream,
            body,
            future,
        } = *self;
        match stream.blocking_flush() {
            // With a Content-Length, the host may close the stream once it has every byte.
            Ok(()) | Err(StreamError::Closed) => {}
            Err(e) => return Err(send_failed(&future, e)),
        }
        drop(stream);
        OutgoingBody::finish(body, None).map_err(from_error_code)?;
        future.subscribe().block();
        let response = match future.get() {
            Some(Ok(Ok(response))) => response,
            Some(Ok(Err(code))) => return Err(from_error_code(code)),
            Some(Err(())) | None => return Err(Error::protocol("the response was taken twice")),
        };
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(n, v)| {
                (
                    n.to_ascii_lowercase(),
                    String::from_utf8_lossy(&v).into_owned(),
                )
            })
            .collect();
        let incoming = response
            .consume()
            .map_err(|()| Error::protocol("the response body was taken twice"))?;
        let input = incoming
            .stream()
            .map_err(|()| Error::protocol("the response stream was taken twice"))?;
        let body = WasiBody {
            stream: Some(input),
            body: Some(incoming),
            _response: response,
        };
        Ok(Response {
            status,
            headers,
            body: Box::new(body),
        })
    }
}

struct WasiBody {
    // Field order is drop order: stream, then body, then the response that owns them.
    stream: Option<InputStream>,
    body: Option<IncomingBody>,
    _response: IncomingResponse,
}

impl Body for WasiBody {
    fn read(&mut self, max: usize) -> Result<Vec<u8>> {
        let Some(stream) = &self.stream else {
            return Ok(Vec::new());
        };
        match stream.blocking_read(max as u64) {
            Ok(bytes) => Ok(bytes),
            Err(StreamError::Closed) => {
                self.stream = None;
                if let Some(body) = self.body.take() {
                    drop(IncomingBody::finish(body));
                }
                Ok(Vec::new())
            }
            Err(e) => Err(stream_error("receiving", e)),
        }
    }
}

/// How long a failed body write waits for the request's own outcome.
const OUTCOME_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Why writing a request body failed. The host ends the body stream when it refuses the
/// request (`HttpRequestDenied`, the allow-list) or cannot send it: then the response future
/// holds the real reason, and a refusal must not pass for a transient fault that is retried.
/// It is waited for at most [`OUTCOME_WAIT`]; without it, the stream's error stands.
fn send_failed(future: &FutureIncomingResponse, e: StreamError) -> Error {
    let ready = future.subscribe();
    let timer = monotonic_clock::subscribe_duration(nanos(OUTCOME_WAIT));
    poll::poll(&[&ready, &timer]);
    match future.get() {
        Some(Ok(Err(code))) => from_error_code(code),
        _ => stream_error("sending", e),
    }
}

fn stream_error(doing: &str, e: StreamError) -> Error {
    match e {
        StreamError::Closed => Error::new(
            ErrorKind::Transient,
            format!("the connection closed while {doing}"),
        ),
        StreamError::LastOperationFailed(err) => Error::new(
            ErrorKind::Transient,
            format!(
                "the connection failed while {doing}: {}",
                err.to_debug_string()
            ),
        ),
    }
}

/// wasi:http transport errors, classified.
fn from_error_code(code: ErrorCode) -> Error {
    let kind = match &code {
        ErrorCode::HttpRequestDenied => ErrorKind::Denied,
        ErrorCode::DnsTimeout
        | ErrorCode::DnsError(_)
        | ErrorCode::DestinationUnavailable
        | ErrorCode::DestinationIpUnroutable
        | ErrorCode::ConnectionRefused
        | ErrorCode::ConnectionTerminated
        | ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::ConnectionLimitReached
        | ErrorCode::HttpResponseIncomplete
        | ErrorCode::HttpResponseTimeout => ErrorKind::Transient,
        // TLS failures repeat on every attempt: their kind is one the retry policy never retries.
        ErrorCode::TlsCertificateError => return Error::tls_certificate(),
        ErrorCode::TlsProtocolError => return Error::tls("the TLS handshake failed"),
        ErrorCode::TlsAlertReceived(alert) => {
            let what = alert.alert_message.as_deref().unwrap_or("an alert");
            return Error::tls(format!("the registry refused the TLS handshake ({what})"));
        }
        _ => ErrorKind::Other,
    };
    let message = match &code {
        ErrorCode::HttpRequestDenied => "the host refused to send the request".to_string(),
        ErrorCode::ConnectionRefused => "connection refused".to_string(),
        other => format!("HTTP transport error: {other:?}"),
    };
    Error::new(kind, message)
}
