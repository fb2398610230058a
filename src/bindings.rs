//! The generated bindings of the `backend` world: the one place they live.
//! The wasi interfaces map onto the `wasi` crate's own bindings.

wit_bindgen::generate!({
    world: "backend",
    path: "wit",
    with: {
        "wasi:http/types@0.2.12": wasi::http::types,
        "wasi:http/outgoing-handler@0.2.12": wasi::http::outgoing_handler,
        "wasi:io/poll@0.2.12": wasi::io::poll,
        "wasi:io/error@0.2.12": wasi::io::error,
        "wasi:io/streams@0.2.12": wasi::io::streams,
        "wasi:clocks/monotonic-clock@0.2.12": wasi::clocks::monotonic_clock,
        "wasi:random/random@0.2.12": wasi::random::random,
    },
    pub_export_macro: true,
});
