//! Uploads over a slow uplink: a request body is bounded by its progress, not by the
//! first-byte timeout. A throttled loopback proxy in front of a real registry lets a put
//! through far more slowly than the first-byte timeout, bytes moving all along: the put
//! succeeds. A proxy that stops reading mid-body makes the put fail with a write timeout.
//!
//! Needs `docker-registry` on PATH and the component built with
//! `cargo build --release -p kloset-oci --target wasm32-wasip2`.

#[path = "../common/mod.rs"]
mod common;
mod proxy;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kloset_oci_host::{Backend, Kind, Store};

use common::data::XorShift;
use common::registry::Registry;
use proxy::{Proxy, Uplink};

const CONFIG: &[u8] = b"_KLOSET_slow-upload-config";
const MIB: usize = 1024 * 1024;
/// The first-byte timeout of the stores that upload through the proxy.
const FIRST_BYTE: Duration = Duration::from_secs(2);
/// A put that has not ended by then has hung: the test fails rather than wait on.
const BOUND: Duration = Duration::from_secs(120);

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::start_new)
}

fn backend() -> &'static Backend {
    static BACKEND: OnceLock<Backend> = OnceLock::new();
    BACKEND.get_or_init(|| Backend::load_default().expect("load the component"))
}

fn options(first_byte: Duration, between_bytes: Duration) -> Vec<(String, String)> {
    [
        ("connect_timeout", Duration::from_secs(5)),
        ("first_byte_timeout", first_byte),
        ("between_bytes_timeout", between_bytes),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), format!("{}", value.as_secs_f64())))
    .collect()
}

/// A store created directly on the registry, and the same store reached through `proxy`.
async fn stores(test: &str, proxy: &Proxy, options: &[(String, String)]) -> (Store, Store) {
    let location = registry().fresh_location("slow-upload", test);
    let mut direct = backend().connect(&location, &[]).await.expect("connect");
    direct.create(CONFIG).await.expect("create the store");
    let path = location
        .strip_prefix(&format!("oci://{}", registry().authority()))
        .expect("a location on the registry");
    let proxied = format!("oci://{}{path}", proxy.authority());
    let slow = backend()
        .connect(&proxied, options)
        .await
        .expect("connect through the proxy");
    (direct, slow)
}

/// 24 MiB through an uplink of at most 64 KiB per 10 ms (about 6 MiB/s, less with the
/// timer's slack): the streamed PATCH takes several first-byte timeouts, and succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_upload_that_keeps_moving_succeeds() {
    let proxy = Proxy::start(
        &registry().authority(),
        Uplink::Throttled {
            bytes: 64 * 1024,
            tick: Duration::from_millis(10),
        },
    );
    let (mut direct, mut slow) = stores(
        "throttled",
        &proxy,
        &options(FIRST_BYTE, Duration::from_secs(2)),
    )
    .await;
    let mut rng = XorShift::new(9001);
    let mac = rng.mac();
    let data = rng.bytes(24 * MIB);
    let start = Instant::now();
    let put = tokio::time::timeout(BOUND, slow.put_bytes(Kind::Packfile, &mac, &data))
        .await
        .expect("the put ended");
    let took = start.elapsed();
    let written = put.unwrap_or_else(|e| panic!("put through the slow uplink ({took:?}): {e}"));
    assert_eq!(written, data.len() as u64);
    eprintln!("24 MiB through the throttled proxy in {took:?}");
    let back = direct
        .get_bytes(Kind::Packfile, &mac, None)
        .await
        .expect("read back");
    assert!(back == data, "the object reads back whole");
}

/// A proxy that stops reading after 24 MiB of a connection: the upload fails with the
/// write timeout once no byte could be sent for the between-bytes timeout, although the
/// first-byte timeout is far longer. A first put of 10 MiB teaches the store that the registry
/// takes large PATCHes (its 8 MiB probe, `src/upload/strategy.rs`), so the second streams
/// through one PATCH, which the proxy stalls with most of its bytes unsent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_that_stalls_fails_with_the_write_timeout() {
    let proxy = Proxy::start(
        &registry().authority(),
        Uplink::StallAfter { budget: 24 * MIB },
    );
    let between_bytes = Duration::from_secs(2);
    let (_direct, mut slow) = stores(
        "stalled",
        &proxy,
        &options(Duration::from_secs(60), between_bytes),
    )
    .await;
    let mut rng = XorShift::new(9002);
    let (first, mac) = (rng.mac(), rng.mac());
    let taught = rng.bytes(10 * MIB);
    slow.put_bytes(Kind::Packfile, &first, &taught)
        .await
        .expect("a put within the proxy's budget");
    let data = rng.bytes(48 * MIB);
    let put = tokio::time::timeout(BOUND, slow.put_bytes(Kind::Packfile, &mac, &data))
        .await
        .expect("the put ended");
    let err = put.expect_err("a stalled upload cannot succeed");
    assert!(
        err.message.contains("ConnectionWriteTimeout"),
        "expected a write timeout: {err}"
    );
}
