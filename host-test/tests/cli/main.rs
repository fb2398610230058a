#[path = "../common/mod.rs"]
mod common;

mod cli_auth;
mod cli_tls;
mod commands;
mod progress;
