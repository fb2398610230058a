#[path = "../common/mod.rs"]
mod common;
#[path = "../suite/mod.rs"]
mod suite;

mod address_policy;
mod auth_harness;
mod basic_auth;
mod credentials;
mod redirects;
mod secrets;
mod tls;
mod token_auth;
