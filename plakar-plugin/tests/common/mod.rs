//! The plugin as Plakar runs it: the executable started with stdin and stdout as pipes, and a
//! gRPC client (the generated `StoreClient`) on that one connection; a registry shared by the
//! test binary.

#![allow(dead_code)] // not every test binary uses every helper

pub mod calls;

use std::collections::HashMap;
use std::io;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use kloset_oci_host::testkit::local_registry::LocalRegistry;
use kloset_oci_plakar::proto::store_client::StoreClient;
use kloset_oci_plakar::proto::*;
use tokio::process::{Child, Command};
use tonic::transport::{Channel, Endpoint};

pub const PLUGIN: &str = env!("CARGO_BIN_EXE_kloset-oci-plakar");

/// The registry every test of this binary shares (each uses repositories of its own).
pub fn registry() -> &'static LocalRegistry {
    static REGISTRY: OnceLock<LocalRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| LocalRegistry::start_with_config("").expect("start docker-registry"))
}

/// A location no other test uses.
pub fn fresh_location(registry: &LocalRegistry) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(
        "oci://{}/plugin-tests/{}-{n}",
        registry.authority(),
        std::process::id()
    )
}

pub struct Plugin {
    pub child: Child,
    pub client: StoreClient<Channel>,
}

/// Starts the plugin with the workspace's component, connected over its pipes.
pub async fn start() -> Plugin {
    start_with_env(&[]).await
}

pub async fn start_with_env(env: &[(&str, &str)]) -> Plugin {
    let mut command = Command::new(PLUGIN);
    command
        .env(
            kloset_oci_host::COMPONENT_ENV,
            kloset_oci_host::default_component_path(),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("start the plugin");
    let stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let io = Arc::new(Mutex::new(Some(tokio::io::join(stdout, stdin))));
    // Like Plakar's dialer: one connection, handed out once.
    let connector = tower::service_fn(move |_| {
        let io = io.lock().unwrap().take();
        async move {
            io.map(TokioIo::new)
                .ok_or_else(|| io::Error::other("the plugin has one connection only"))
        }
    });
    let channel = Endpoint::from_static("http://plugin.invalid")
        .connect_timeout(Duration::from_secs(20))
        .connect_with_connector(connector)
        .await
        .expect("HTTP/2 with the plugin");
    Plugin {
        child,
        client: StoreClient::new(channel),
    }
}

/// Init's config map from pairs.
pub fn config(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Plugin {
    pub async fn init(&mut self, pairs: &[(&str, &str)]) -> Result<InitResponse, tonic::Status> {
        self.client
            .init(InitRequest {
                proto: "oci".into(),
                config: config(pairs),
            })
            .await
            .map(|r| r.into_inner())
    }

    /// A plugin initialised on a fresh store location of the shared registry, created.
    pub async fn created(extra: &[(&str, &str)]) -> (Plugin, String) {
        let location = fresh_location(registry());
        let mut plugin = start().await;
        let mut pairs = vec![("location", location.as_str())];
        pairs.extend_from_slice(extra);
        plugin.init(&pairs).await.expect("init");
        plugin
            .client
            .create(CreateRequest {
                config: b"plugin-test-config".to_vec(),
            })
            .await
            .expect("create");
        (plugin, location)
    }
}

/// Deterministic bytes of `len` for object `seed`.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

pub fn mac(seed: u64) -> Vec<u8> {
    let mut mac = bytes(seed ^ 0x5151, 32);
    mac[0] = seed as u8;
    mac
}
