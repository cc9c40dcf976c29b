//! The CLI snapshots (`tests/cli/*.txt`) replayed over the socket: each `> command` goes
//! through `vpp-sim ctl`'s path (binapi's client, `cli_inband`) to a fresh simulator, and
//! the text and retval must match the snapshot byte for byte, as in `cli_snapshots.rs`.
//!
//! Snapshots are blessed by `cli_snapshots.rs` only; this test never rewrites them.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

#[tokio::test]
async fn cli_snapshots_match_over_cli_inband() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli");
    let mut entries: Vec<_> = fs::read_dir(&dir).expect("cli dir").flatten().collect();
    entries.sort_by_key(|e| e.path());
    let mut n = 0;
    for entry in entries {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        n += 1;
        let expected = fs::read_to_string(&path).expect("read");
        let (_d, sim) = common::sim("23.06");
        let mut got = String::new();
        for line in expected.lines() {
            let Some(cmd) = line.strip_prefix("> ") else {
                continue;
            };
            got.push_str(line);
            got.push('\n');
            let reply = vpp_sim::ctl::run(sim.socket_path(), cmd, Duration::from_secs(5))
                .await
                .expect("cli_inband");
            if reply.retval != 0 {
                got.push_str(&format!("! retval {}\n", reply.retval));
            }
            got.push_str(&reply.reply);
        }
        pretty_assertions::assert_eq!(got, expected, "{}", path.display());
    }
    assert!(n > 0, "no CLI snapshots in {}", dir.display());
}

/// A configuration made over the API (23.06 messages), then VPP's show commands over
/// `cli_inband`, compared with `tests/api-cli/agent-like-config.txt` (`BLESS=1` rewrites it).
#[tokio::test]
async fn api_configuration_shows_in_vpp_layout() {
    use api::{IfStatusFlags, InterfaceIndex, MacAddress};
    use binapi::vpp2306 as api;

    let (_d, sim) = common::sim("23.06");
    let c = common::client(&sim).await;
    let ip = |s: &str| s.parse::<std::net::IpAddr>().expect("ip");
    let up = |i: u32| api::SwInterfaceSetFlags {
        sw_if_index: InterfaceIndex(i),
        flags: IfStatusFlags(1),
    };
    let table = api::IpTable {
        table_id: 10,
        is_ip6: false,
        name: String::new(),
    };
    c.request(&api::IpTableAddDel {
        is_add: true,
        table: table.clone(),
    })
    .await
    .expect("vrf 10");
    let bvi = c
        .request(&api::CreateLoopback {
            mac_address: MacAddress([2, 0, 0, 0, 0, 1]),
        })
        .await
        .expect("loop0")
        .sw_if_index
        .0;
    c.request(&api::SwInterfaceTagAddDel {
        is_add: true,
        sw_if_index: InterfaceIndex(bvi),
        tag: "bvi".into(),
    })
    .await
    .expect("tag");
    let tap = api::TapCreateV2 {
        use_random_mac: false,
        mac_address: MacAddress([2, 0, 0, 0, 0, 2]),
        host_if_name_set: true,
        host_if_name: "vpp-tap".into(),
        ..Default::default()
    };
    let tap = c.request(&tap).await.expect("tap0").sw_if_index.0;
    let sock = api::MemifSocketFilenameAddDel {
        is_add: true,
        socket_id: 1,
        socket_filename: "/run/vpp/memif-1.sock".into(),
    };
    c.request(&sock).await.expect("memif socket");
    let memif = api::MemifCreate {
        socket_id: 1,
        id: 0,
        hw_addr: MacAddress([2, 0, 0, 0, 0, 3]),
        ..Default::default()
    };
    c.request(&memif).await.expect("memif1/0");
    let vrf_if = c
        .request(&api::CreateLoopback {
            mac_address: MacAddress([2, 0, 0, 0, 0, 4]),
        })
        .await
        .expect("loop1")
        .sw_if_index
        .0;
    for i in [bvi, tap, vrf_if] {
        c.request(&up(i)).await.expect("up");
    }
    let bd = api::BridgeDomainAddDel {
        bd_id: 10,
        flood: true,
        uu_flood: true,
        forward: true,
        learn: true,
        is_add: true,
        bd_tag: "bd10".into(),
        ..Default::default()
    };
    c.request(&bd).await.expect("bd 10");
    let member = |i: u32, port: u32| api::SwInterfaceSetL2Bridge {
        rx_sw_if_index: InterfaceIndex(i),
        bd_id: 10,
        port_type: api::L2PortType(port),
        shg: 0,
        enable: true,
    };
    c.request(&member(bvi, 1)).await.expect("bvi");
    c.request(&member(tap, 0)).await.expect("tap member");
    let fib = api::L2fibAddDel {
        mac: MacAddress([2, 0, 0, 0, 0, 0x22]),
        bd_id: 10,
        sw_if_index: InterfaceIndex(tap),
        is_add: true,
        static_mac: true,
        ..Default::default()
    };
    c.request(&fib).await.expect("l2fib");
    let addr = |i: u32, a: &str, len: u8| api::SwInterfaceAddDelAddress {
        sw_if_index: InterfaceIndex(i),
        is_add: true,
        del_all: false,
        prefix: api::Prefix::new(ip(a), len),
    };
    c.request(&addr(bvi, "10.0.0.1", 24))
        .await
        .expect("bvi address");
    let bind = api::SwInterfaceSetTable {
        sw_if_index: InterfaceIndex(vrf_if),
        is_ipv6: false,
        vrf_id: 10,
    };
    c.request(&bind).await.expect("vrf binding");
    c.request(&addr(vrf_if, "10.10.0.1", 24))
        .await
        .expect("vrf address");
    let mut nh = [0u8; 16];
    nh[..4].copy_from_slice(&[10, 10, 0, 2]);
    let route = api::IpRouteAddDel {
        is_add: true,
        is_multipath: false,
        route: api::IpRoute {
            table_id: 10,
            stats_index: 0,
            prefix: api::Prefix::new(ip("192.168.0.0"), 24),
            paths: vec![api::FibPath {
                sw_if_index: vrf_if,
                table_id: 10,
                weight: 1,
                nh: api::FibPathNh {
                    address: api::AddressUnion(nh),
                    ..Default::default()
                },
                ..Default::default()
            }],
        },
    };
    c.request(&route).await.expect("route");
    let nbr = api::IpNeighborAddDel {
        is_add: true,
        neighbor: api::IpNeighbor {
            sw_if_index: InterfaceIndex(vrf_if),
            flags: api::IpNeighborFlags(1),
            mac_address: MacAddress([2, 0, 0, 0, 0, 0x44]),
            ip_address: ip("10.10.0.2").into(),
        },
    };
    c.request(&nbr).await.expect("neighbor");

    let mut got = String::new();
    for cmd in [
        "show interface",
        "show interface address",
        "show bridge-domain 10 detail",
        "show l2fib verbose",
        "show ip fib table 10",
        "show ip neighbors",
    ] {
        let reply = vpp_sim::ctl::run(sim.socket_path(), cmd, Duration::from_secs(5))
            .await
            .expect("cli_inband");
        got.push_str(&format!("> {cmd}\n"));
        if reply.retval != 0 {
            got.push_str(&format!("! retval {}\n", reply.retval));
        }
        got.push_str(&reply.reply);
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api-cli/agent-like-config.txt");
    if std::env::var_os("BLESS").is_some() {
        fs::write(&path, &got).expect("bless");
        return;
    }
    let expected = fs::read_to_string(&path).expect("snapshot (run with BLESS=1 to create it)");
    pretty_assertions::assert_eq!(got, expected);
}
