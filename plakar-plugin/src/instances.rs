//! A pool of component instances for one store. Each call takes one instance for its whole
//! duration (a `Store` is used by one call at a time); at most `concurrency` exist, created on
//! demand and kept for the next call. What a store holds in memory is therefore bounded by
//! `concurrency` instances, each streaming one object in chunks of at most 1 MiB.

use std::sync::{Arc, Mutex};

use kloset_oci_host::{Backend, ErrorKind, Store, StoreError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::StoreConfig;

pub struct Instances {
    backend: Backend,
    config: StoreConfig,
    idle: Mutex<Vec<Store>>,
    permits: Arc<Semaphore>,
}

impl Instances {
    /// A pool holding `first`, the instance `Init` connected.
    pub fn new(backend: Backend, config: StoreConfig, first: Store) -> Arc<Instances> {
        let permits = Arc::new(Semaphore::new(config.concurrency));
        Arc::new(Instances {
            backend,
            config,
            idle: Mutex::new(vec![first]),
            permits,
        })
    }

    /// An instance for one call: an idle one, else a new one; waits while `concurrency`
    /// calls hold one.
    pub async fn lease(self: &Arc<Self>) -> Result<Lease, StoreError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::host("the plugin is shutting down"))?;
        let idle = self.idle.lock().expect("idle instances").pop();
        let store = match idle {
            Some(store) => store,
            None => {
                let config = &self.config;
                self.backend
                    .connect_with(&config.location, &config.options, &config.settings)
                    .await?
            }
        };
        Ok(Lease {
            store: Some(store),
            pool: self.clone(),
            _permit: permit,
        })
    }
}

/// One instance, returned to the pool when dropped, unless the call left it unusable.
pub struct Lease {
    store: Option<Store>,
    pool: Arc<Instances>,
    _permit: OwnedSemaphorePermit,
}

impl Lease {
    pub fn store(&mut self) -> &mut Store {
        self.store
            .as_mut()
            .expect("a lease holds its store until dropped")
    }

    /// Passes `result` on; after a failure of the host itself (a trap), the instance is
    /// dropped instead of kept, so the next call gets a fresh one.
    pub fn check<T>(&mut self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(err) = &result {
            if err.kind == ErrorKind::Host {
                self.store = None;
            }
        }
        result
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(store) = self.store.take() {
            if let Ok(mut idle) = self.pool.idle.lock() {
                idle.push(store);
            }
        }
    }
}
