//! Redirected blob reads against a real redirecting registry: distribution's `redirect`
//! storage middleware answers every blob GET with 307 to a second loopback host
//! (127.0.0.2, `crate::common::storage_host`) that serves the registry's storage root.
//!
//! - The conformance suite on that registry with htpasswd Basic auth: every whole and
//!   ranged read goes through 127.0.0.2.
//! - Focused: exact bytes, the second host never gets `Authorization` (Basic, or a Bearer
//!   token with token auth), every ranged read reaches it with the `Range` the component
//!   asked for, and the redirects are counted by the component and by the host's hooks.

use base64::Engine as _;
use kloset_oci_host::{ByteRange, Kind, Mac, Store};
use sha2::{Digest as _, Sha256};

use crate::common::auth::{self, material, PASSWORD, USER};
use crate::common::registry::Registry;
use crate::common::storage_host::{start_redirecting, SeenRequest, StorageHost};
use crate::common::token_service::{Policy, TokenService};
use crate::suite::{Fixture, Setup};

fn start_redirecting_htpasswd() -> Registry {
    start_redirecting(&auth::htpasswd_yaml())
}

static REDIRECT_HTPASSWD: Setup = Setup::new(
    "distribution-redirect-htpasswd",
    start_redirecting_htpasswd,
    auth::basic_options,
);

crate::conformance_suite!(
    distribution_redirect_htpasswd,
    &crate::redirects::REDIRECT_HTPASSWD
);

/// Token auth (the harness's token service, kept alive by the registry) and redirects: the
/// token realm and the storage host are both hosts the registry named.
fn start_redirecting_token() -> Registry {
    let service = TokenService::start(
        &material().pki,
        Policy {
            user: Some((USER.into(), PASSWORD.into())),
            user_actions: Policy::actions(&["pull", "push", "delete"]),
            anonymous_actions: Vec::new(),
            lifetime_secs: 300,
        },
    );
    start_redirecting(&service.registry_auth_yaml(&material().pki)).keeping(service)
}

static REDIRECT_TOKEN: Setup = Setup::new(
    "distribution-redirect-token",
    start_redirecting_token,
    auth::basic_options,
);

const MIB: usize = 1024 * 1024;

/// `/docker/registry/v2/blobs/sha256/<2 hex>/<hex>/data`: where the middleware sends a read
/// of the blob holding `bytes`.
fn storage_path(bytes: &[u8]) -> String {
    let hex = hex::encode(Sha256::digest(bytes));
    format!("/docker/registry/v2/blobs/sha256/{}/{hex}/data", &hex[..2])
}

/// Asserts that no request the storage host got carried a credential of ours.
#[track_caller]
fn no_credentials(seen: &[SeenRequest]) {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    for request in seen {
        for (name, value) in &request.headers {
            assert!(
                !matches!(
                    name.as_str(),
                    "authorization" | "proxy-authorization" | "cookie"
                ),
                "{} {} carried {name}",
                request.method,
                request.target
            );
            for secret in [PASSWORD, basic.as_str(), "Bearer", "Basic"] {
                assert!(
                    !value.contains(secret),
                    "{} {}: header {name} shows a credential",
                    request.method,
                    request.target
                );
            }
        }
    }
}

async fn read(store: &mut Store, kind: Kind, mac: &Mac, range: Option<ByteRange>) -> Vec<u8> {
    store
        .get_bytes(kind, mac, range)
        .await
        .unwrap_or_else(|e| panic!("get {kind} {range:?}: {e}"))
}

/// Whole and ranged reads on a registry of the setup's own, each checked byte for byte and
/// against what the storage host saw. Returns the registry, for checks of its companions.
async fn redirected_reads(fx: &Fixture) -> Registry {
    let registry = fx.own_registry();
    let host = registry
        .companion::<StorageHost>()
        .expect("a redirecting registry keeps its storage host");
    let location = fx.location_on(&registry);
    let mut store = fx.created_store(&location).await;

    let mut rng = crate::common::data::XorShift::new(71);
    let objects: Vec<(Kind, Mac, Vec<u8>)> = [
        (Kind::Packfile, 3 * MIB + 5),
        (Kind::State, 10_000),
        (Kind::Lock, 50),
    ]
    .into_iter()
    .map(|(kind, len)| (kind, rng.mac(), rng.bytes(len)))
    .collect();
    for (kind, mac, bytes) in &objects {
        let written = store.put_bytes(*kind, mac, bytes).await.expect("put");
        assert_eq!(written, bytes.len() as u64);
    }
    let seen_before = host.seen().len();
    let stats_before = store.stats();
    let redirects_before = store.layer_stats().await.unwrap().redirects;

    for (kind, mac, bytes) in &objects {
        assert!(read(&mut store, *kind, mac, None).await == *bytes, "{kind}");
    }
    let packfile = &objects[0];
    let size = packfile.2.len();
    let ranges = [(0, 1), (MIB + 3, 100_000), (size - 10, 10), (17, 2 * MIB)];
    for (offset, length) in ranges {
        let range = ByteRange::new(offset as u64, length as u32);
        let got = read(&mut store, packfile.0, &packfile.1, Some(range)).await;
        assert!(
            got == packfile.2[offset..offset + length],
            "range {offset}+{length}: wrong bytes"
        );
    }
    let state = &objects[1];
    let got = read(
        &mut store,
        state.0,
        &state.1,
        Some(ByteRange::new(9_990, 10)),
    )
    .await;
    assert!(got == state.2[9_990..], "state range: wrong bytes");

    // The storage host got every read, whole ones without Range, ranged ones with exactly
    // the Range asked for, in order; and never a credential.
    let seen: Vec<SeenRequest> = host.seen()[seen_before..].to_vec();
    let mut expected: Vec<(String, Option<String>)> = objects
        .iter()
        .map(|(_, _, bytes)| (storage_path(bytes), None))
        .collect();
    for (offset, length) in ranges {
        let range = format!("bytes={offset}-{}", offset + length - 1);
        expected.push((storage_path(&packfile.2), Some(range)));
    }
    expected.push((storage_path(&state.2), Some("bytes=9990-9999".into())));
    let got: Vec<(String, Option<String>)> = seen
        .iter()
        .map(|r| (r.target.clone(), r.header("range").map(str::to_string)))
        .collect();
    assert_eq!(got, expected, "what the storage host was asked");
    assert!(seen.iter().all(|r| r.method == "GET"));
    assert!(seen
        .iter()
        .all(|r| r.header("host") == Some(host.authority().as_str())));
    no_credentials(&host.seen());

    // Each read was one request to the registry and one to the storage host, both counted
    // by the host's hooks (the storage host was admitted: the registry named it), and one
    // redirect followed by the component. A lock can be overwritten, so the component
    // caches no descriptor of it: its read asks for its manifest first.
    let reads = expected.len() as u64;
    let manifest_gets = 1;
    let cost = store.stats().since(&stats_before);
    assert_eq!(cost.get, 2 * reads + manifest_gets, "{cost:?}");
    assert_eq!(cost.requests(), cost.get, "{cost:?}");
    assert_eq!(cost.refused, 0, "{cost:?}");
    let redirects = store.layer_stats().await.unwrap().redirects - redirects_before;
    assert_eq!(redirects, reads);
    drop(store);
    registry
}

#[test]
fn redirected_reads_with_basic_auth() {
    crate::suite::fixture::run_case(&REDIRECT_HTPASSWD, "redirected_reads_basic", |fx| {
        Box::pin(async move {
            redirected_reads(fx).await;
        })
    });
}

#[test]
fn redirected_reads_with_token_auth() {
    crate::suite::fixture::run_case(&REDIRECT_TOKEN, "redirected_reads_token", |fx| {
        Box::pin(async move {
            let registry = redirected_reads(fx).await;
            let service = registry
                .companion::<TokenService>()
                .expect("the registry keeps its token service");
            assert!(service.requests() > 0, "no token was asked for");
            assert!(service
                .served()
                .iter()
                .all(|s| s.with_credentials && s.status == 200));
        })
    });
}

/// The registry the suite's cases share redirects too: a read there reaches its storage host.
#[test]
fn the_suite_registry_redirects() {
    crate::suite::fixture::run_case(&REDIRECT_HTPASSWD, "suite_registry_redirects", |fx| {
        Box::pin(async move {
            let mut store = fx.fresh_store().await;
            let bytes = b"read through the storage host".to_vec();
            store
                .put_bytes(Kind::State, &[9; 32], &bytes)
                .await
                .unwrap();
            assert_eq!(read(&mut store, Kind::State, &[9; 32], None).await, bytes);
            let host = REDIRECT_HTPASSWD
                .shared
                .get()
                .and_then(|r| r.companion::<StorageHost>())
                .expect("the shared registry and its storage host");
            let path = storage_path(&bytes);
            assert!(host.seen().iter().any(|r| r.target == path), "{path}");
            assert!(store.layer_stats().await.unwrap().redirects >= 1);
        })
    });
}

/// The storage host itself: ranges, 416 past the end, HEAD, and nothing outside its root.
#[test]
fn the_storage_host_serves_ranges_and_nothing_outside_its_root() {
    use crate::common::raw_http::send;
    use crate::common::storage_host::BoundHost;

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("a")).unwrap();
    std::fs::write(root.join("a/data"), b"0123456789").unwrap();
    std::fs::write(dir.path().join("outside"), b"not served").unwrap();
    let host = BoundHost::bind().serve(root);
    let at = host.authority();

    let whole = send("GET", &at, "/a/data", &[]);
    assert_eq!((whole.status, whole.body.as_str()), (200, "0123456789"));
    let part = send("GET", &at, "/a/data", &[("Range", "bytes=2-4")]);
    assert_eq!((part.status, part.body.as_str()), (206, "234"));
    assert_eq!(part.header("content-range"), Some("bytes 2-4/10"));
    let tail = send("GET", &at, "/a/data", &[("Range", "bytes=7-99")]);
    assert_eq!((tail.status, tail.body.as_str()), (206, "789"));
    assert_eq!(tail.header("content-range"), Some("bytes 7-9/10"));
    let past = send("GET", &at, "/a/data", &[("Range", "bytes=10-12")]);
    assert_eq!(past.status, 416);
    assert_eq!(past.header("content-range"), Some("bytes */10"));
    let head = send("HEAD", &at, "/a/data", &[]);
    assert_eq!((head.status, head.body.as_str()), (200, ""));
    assert_eq!(head.header("content-length"), Some("10"));
    for path in [
        "/../outside",
        "/a/../../outside",
        "/%2e%2e/outside",
        "/a",
        "/a/nothing",
        "/a//data",
    ] {
        let answer = send("GET", &at, path, &[]);
        assert_eq!(answer.status, 404, "{path}");
        assert!(!answer.body.contains("not served"), "{path}");
    }
    assert_eq!(send("PUT", &at, "/a/data", &[]).status, 405);

    let seen = host.seen();
    assert_eq!(seen.len(), 12);
    assert_eq!(seen[1].header("range"), Some("bytes=2-4"));
    assert_eq!(seen[1].header("host"), Some(at.as_str()));
    assert_eq!(
        (seen[4].method.as_str(), seen[5].target.as_str()),
        ("HEAD", "/../outside")
    );
}

/// A loopback "registry" that answers every POST with 202 and `location`, anything else
/// with 404: an upload session on another host, which no real registry here produces.
struct UploadElsewhere {
    authority: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl UploadElsewhere {
    fn serve(location: String) -> UploadElsewhere {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let authority = listener.local_addr().unwrap().to_string();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let halt = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming().take(1000) {
                if halt.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                let Ok(mut stream) = stream else { continue };
                stream
                    .set_read_timeout(Some(std::time::Duration::from_secs(10)))
                    .unwrap();
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                let answer = if head.starts_with(b"POST ") {
                    format!("HTTP/1.1 202 Accepted\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                } else {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .into()
                };
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        UploadElsewhere {
            authority,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for UploadElsewhere {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(&self.authority);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The allow-list admits a host the registry names in a redirect or a Bearer realm, nothing
/// else: an upload session `Location` on another host (a 202, not a redirect) is refused
/// before any connection, and the put fails with a `denied` error.
#[test]
fn a_host_named_outside_a_redirect_stays_refused() {
    let elsewhere = std::net::TcpListener::bind("127.0.0.3:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let target = format!("http://{}/upload/1", elsewhere.local_addr().unwrap());
    let registry = UploadElsewhere::serve(target);
    let location = format!("oci://{}/elsewhere", registry.authority);
    crate::suite::fixture::run_case(&REDIRECT_HTPASSWD, "upload_elsewhere", |fx| {
        Box::pin(async move {
            let mut store = fx.backend.connect(&location, &[]).await.unwrap();
            let err = store
                .put_bytes(Kind::Lock, &[5; 32], b"refused")
                .await
                .expect_err("the put reached a host nobody named");
            assert_eq!(err.kind, kloset_oci_host::ErrorKind::Denied, "{err}");
            // Refused once: a refusal is no transient fault to retry.
            let stats = store.stats();
            assert_eq!(stats.refused, 1, "{stats:?}");
            assert_eq!(stats.post, 1, "{stats:?}");
        })
    });
    match elsewhere.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the unnamed host got a connection: {other:?}"),
    }
}
