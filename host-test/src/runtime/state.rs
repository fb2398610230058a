//! The data of one wasmtime store: WASI context (no filesystem, no environment, no
//! inherited stdio), the wasi:http context, the resource table and the HTTP hooks.

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::net::hooks::RegistryHooks;

pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: RegistryHooks,
    memory: MemoryPeak,
}

/// Records the largest linear memory the instance asked for (wasmtime asks the limiter at
/// instantiation and at every `memory.grow`); grants everything, as the default does.
#[derive(Default)]
pub struct MemoryPeak {
    pub largest: usize,
}

impl wasmtime::ResourceLimiter for MemoryPeak {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.largest = self.largest.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

impl HostState {
    pub fn new(hooks: RegistryHooks) -> Self {
        HostState {
            // No sockets and no name lookups: the component's only way out is wasi:http,
            // through the hooks' allow-list.
            wasi: WasiCtx::builder()
                .allow_tcp(false)
                .allow_udp(false)
                .allow_ip_name_lookup(false)
                .build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks,
            memory: MemoryPeak::default(),
        }
    }

    pub fn memory_peak(&mut self) -> &mut MemoryPeak {
        &mut self.memory
    }

    /// The store's resource table (wasi's and the host's own resources).
    pub fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// The largest linear memory of the instance so far, in bytes.
    pub fn largest_memory(&self) -> usize {
        self.memory.largest
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}
