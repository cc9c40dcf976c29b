//! Compiles the Ligato-compatible `.proto` files with protox (no `protoc` needed), generates
//! prost structs with their full proto names, and writes the descriptor set that the JSON and
//! text codecs load at run time.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "ligato/vpp/interfaces/interface.proto",
        "ligato/vpp/l2/bridge_domain.proto",
        "ligato/vpp/l2/fib.proto",
        "ligato/vpp/l2/xconnect.proto",
        "ligato/vpp/l3/route.proto",
        "ligato/vpp/l3/arp.proto",
        "ligato/vpp/l3/vrf.proto",
        "ligato/linux/namespace/namespace.proto",
        "ligato/linux/interfaces/interface.proto",
        "ligato/linux/l3/route.proto",
        "ligato/linux/l3/arp.proto",
        "ligato/kvscheduler/value_status.proto",
        "ligato/vpp/interfaces/state.proto",
        "ligato/linux/interfaces/state.proto",
        "ligato/vpp/vpp.proto",
        "ligato/linux/linux.proto",
        "ligato/configurator/configurator.proto",
        "google/protobuf/empty.proto",
    ];
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(protos, ["proto"])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("ligato_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    let mut cfg = prost_build::Config::new();
    cfg.enable_type_names();
    cfg.compile_fds(fds)?;
    Ok(())
}
