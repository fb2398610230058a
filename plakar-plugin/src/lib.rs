//! kloset-oci as a Plakar storage plugin: Plakar spawns the plugin executable and speaks the
//! `store.Store` gRPC service to it over one HTTP/2 connection on the plugin's stdin and
//! stdout; the plugin answers each call through a small pool of kloset-oci component
//! instances (the host library, `kloset_oci_host`).
//!
//! - [`connection`]: the one HTTP/2 connection (stdin/stdout), served until the peer closes.
//! - [`service`]: the `store.Store` calls, mapped onto the host library's `Store`.
//! - `config`: Plakar's store config (`location` and the user's keys) to component options.
//! - `instances`: the pool of component instances that bounds work and memory.
//! - `status`: store errors as gRPC statuses whose message tells the user what to do.

pub mod component;
mod config;
pub mod connection;
pub mod in_flight;
mod instances;
pub mod proto;
mod read_ahead;
mod service;
mod status;
mod streams;
mod usage;

pub use config::{StoreConfig, CONCURRENCY_KEY, DEFAULT_CONCURRENCY};
pub use service::Plugin;
pub use usage::USAGE_ENV;
