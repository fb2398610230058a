//! Generated bindings for the `backend` world (`kloset:storage@0.1.0`).
//!
//! The wasi interfaces the world imports come from wasmtime-wasi and wasmtime-wasi-http, so
//! the component's `wasi:http` imports are served by `add_only_http_to_linker_async`.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "kloset:storage/backend",
    exports: { default: async },
    require_store_data_send: true,
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
    },
});

pub use kloset::storage::types as wit_types;
