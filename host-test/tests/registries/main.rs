#[path = "../common/mod.rs"]
mod common;
mod concurrent;
#[path = "../suite/mod.rs"]
mod suite;

mod concurrency;
mod conformance;
mod no_deletes;
mod profiles;
