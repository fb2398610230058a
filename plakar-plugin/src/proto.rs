//! The `store.Store` service and its messages, generated from `proto/storage.proto` by
//! build.rs: the server this plugin implements, and the client its tests drive it with.

#![allow(clippy::all, missing_docs)]

tonic::include_proto!("store");
