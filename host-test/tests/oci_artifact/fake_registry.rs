//! A loopback "registry" that answers fixed routes with fixed bytes, to serve what a real
//! registry never would: bytes that do not match their digest, a lying
//! `Docker-Content-Digest`, a redirect from https down to plain http. Plain HTTP, or https
//! with the harness's server certificate; it keeps the request lines it got.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::common::pki::Pki;

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

    /// `307 Temporary Redirect` to `location`.
    pub fn redirect(location: &str) -> Route {
        Route {
            status: 307,
            headers: vec![("Location".to_string(), location.to_string())],
            body: Vec::new(),
        }
    }
}

pub struct FakeRegistry {
    authority: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl FakeRegistry {
    /// Serves `routes` (path -> answer; anything else is 404) over plain HTTP until dropped.
    pub fn serve(routes: HashMap<String, Route>) -> FakeRegistry {
        FakeRegistry::start(routes, None)
    }

    /// Serves `routes` over https, with the server certificate of `pki` (for 127.0.0.1).
    pub fn serve_tls(routes: HashMap<String, Route>, pki: &Pki) -> FakeRegistry {
        let certs = CertificateDer::pem_file_iter(&pki.server_cert)
            .expect("the server certificate")
            .collect::<Result<Vec<_>, _>>()
            .expect("the server certificate");
        let key = PrivateKeyDer::from_pem_file(&pki.server_key).expect("the server key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("a TLS server config");
        FakeRegistry::start(routes, Some(Arc::new(config)))
    }

    fn start(routes: HashMap<String, Route>, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let authority = listener.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (halt, log) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
                match &tls {
                    None => answer(stream, &routes, &log),
                    Some(config) => {
                        let Ok(connection) = rustls::ServerConnection::new(config.clone()) else {
                            continue;
                        };
                        answer(rustls::StreamOwned::new(connection, stream), &routes, &log);
                    }
                }
            }
        });
        FakeRegistry {
            authority,
            stop,
            thread: Some(thread),
            seen,
        }
    }

    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The request lines answered so far (`GET /v2/... HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
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

fn answer<S: Read + Write>(stream: S, routes: &HashMap<String, Route>, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() || request_line.is_empty() {
        return;
    }
    seen.lock()
        .unwrap()
        .push(request_line.trim_end().to_string());
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
    let _ = stream.flush();
}
