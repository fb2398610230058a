//! A local registry for the tests: the library's [`LocalRegistry`] (distribution 2.8 unless
//! another implementation is named), whose failures panic here (a test cannot go on without
//! its registry). A registry can keep companions alive for as long as it lives (the token
//! service it trusts, the storage host it redirects to), and be reached through a front (a
//! proxy that makes it behave like a hosted registry).

use std::any::Any;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};

use kloset_oci_host::testkit::local_registry::{Implementation, LocalRegistry};

pub struct Registry {
    local: LocalRegistry,
    companions: Vec<Box<dyn Any + Send + Sync>>,
    /// The authority clients reach the registry at, where not its own.
    front: Option<String>,
}

impl Registry {
    /// Starts distribution 2.8 with deletes enabled on a free loopback port.
    pub fn start_new() -> Registry {
        Registry::start_with_config("")
    }

    /// Starts distribution 3 (`registry` from scripts/setup.sh) with deletes enabled.
    pub fn start_distribution3() -> Registry {
        Registry::launch(Implementation::Distribution3, "")
    }

    /// Starts distribution 2.8 with deletes disabled: every delete answers 405 `UNSUPPORTED`.
    #[allow(dead_code)] // not every test binary starts one
    pub fn start_without_deletes() -> Registry {
        match LocalRegistry::start_without_deletes(Implementation::Distribution2) {
            Ok(local) => Registry::wrap(local),
            Err(e) => panic!("cannot start the local registry without deletes: {e}"),
        }
    }

    /// Starts go-containerregistry's registry (`crane registry serve`, from scripts/setup.sh).
    pub fn start_crane() -> Registry {
        Registry::launch(Implementation::GoContainerRegistry, "")
    }

    /// Starts distribution 2.8 whose YAML config gets `extra` appended (top-level sections
    /// such as `auth:`), for setups other than plain HTTP.
    pub fn start_with_config(extra: &str) -> Registry {
        Registry::launch(Implementation::Distribution2, extra)
    }

    fn launch(implementation: Implementation, extra: &str) -> Registry {
        match LocalRegistry::start_implementation(implementation, extra) {
            Ok(local) => Registry::wrap(local),
            Err(e) => panic!("cannot start the local registry, {implementation}: {e}"),
        }
    }

    fn wrap(local: LocalRegistry) -> Registry {
        Registry {
            local,
            companions: Vec::new(),
            front: None,
        }
    }

    /// The registry, keeping `companion` alive until the registry is dropped.
    pub fn keeping<T: Any + Send + Sync>(mut self, companion: T) -> Registry {
        self.companions.push(Box::new(companion));
        self
    }

    /// The registry reached through `front`, which listens at `authority` and lives until the
    /// registry is dropped: [`Registry::authority`], and every location made from it, name
    /// the front from then on; stopping, restarting and collecting garbage still act on the
    /// registry itself (`registry_authority` names it).
    pub fn behind<T: Any + Send + Sync>(mut self, authority: String, front: T) -> Registry {
        self.front = Some(authority);
        self.keeping(front)
    }

    /// `127.0.0.1:PORT` that clients reach the registry at: its front's where it has one.
    pub fn authority(&self) -> String {
        self.front.clone().unwrap_or_else(|| self.local.authority())
    }

    /// `127.0.0.1:PORT` of the registry itself, front or not.
    pub fn registry_authority(&self) -> String {
        self.local.authority()
    }

    /// The first companion of type `T`.
    pub fn companion<T: Any>(&self) -> Option<&T> {
        self.companions.iter().find_map(|c| c.downcast_ref::<T>())
    }

    /// A location in a repository of its own on this registry: `oci://AUTHORITY/PREFIX/TEST-N`,
    /// N counting up over the test binary, so that no two tests share a store.
    pub fn fresh_location(&self, prefix: &str, test: &str) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        format!("oci://{}/{prefix}/{test}-{n}", self.authority())
    }

    /// Starts the registry again on the same port and directory.
    pub fn start(&mut self) {
        if let Err(e) = self.local.start() {
            panic!("cannot restart the local registry: {e}");
        }
    }

    /// Runs `garbage-collect --delete-untagged` on the stopped registry; it must succeed.
    pub fn garbage_collect(&self) -> String {
        match self.local.garbage_collect() {
            Ok(text) => text,
            Err(e) => panic!("{e}"),
        }
    }
}

impl Deref for Registry {
    type Target = LocalRegistry;

    fn deref(&self) -> &LocalRegistry {
        &self.local
    }
}

impl DerefMut for Registry {
    fn deref_mut(&mut self) -> &mut LocalRegistry {
        &mut self.local
    }
}
