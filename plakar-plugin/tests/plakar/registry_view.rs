//! What the registry itself holds, read over its HTTP API (not through kloset-oci): the
//! tags of a repository, so a test counts the packfiles a backup stored.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The tags of `repository` on the plain-HTTP registry at `authority`.
pub fn tags(authority: &str, repository: &str) -> Vec<String> {
    let mut stream = TcpStream::connect(authority).expect("connect to the registry");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET /v2/{repository}/tags/list?n=100000 HTTP/1.0\r\nHost: {authority}\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8(response).expect("UTF-8 answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "{head}"
    );
    assert!(
        !head.to_ascii_lowercase().contains("\nlink:"),
        "paged tag list: {head}"
    );
    let json: serde_json::Value = serde_json::from_str(body).expect("JSON tag list");
    json["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The packfile tags (`packfile-<mac>`) of `repository`, sorted.
pub fn packfiles(authority: &str, repository: &str) -> Vec<String> {
    let mut packfiles: Vec<String> = tags(authority, repository)
        .into_iter()
        .filter(|tag| tag.starts_with("packfile-"))
        .collect();
    packfiles.sort();
    packfiles
}
