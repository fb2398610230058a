//! A TCP proxy on 127.0.0.1 in front of a registry: what the client sends reaches the
//! registry at a limited rate, or stops after a budget; answers come back as they are.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// What the proxy lets through from the client to the registry.
#[derive(Clone, Copy, Debug)]
pub enum Uplink {
    /// At most `bytes` per `tick`, on each connection.
    Throttled { bytes: usize, tick: Duration },
    /// The first `budget` bytes of each connection at full speed; then nothing more is read
    /// from it, and the connection stays open.
    StallAfter { budget: usize },
}

/// Receive buffers of the proxy's client side (the kernel may round it up): small, so
/// that few bytes wait in it when the throttle holds the rest back.
const RECEIVE_BUFFER: u32 = 64 * 1024;

pub struct Proxy {
    authority: String,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free loopback port; each connection is relayed to `upstream`.
    pub fn start(upstream: &str, uplink: Uplink) -> Proxy {
        let socket = TcpSocket::new_v4().expect("a socket");
        socket
            .set_recv_buffer_size(RECEIVE_BUFFER)
            .expect("SO_RCVBUF");
        socket
            .bind("127.0.0.1:0".parse().unwrap())
            .expect("bind 127.0.0.1");
        let listener = socket.listen(16).expect("listen");
        let authority = listener.local_addr().unwrap().to_string();
        let upstream = upstream.to_string();
        let task = tokio::spawn(async move {
            // Dropped with this task: every relay ends with the proxy.
            let mut relays = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                relays.spawn(relay(client, upstream.clone(), uplink));
            }
        });
        Proxy { authority, task }
    }

    /// `127.0.0.1:port`.
    pub fn authority(&self) -> &str {
        &self.authority
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(client: TcpStream, upstream: String, uplink: Uplink) {
    let Ok(server) = TcpStream::connect(&upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let up = async move {
        let mut passed = 0usize;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let want = match uplink {
                Uplink::Throttled { bytes, .. } => bytes.min(buf.len()),
                Uplink::StallAfter { budget } if passed >= budget => {
                    // Reads nothing more: the client's bytes pile up until it can send none.
                    std::future::pending::<()>().await;
                    unreachable!()
                }
                Uplink::StallAfter { budget } => (budget - passed).min(buf.len()),
            };
            let n = match from_client.read(&mut buf[..want]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if to_server.write_all(&buf[..n]).await.is_err() {
                break;
            }
            passed += n;
            if let Uplink::Throttled { tick, .. } = uplink {
                tokio::time::sleep(tick).await;
            }
        }
        let _ = to_server.shutdown().await;
    };
    let down = async move {
        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
        let _ = to_client.shutdown().await;
    };
    tokio::join!(up, down);
}
