//! kloset-oci: a kloset storage backend that keeps a backup repository in an OCI registry.
//!
//! The protocol core (everything but `bindings`, `component`, `host_digest`, `wasi_clock` and
//! `wasi_transport`) is plain Rust over the [`http::Transport`] trait, so it is unit-tested
//! natively with a scripted transport. In the WebAssembly component, `wasi_transport` carries requests over
//! `wasi:http/outgoing-handler` and `component` exports the WIT `store` interface.

pub mod auth;
pub mod blob_read;
pub mod clock;
pub mod create;
pub mod digest;
pub mod encoding;
pub mod error;
pub mod http;
pub mod layout;
pub mod location;
pub mod manifest_delete;
pub mod manifest_put;
pub mod options;
pub mod redirect;
pub mod registry;
pub mod retry;
pub mod store;
pub mod tag_pages;
pub mod tombstone;
pub mod upload;
pub mod url;

#[cfg(target_arch = "wasm32")]
mod bindings;
#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(all(target_arch = "wasm32", not(feature = "self-contained")))]
mod host_digest;
#[cfg(target_arch = "wasm32")]
mod wasi_clock;
#[cfg(target_arch = "wasm32")]
mod wasi_transport;

#[cfg(test)]
mod store_tests;

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod testing;
