//! A loopback reverse proxy that makes a local registry behave like a hosted one: each
//! [`Profile`] reproduces a documented behaviour of Docker Hub, GHCR, ECR or Harbor (the
//! profile's file names its source) that no registry the tests can run shows by itself.
//!
//! The proxy is an HTTP/1.1 server on a free port of 127.0.0.1, on a thread of its own with
//! its own tokio runtime (the test cases each run theirs, and the proxy outlives them); it
//! stops when dropped. Every request goes on to the upstream registry with its `Host` header
//! unchanged (distribution builds absolute `Location` URLs from `Host`, so they point back
//! at the proxy), its body and the answer's streamed. A profile may answer a request itself
//! or rewrite the upstream answer; [`QuirkProxy::quirks_applied`] counts how often it did.

mod forward;
mod immutable_tags;
mod no_delete;
mod paged;
mod rate_limited;
mod upload_limits;

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::body::Incoming;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Mutex};
use wasmtime_wasi_http::io::TokioIo;

use super::registry::Registry;
use forward::{bad_gateway, Body, Upstream};

/// A hosted registry's behaviour, applied by the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Docker Hub, GHCR: manifest deletes through the registry API are refused (405).
    NoDelete,
    /// Docker Hub: every [`rate_limited::EVERY`]-th request of a repository gets 429.
    RateLimited,
    /// Tag lists in pages of 100 with an opaque cursor, unsorted, overlapping by one tag.
    Paged,
    /// ECR (Harbor alike): a tag that names a manifest cannot be moved to another.
    ImmutableTags,
    /// GHCR: an upload request's body over 4 MiB is refused (416).
    BodyCap,
    /// ECR: upload parts but the last of 5 MiB at least, said by `OCI-Chunk-Min-Length`;
    /// PATCH answered 201.
    ChunkMinimum,
}

/// What the proxy and its profile share between connections.
struct Shared {
    profile: Profile,
    upstream: String,
    /// Requests received.
    requests: AtomicU64,
    /// Requests the profile answered itself or whose answer it rewrote.
    quirks: AtomicU64,
    rate: rate_limited::Counters,
    parts: upload_limits::Parts,
}

impl Shared {
    fn applied(&self) {
        self.quirks.fetch_add(1, Ordering::Relaxed);
    }
}

pub struct QuirkProxy {
    authority: String,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl QuirkProxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `upstream` (`127.0.0.1:PORT`)
    /// under `profile`.
    pub fn start(upstream: &str, profile: Profile) -> QuirkProxy {
        let shared = Arc::new(Shared {
            profile,
            upstream: upstream.to_string(),
            requests: AtomicU64::new(0),
            quirks: AtomicU64::new(0),
            rate: rate_limited::Counters::default(),
            parts: upload_limits::Parts::default(),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("quirk-proxy")
            .enable_all()
            .build()
            .expect("a tokio runtime for the proxy");
        // Bound here, so that the port is known on return; served by the proxy's runtime
        // (the caller may be inside a runtime of its own, where none can be blocked on).
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port for the proxy");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let authority = listener
            .local_addr()
            .expect("the bound address")
            .to_string();
        let (stop, stopped) = oneshot::channel();
        let thread = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("a tokio listener");
                    accept(listener, shared, stopped).await
                });
                // Connections still open end with the runtime.
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
        };
        QuirkProxy {
            authority,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:PORT` of the proxy.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    pub fn profile(&self) -> Profile {
        self.shared.profile
    }

    /// How many requests the profile answered itself or rewrote the answer of.
    pub fn quirks_applied(&self) -> u64 {
        self.shared.quirks.load(Ordering::Relaxed)
    }

    /// How many requests the proxy received.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }
}

impl Drop for QuirkProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `registry` reached through a proxy applying `profile`: its `authority()` (and so every
/// location made from it) names the proxy, which lives as long as the registry
/// (`registry.companion::<QuirkProxy>()`); garbage collection and restarts still act on the
/// registry itself.
pub fn fronted(registry: Registry, profile: Profile) -> Registry {
    let proxy = QuirkProxy::start(&registry.registry_authority(), profile);
    let authority = proxy.authority().to_string();
    registry.behind(authority, proxy)
}

async fn accept(listener: TcpListener, shared: Arc<Shared>, mut stopped: oneshot::Receiver<()>) {
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        // One upstream connection for each client connection: HTTP/1.1 asks one request at
        // a time on either, and the registry sees as many connections as the clients open.
        let upstream = Arc::new(Mutex::new(Upstream::new(&shared.upstream)));
        let service = hyper::service::service_fn(move |request| {
            let (shared, upstream) = (shared.clone(), upstream.clone());
            async move {
                let mut upstream = upstream.lock().await;
                Ok::<_, Infallible>(serve(&shared, &mut upstream, request).await)
            }
        });
        tokio::spawn(
            hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service),
        );
    }
}

async fn serve(
    shared: &Shared,
    upstream: &mut Upstream,
    request: http::Request<Incoming>,
) -> http::Response<Body> {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let answer = match shared.profile {
        Profile::NoDelete => no_delete::serve(shared, upstream, request).await,
        Profile::RateLimited => rate_limited::serve(shared, upstream, request).await,
        Profile::Paged => paged::serve(shared, upstream, request).await,
        Profile::ImmutableTags => immutable_tags::serve(shared, upstream, request).await,
        Profile::BodyCap => upload_limits::serve_capped(shared, upstream, request).await,
        Profile::ChunkMinimum => {
            upload_limits::serve_chunk_minimum(shared, upstream, request).await
        }
    };
    answer.unwrap_or_else(|e| bad_gateway(&e))
}

/// The repository a `/v2/<name>/...` path names: what comes before its last
/// `/manifests/`, `/blobs/` or `/tags/list` (a name may hold `/`, a reference may not).
fn repository(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/v2/")?;
    let end = ["/manifests/", "/blobs/", "/tags/list"]
        .iter()
        .filter_map(|marker| rest.rfind(marker))
        .max()?;
    Some(&rest[..end])
}

/// `(name, reference)` of a `/v2/<name>/manifests/<reference>` path.
fn manifest_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/v2/")?;
    let (name, reference) = rest.rsplit_once("/manifests/")?;
    (!name.is_empty() && !reference.is_empty() && !reference.contains('/'))
        .then_some((name, reference))
}
