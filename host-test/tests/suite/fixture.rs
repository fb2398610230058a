//! What a conformance case gets: the loaded backend, a registry shared by the test binary,
//! fresh repository locations, and a way to start a registry of its own.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use kloset_oci_host::{Backend, HostSettings, Store};

use crate::common::registry::Registry;

/// The config bytes cases create stores with.
pub const CONFIG: &[u8] = b"_KLOSET_test-config";

/// A registry setup: how to start its registry and which options stores need for it.
pub struct Setup {
    pub name: &'static str,
    pub start_registry: fn() -> Registry,
    pub options: fn() -> Vec<(String, String)>,
    /// The registry shared by every case of this setup in one test binary.
    pub shared: OnceLock<Registry>,
    /// How to load the component, where not the default build.
    pub load_backend: Option<fn() -> Backend>,
    /// What the host adds to the stores' requests (a CA file), where not the defaults.
    pub settings: Option<fn() -> HostSettings>,
    /// Runs `garbage-collect --delete-untagged` on the setup's stopped registry and returns
    /// its output; `None` where the implementation has none (its cases say they skip).
    pub garbage_collect: Option<fn(&Registry) -> String>,
    /// Whether the registry refuses to move a tag (ECR's and Harbor's immutable tags): a
    /// lock re-put is then `unsupported` (docs/registries.md).
    pub immutable_tags: bool,
    loaded: OnceLock<Backend>,
}

impl Setup {
    /// A setup of a distribution registry (which collects garbage) started by
    /// `start_registry`, its stores connected with `options`.
    #[allow(dead_code)] // not every test binary has a setup of each kind
    pub const fn new(
        name: &'static str,
        start_registry: fn() -> Registry,
        options: fn() -> Vec<(String, String)>,
    ) -> Setup {
        Setup {
            name,
            start_registry,
            options,
            shared: OnceLock::new(),
            load_backend: None,
            settings: None,
            garbage_collect: Some(Registry::garbage_collect as fn(&Registry) -> String),
            immutable_tags: false,
            loaded: OnceLock::new(),
        }
    }

    /// The setup, for an implementation without a garbage collector.
    #[allow(dead_code)]
    pub const fn without_garbage_collector(mut self) -> Setup {
        self.garbage_collect = None;
        self
    }

    /// The setup, for a registry whose tags are immutable.
    #[allow(dead_code)]
    pub const fn with_immutable_tags(mut self) -> Setup {
        self.immutable_tags = true;
        self
    }

    /// A setup whose stores connect with the host settings `settings` makes (a CA file).
    #[allow(dead_code)]
    pub const fn with_settings(
        name: &'static str,
        start_registry: fn() -> Registry,
        options: fn() -> Vec<(String, String)>,
        settings: fn() -> HostSettings,
    ) -> Setup {
        let mut setup = Setup::new(name, start_registry, options);
        setup.settings = Some(settings);
        setup
    }

    /// A setup whose component comes from `load_backend` (called once per test binary).
    #[allow(dead_code)]
    pub const fn with_backend(
        name: &'static str,
        start_registry: fn() -> Registry,
        options: fn() -> Vec<(String, String)>,
        load_backend: fn() -> Backend,
    ) -> Setup {
        let mut setup = Setup::new(name, start_registry, options);
        setup.load_backend = Some(load_backend);
        setup
    }

    fn backend(&self) -> Backend {
        match self.load_backend {
            Some(load) => self.loaded.get_or_init(load).clone(),
            None => backend(),
        }
    }
}

pub struct Fixture {
    pub backend: Backend,
    pub setup: &'static Setup,
    case: &'static str,
}

static BACKEND: OnceLock<Backend> = OnceLock::new();
static NEXT_REPOSITORY: AtomicU64 = AtomicU64::new(1);

/// The component, loaded once per test binary. A missing component fails the test with the
/// command that builds it.
pub fn backend() -> Backend {
    BACKEND
        .get_or_init(|| Backend::load_default().unwrap_or_else(|e| panic!("{e}")))
        .clone()
}

impl Fixture {
    /// The case's name, for what it prints.
    #[allow(dead_code)] // not every test binary prints
    pub fn case(&self) -> &'static str {
        self.case
    }

    fn shared_registry(&self) -> &'static Registry {
        self.setup.shared.get_or_init(self.setup.start_registry)
    }

    /// Says that this case does not apply to the setup, and why; the case then returns.
    #[allow(dead_code)]
    pub fn skip(&self, why: &str) {
        println!("skipped {}/{}: {why}", self.setup.name, self.case);
    }

    /// A location no other case uses, on the shared registry.
    pub fn location(&self) -> String {
        self.location_on(self.shared_registry())
    }

    /// A fresh location on `registry`.
    pub fn location_on(&self, registry: &Registry) -> String {
        let n = NEXT_REPOSITORY.fetch_add(1, Ordering::Relaxed);
        format!(
            "oci://{}/conformance/{}/{}-{n}",
            registry.authority(),
            self.setup.name,
            self.case.replace('_', "-")
        )
    }

    pub fn options(&self) -> Vec<(String, String)> {
        (self.setup.options)()
    }

    /// A registry of the setup's kind for this case alone (for cases that stop it).
    pub fn own_registry(&self) -> Registry {
        (self.setup.start_registry)()
    }

    /// The setup's host settings (the defaults unless it names some).
    pub fn settings(&self) -> HostSettings {
        self.setup.settings.map(|make| make()).unwrap_or_default()
    }

    /// Connects to `location`; connecting must succeed.
    pub async fn connect(&self, location: &str) -> Store {
        self.backend
            .connect_with(location, &self.options(), &self.settings())
            .await
            .unwrap_or_else(|e| panic!("connect {location}: {e}"))
    }

    /// A store created with [`CONFIG`] at a fresh location.
    pub async fn fresh_store(&self) -> Store {
        let location = self.location();
        self.created_store(&location).await
    }

    /// A store created with [`CONFIG`] at `location`.
    pub async fn created_store(&self, location: &str) -> Store {
        let mut store = self.connect(location).await;
        store
            .create(CONFIG)
            .await
            .unwrap_or_else(|e| panic!("create {location}: {e}"));
        store
    }
}

pub type CaseFuture<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// Runs one case on a multi-thread runtime of its own.
pub fn run_case(
    setup: &'static Setup,
    case: &'static str,
    body: impl for<'a> FnOnce(&'a Fixture) -> CaseFuture<'a>,
) {
    let fixture = Fixture {
        backend: setup.backend(),
        setup,
        case,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("build a tokio runtime");
    runtime.block_on(body(&fixture));
}
