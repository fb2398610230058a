//! `Backend::connect`: a new component instance, its HTTP hooks and its `store` resource,
//! made into a [`Store`]. Here rather than in `runtime/backend.rs`, as the store sits above
//! the runtime.

use std::sync::Arc;

use crate::error::StoreError;
use crate::net::hooks::RegistryHooks;
use crate::net::location::AllowedAuthority;
use crate::net::settings::HostSettings;
use crate::net::stats::RequestCounters;
use crate::runtime::backend::Backend;
use crate::runtime::state::HostState;
use crate::store::wit_error::flatten;
use crate::store::Store;

impl Backend {
    /// A new instance connected to the store at `location` (`oci://host[:port]/repo`),
    /// with `options` passed to the component as they are. The instance may reach only the
    /// location's registry. No request is made here.
    pub async fn connect(
        &self,
        location: &str,
        options: &[(String, String)],
    ) -> Result<Store, StoreError> {
        self.connect_with(location, options, &HostSettings::default())
            .await
    }

    /// [`Backend::connect`], with what the host itself adds to the store's requests.
    pub async fn connect_with(
        &self,
        location: &str,
        options: &[(String, String)],
        settings: &HostSettings,
    ) -> Result<Store, StoreError> {
        let allowed = AllowedAuthority::for_store(location, options)?;
        let counters = Arc::new(RequestCounters::default());
        let hooks =
            RegistryHooks::with_pool(allowed, counters.clone(), self.pool().clone(), settings);
        let mut store = wasmtime::Store::new(self.engine(), HostState::new(hooks));
        store.limiter(|state| state.memory_peak());
        let instance = self
            .instance_pre()
            .instantiate_async(&mut store)
            .await
            .map_err(|e| StoreError::from_wasmtime("cannot instantiate the component", e))?;
        let handle = flatten(
            "connect",
            instance
                .kloset_storage_store()
                .store()
                .call_connect(&mut store, location, options)
                .await,
        )?;
        Ok(Store::new(store, instance, handle, counters))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stores and their futures can move between threads (e.g. `tokio::spawn`).
    #[allow(dead_code)]
    fn stores_are_send(backend: &Backend, store: &mut Store) {
        fn is_send<T: Send>(_: &T) {}
        is_send(backend);
        is_send(store);
        is_send(&backend.connect("oci://127.0.0.1/x", &[]));
        is_send(&store.open());
        is_send(&store.put_from(crate::Kind::Lock, &[0; 32], &b""[..]));
        is_send(&store.get_to(crate::Kind::Lock, &[0; 32], None, Vec::new()));
    }
}
