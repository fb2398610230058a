//! What the tests and the bench share, used by nothing else of this crate: a local registry
//! in a temporary directory ([`local_registry`]) and a seeded generator of bytes and MACs
//! ([`xorshift`]). Uses the store's value types.

pub mod local_registry;
pub mod xorshift;
