//! Generated protobuf types, one module per proto package, and the descriptor pool built
//! from the same `.proto` files (used by the JSON and text codecs).

use std::sync::LazyLock;

use prost_reflect::DescriptorPool;

#[allow(missing_debug_implementations, clippy::all)]
pub mod ligato {
    pub mod vpp {
        include!(concat!(env!("OUT_DIR"), "/ligato.vpp.rs"));
        pub mod interfaces {
            include!(concat!(env!("OUT_DIR"), "/ligato.vpp.interfaces.rs"));
        }
        pub mod l2 {
            include!(concat!(env!("OUT_DIR"), "/ligato.vpp.l2.rs"));
        }
        pub mod l3 {
            include!(concat!(env!("OUT_DIR"), "/ligato.vpp.l3.rs"));
        }
    }
    pub mod linux {
        include!(concat!(env!("OUT_DIR"), "/ligato.linux.rs"));
        pub mod namespace {
            include!(concat!(env!("OUT_DIR"), "/ligato.linux.namespace.rs"));
        }
        pub mod interfaces {
            include!(concat!(env!("OUT_DIR"), "/ligato.linux.interfaces.rs"));
        }
        pub mod l3 {
            include!(concat!(env!("OUT_DIR"), "/ligato.linux.l3.rs"));
        }
    }
    pub mod kvscheduler {
        include!(concat!(env!("OUT_DIR"), "/ligato.kvscheduler.rs"));
    }
    /// `ligato.configurator`: the gRPC ConfiguratorService's messages (the service itself is
    /// generated in the `actors` crate, which owns the server and client).
    pub mod configurator {
        include!(concat!(env!("OUT_DIR"), "/ligato.configurator.rs"));
    }
}

pub use ligato::linux::interfaces as linux_interfaces;
pub use ligato::linux::l3 as linux_l3;
pub use ligato::vpp::interfaces as vpp_interfaces;
pub use ligato::vpp::l2 as vpp_l2;
pub use ligato::vpp::l3 as vpp_l3;

static DESCRIPTOR_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ligato_descriptor.bin"));

static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    // The bytes were produced by protox in build.rs from the same files: decoding cannot fail
    // unless the build is broken, which the tests below catch.
    DescriptorPool::decode(DESCRIPTOR_BYTES).unwrap_or_default()
});

/// The descriptor pool of every model message (and `google.protobuf.Empty`).
pub fn descriptor_pool() -> &'static DescriptorPool {
    &POOL
}

/// `google.protobuf.Empty`: the value of derived keys that carry no data (for example an
/// interface address, whose key says it all). Printed as `<EMPTY>` in transaction logs.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Empty {}

impl prost::Name for Empty {
    const NAME: &'static str = "Empty";
    const PACKAGE: &'static str = "google.protobuf";
    fn full_name() -> String {
        "google.protobuf.Empty".to_owned()
    }
    fn type_url() -> String {
        "type.googleapis.com/google.protobuf.Empty".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_has_every_model_message() {
        let pool = descriptor_pool();
        for name in [
            "ligato.vpp.interfaces.Interface",
            "ligato.vpp.l2.BridgeDomain",
            "ligato.vpp.l2.BridgeDomain.Interface",
            "ligato.vpp.l2.FIBEntry",
            "ligato.vpp.l2.XConnectPair",
            "ligato.vpp.l3.Route",
            "ligato.vpp.l3.ARPEntry",
            "ligato.vpp.l3.VrfTable",
            "ligato.linux.interfaces.Interface",
            "ligato.linux.l3.Route",
            "ligato.linux.l3.ARPEntry",
            "ligato.kvscheduler.ValueStatus",
            "ligato.vpp.ConfigData",
            "ligato.linux.ConfigData",
            "ligato.configurator.Config",
            "ligato.configurator.UpdateResponse",
            "google.protobuf.Empty",
        ] {
            assert!(
                pool.get_message_by_name(name).is_some(),
                "{name} missing from pool"
            );
        }
    }
}
