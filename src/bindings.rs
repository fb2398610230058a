//! The generated bindings of the component's world: the one place they live.
//! The wasi interfaces map onto the `wasi` crate's own bindings.
//!
//! Two worlds, one set of sources: `backend` imports the host's SHA-256
//! (`kloset:storage/digest`); with the cargo feature `self-contained`, `backend-self-contained`
//! imports only WASI and the component hashes with `sha2` itself (`crate::digest`).

macro_rules! generate_world {
    ($world:tt) => {
        wit_bindgen::generate!({
            world: $world,
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
    };
}

#[cfg(not(feature = "self-contained"))]
generate_world!("backend");

#[cfg(feature = "self-contained")]
generate_world!("backend-self-contained");
