//! A scripted transport for unit tests: it plays a registry answer by answer, so tests can
//! give the protocol core the quirky and hostile answers a real registry will not produce.
//! Tests against a real registry live in `host-test/`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use crate::error::{Error, ErrorKind, Result};
use crate::http::{Body, Exchange, Method, Request, RequestBody, Response, Transport};

/// One canned answer.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Deliver the body in chunks of at most this size.
    pub chunk: usize,
    /// Break the connection (a transient error) after this many body bytes.
    pub break_after: Option<usize>,
}

impl Answer {
    pub fn new(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            chunk: usize::MAX,
            break_after: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Answer {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Answer {
        self.body = body.into();
        self
    }

    pub fn chunked(mut self, chunk: usize) -> Answer {
        self.chunk = chunk;
        self
    }

    pub fn breaking_after(mut self, bytes: usize) -> Answer {
        self.break_after = Some(bytes);
        self
    }
}

/// A request the transport saw, with its body.
#[derive(Clone, Debug)]
pub struct Seen {
    pub head: Request,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.header_value(name)
    }
}

#[derive(Default)]
struct Script {
    /// Expected method and URL suffix, and the answer to give.
    answers: VecDeque<(Method, String, Answer)>,
    seen: Vec<Seen>,
}

/// Answers requests in order; a request that is not the next expected one fails the test.
#[derive(Clone, Default)]
pub struct Scripted {
    script: Rc<RefCell<Script>>,
}

impl Scripted {
    /// Expects a request whose URL contains `url_suffix` (query included).
    pub fn expect(&self, method: Method, url_suffix: &str, answer: Answer) -> &Self {
        self.script
            .borrow_mut()
            .answers
            .push_back((method, url_suffix.to_string(), answer));
        self
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.script.borrow().seen.clone()
    }

    pub fn remaining(&self) -> usize {
        self.script.borrow().answers.len()
    }

    pub fn boxed(&self) -> Box<dyn Transport> {
        Box::new(self.clone())
    }
}

impl Transport for Scripted {
    fn start(&self, head: Request) -> Result<Box<dyn Exchange>> {
        let (method, suffix, answer) = self
            .script
            .borrow_mut()
            .answers
            .pop_front()
            .unwrap_or_else(|| panic!("unexpected request {} {}", head.method.as_str(), head.url));
        assert_eq!(head.method, method, "method of {}", head.url);
        assert!(
            head.url.contains(&suffix),
            "{} does not contain {suffix}",
            head.url
        );
        let body = match &head.body {
            RequestBody::Bytes(bytes) => bytes.to_vec(),
            RequestBody::Empty | RequestBody::Streamed => Vec::new(),
        };
        Ok(Box::new(ScriptedExchange {
            script: Rc::clone(&self.script),
            head,
            body,
            answer,
        }))
    }
}

struct ScriptedExchange {
    script: Rc<RefCell<Script>>,
    head: Request,
    body: Vec<u8>,
    answer: Answer,
}

impl Exchange for ScriptedExchange {
    fn write(&mut self, chunk: &[u8]) -> Result<()> {
        assert!(
            matches!(self.head.body, RequestBody::Streamed),
            "a write to a request that does not stream"
        );
        self.body.extend_from_slice(chunk);
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Response> {
        let ScriptedExchange {
            script,
            head,
            body,
            answer,
        } = *self;
        script.borrow_mut().seen.push(Seen { head, body });
        if answer.status == 0 {
            return Err(Error::new(
                ErrorKind::Transient,
                "connection reset (scripted)",
            ));
        }
        Ok(Response {
            status: answer.status,
            headers: answer.headers,
            body: Box::new(ChunkedBody {
                bytes: answer.body,
                at: 0,
                chunk: answer.chunk,
                break_after: answer.break_after,
            }),
        })
    }
}

struct ChunkedBody {
    bytes: Vec<u8>,
    at: usize,
    chunk: usize,
    break_after: Option<usize>,
}

impl Body for ChunkedBody {
    fn read(&mut self, max: usize) -> Result<Vec<u8>> {
        let mut n = max.min(self.chunk).min(self.bytes.len() - self.at);
        if let Some(limit) = self.break_after {
            if self.at >= limit {
                return Err(Error::new(
                    ErrorKind::Transient,
                    "connection reset mid-body (scripted)",
                ));
            }
            n = n.min(limit - self.at);
        }
        let out = self.bytes[self.at..self.at + n].to_vec();
        self.at += n;
        Ok(out)
    }
}

/// An OCI error body.
pub fn oci_error(code: &str) -> String {
    format!(
        r#"{{"errors":[{{"code":"{code}","message":"{}","detail":null}}]}}"#,
        code.to_lowercase().replace('_', " ")
    )
}

/// A clock that never waits: sleeps advance its time and are recorded.
#[derive(Default)]
pub struct FakeClock {
    now: std::cell::Cell<std::time::Duration>,
    pub sleeps: RefCell<Vec<std::time::Duration>>,
    /// Nonces drawn: the next one is this plus one.
    nonces: std::cell::Cell<u64>,
}

impl FakeClock {
    pub fn advance(&self, by: std::time::Duration) {
        self.now.set(self.now.get() + by);
    }
}

impl crate::clock::Clock for FakeClock {
    fn now(&self) -> std::time::Duration {
        self.now.get()
    }

    fn sleep(&self, duration: std::time::Duration) {
        self.sleeps.borrow_mut().push(duration);
        self.now.set(self.now.get() + duration);
    }

    fn jitter(&self) -> u32 {
        1 << 31
    }

    fn nonce(&self) -> u64 {
        let n = self.nonces.get() + 1;
        self.nonces.set(n);
        n
    }
}
