//! Generates the gRPC ConfiguratorService (server and client) from
//! `messages/proto/ligato/configurator/configurator.proto` with protox (no `protoc` needed).
//! The messages themselves are the `messages` crate's prost types (`extern_path`), so a
//! `Config` is one type across the agent, its REST API and agentctl.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = PathBuf::from("../messages/proto");
    let file = "ligato/configurator/configurator.proto";
    println!("cargo:rerun-if-changed=../messages/proto/ligato");
    let mut fds = protox::compile([file], [&protos])?;
    // Only the service's file: the messages of it and its imports are extern (generated in
    // `messages`), so generating the imported files would only produce empty modules.
    fds.file.retain(|f| f.name() == file);
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .extern_path(".ligato", "::messages::proto::ligato")
        // Refuses unknown fields in Update/Delete requests (see actors::grpc::codec).
        .codec_path("crate::grpc::codec::CheckedCodec")
        .compile_fds(fds)?;
    Ok(())
}
