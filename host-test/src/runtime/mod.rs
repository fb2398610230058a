//! Loading the component and running its instances: the engine and the compiled component
//! (`backend`: [`Backend`](crate::Backend), through the [`compile_cache`]), the generated
//! bindings of the WIT world (`bindings`), the data of one instance (`state`) and the host's
//! SHA-256 the component imports (`host_digest`).
//!
//! Uses [`crate::net`] (an instance's HTTP hooks, the backend's connection pool) and the error
//! type. `Backend::connect`, which makes a [`Store`](crate::Store), is in the store module
//! and `Backend::load_reference` in the pull module: both sit above this one.

pub(crate) mod backend;
pub(crate) mod bindings;
pub mod compile_cache;
pub(crate) mod host_digest;
pub(crate) mod state;
