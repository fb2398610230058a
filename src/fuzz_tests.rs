//! Hostile answers cannot trap the instance: every parser of registry and token-service text
//! gets bounded runs of random and mutated inputs and must return, never panic (a panic in
//! the component traps the instance). Inputs come from a fixed seed, so a failure repeats.

use std::time::Duration;

use crate::auth::{challenge, token};
use crate::blob_read::check_content_range;
use crate::http::{Body, Response};
use crate::registry::next_link;
use crate::upload::session::next as next_session;
use crate::url::follow;

/// Cases for each parser.
const CASES: usize = 20_000;

/// xorshift64: small, seeded, enough to spread inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// One of the seeds, mutated a few times, or random text (bytes 0..=255 read as chars).
    fn input(&mut self, seeds: &[&str]) -> String {
        if self.below(8) == 0 {
            let len = self.below(64);
            return (0..len).map(|_| char::from(self.next() as u8)).collect();
        }
        let mut text: Vec<char> = seeds[self.below(seeds.len())].chars().collect();
        for _ in 0..1 + self.below(4) {
            let at = self.below(text.len() + 1);
            match self.below(6) {
                0 if at < text.len() => {
                    text.remove(at);
                }
                1 => text.insert(at, TRICKY[self.below(TRICKY.len())]),
                2 if at < text.len() => text[at] = char::from(self.next() as u8),
                3 => {
                    // A number at the edge of every integer type.
                    let n = ["18446744073709551615", "-1", "99999999999999999999999", "0"];
                    text.splice(at..at, n[self.below(n.len())].chars());
                }
                4 if !text.is_empty() => {
                    // Cut short.
                    text.truncate(at);
                }
                _ => {
                    let copy: Vec<char> = text[at..].to_vec();
                    text.extend(copy);
                }
            }
        }
        text.into_iter().collect()
    }
}

const TRICKY: [char; 16] = [
    '"', '\\', ',', ';', '=', '<', '>', '/', ':', '-', '*', ' ', '\u{0}', '\u{fffd}', '.', '}',
];

struct Empty;

impl Body for Empty {
    fn read(&mut self, _max: usize) -> crate::error::Result<Vec<u8>> {
        Ok(Vec::new())
    }
}

fn response(status: u16, name: &str, value: String) -> Response {
    Response {
        status,
        headers: vec![(name.to_string(), value)],
        body: Box::new(Empty),
    }
}

#[test]
fn challenges_never_panic() {
    let seeds = [
        r#"Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull""#,
        r#"Basic realm="x", Bearer realm=https://a/t,error="invalid_token""#,
        r#"bearer REALM="h",service=,scope="a b""#,
    ];
    let mut rng = Rng(0x1);
    for _ in 0..CASES {
        let (a, b) = (rng.input(&seeds), rng.input(&seeds));
        let _ = challenge::parse([a.as_str(), b.as_str()].into_iter());
    }
}

#[test]
fn token_answers_never_panic() {
    let seeds = [
        r#"{"token":"a.eyJhY2Nlc3MiOltdfQ.c","expires_in":300}"#,
        r#"{"access_token":"t","expires_in":18446744073709551615,"issued_at":"x"}"#,
        r#"{"token":"h.eyJhY2Nlc3MiOlt7InR5cGUiOiJyZXBvc2l0b3J5IiwibmFtZSI6InIiLCJhY3Rpb25zIjpbInB1bGwiXX1dfQ.s"}"#,
    ];
    let scopes = vec!["repository:r:pull,push".to_string()];
    let mut rng = Rng(0x2);
    for i in 0..CASES {
        let body = rng.input(&seeds);
        let now = if i % 2 == 0 {
            Duration::MAX
        } else {
            Duration::from_secs(rng.next())
        };
        let _ = token::parse_response(body.as_bytes(), &scopes, "r", now);
    }
}

#[test]
fn links_and_locations_never_panic() {
    let seeds = [
        r#"</v2/r/tags/list?n=1000&last=x>; rel="next""#,
        r#"<https://h/v2/r/tags/list?last=y>;rel=next, <x>; rel="prev""#,
        "/v2/r/blobs/uploads/u1?_state=abc",
        "https://other.example:443/upload/x?y=z",
        "//cdn.example/p",
    ];
    let from = [
        "https://reg.example/v2/r/tags/list?n=1",
        "http://127.0.0.1:5000/v2/r/x",
    ];
    let mut rng = Rng(0x3);
    for _ in 0..CASES {
        let value = rng.input(&seeds);
        let link = response(200, "link", value.clone());
        let _ = next_link(&link);
        let from = from[rng.below(from.len())];
        let _ = follow(from, &value, "a fuzzed reference");
        let _ = next_session(from, &response(202, "location", value));
    }
}

#[test]
fn content_ranges_never_panic() {
    let seeds = [
        "bytes 0-99/100",
        "bytes 10-19/*",
        "bytes 5-4/3",
        "bytes */100",
    ];
    let mut rng = Rng(0x4);
    for _ in 0..CASES {
        let range = response(206, "content-range", rng.input(&seeds));
        let (first, last) = (rng.next() % 200, rng.next() % 200);
        let _ = check_content_range(&range, first, last, rng.next());
    }
}

#[test]
fn locations_digests_and_options_never_panic() {
    let locations = [
        "oci://reg.example:5000/a/b",
        "oci://[::1]:5000/r",
        "oci://h/r@x",
    ];
    let digests = ["sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"];
    let timeouts = ["30", "0.5", "1e9", "18446744073709551615.999"];
    let mut rng = Rng(0x5);
    for _ in 0..CASES {
        let _ = crate::location::Location::parse(&rng.input(&locations), None);
        let _ = crate::digest::Digest::parse(&rng.input(&digests));
        let _ = crate::encoding::base64_decode(&rng.input(&["eyJhIjoxfQ", "YQ==", "_-"]));
        let option = vec![("first_byte_timeout".to_string(), rng.input(&timeouts))];
        let _ = crate::options::Options::parse(&option);
    }
}
