//! A keep-alive pool of HTTP/1.1 connections, plain and https, shared by every store of a
//! [`Backend`] (and by the bench's native client). `wasmtime_wasi_http::default_send_request`
//! opens a new TCP connection per request; this pool reuses idle ones, at most
//! [`MAX_IDLE_PER_HOST`] per `host:port` and trust, each for at most [`IDLE_TIMEOUT`].
//!
//! An https connection is keyed by the trust that verified it (see [`TlsClient`]): it is never
//! lent to a store that trusts other certificates.
//!
//! A connection goes back to the pool once hyper reports it ready for another request, i.e.
//! after the response body was read to its end; a response dropped early closes it. A request
//! that a pooled connection could not send (the server closed it meanwhile) is sent again on a
//! new connection: hyper hands back a request it never started to write.
//!
//! A request's body is uploaded for as long as its bytes keep moving (the between-bytes
//! timeout bounds a stall), and its answer is then due within the first-byte timeout (see
//! [`request_timing`](crate::net::request_timing)); a response body fails when it stalls for the
//! between-bytes timeout ([`TimedBody`]).
//!
//! A connection is driven by a task of the tokio runtime that opened it, and dies with that
//! runtime; connections are therefore pooled per runtime (a backend may outlive a runtime,
//! e.g. one shared by tests that each run their own).
//!
//! [`Backend`]: crate::Backend
//! [`TlsClient`]: crate::net::tls::client::TlsClient
//! [`TimedBody`]: crate::net::timed_body::TimedBody

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::client::conn::http1::{self, SendRequest};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::AbortHandle;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

use crate::net::address_policy::{ConnectPolicy, Reach};
use crate::net::connection_error::from_hyper;
use crate::net::request_timing::{Limits, UploadClock};
use crate::net::timed_body::TimedBody;
use crate::net::tls::client::{TlsClient, TrustKey};

/// Idle connections kept per `host:port`.
pub const MAX_IDLE_PER_HOST: usize = 8;
/// An idle connection older than this is closed rather than reused.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// wasmtime's own default for every timeout the guest does not set.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

pub type IoFuture = Box<dyn Future<Output = Result<(), HttpError>> + Send>;
/// What sending a request gives: the response and the connection's I/O future, or an error.
pub type Sent = Result<(http::Response<WasiBody>, IoFuture), HttpError>;
/// A send under way, as the hook makes it (and, in tests, hands it to the fault injector).
pub type Sending = Pin<Box<dyn Future<Output = Sent> + Send>>;

/// A connection: hyper's handle for its requests, and the task that drives it.
struct Connection {
    sender: SendRequest<WasiBody>,
    task: AbortHandle,
}

impl Connection {
    /// Ends the connection unless disarmed once its request is answered. A request that gets
    /// no answer leaves its connection to no one, and hyper, closing it, would first try to
    /// flush what is left of a stalled body, forever; the guest writing that body would wait
    /// as long.
    fn abort_unless_answered(&self) -> AbortUnlessAnswered {
        AbortUnlessAnswered(Some(self.task.clone()))
    }
}

struct AbortUnlessAnswered(Option<AbortHandle>);

impl AbortUnlessAnswered {
    fn answered(mut self) {
        self.0 = None;
    }
}

impl Drop for AbortUnlessAnswered {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

struct Idle {
    conn: Connection,
    since: Instant,
}

/// Counts of what the pool did, for the bench and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub connections_opened: u64,
    pub reused: u64,
}

/// Keep-alive connections by `host:port`. Cheap to clone.
#[derive(Clone, Default)]
pub struct ConnectionPool {
    inner: Arc<Mutex<PoolState>>,
}

/// Idle connections are found by the runtime driving them, their trust (`None`: plain HTTP),
/// their `host:port` and what they were allowed to reach.
type Key = (tokio::runtime::Id, Option<TrustKey>, String, Reach);

#[derive(Default)]
struct PoolState {
    idle: HashMap<Key, Vec<Idle>>,
    stats: PoolStats,
}

impl ConnectionPool {
    pub fn new() -> Self {
        ConnectionPool::default()
    }

    pub fn stats(&self) -> PoolStats {
        self.lock().stats
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        // A panic while holding the lock leaves only a map of idle connections: still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends a plain-HTTP request whose URI is absolute (`http://host[:port]/path`), on an
    /// idle connection when there is one. The returned I/O future has nothing left to do: the
    /// connection runs on its own task.
    pub async fn send(
        &self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> Sent {
        self.send_via(request, options, None, &ConnectPolicy::anywhere())
            .await
    }

    /// [`ConnectionPool::send`] over connections to the addresses `policy` allows, for an
    /// https URI over TLS connections made by `tls`.
    pub(crate) async fn send_checked(
        &self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        tls: Option<&TlsClient>,
        policy: &ConnectPolicy,
    ) -> Sent {
        self.send_via(request, options, tls, policy).await
    }

    async fn send_via(
        &self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        tls: Option<&TlsClient>,
        policy: &ConnectPolicy,
    ) -> Sent {
        let scheme = match tls {
            None => http::uri::Scheme::HTTP,
            Some(_) => http::uri::Scheme::HTTPS,
        };
        if request.uri().scheme() != Some(&scheme) {
            // Never plain HTTP for an https URI, nor for any other scheme.
            return Err(HttpError::HttpRequestUriInvalid);
        }
        let key = (
            tokio::runtime::Handle::current().id(),
            tls.map(TlsClient::key),
            authority_with_port(request.uri())?,
            policy.reach,
        );
        let timeout = |pick: fn(&RequestOptions) -> Option<Duration>| {
            options.as_ref().and_then(pick).unwrap_or(DEFAULT_TIMEOUT)
        };
        let connect_timeout = timeout(|o| o.connect_timeout);
        let between_bytes_timeout = timeout(|o| o.between_bytes_timeout).max(Duration::new(0, 1));
        let limits = Limits {
            first_byte: timeout(|o| o.first_byte_timeout),
            between_bytes: between_bytes_timeout,
        };
        if !request.headers().contains_key(http::header::HOST) {
            // wasi:http sets Host from the request's authority; other callers may not.
            if let Some(host) = request.uri().authority() {
                let host = http::HeaderValue::from_str(host.as_str())
                    .map_err(|_| HttpError::HttpRequestUriInvalid)?;
                request.headers_mut().insert(http::header::HOST, host);
            }
        }
        // Over a direct connection, the request line carries only the path and query.
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        *request.uri_mut() = http::Uri::builder()
            .path_and_query(path)
            .build()
            .map_err(|_| HttpError::HttpRequestUriInvalid)?;
        // The wait for the answer: the body's upload bounded by its progress, then the answer
        // by the first-byte timeout (see `request_timing`).
        let (request, clock) = UploadClock::watch(request);

        let authority = key.2.as_str();
        let (mut conn, response) = match self.checkout(&key) {
            Some(mut conn) => {
                let pending = conn.abort_unless_answered();
                let sent = clock.answer(limits, conn.sender.try_send_request(request));
                match sent.await? {
                    Ok(response) => {
                        pending.answered();
                        (conn, response)
                    }
                    Err(mut failed) => match failed.take_message() {
                        // Never sent: the connection was closed under us. Try a new one.
                        Some(request) => {
                            let conn = self
                                .connect(authority, tls, policy, connect_timeout)
                                .await?;
                            clock.restart();
                            send_on(conn, request, &clock, limits).await?
                        }
                        None => return Err(from_hyper(failed.into_error())),
                    },
                }
            }
            None => {
                let conn = self
                    .connect(authority, tls, policy, connect_timeout)
                    .await?;
                clock.restart();
                send_on(conn, request, &clock, limits).await?
            }
        };
        let pool = self.clone();
        tokio::spawn(async move {
            if conn.sender.ready().await.is_ok() {
                pool.checkin(key, conn);
            }
        });
        let response =
            response.map(|incoming| TimedBody::new(incoming, between_bytes_timeout).boxed_unsync());
        Ok((response, Box::new(async { Ok(()) })))
    }

    fn checkout(&self, key: &Key) -> Option<Connection> {
        let mut state = self.lock();
        let idle = state.idle.get_mut(key)?;
        while let Some(idle) = idle.pop() {
            if idle.since.elapsed() < IDLE_TIMEOUT && idle.conn.sender.is_ready() {
                state.stats.reused += 1;
                return Some(idle.conn);
            }
        }
        None
    }

    fn checkin(&self, key: Key, conn: Connection) {
        let mut state = self.lock();
        // Forget closed and expired connections, and the keys of runtimes that are gone.
        state.idle.retain(|_, idle| {
            idle.retain(|c| c.since.elapsed() < IDLE_TIMEOUT && !c.conn.sender.is_closed());
            !idle.is_empty()
        });
        let idle = state.idle.entry(key).or_default();
        if idle.len() < MAX_IDLE_PER_HOST {
            idle.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }

    /// A new connection to `authority`, over TLS when `tls` is given. `limit` bounds the TCP
    /// connect, the TLS handshake and the HTTP/1.1 handshake, each.
    async fn connect(
        &self,
        authority: &str,
        tls: Option<&TlsClient>,
        policy: &ConnectPolicy,
        limit: Duration,
    ) -> Result<Connection, HttpError> {
        let stream = match tokio::time::timeout(limit, connect_tcp(authority, policy)).await {
            Ok(stream) => stream?,
            Err(_) => return Err(HttpError::ConnectionTimeout),
        };
        let _ = stream.set_nodelay(true);
        let conn = match tls {
            None => http_handshake(stream, limit).await?,
            Some(tls) => {
                http_handshake(tls.handshake(stream, authority, limit).await?, limit).await?
            }
        };
        self.lock().stats.connections_opened += 1;
        Ok(conn)
    }
}

/// A TCP connection to `authority` (`host:port`), on the first address `policy` allows that
/// answers; `HttpRequestDenied` where the name resolves to none it allows.
async fn connect_tcp(authority: &str, policy: &ConnectPolicy) -> Result<TcpStream, HttpError> {
    let (host, port) = authority
        .rsplit_once(':')
        .and_then(|(host, port)| Some((host, port.parse::<u16>().ok()?)))
        .ok_or(HttpError::HttpRequestUriInvalid)?;
    let addresses = match policy.addresses(host, port).await {
        Ok(addresses) => addresses,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(HttpError::HttpRequestDenied)
        }
        Err(e) => return Err(HttpError::Connect(e)),
    };
    let mut last = None;
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(HttpError::Connect(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{host} has no address"),
        )
    })))
}

/// HTTP/1.1 over `io`; the connection runs on a task of its own.
async fn http_handshake<T>(io: T, limit: Duration) -> Result<Connection, HttpError>
where
    T: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let handshake = http1::Builder::new().handshake(TokioIo::new(io));
    let (sender, connection) = tokio::time::timeout(limit, handshake)
        .await
        .map_err(|_| HttpError::ConnectionTimeout)?
        .map_err(from_hyper)?;
    let task = tokio::spawn(async move {
        // Ends when the server closes the connection or the pool drops its sender.
        let _ = connection.await;
    });
    Ok(Connection {
        sender,
        task: task.abort_handle(),
    })
}

/// Sends `request` on the new connection `conn`; its answer, or an error that ends `conn`.
async fn send_on(
    mut conn: Connection,
    request: http::Request<WasiBody>,
    clock: &UploadClock,
    limits: Limits,
) -> Result<(Connection, http::Response<hyper::body::Incoming>), HttpError> {
    let pending = conn.abort_unless_answered();
    let sent = clock
        .answer(limits, conn.sender.send_request(request))
        .await?;
    let response = sent.map_err(from_hyper)?;
    pending.answered();
    Ok((conn, response))
}

/// `host:port` of an absolute URI, with the scheme's default port where none is given.
pub fn authority_with_port(uri: &http::Uri) -> Result<String, HttpError> {
    let authority = uri.authority().ok_or(HttpError::HttpRequestUriInvalid)?;
    Ok(match authority.port() {
        Some(_) => authority.to_string(),
        None if uri.scheme() == Some(&http::uri::Scheme::HTTPS) => format!("{authority}:443"),
        None => format!("{authority}:80"),
    })
}

#[cfg(test)]
mod tests;
