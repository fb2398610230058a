//! A minimal HTTP/1.1 client for checking the test servers themselves: one request per
//! connection (`Connection: close`), over plain TCP or TLS trusting given roots.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);
const MAX_RESPONSE: u64 = 1 << 20;

/// A response: status, the head's header lines, and the body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Response {
    /// The value of the first header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

fn request_text(method: &str, authority: &str, path: &str, headers: &[(&str, &str)]) -> String {
    let mut text =
        format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text
}

fn parse(bytes: &[u8]) -> Response {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {head:?}"));
    Response {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

fn connect(authority: &str) -> TcpStream {
    let stream =
        TcpStream::connect(authority).unwrap_or_else(|e| panic!("connect {authority}: {e}"));
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// `method path` over plain HTTP to `authority` (`127.0.0.1:PORT`).
pub fn send(method: &str, authority: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut stream = connect(authority);
    stream
        .write_all(request_text(method, authority, path, headers).as_bytes())
        .expect("send the request");
    let mut bytes = Vec::new();
    let _ = (&mut stream).take(MAX_RESPONSE).read_to_end(&mut bytes);
    parse(&bytes)
}

/// `method path` over TLS to `authority`, trusting only `roots` (DER certificates); a TLS
/// failure is returned as its message.
pub fn send_tls(
    method: &str,
    authority: &str,
    path: &str,
    roots: &[Vec<u8>],
) -> Result<Response, String> {
    let mut store = rustls::RootCertStore::empty();
    for der in roots {
        store
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .expect("a root certificate");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(store)
    .with_no_client_auth();
    let host = authority
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(authority);
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).expect("a server name");
    let connection = rustls::ClientConnection::new(Arc::new(config), name).expect("a TLS client");
    let mut tls = rustls::StreamOwned::new(connection, connect(authority));
    tls.write_all(request_text(method, authority, path, &[]).as_bytes())
        .map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    match (&mut tls).take(MAX_RESPONSE).read_to_end(&mut bytes) {
        Ok(_) => Ok(parse(&bytes)),
        Err(_) if !bytes.is_empty() => Ok(parse(&bytes)),
        Err(e) => Err(e.to_string()),
    }
}
