//! Helpers shared by the test binaries: a local registry and deterministic test data.
#![allow(dead_code)]

pub mod data;
pub mod registry;
