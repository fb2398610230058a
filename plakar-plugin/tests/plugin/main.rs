//! The plugin's own tests, one binary: gRPC on its pipes as Plakar drives it (`grpc`), the
//! read-ahead of packfile ranges (`read_ahead`), and many calls at once (`concurrency`).

#[path = "../common/mod.rs"]
mod common;

mod concurrency;
mod grpc;
mod read_ahead;
