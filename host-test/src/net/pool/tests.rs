//! The pool against loopback HTTP/1.1 servers.

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

/// A server that takes a connection and never reads from it: the upload stalls. The
/// request fails with the write timeout, long before the first-byte timeout, and its
/// connection ends, so that whoever writes the body learns it at once.
#[tokio::test]
async fn a_stalled_upload_times_out_and_ends_its_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        std::future::pending::<()>().await;
        drop(stream);
    });
    let (writer, body) = crate::net::request_timing::tests::fed_body();
    // Writes until the body is gone: far more than the buffers between here and the server.
    let feeding = tokio::spawn(async move {
        for _ in 0..2_000 {
            if writer.send(Bytes::from(vec![1u8; 64 << 10])).await.is_err() {
                return true;
            }
        }
        false
    });
    let request = http::Request::put(format!("http://127.0.0.1:{port}/upload"))
        .body(body)
        .unwrap();
    let options = RequestOptions {
        connect_timeout: Some(Duration::from_secs(5)),
        first_byte_timeout: Some(Duration::from_secs(600)),
        between_bytes_timeout: Some(Duration::from_millis(500)),
    };
    let bound = Duration::from_secs(60);
    let sent = tokio::time::timeout(bound, ConnectionPool::new().send(request, Some(options)))
        .await
        .expect("the request ended within the bound");
    match sent {
        Err(HttpError::ConnectionWriteTimeout) => {}
        Err(other) => panic!("expected a write timeout, got {other:?}"),
        Ok(_) => panic!("answered"),
    }
    let body_gone = tokio::time::timeout(bound, feeding)
        .await
        .expect("the writer learnt that the body is gone")
        .unwrap();
    assert!(body_gone, "the body was taken whole");
    server.abort();
}
