//! Generates the `store.Store` service (server, and the client the tests use) and its
//! messages from proto/storage.proto, with protoc (Debian's protobuf-compiler).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/storage.proto");
    tonic_prost_build::configure()
        // Chunks as `Bytes`: handed on without a copy.
        .bytes(".store.PutRequest.chunk")
        .bytes(".store.GetResponse.chunk")
        .build_transport(false)
        .compile_protos(&["proto/storage.proto"], &["proto"])?;
    Ok(())
}
