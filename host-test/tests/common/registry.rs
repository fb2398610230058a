//! A local distribution registry for the tests: the library's [`LocalRegistry`], whose
//! failures panic here (a test cannot go on without its registry).

use std::ops::{Deref, DerefMut};

use kloset_oci_host::local_registry::LocalRegistry;

pub struct Registry(LocalRegistry);

impl Registry {
    /// Starts a registry with deletes enabled on a free loopback port.
    pub fn start_new() -> Registry {
        Registry::start_with_config("")
    }

    /// Starts a registry whose YAML config gets `extra` appended (top-level sections such as
    /// `auth:`), for setups other than plain HTTP.
    pub fn start_with_config(extra: &str) -> Registry {
        match LocalRegistry::start_with_config(extra) {
            Ok(registry) => Registry(registry),
            Err(e) => panic!("cannot start the local registry: {e}"),
        }
    }

    /// Starts the registry again on the same port and directory.
    pub fn start(&mut self) {
        if let Err(e) = self.0.start() {
            panic!("cannot restart the local registry: {e}");
        }
    }

    /// Runs `garbage-collect --delete-untagged` on the stopped registry; it must succeed.
    pub fn garbage_collect(&self) -> String {
        match self.0.garbage_collect() {
            Ok(text) => text,
            Err(e) => panic!("{e}"),
        }
    }
}

impl Deref for Registry {
    type Target = LocalRegistry;

    fn deref(&self) -> &LocalRegistry {
        &self.0
    }
}

impl DerefMut for Registry {
    fn deref_mut(&mut self) -> &mut LocalRegistry {
        &mut self.0
    }
}
