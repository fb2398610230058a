//! Generated bindings for the `backend` world (`kloset:storage@0.1.0`).
//!
//! The wasi interfaces the world imports come from wasmtime-wasi and wasmtime-wasi-http, so
//! the component's `wasi:http` imports are served by `add_only_http_to_linker_async`. The
//! world's own import, `kloset:storage/digest`, is served by [`crate::runtime::host_digest`].

wasmtime::component::bindgen!({
    path: "../wit",
    world: "kloset:storage/backend",
    exports: { default: async },
    imports: { default: trappable },
    require_store_data_send: true,
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "kloset:storage/digest.sha256": crate::runtime::host_digest::Sha256State,
    },
});

pub use kloset::storage::types as wit_types;
