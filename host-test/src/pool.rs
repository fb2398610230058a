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
//! A connection is driven by a task of the tokio runtime that opened it, and dies with that
//! runtime; connections are therefore pooled per runtime (a backend may outlive a runtime,
//! e.g. one shared by tests that each run their own).
//!
//! [`Backend`]: crate::Backend
//! [`TlsClient`]: crate::tls_client::TlsClient

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::client::conn::http1::{self, SendRequest};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

use crate::connection_error::from_hyper;
use crate::timed_body::TimedBody;
use crate::tls_client::{TlsClient, TrustKey};

/// Idle connections kept per `host:port`.
pub const MAX_IDLE_PER_HOST: usize = 8;
/// An idle connection older than this is closed rather than reused.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// wasmtime's own default for every timeout the guest does not set.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

pub type IoFuture = Box<dyn Future<Output = Result<(), HttpError>> + Send>;
/// What sending a request gives: the response and the connection's I/O future, or an error.
pub type Sent = Result<(http::Response<WasiBody>, IoFuture), HttpError>;

struct Idle {
    sender: SendRequest<WasiBody>,
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

/// Idle connections are found by the runtime driving them, their trust (`None`: plain HTTP)
/// and their `host:port`.
type Key = (tokio::runtime::Id, Option<TrustKey>, String);

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
        self.send_via(request, options, None).await
    }

    /// [`ConnectionPool::send`] for an https URI, over TLS connections made by `tls`.
    pub(crate) async fn send_tls(
        &self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        tls: &TlsClient,
    ) -> Sent {
        self.send_via(request, options, Some(tls)).await
    }

    async fn send_via(
        &self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        tls: Option<&TlsClient>,
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
        );
        let timeout = |pick: fn(&RequestOptions) -> Option<Duration>| {
            options.as_ref().and_then(pick).unwrap_or(DEFAULT_TIMEOUT)
        };
        let connect_timeout = timeout(|o| o.connect_timeout);
        let first_byte_timeout = timeout(|o| o.first_byte_timeout);
        let between_bytes_timeout = timeout(|o| o.between_bytes_timeout).max(Duration::new(0, 1));
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

        let authority = key.2.as_str();
        let (mut sender, response) = match self.checkout(&key) {
            Some(mut sender) => {
                match first_byte_try(first_byte_timeout, &mut sender, request).await? {
                    Ok(response) => (sender, Ok(response)),
                    Err(mut failed) => match failed.take_message() {
                        // Never sent: the connection was closed under us. Try a new one.
                        Some(request) => {
                            let mut sender = self.connect(authority, tls, connect_timeout).await?;
                            let sent = first_byte(first_byte_timeout, sender.send_request(request));
                            (sender, sent.await)
                        }
                        None => return Err(from_hyper(failed.into_error())),
                    },
                }
            }
            None => {
                let mut sender = self.connect(authority, tls, connect_timeout).await?;
                let sent = first_byte(first_byte_timeout, sender.send_request(request));
                (sender, sent.await)
            }
        };
        let response = response?;
        let pool = self.clone();
        tokio::spawn(async move {
            if sender.ready().await.is_ok() {
                pool.checkin(key, sender);
            }
        });
        let response =
            response.map(|incoming| TimedBody::new(incoming, between_bytes_timeout).boxed_unsync());
        Ok((response, Box::new(async { Ok(()) })))
    }

    fn checkout(&self, key: &Key) -> Option<SendRequest<WasiBody>> {
        let mut state = self.lock();
        let idle = state.idle.get_mut(key)?;
        while let Some(conn) = idle.pop() {
            if conn.since.elapsed() < IDLE_TIMEOUT && conn.sender.is_ready() {
                state.stats.reused += 1;
                return Some(conn.sender);
            }
        }
        None
    }

    fn checkin(&self, key: Key, sender: SendRequest<WasiBody>) {
        let mut state = self.lock();
        // Forget closed and expired connections, and the keys of runtimes that are gone.
        state.idle.retain(|_, idle| {
            idle.retain(|c| c.since.elapsed() < IDLE_TIMEOUT && !c.sender.is_closed());
            !idle.is_empty()
        });
        let idle = state.idle.entry(key).or_default();
        if idle.len() < MAX_IDLE_PER_HOST {
            idle.push(Idle {
                sender,
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
        limit: Duration,
    ) -> Result<SendRequest<WasiBody>, HttpError> {
        let stream = match tokio::time::timeout(limit, TcpStream::connect(authority)).await {
            Ok(stream) => stream.map_err(HttpError::Connect)?,
            Err(_) => return Err(HttpError::ConnectionTimeout),
        };
        let _ = stream.set_nodelay(true);
        let sender = match tls {
            None => http_handshake(stream, limit).await?,
            Some(tls) => {
                http_handshake(tls.handshake(stream, authority, limit).await?, limit).await?
            }
        };
        self.lock().stats.connections_opened += 1;
        Ok(sender)
    }
}

/// HTTP/1.1 over `io`; the connection runs on a task of its own.
async fn http_handshake<T>(io: T, limit: Duration) -> Result<SendRequest<WasiBody>, HttpError>
where
    T: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let handshake = http1::Builder::new().handshake(TokioIo::new(io));
    let (sender, connection) = tokio::time::timeout(limit, handshake)
        .await
        .map_err(|_| HttpError::ConnectionTimeout)?
        .map_err(from_hyper)?;
    tokio::spawn(async move {
        // Ends when the server closes the connection or the pool drops its sender.
        let _ = connection.await;
    });
    Ok(sender)
}

async fn first_byte(
    limit: Duration,
    sent: impl Future<Output = hyper::Result<http::Response<hyper::body::Incoming>>>,
) -> Result<http::Response<hyper::body::Incoming>, HttpError> {
    match tokio::time::timeout(limit, sent).await {
        Ok(response) => response.map_err(from_hyper),
        Err(_) => Err(HttpError::ConnectionReadTimeout),
    }
}

type TrySent = Result<
    http::Response<hyper::body::Incoming>,
    hyper::client::conn::TrySendError<http::Request<WasiBody>>,
>;

async fn first_byte_try(
    limit: Duration,
    sender: &mut SendRequest<WasiBody>,
    request: http::Request<WasiBody>,
) -> Result<TrySent, HttpError> {
    tokio::time::timeout(limit, sender.try_send_request(request))
        .await
        .map_err(|_| HttpError::ConnectionReadTimeout)
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
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::{Empty, Full};
    use std::convert::Infallible;
    use tokio::net::TcpListener;

    /// A loopback HTTP/1.1 server answering every request `200 hello`, keep-alive; returns
    /// its port and a counter of accepted connections.
    async fn server() -> (u16, Arc<Mutex<u32>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(Mutex::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                *counter.lock().unwrap() += 1;
                // `/big` answers 8 MiB, more than a connection buffers ahead of its reader.
                let service = hyper::service::service_fn(|req: http::Request<_>| async move {
                    let body = match req.uri().path() {
                        "/big" => Bytes::from(vec![7u8; 8 << 20]),
                        _ => Bytes::from("hello"),
                    };
                    Ok::<_, Infallible>(http::Response::new(Full::new(body)))
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        (port, accepted)
    }

    fn idle_count(pool: &ConnectionPool) -> usize {
        pool.lock().idle.values().map(Vec::len).sum()
    }

    fn get(port: u16) -> http::Request<WasiBody> {
        get_path(port, "/x")
    }

    fn get_path(port: u16, path: &str) -> http::Request<WasiBody> {
        let body = Empty::<Bytes>::new()
            .map_err(|never| match never {})
            .boxed_unsync();
        http::Request::get(format!("http://127.0.0.1:{port}{path}"))
            .body(body)
            .unwrap()
    }

    async fn fetch(pool: &ConnectionPool, port: u16) -> Bytes {
        let (response, _) = pool.send(get(port), None).await.unwrap();
        assert_eq!(response.status(), 200);
        response.into_body().collect().await.unwrap().to_bytes()
    }

    #[tokio::test]
    async fn a_connection_read_to_the_end_is_used_again() {
        let (port, accepted) = server().await;
        let pool = ConnectionPool::new();
        for _ in 0..5 {
            assert_eq!(fetch(&pool, port).await, "hello");
            // The connection goes back to the pool on a task of its own.
            for _ in 0..100 {
                if idle_count(&pool) == 1 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        assert_eq!(*accepted.lock().unwrap(), 1);
        let stats = pool.stats();
        assert_eq!(stats.connections_opened, 1);
        assert_eq!(stats.reused, 4);
    }

    #[tokio::test]
    async fn a_response_dropped_unread_closes_its_connection() {
        let (port, accepted) = server().await;
        let pool = ConnectionPool::new();
        let (response, _) = pool.send(get_path(port, "/big"), None).await.unwrap();
        drop(response);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(fetch(&pool, port).await, "hello");
        assert_eq!(*accepted.lock().unwrap(), 2);
    }

    /// The plain connector refuses an https URI (and any other scheme) rather than send it
    /// in the clear.
    #[tokio::test]
    async fn only_http_uris_go_out_in_the_clear() {
        let pool = ConnectionPool::new();
        for uri in ["https://127.0.0.1:1/v2/", "ftp://127.0.0.1:1/v2/"] {
            let body = Empty::<Bytes>::new()
                .map_err(|never| match never {})
                .boxed_unsync();
            let request = http::Request::get(uri).body(body).unwrap();
            match pool.send(request, None).await {
                Err(HttpError::HttpRequestUriInvalid) => {}
                Err(other) => panic!("{uri}: {other:?}"),
                Ok(_) => panic!("{uri}: sent"),
            }
        }
        assert_eq!(pool.stats().connections_opened, 0);
    }

    #[test]
    fn default_ports_come_from_the_scheme() {
        let uri: http::Uri = "http://example.com/v2/".parse().unwrap();
        assert_eq!(authority_with_port(&uri).unwrap(), "example.com:80");
        let uri: http::Uri = "https://example.com/v2/".parse().unwrap();
        assert_eq!(authority_with_port(&uri).unwrap(), "example.com:443");
        let uri: http::Uri = "http://127.0.0.1:5000/v2/".parse().unwrap();
        assert_eq!(authority_with_port(&uri).unwrap(), "127.0.0.1:5000");
    }
}
