//! One test per VPP interface rule, over the real socket with binapi's client and 23.06's
//! messages: index reuse, names, loopbacks, taps, admin state, addresses, tables, dump
//! filters, sub-interfaces, memif, af_packet, vxlan, MAC/MTU/tag and the connect sequence.
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
async fn local0_first_then_loopbacks_reuse_indexes_lifo() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    let first = dump_ifaces(&c).await;
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].sw_if_index.0, first[0].interface_name.as_str()),
        (0, "local0")
    );
    let (a, b, x) = (loopback(&c).await, loopback(&c).await, loopback(&c).await);
    assert_eq!((a, b, x), (1, 2, 3));
    for i in [a, b] {
        c.request(&api::DeleteLoopback {
            sw_if_index: InterfaceIndex(i),
        })
        .await
        .expect("delete");
    }
    assert_eq!(loopback(&c).await, b, "last freed first");
    assert_eq!(loopback(&c).await, a);
    let names: Vec<String> = dump_ifaces(&c)
        .await
        .into_iter()
        .map(|d| d.interface_name)
        .collect();
    // index 2 was reused first and got the lowest free instance
    assert_eq!(names, ["local0", "loop1", "loop0", "loop2"]);
    let lo = &dump_ifaces(&c).await[2];
    assert_eq!(lo.l2_address.0, [0xde, 0xad, 0, 0, 0, 0]);
    assert_eq!((lo.link_mtu, lo.mtu), (9000, [9000, 0, 0, 0]));
    assert_eq!(lo.interface_dev_type, "Loopback");
}

#[tokio::test]
async fn loopback_instances_and_bad_deletes() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    loopback(&c).await;
    let taken = api::CreateLoopbackInstance {
        is_specified: true,
        user_instance: 0,
        ..Default::default()
    };
    assert_eq!(rv(c.request(&taken).await), -31);
    let seven = api::CreateLoopbackInstance {
        user_instance: 7,
        ..taken
    };
    let idx = c.request(&seven).await.expect("loop7").sw_if_index.0;
    assert_eq!(dump_ifaces(&c).await[idx as usize].interface_name, "loop7");
    for bad in [0, 99] {
        let del = api::DeleteLoopback {
            sw_if_index: InterfaceIndex(bad),
        };
        assert_eq!(rv(c.request(&del).await), -2);
    }
}

#[tokio::test]
async fn taps_get_the_lowest_free_id_and_a_taken_id_is_refused() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    let t0 = c
        .request(&api::TapCreateV2::default())
        .await
        .expect("tap0")
        .sw_if_index
        .0;
    let again = api::TapCreateV2 {
        id: 0,
        ..Default::default()
    };
    assert_eq!(rv(c.request(&again).await), -71);
    let bad_ring = api::TapCreateV2 {
        rx_ring_sz: 300,
        ..Default::default()
    };
    assert_eq!(rv(c.request(&bad_ring).await), -7);
    let tagged = api::TapCreateV3 {
        host_if_name_set: true,
        host_if_name: "veth-agent".to_owned(),
        tag: "my-tap".to_owned(),
        ..Default::default()
    };
    let t1 = c.request(&tagged).await.expect("tap1").sw_if_index.0;
    let taps = c
        .dump(&api::SwInterfaceTapV2Dump {
            sw_if_index: InterfaceIndex(NONE),
        })
        .await
        .expect("tap dump");
    let names: Vec<(u32, &str, &str)> = taps
        .iter()
        .map(|t| (t.sw_if_index, t.dev_name.as_str(), t.host_if_name.as_str()))
        .collect();
    assert_eq!(names, [(t0, "tap0", "tap0"), (t1, "tap1", "veth-agent")]);
    assert_eq!(dump_ifaces(&c).await[t1 as usize].tag, "my-tap");
    assert_eq!(
        dump_ifaces(&c).await[t1 as usize].interface_dev_type,
        "virtio"
    );
}

#[tokio::test]
async fn admin_up_brings_the_link_up_and_link_bits_are_ignored() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    let lo = loopback(&c).await;
    let flags = |f| api::SwInterfaceSetFlags {
        sw_if_index: InterfaceIndex(lo),
        flags: api::IfStatusFlags(f),
    };
    c.request(&flags(1)).await.expect("up");
    assert_eq!(dump_ifaces(&c).await[1].flags.0, 3);
    c.request(&flags(2)).await.expect("link bit alone");
    assert_eq!(dump_ifaces(&c).await[1].flags.0, 0);
    let bad = api::SwInterfaceSetFlags {
        sw_if_index: InterfaceIndex(42),
        ..flags(1)
    };
    assert_eq!(rv(c.request(&bad).await), -2);
}

#[tokio::test]
async fn addresses_overlap_local0_and_missing_deletes() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    let (a, b) = (loopback(&c).await, loopback(&c).await);
    assert_eq!(rv(c.request(&addr(0, "10.0.0.1", 24, true)).await), -126);
    c.request(&addr(a, "10.0.0.1", 24, true))
        .await
        .expect("add");
    assert_eq!(rv(c.request(&addr(a, "10.0.0.1", 24, true)).await), -105);
    c.request(&addr(a, "10.0.0.2", 24, true))
        .await
        .expect("same subnet");
    assert_eq!(rv(c.request(&addr(b, "10.0.0.9", 16, true)).await), -105);
    assert_eq!(rv(c.request(&addr(b, "10.9.9.9", 24, false)).await), -60);
    let listed = c
        .dump(&api::IpAddressDump {
            sw_if_index: InterfaceIndex(a),
            is_ipv6: false,
        })
        .await
        .expect("ip_address_dump");
    let got: Vec<String> = listed
        .iter()
        .map(|d| format!("{}/{}", d.prefix.address.to_ip(), d.prefix.len))
        .collect();
    assert_eq!(got, ["10.0.0.1/24", "10.0.0.2/24"]);
}

#[tokio::test]
async fn interfaces_bind_to_existing_tables_before_addresses() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    let lo = loopback(&c).await;
    let bind = api::SwInterfaceSetTable {
        sw_if_index: InterfaceIndex(lo),
        is_ipv6: false,
        vrf_id: 10,
    };
    assert_eq!(rv(c.request(&bind).await), -3, "table 10 does not exist");
    let table = api::IpTableAddDel {
        is_add: true,
        table: api::IpTable {
            table_id: 10,
            is_ip6: false,
            name: String::new(),
        },
    };
    c.request(&table).await.expect("add table");
    c.request(&table).await.expect("adding again never fails");
    c.request(&addr(lo, "10.1.0.1", 24, true))
        .await
        .expect("addr");
    assert_eq!(
        rv(c.request(&bind).await),
        -114,
        "addresses first is refused"
    );
    c.request(&addr(lo, "10.1.0.1", 24, false))
        .await
        .expect("del addr");
    c.request(&bind).await.expect("bind");
    let tables = c.dump(&api::IpTableDump::default()).await.expect("tables");
    assert!(
        tables
            .iter()
            .any(|t| t.table.table_id == 10 && !t.table.is_ip6)
    );
}

#[tokio::test]
async fn sw_interface_dump_filters_by_index_and_name() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    let lo = loopback(&c).await;
    let by = |idx: u32, filter: Option<&str>| api::SwInterfaceDump {
        sw_if_index: InterfaceIndex(idx),
        name_filter_valid: filter.is_some(),
        name_filter: filter.unwrap_or("").to_owned(),
    };
    assert_eq!(
        c.dump(&by(0, None)).await.expect("0").len(),
        2,
        "0 means all"
    );
    assert_eq!(c.dump(&by(NONE, None)).await.expect("~0").len(), 2);
    assert_eq!(c.dump(&by(lo, None)).await.expect("one").len(), 1);
    assert!(c.dump(&by(55, None)).await.expect("none").is_empty());
    let loops = c.dump(&by(NONE, Some("LOOP"))).await.expect("filter");
    assert_eq!(loops.len(), 1, "case-insensitive substring");
}

#[tokio::test]
async fn sub_interfaces_memif_af_packet_and_vxlan() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    let lo = loopback(&c).await;
    let vlan = api::CreateVlanSubif {
        sw_if_index: InterfaceIndex(lo),
        vlan_id: 100,
    };
    let sub = c.request(&vlan).await.expect("vlan subif").sw_if_index.0;
    assert_eq!(rv(c.request(&vlan).await), -56, "the vlan exists");
    let too_big = api::CreateVlanSubif {
        vlan_id: 4096,
        ..vlan
    };
    assert_eq!(rv(c.request(&too_big).await), -55);
    let details = &dump_ifaces(&c).await[sub as usize];
    assert_eq!(
        (
            details.interface_name.as_str(),
            details.sup_sw_if_index,
            details.sub_id
        ),
        ("loop0.100", lo, 100)
    );
    assert_eq!(details.type_, api::IfType::IF_API_TYPE_SUB);
    assert_eq!(details.sub_number_of_tags, 1);
    let qinq = api::CreateSubif {
        sw_if_index: InterfaceIndex(lo),
        sub_id: 200,
        sub_if_flags: api::SubIfFlags(4 | 16),
        outer_vlan_id: 20,
        inner_vlan_id: 30,
    };
    let two = c.request(&qinq).await.expect("subif").sw_if_index.0;
    assert_eq!(rv(c.request(&qinq).await), -68, "the sub id exists");
    let details = &dump_ifaces(&c).await[two as usize];
    assert_eq!(
        (
            details.sub_number_of_tags,
            details.sub_outer_vlan_id,
            details.sub_inner_vlan_id
        ),
        (2, 20, 30)
    );
    let del = |i: u32| api::DeleteSubif {
        sw_if_index: InterfaceIndex(i),
    };
    c.request(&del(sub)).await.expect("delete subif");
    assert_eq!(rv(c.request(&del(lo)).await), -2, "not a sub-interface");

    let memif = api::MemifCreate {
        socket_id: 3,
        id: 0,
        ..Default::default()
    };
    assert_eq!(rv(c.request(&memif).await), -6, "socket 3 not registered");
    let sock = api::MemifSocketFilenameAddDel {
        is_add: true,
        socket_id: 3,
        socket_filename: "/tmp/m.sock".to_owned(),
    };
    c.request(&sock).await.expect("socket");
    let m = c.request(&memif).await.expect("memif").sw_if_index.0;
    let memifs = c
        .dump(&api::MemifDump::default())
        .await
        .expect("memif dump");
    assert_eq!(
        (memifs[0].sw_if_index.0, memifs[0].if_name.as_str()),
        (m, "memif3/0")
    );
    let del_sock = api::MemifSocketFilenameAddDel {
        is_add: false,
        ..sock
    };
    assert_eq!(rv(c.request(&del_sock).await), -74, "in use");

    let af = api::AfPacketCreate {
        host_if_name: "eth9".to_owned(),
        use_random_hw_addr: true,
        ..Default::default()
    };
    c.request(&af).await.expect("af_packet");
    assert_eq!(rv(c.request(&af).await), -81);
    let afs = c
        .dump(&api::AfPacketDump::default())
        .await
        .expect("af dump");
    assert_eq!(afs[0].host_if_name, "eth9");

    let tunnel = api::VxlanAddDelTunnel {
        is_add: true,
        instance: NONE,
        src_address: "10.0.0.1".parse::<std::net::IpAddr>().expect("ip").into(),
        dst_address: "10.0.0.2".parse::<std::net::IpAddr>().expect("ip").into(),
        vni: 10,
        decap_next_index: NONE,
        ..Default::default()
    };
    let vx = c.request(&tunnel).await.expect("vxlan").sw_if_index.0;
    let tunnels = c
        .dump(&api::VxlanTunnelDump {
            sw_if_index: InterfaceIndex(NONE),
        })
        .await
        .expect("dump");
    assert_eq!((tunnels[0].sw_if_index.0, tunnels[0].vni), (vx, 10));
    assert_eq!(
        dump_ifaces(&c).await.last().expect("vxlan").interface_name,
        "vxlan_tunnel0"
    );
    let same = api::VxlanAddDelTunnel {
        dst_address: tunnel.src_address.clone(),
        ..tunnel.clone()
    };
    assert_eq!(rv(c.request(&same).await), -82);
    let del = api::VxlanAddDelTunnel {
        is_add: false,
        ..tunnel
    };
    c.request(&del).await.expect("delete tunnel");
    assert_eq!(rv(c.request(&del).await), -6);
}

#[tokio::test]
async fn connect_sequence_messages_answer_like_vpp() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    let v = c
        .request(&api::ShowVersion::default())
        .await
        .expect("show_version");
    assert_eq!(
        (v.program.as_str(), v.version.as_str()),
        ("vpe", "23.06-release")
    );
    let ping = c.ping().await.expect("ping");
    assert_eq!(ping.client_index, c.client_index());
    assert_eq!(
        c.client_index(),
        0x8000_0001,
        "the first socket client after the listener"
    );
    assert_eq!(ping.vpe_pid, std::process::id());
    let t = c
        .request(&api::ShowVpeSystemTime::default())
        .await
        .expect("time");
    assert!(t.vpe_system_time.0 > 1.7e9);
    let threads = c
        .request(&api::ShowThreads::default())
        .await
        .expect("threads");
    assert_eq!(threads.thread_data[0].name, "vpp_main");
    let modules = c
        .request(&api::ApiVersions::default())
        .await
        .expect("api_versions");
    let interface = modules
        .api_versions
        .iter()
        .find(|m| m.name == "interface")
        .expect("interface");
    assert_eq!(
        (interface.major, interface.minor, interface.patch),
        (3, 2, 3)
    );
    let first = c
        .request(&api::GetFirstMsgId {
            name: "nope_00000000".to_owned(),
        })
        .await;
    assert_eq!(rv(first), -7);
    let cli = c
        .request(&api::CliInband {
            cmd: "show version".to_owned(),
        })
        .await
        .expect("cli");
    assert!(cli.reply.starts_with("vpp v23.06-release"), "{}", cli.reply);
    c.disconnect()
        .await
        .expect("sockclnt_delete answers response 1");
}

#[tokio::test]
async fn mac_mtu_tag_rx_mode_and_unnumbered() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    let lo = loopback(&c).await;
    let tap = c
        .request(&api::TapCreateV2::default())
        .await
        .expect("tap")
        .sw_if_index
        .0;
    let idx = InterfaceIndex;
    let mac = api::SwInterfaceSetMacAddress {
        sw_if_index: idx(lo),
        mac_address: MacAddress(MAC),
    };
    c.request(&mac).await.expect("mac");
    assert_eq!(dump_ifaces(&c).await[lo as usize].l2_address.0, MAC);
    let mac_local0 = api::SwInterfaceSetMacAddress {
        sw_if_index: idx(0),
        ..mac
    };
    assert_ne!(
        rv(c.request(&mac_local0).await),
        0,
        "local0 has no MAC to set"
    );
    let mtu = api::SwInterfaceSetMtu {
        sw_if_index: idx(lo),
        mtu: [1500, 0, 0, 0],
    };
    c.request(&mtu).await.expect("sw mtu");
    assert_eq!(dump_ifaces(&c).await[lo as usize].mtu, [1500, 0, 0, 0]);
    let hw = api::HwInterfaceSetMtu {
        sw_if_index: idx(tap),
        mtu: 2000,
    };
    c.request(&hw).await.expect("hw mtu");
    assert_eq!(dump_ifaces(&c).await[tap as usize].link_mtu, 2000);
    let tag = |is_add: bool| api::SwInterfaceTagAddDel {
        is_add,
        sw_if_index: idx(lo),
        tag: "logical-name".to_owned(),
    };
    c.request(&tag(true)).await.expect("tag");
    assert_eq!(dump_ifaces(&c).await[lo as usize].tag, "logical-name");
    c.request(&tag(false)).await.expect("untag");
    assert_eq!(dump_ifaces(&c).await[lo as usize].tag, "");
    let rx = |i: u32| api::SwInterfaceSetRxMode {
        sw_if_index: idx(i),
        mode: api::RxMode(1),
        ..Default::default()
    };
    c.request(&rx(tap)).await.expect("tap has queues");
    assert_eq!(rv(c.request(&rx(lo)).await), -71, "a loopback has none");
    let unnumbered = |i: u32| api::SwInterfaceSetUnnumbered {
        sw_if_index: idx(i),
        unnumbered_sw_if_index: idx(tap),
        is_add: true,
    };
    c.request(&unnumbered(lo)).await.expect("unnumbered");
    assert_eq!(rv(c.request(&unnumbered(99)).await), -2);
    let state = sim.state().expect("state");
    assert_eq!(state.interface(tap).expect("tap").unnumbered, Some(lo));
}
