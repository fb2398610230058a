//! A loopback "registry" that answers fixed routes with fixed bytes, to serve what a real
//! registry never would: bytes that do not match their digest, a lying
//! `Docker-Content-Digest`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// What one path answers: status, extra headers, body.
#[derive(Clone)]
pub struct Route {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Route {
    pub fn ok(body: &[u8]) -> Route {
        Route {
            status: 200,
            headers: Vec::new(),
            body: body.to_vec(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Route {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

pub struct FakeRegistry {
    authority: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeRegistry {
    /// Serves `routes` (path -> answer; anything else is 404) until dropped.
    pub fn serve(routes: HashMap<String, Route>) -> FakeRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let authority = listener.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let halt = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(stream) = stream {
                    answer(stream, &routes);
                }
            }
        });
        FakeRegistry {
            authority,
            stop,
            thread: Some(thread),
        }
    }

    pub fn authority(&self) -> &str {
        &self.authority
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.authority); // wakes the accept loop
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(stream: TcpStream, routes: &HashMap<String, Route>) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Skip the headers (GET requests carry no body).
    for _ in 0..100 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
    }
    let path = request_line.split(' ').nth(1).unwrap_or("").to_string();
    let route = routes.get(&path).cloned().unwrap_or(Route {
        status: 404,
        headers: Vec::new(),
        body: br#"{"errors":[{"code":"NOT_FOUND"}]}"#.to_vec(),
    });
    let mut out = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        route.status,
        route.body.len()
    );
    for (name, value) in &route.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut stream = reader.into_inner();
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.write_all(&route.body);
}
