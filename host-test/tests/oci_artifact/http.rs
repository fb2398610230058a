//! An independent OCI client for the tests: plain HTTP/1.1 over a std `TcpStream`, one
//! request per connection, no code shared with the host's puller.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct Response {
    pub status: u16,
    /// Header names in lowercase.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// Sends one request to `authority` (`127.0.0.1:PORT`) and reads the whole answer.
pub fn request(
    authority: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect(authority).expect("connect to the registry");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the answer");
    parse(&raw)
}

fn parse(raw: &[u8]) -> Response {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete header section");
    let head = std::str::from_utf8(&raw[..end]).expect("ASCII headers");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[end + 4..];
    let body = if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        dechunk(rest)
    } else if let Some(len) = headers.get("content-length") {
        let len: usize = len.parse().unwrap();
        assert!(rest.len() >= len, "short body: {} of {len}", rest.len());
        rest[..len].to_vec()
    } else {
        rest.to_vec()
    };
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for _ in 0..1_000_000 {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_text = std::str::from_utf8(&rest[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        rest = &rest[line_end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
    panic!("too many chunks");
}

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// GET a manifest (by tag or digest); it must be there.
pub fn get_manifest(authority: &str, repository: &str, reference: &str) -> Response {
    let r = request(
        authority,
        "GET",
        &format!("/v2/{repository}/manifests/{reference}"),
        &[("Accept", OCI_MANIFEST)],
        b"",
    );
    assert_eq!(
        r.status,
        200,
        "GET manifest {repository}:{reference}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r
}

/// GET a blob; it must be there.
pub fn get_blob(authority: &str, repository: &str, digest: &str) -> Vec<u8> {
    let r = request(
        authority,
        "GET",
        &format!("/v2/{repository}/blobs/{digest}"),
        &[],
        b"",
    );
    assert_eq!(r.status, 200, "GET blob {repository}@{digest}");
    r.body
}

/// Uploads a blob (POST, then PUT `?digest=`).
pub fn push_blob(authority: &str, repository: &str, bytes: &[u8]) -> String {
    let digest = sha256(bytes);
    let r = request(
        authority,
        "POST",
        &format!("/v2/{repository}/blobs/uploads/"),
        &[],
        b"",
    );
    assert_eq!(r.status, 202, "POST upload");
    let location = r
        .header("location")
        .expect("an upload Location")
        .to_string();
    let location = location
        .strip_prefix(&format!("http://{authority}"))
        .unwrap_or(&location)
        .to_string();
    let sep = if location.contains('?') { '&' } else { '?' };
    let r = request(
        authority,
        "PUT",
        &format!("{location}{sep}digest={digest}"),
        &[("Content-Type", "application/octet-stream")],
        bytes,
    );
    assert_eq!(
        r.status,
        201,
        "PUT blob: {}",
        String::from_utf8_lossy(&r.body)
    );
    digest
}

/// Pushes a manifest under `reference`; returns its digest.
pub fn push_manifest(
    authority: &str,
    repository: &str,
    reference: &str,
    manifest: &[u8],
) -> String {
    let r = request(
        authority,
        "PUT",
        &format!("/v2/{repository}/manifests/{reference}"),
        &[("Content-Type", OCI_MANIFEST)],
        manifest,
    );
    assert_eq!(
        r.status,
        201,
        "PUT manifest: {}",
        String::from_utf8_lossy(&r.body)
    );
    sha256(manifest)
}

pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}
