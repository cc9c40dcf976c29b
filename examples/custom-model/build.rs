//! Compiles the example's `.proto` with protox (no `protoc`) against the built-in protos it
//! imports, generates its prost types (the imported ones are the `messages` crate's), and
//! writes a descriptor set holding only the new file, for the model registry's JSON.

use std::path::PathBuf;

const FILE: &str = "ligato/linux/iptables/iptables.proto";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let mut fds = protox::compile([FILE], ["proto", "../../messages/proto"])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let mut cfg = prost_build::Config::new();
    cfg.enable_type_names();
    cfg.extern_path(
        ".ligato.linux.namespace",
        "::messages::proto::ligato::linux::namespace",
    );
    cfg.compile_fds(fds.clone())?;
    // The registry's pool has the built-in files already: hand it the new one only.
    fds.file.retain(|f| f.name() == FILE);
    std::fs::write(
        out.join("iptables_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    Ok(())
}
