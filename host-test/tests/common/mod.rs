//! Helpers shared by the test binaries: a local registry and deterministic test data.
#![allow(dead_code)]

pub mod auth;
pub mod data;
pub mod htpasswd;
pub mod pki;
pub mod quirk_proxy;
pub mod raw_http;
pub mod registry;
pub mod runtime;
pub mod storage_host;
pub mod token_service;
