//! One test per VPP L2 and IP rule, over the real socket with binapi's client and 23.06's
//! messages: routes, neighbours, bridge domains, bridging, the L2 FIB, the seed's stale-FIB
//! sequence done directly over the API, and what deleting an interface takes with it.
//!
//! Protocol behaviour (silence, faults, restarts) is in `server.rs`; CLI text in
//! `cli_over_socket.rs`; the same rules on the model in `src/state/tests.rs`.

mod common;

use binapi::vpp2306 as api;
use common::api23::*;
use common::{client, rv, sim};
use vpp_sim::state::NONE;

use api::{InterfaceIndex, MacAddress};

#[tokio::test]
async fn routes_need_their_table_paths_and_interfaces() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    let lo = loopback(&c).await;
    assert_eq!(
        rv(
            c.request(&route(5, "10.5.0.0", 16, vec![via(lo, [10, 0, 0, 1])]))
                .await
        ),
        -3
    );
    assert_eq!(rv(c.request(&route(0, "10.5.0.0", 16, vec![])).await), -52);
    assert_eq!(
        rv(
            c.request(&route(0, "10.5.0.0", 16, vec![via(77, [10, 0, 0, 1])]))
                .await
        ),
        -54
    );
    let ok = c
        .request(&route(0, "10.5.0.0", 16, vec![via(lo, [10, 0, 0, 1])]))
        .await
        .expect("route");
    assert_ne!(ok.stats_index, NONE);
    let fib = c
        .dump(&api::IpRouteDump {
            table: api::IpTable {
                table_id: 0,
                ..Default::default()
            },
        })
        .await
        .expect("route dump");
    let found = fib
        .iter()
        .find(|r| r.route.prefix.len == 16)
        .expect("our route");
    assert_eq!(found.route.paths[0].sw_if_index, lo);
    assert!(
        fib.len() > 1,
        "the dump walks the whole FIB, special entries included"
    );
    let missing = c
        .dump(&api::IpRouteDump {
            table: api::IpTable {
                table_id: 9,
                ..Default::default()
            },
        })
        .await
        .expect("missing table dump");
    assert!(missing.is_empty());
}

#[tokio::test]
async fn neighbors_need_an_interface_and_deletes_need_an_entry() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    let lo = loopback(&c).await;
    let nbr = |idx: u32, is_add: bool| api::IpNeighborAddDel {
        is_add,
        neighbor: api::IpNeighbor {
            sw_if_index: InterfaceIndex(idx),
            flags: api::IpNeighborFlags(1),
            mac_address: MacAddress(MAC),
            ip_address: "10.0.0.2".parse::<std::net::IpAddr>().expect("ip").into(),
        },
    };
    assert_eq!(rv(c.request(&nbr(9, true)).await), -2);
    c.request(&nbr(lo, true)).await.expect("add");
    let listed = c
        .dump(&api::IpNeighborDump {
            sw_if_index: InterfaceIndex(NONE),
            af: api::AddressFamily::ADDRESS_IP4,
        })
        .await
        .expect("nbr dump");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].neighbor.mac_address.0, MAC);
    c.request(&nbr(lo, false)).await.expect("del");
    assert_eq!(rv(c.request(&nbr(lo, false)).await), -6);
}

#[tokio::test]
async fn bridge_domain_add_and_delete_rules() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    assert_eq!(
        rv(c.request(&bd(0, true)).await),
        -119,
        "bd 0 always exists"
    );
    assert_eq!(rv(c.request(&bd(0x100_0000, true)).await), -122);
    c.request(&bd(1, true)).await.expect("bd 1");
    assert_eq!(rv(c.request(&bd(1, true)).await), -119);
    assert_eq!(rv(c.request(&bd(0, false)).await), -121);
    assert_eq!(rv(c.request(&bd(7, false)).await), -6);
    let lo = loopback(&c).await;
    c.request(&bridge(lo, 1, 0, true)).await.expect("member");
    assert_eq!(
        rv(c.request(&bd(1, false)).await),
        -120,
        "members block the delete"
    );
    let all = api::BridgeDomainDump {
        bd_id: NONE,
        sw_if_index: InterfaceIndex(NONE),
    };
    let bds = c.dump(&all).await.expect("bd dump");
    assert_eq!(bds.len(), 1, "bd 0 is never listed");
    assert_eq!(bds[0].sw_if_details.len(), 1);
    let by_if = api::BridgeDomainDump {
        sw_if_index: InterfaceIndex(lo),
        ..all
    };
    assert!(
        c.dump(&by_if).await.expect("dump").is_empty(),
        "an interface filter gives nothing"
    );
    let v2 = api::BridgeDomainAddDelV2 {
        bd_id: NONE,
        is_add: true,
        ..Default::default()
    };
    assert_eq!(
        c.request(&v2).await.expect("v2").bd_id,
        2,
        "v2 picks a free id"
    );
}

#[tokio::test]
async fn set_l2_bridge_creates_the_bd_and_allows_one_bvi() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    let lo = loopback(&c).await;
    c.request(&bridge(lo, 4, 0, true))
        .await
        .expect("no bd needed");
    let bds = c
        .dump(&api::BridgeDomainDump {
            bd_id: 4,
            sw_if_index: InterfaceIndex(NONE),
        })
        .await
        .expect("dump");
    assert_eq!(bds.len(), 1, "VPP created bd 4");
    assert!(bds[0].flood && bds[0].learn && !bds[0].arp_term);
    let (b1, b2) = (loopback(&c).await, loopback(&c).await);
    c.request(&bridge(b1, 4, 1, true)).await.expect("bvi");
    assert_eq!(rv(c.request(&bridge(b2, 4, 1, true)).await), -152);
    assert_eq!(rv(c.request(&bridge(lo, 4, 9, true)).await), -7);
    let fib = c
        .dump(&api::L2FibTableDump { bd_id: 4 })
        .await
        .expect("fib");
    assert!(
        fib.iter()
            .any(|e| e.sw_if_index.0 == b1 && e.bvi_mac && e.static_mac)
    );
}

#[tokio::test]
async fn l2fib_needs_the_bd_and_a_bridged_interface() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    let lo = loopback(&c).await;
    assert_eq!(rv(c.request(&fib(1, lo, true)).await), -6, "no bd 1");
    c.request(&bd(1, true)).await.expect("bd");
    assert_eq!(rv(c.request(&fib(1, lo, true)).await), -2, "not bridged");
    c.request(&bridge(lo, 2, 0, true))
        .await
        .expect("bridged into bd 2");
    c.request(&fib(1, lo, true))
        .await
        .expect("any bd is enough");
    assert_eq!(rv(c.request(&fib(1, 99, false)).await), -6);
    c.request(&fib(1, 0, false)).await.expect("0 is a wildcard");
    assert_eq!(rv(c.request(&fib(1, 0, false)).await), -6);
}

/// The seed's "Configuration Order using VPP CLI", done directly over the API.
#[tokio::test]
async fn seed_stale_fib_sequence_over_the_api() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    let lo = loopback(&c).await;
    c.request(&api::SwInterfaceSetFlags {
        sw_if_index: InterfaceIndex(lo),
        flags: api::IfStatusFlags(1),
    })
    .await
    .expect("up");
    c.request(&bd(1, true)).await.expect("bd 1");
    c.request(&bridge(lo, 1, 0, true)).await.expect("bridge");
    c.request(&fib(1, lo, true)).await.expect("fib entry");
    c.request(&api::DeleteLoopback {
        sw_if_index: InterfaceIndex(lo),
    })
    .await
    .expect("delete loop0");
    let entries = c
        .dump(&api::L2FibTableDump { bd_id: 1 })
        .await
        .expect("fib");
    assert_eq!(entries.len(), 1, "the entry survives its interface");
    assert_eq!(entries[0].sw_if_index.0, lo);
    let text = sim.cli("show l2fib verbose").expect("cli").text;
    assert!(text.contains("Stale"), "{text}");
    c.request(&bd(1, false))
        .await
        .expect("the bd goes: no member, fib not checked");
    let orphans = c
        .dump(&api::L2FibTableDump { bd_id: NONE })
        .await
        .expect("fib");
    assert_eq!(orphans.len(), 1, "the entry survives its bd");
    assert_eq!(orphans[0].bd_id, NONE, "reported under bd_id ~0");
    assert!(
        c.dump(&api::L2FibTableDump { bd_id: 1 })
            .await
            .expect("dump")
            .is_empty()
    );
    assert_eq!(
        rv(c.request(&fib(1, 0, false)).await),
        -6,
        "and cannot be removed"
    );
    c.request(&bd(1, true)).await.expect("bd 1 again");
    assert_eq!(
        c.dump(&api::L2FibTableDump { bd_id: 1 })
            .await
            .expect("fib")
            .len(),
        1,
        "it reappears"
    );
    c.request(&fib(1, 0, false)).await.expect("now removable");
}

#[tokio::test]
async fn deleting_an_interface_takes_membership_addresses_and_neighbors() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    let (lo, other) = (loopback(&c).await, loopback(&c).await);
    c.request(&bridge(lo, 3, 0, true)).await.expect("bridge");
    c.request(&addr(other, "10.0.0.1", 24, true))
        .await
        .expect("addr");
    let xc = api::SwInterfaceSetL2Xconnect {
        rx_sw_if_index: InterfaceIndex(lo),
        tx_sw_if_index: InterfaceIndex(other),
        enable: true,
    };
    c.request(&xc).await.expect("xconnect");
    let pairs = c
        .dump(&api::L2XconnectDump::default())
        .await
        .expect("xc dump");
    assert_eq!(pairs.len(), 1);
    c.request(&api::DeleteLoopback {
        sw_if_index: InterfaceIndex(other),
    })
    .await
    .expect("delete");
    assert!(
        c.dump(&api::L2XconnectDump::default())
            .await
            .expect("xc")
            .is_empty()
    );
    let state = sim.state().expect("state");
    assert_eq!(
        state.interface(lo).expect("lo").l2,
        vpp_sim::state::L2Mode::L3
    );
}
