//! Request builders and small calls shared by the API rule tests (`api_interfaces.rs`,
//! `api_l2_ip.rs`), in 23.06's message types.
//!
//! They build messages and unwrap successful calls; the tests make the assertions.

#![allow(dead_code)]

use binapi::Client;
use binapi::vpp2306 as api;
use vpp_sim::state::NONE;

use api::{InterfaceIndex, MacAddress};

pub const WAIT: std::time::Duration = std::time::Duration::from_secs(5);
pub const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x53, 0x18, 0x57];

pub async fn loopback(c: &Client) -> u32 {
    c.request(&api::CreateLoopback::default())
        .await
        .expect("create_loopback")
        .sw_if_index
        .0
}

pub async fn dump_ifaces(c: &Client) -> Vec<api::SwInterfaceDetails> {
    c.dump(&api::SwInterfaceDump {
        sw_if_index: InterfaceIndex(NONE),
        ..Default::default()
    })
    .await
    .expect("sw_interface_dump")
}

pub fn bd(bd_id: u32, is_add: bool) -> api::BridgeDomainAddDel {
    api::BridgeDomainAddDel {
        bd_id,
        flood: true,
        uu_flood: true,
        forward: true,
        learn: true,
        arp_term: true,
        is_add,
        ..Default::default()
    }
}

pub fn bridge(
    sw_if_index: u32,
    bd_id: u32,
    port_type: u32,
    enable: bool,
) -> api::SwInterfaceSetL2Bridge {
    api::SwInterfaceSetL2Bridge {
        rx_sw_if_index: InterfaceIndex(sw_if_index),
        bd_id,
        port_type: api::L2PortType(port_type),
        shg: 0,
        enable,
    }
}

pub fn fib(bd_id: u32, sw_if_index: u32, is_add: bool) -> api::L2fibAddDel {
    api::L2fibAddDel {
        mac: MacAddress(MAC),
        bd_id,
        sw_if_index: InterfaceIndex(sw_if_index),
        is_add,
        static_mac: true,
        ..Default::default()
    }
}

pub fn addr(sw_if_index: u32, ip: &str, len: u8, is_add: bool) -> api::SwInterfaceAddDelAddress {
    api::SwInterfaceAddDelAddress {
        sw_if_index: InterfaceIndex(sw_if_index),
        is_add,
        del_all: false,
        prefix: api::Prefix::new(ip.parse().expect("ip"), len),
    }
}

pub fn route(table_id: u32, prefix: &str, len: u8, paths: Vec<api::FibPath>) -> api::IpRouteAddDel {
    api::IpRouteAddDel {
        is_add: true,
        is_multipath: false,
        route: api::IpRoute {
            table_id,
            stats_index: 0,
            prefix: api::Prefix::new(prefix.parse().expect("ip"), len),
            paths,
        },
    }
}

pub fn via(sw_if_index: u32, nh: [u8; 4]) -> api::FibPath {
    let mut un = [0u8; 16];
    un[..4].copy_from_slice(&nh);
    api::FibPath {
        sw_if_index,
        weight: 1,
        nh: api::FibPathNh {
            address: api::AddressUnion(un),
            ..Default::default()
        },
        ..Default::default()
    }
}
