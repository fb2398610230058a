//! A second loopback host for redirected blob reads: it serves the files of a registry's
//! storage root over plain HTTP on 127.0.0.2, as a storage backend or CDN would serve what
//! distribution's `redirect` storage middleware points at
//! (`<baseurl>/docker/registry/v2/blobs/sha256/<2 hex>/<hex>/data`).
//!
//! GET and HEAD only; `Range: bytes=a-b` (or `a-`) gets 206 with `Content-Range`, a range
//! starting past the end 416 `bytes */size`; any other path 404; a path with `..`, `.`, an
//! empty segment or a `%` escape 404 too. Every request's method, target and headers are
//! recorded for the test to inspect.
//!
//! One thread accepts; each connection gets a thread for one request (`Connection: close`),
//! at most [`MAX_CONNECTIONS`] in all, each bounded in size and time. Dropping the host stops
//! the accepting thread and waits for the connection threads.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::registry::Registry;

const MAX_CONNECTIONS: usize = 100_000;
const MAX_HEAD: usize = 16 * 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// One request the host received.
#[derive(Clone, Debug)]
pub struct SeenRequest {
    pub method: String,
    /// The request target: path and query.
    pub target: String,
    /// Header names in lowercase, with their values, in order.
    pub headers: Vec<(String, String)>,
}

impl SeenRequest {
    /// The value of header `name` (lowercase), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A listener on 127.0.0.2 whose port the registry's config can name before the host serves.
pub struct BoundHost(TcpListener);

impl BoundHost {
    pub fn bind() -> BoundHost {
        BoundHost(TcpListener::bind("127.0.0.2:0").expect("bind 127.0.0.2"))
    }

    /// `http://127.0.0.2:PORT/`.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.0.local_addr().expect("bound address"))
    }

    /// Serves the files under `root`.
    pub fn serve(self, root: PathBuf) -> StorageHost {
        let addr = self.0.local_addr().expect("bound address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || accept(self.0, &root, &seen, &stop))
        };
        StorageHost {
            addr,
            seen,
            stop,
            thread: Some(thread),
        }
    }
}

pub struct StorageHost {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StorageHost {
    /// `127.0.0.2:PORT`.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    /// Every request received so far, in order.
    pub fn seen(&self) -> Vec<SeenRequest> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for StorageHost {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, IO_TIMEOUT); // wakes the accept
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The `middleware:` section that makes distribution answer blob GETs and HEADs with 307 to
/// `base_url` + the blob's storage path.
pub fn redirect_middleware_yaml(base_url: &str) -> String {
    format!(
        "middleware:\n  storage:\n    - name: redirect\n      options:\n        baseurl: \"{base_url}\"\n"
    )
}

/// A registry (config `extra` appended) that redirects blob reads to a [`StorageHost`]
/// serving its storage root; the host lives as long as the registry
/// (`registry.companion::<StorageHost>()`).
pub fn start_redirecting(extra: &str) -> Registry {
    let bound = BoundHost::bind();
    let yaml = format!("{}{extra}", redirect_middleware_yaml(&bound.base_url()));
    let registry = Registry::start_with_config(&yaml);
    let host = bound.serve(registry.data_dir());
    registry.keeping(host)
}

fn accept(
    listener: TcpListener,
    root: &Path,
    seen: &Arc<Mutex<Vec<SeenRequest>>>,
    stop: &AtomicBool,
) {
    let mut connections = Vec::new();
    for _ in 0..MAX_CONNECTIONS {
        let Ok((stream, _)) = listener.accept() else {
            continue;
        };
        if stop.load(Ordering::SeqCst) {
            break;
        }
        connections.retain(|c: &JoinHandle<()>| !c.is_finished());
        let (root, seen) = (root.to_path_buf(), seen.clone());
        connections.push(std::thread::spawn(move || {
            let _ = answer(stream, &root, &seen);
        }));
    }
    for connection in connections {
        let _ = connection.join();
    }
}

fn answer(
    mut stream: TcpStream,
    root: &Path,
    seen: &Mutex<Vec<SeenRequest>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let Some(request) = read_request(&mut stream) else {
        return Ok(());
    };
    seen.lock().unwrap().push(request.clone());
    let head_only = match request.method.as_str() {
        "GET" => false,
        "HEAD" => true,
        _ => return reply(&mut stream, 405, &[], b""),
    };
    let Some(mut file) = open_under(root, &request.target) else {
        return reply(&mut stream, 404, &[], b"not found");
    };
    let size = file.metadata()?.len();
    let (status, start, end) = match request.header("range").map(|r| parse_range(r, size)) {
        None | Some(RangeAsked::Ignored) => (200, 0, size),
        Some(RangeAsked::Bytes(start, end)) => (206, start, end),
        Some(RangeAsked::Unsatisfiable) => {
            let range = format!("bytes */{size}");
            return reply(&mut stream, 416, &[("Content-Range", &range)], b"");
        }
    };
    let mut headers = vec![
        ("Content-Type", "application/octet-stream".to_string()),
        ("Content-Length", (end - start).to_string()),
    ];
    if status == 206 {
        headers.push(("Content-Range", format!("bytes {start}-{}/{size}", end - 1)));
    }
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    write_head(&mut stream, status, &headers)?;
    if !head_only {
        file.seek(SeekFrom::Start(start))?;
        std::io::copy(&mut file.take(end - start), &mut stream)?;
    }
    stream.flush()
}

enum RangeAsked {
    /// `[start, end)`, inside the file.
    Bytes(u64, u64),
    Unsatisfiable,
    /// A form this host does not serve (suffix, several ranges): the whole file, as RFC 9110
    /// §14.2 lets a server do.
    Ignored,
}

fn parse_range(value: &str, size: u64) -> RangeAsked {
    let Some((first, last)) = value
        .trim()
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
    else {
        return RangeAsked::Ignored;
    };
    let Ok(first) = first.parse::<u64>() else {
        return RangeAsked::Ignored;
    };
    let last = match last {
        "" => None,
        text => match text.parse::<u64>() {
            Ok(last) if last >= first => Some(last),
            _ => return RangeAsked::Ignored,
        },
    };
    if first >= size {
        return RangeAsked::Unsatisfiable;
    }
    let end = last.map_or(size, |last| last.saturating_add(1).min(size));
    RangeAsked::Bytes(first, end)
}

/// The regular file `target` names under `root`; `None` for anything that could leave it.
fn open_under(root: &Path, target: &str) -> Option<File> {
    let path = target.split('?').next()?.strip_prefix('/')?;
    let mut full = root.to_path_buf();
    for segment in path.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." || segment.contains(['%', '\\'])
        {
            return None;
        }
        full.push(segment);
    }
    let meta = std::fs::symlink_metadata(&full).ok()?;
    meta.is_file().then(|| File::open(&full).ok()).flatten()
}

fn read_request(stream: &mut TcpStream) -> Option<SeenRequest> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > MAX_HEAD {
            return None;
        }
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8(head).ok()?;
    let head = text.split("\r\n\r\n").next()?;
    let mut lines = head.split("\r\n");
    let mut words = lines.next()?.split(' ');
    let (method, target) = (words.next()?.to_string(), words.next()?.to_string());
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(SeenRequest {
        method,
        target,
        headers,
    })
}

fn write_head(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(&str, &str)],
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        206 => "Partial Content",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        _ => "Other",
    };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())
}

fn reply(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<()> {
    let length = body.len().to_string();
    let mut all = headers.to_vec();
    all.push(("Content-Length", &length));
    write_head(stream, status, &all)?;
    stream.write_all(body)?;
    stream.flush()
}
