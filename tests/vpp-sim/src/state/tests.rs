//! One test per VPP rule the simulator reproduces (see vpp-binapi.md §5 for the sources).

use std::net::IpAddr;

use super::l2::BdFlags;
use super::*;

fn mac(s: &str) -> Mac {
    s.parse().expect("mac")
}

fn prefix(s: &str) -> Prefix {
    let (a, l) = s.split_once('/').expect("prefix");
    Prefix {
        addr: a.parse().expect("addr"),
        len: l.parse().expect("len"),
    }
}

fn bridged(vpp: &mut Vpp, bd: u32) -> u32 {
    let lo = vpp.create_loopback(Mac::default()).expect("loop");
    vpp.set_l2_bridge(lo, bd, 0, 0, true).expect("bridge");
    lo
}

#[test]
fn local0_is_index_zero_and_indexes_are_reused_lifo() {
    let mut vpp = Vpp::default();
    assert_eq!(vpp.interface(0).expect("local0").name, "local0");
    let a = vpp.create_loopback(Mac::default()).expect("a");
    let b = vpp.create_loopback(Mac::default()).expect("b");
    let c = vpp.create_loopback(Mac::default()).expect("c");
    assert_eq!((a, b, c), (1, 2, 3));
    vpp.delete_loopback(a).expect("del a");
    vpp.delete_loopback(b).expect("del b");
    // last freed first
    assert_eq!(vpp.create_loopback(Mac::default()), Ok(b));
    assert_eq!(vpp.create_loopback(Mac::default()), Ok(a));
    assert_eq!(vpp.create_loopback(Mac::default()), Ok(4));
}

#[test]
fn loopback_names_macs_and_instances() {
    let mut vpp = Vpp::default();
    let a = vpp.create_loopback(Mac::default()).expect("a");
    let b = vpp.create_loopback(mac("02:00:00:00:00:09")).expect("b");
    assert_eq!(vpp.interface(a).expect("a").name, "loop0");
    assert_eq!(vpp.interface(a).expect("a").mac, mac("de:ad:00:00:00:00"));
    assert_eq!(vpp.interface(b).expect("b").name, "loop1");
    assert_eq!(vpp.interface(b).expect("b").mac, mac("02:00:00:00:00:09"));
    assert_eq!(
        vpp.create_loopback_instance(Mac::default(), true, 1),
        Err(Retval::INVALID_REGISTRATION)
    );
    let c = vpp
        .create_loopback_instance(Mac::default(), true, 7)
        .expect("c");
    assert_eq!(vpp.interface(c).expect("c").name, "loop7");
    assert_eq!(vpp.delete_loopback(0), Err(Retval::INVALID_SW_IF_INDEX));
    assert_eq!(vpp.delete_loopback(99), Err(Retval::INVALID_SW_IF_INDEX));
}

#[test]
fn tap_ids_names_and_conflicts() {
    let mut vpp = Vpp::default();
    let t0 = vpp.tap_create(NONE, None, "", false, 256, 256).expect("t0");
    assert_eq!(vpp.interface(t0).expect("t0").name, "tap0");
    assert_eq!(vpp.interface(t0).expect("t0").dev_type, "virtio");
    assert_eq!(
        vpp.tap_create(0, None, "", false, 256, 256),
        Err(Retval::INVALID_INTERFACE)
    );
    let t5 = vpp
        .tap_create(5, None, "host5", false, 256, 256)
        .expect("t5");
    assert_eq!(vpp.interface(t5).expect("t5").name, "tap5");
    let t1 = vpp.tap_create(NONE, None, "", false, 256, 256).expect("t1");
    assert_eq!(vpp.interface(t1).expect("t1").name, "tap1");
    assert_eq!(vpp.tap_delete(0), Err(Retval::INVALID_SW_IF_INDEX));
    vpp.tap_delete(t0).expect("delete");
}

#[test]
fn admin_state_drives_link_state() {
    let mut vpp = Vpp::default();
    let lo = vpp.create_loopback(Mac::default()).expect("lo");
    assert_eq!(vpp.interface(lo).expect("lo").flags(), 0);
    vpp.set_flags(lo, 1 | 2).expect("up");
    assert_eq!(vpp.interface(lo).expect("lo").flags(), 3);
    vpp.set_flags(lo, 2).expect("down, link bit ignored");
    assert_eq!(vpp.interface(lo).expect("lo").flags(), 0);
    assert_eq!(vpp.set_flags(42, 1), Err(Retval::INVALID_SW_IF_INDEX));
    assert_eq!(vpp.interface(lo).expect("lo").mtu, [9000, 0, 0, 0]);
}

#[test]
fn addresses_overlap_and_local0() {
    let mut vpp = Vpp::default();
    let a = vpp.create_loopback(Mac::default()).expect("a");
    let b = vpp.create_loopback(Mac::default()).expect("b");
    assert_eq!(
        vpp.add_del_address(0, true, false, prefix("10.0.0.1/24")),
        Err(Retval::UNSUPPORTED)
    );
    vpp.add_del_address(a, true, false, prefix("10.0.0.1/24"))
        .expect("add");
    // same address again: -105, not -127
    assert_eq!(
        vpp.add_del_address(a, true, false, prefix("10.0.0.1/24")),
        Err(Retval::ADDRESS_IN_USE)
    );
    // another address of the same subnet on the same interface is fine
    vpp.add_del_address(a, true, false, prefix("10.0.0.2/24"))
        .expect("same subnet");
    // overlapping on another interface in the same table is not
    assert_eq!(
        vpp.add_del_address(b, true, false, prefix("10.0.0.9/16")),
        Err(Retval::ADDRESS_IN_USE)
    );
    assert_eq!(
        vpp.add_del_address(a, false, false, prefix("10.9.9.9/24")),
        Err(Retval::ADDRESS_NOT_FOUND_FOR_INTERFACE)
    );
    vpp.add_del_address(a, false, true, prefix("0.0.0.0/0"))
        .expect("del all");
    assert!(vpp.interface(a).expect("a").addresses.is_empty());
}

#[test]
fn tables_before_binding_and_routes() {
    let mut vpp = Vpp::default();
    let lo = vpp.create_loopback(Mac::default()).expect("lo");
    assert_eq!(vpp.set_table(lo, false, 5), Err(Retval::NO_SUCH_FIB));
    vpp.ip_table_add_del(true, 5, false, "");
    vpp.add_del_address(lo, true, false, prefix("10.0.0.1/24"))
        .expect("addr");
    assert_eq!(
        vpp.set_table(lo, false, 5),
        Err(Retval::ADDRESS_FOUND_FOR_INTERFACE)
    );
    vpp.add_del_address(lo, false, true, prefix("0.0.0.0/0"))
        .expect("del all");
    vpp.set_table(lo, false, 5).expect("bind");
    // a table held by an interface survives the API delete
    vpp.ip_table_add_del(false, 5, false, "");
    assert!(vpp.tables().any(|(ip6, id, _)| !ip6 && id == 5));
    vpp.set_table(lo, false, 0).expect("unbind");
    assert!(!vpp.tables().any(|(ip6, id, _)| !ip6 && id == 5));
    // deleting a missing table is not an error (nothing to assert but no panic and no table)
    vpp.ip_table_add_del(false, 77, false, "");
}

fn via(sw_if_index: u32, nh: &str) -> Path {
    Path {
        sw_if_index,
        table_id: 0,
        next_hop: Some(nh.parse::<IpAddr>().expect("nh")),
        weight: 1,
        preference: 0,
        path_type: 0,
        proto: 0,
    }
}

#[test]
fn routes_need_table_paths_and_interfaces() {
    let mut vpp = Vpp::default();
    let lo = vpp.create_loopback(Mac::default()).expect("lo");
    let p = prefix("10.1.0.0/16");
    assert_eq!(
        vpp.ip_route_add_del(true, false, 3, p, vec![via(lo, "10.0.0.2")]),
        Err(Retval::NO_SUCH_FIB)
    );
    assert_eq!(
        vpp.ip_route_add_del(true, false, 0, p, vec![]),
        Err(Retval::NO_PATHS_IN_ROUTE)
    );
    assert_eq!(
        vpp.ip_route_add_del(true, false, 0, p, vec![via(33, "10.0.0.2")]),
        Err(Retval::NO_MATCHING_INTERFACE)
    );
    let recursive_missing = Path {
        sw_if_index: NONE,
        table_id: 9,
        ..via(lo, "10.0.0.2")
    };
    assert_eq!(
        vpp.ip_route_add_del(true, false, 0, p, vec![recursive_missing]),
        Err(Retval::NO_SUCH_FIB)
    );
    let idx = vpp
        .ip_route_add_del(true, false, 0, p, vec![via(lo, "10.0.0.2")])
        .expect("add");
    assert_ne!(idx, NONE);
    // not multipath: an add replaces the paths
    vpp.ip_route_add_del(true, false, 0, p, vec![via(lo, "10.0.0.3")])
        .expect("replace");
    let api: Vec<Route> = vpp
        .fib_entries(0, false)
        .into_iter()
        .filter(|r| r.source == ip::RouteSource::Api)
        .collect();
    assert_eq!(api.len(), 1);
    assert_eq!(api[0].paths, vec![via(lo, "10.0.0.3")]);
    // a delete of something absent still succeeds
    assert_eq!(
        vpp.ip_route_add_del(false, false, 0, prefix("10.9.0.0/16"), vec![]),
        Ok(NONE)
    );
    vpp.ip_route_add_del(false, false, 0, p, vec![])
        .expect("del");
    assert!(
        vpp.fib_entries(0, false)
            .iter()
            .all(|r| r.source != ip::RouteSource::Api)
    );
}

#[test]
fn neighbors_static_and_dynamic() {
    let mut vpp = Vpp::default();
    let lo = vpp.create_loopback(Mac::default()).expect("lo");
    let ip: IpAddr = "10.0.0.2".parse().expect("ip");
    assert_eq!(
        vpp.ip_neighbor_add_del(true, 9, ip, mac("02:00:00:00:00:01"), 1),
        Err(Retval::INVALID_SW_IF_INDEX)
    );
    vpp.ip_neighbor_add_del(true, lo, ip, mac("02:00:00:00:00:01"), 1)
        .expect("static");
    assert_eq!(
        vpp.ip_neighbor_add_del(true, lo, ip, mac("02:00:00:00:00:02"), 0),
        Err(Retval::INVALID_SW_IF_INDEX)
    );
    vpp.ip_neighbor_add_del(false, lo, ip, Mac::default(), 0)
        .expect("del");
    assert_eq!(
        vpp.ip_neighbor_add_del(false, lo, ip, Mac::default(), 0),
        Err(Retval::NO_SUCH_ENTRY)
    );
}

#[test]
fn bridge_domain_rules() {
    let mut vpp = Vpp::default();
    assert_eq!(
        vpp.bd_add(0, BdFlags::default()),
        Err(Retval::BD_ALREADY_EXISTS)
    );
    assert_eq!(
        vpp.bd_add(0x100_0000, BdFlags::default()),
        Err(Retval::BD_ID_EXCEED_MAX)
    );
    vpp.bd_add(1, BdFlags::default()).expect("bd1");
    assert_eq!(
        vpp.bd_add(1, BdFlags::default()),
        Err(Retval::BD_ALREADY_EXISTS)
    );
    assert_eq!(vpp.bd_del(0), Err(Retval::BD_NOT_MODIFIABLE));
    assert_eq!(vpp.bd_del(7), Err(Retval::NO_SUCH_ENTRY));
    let lo = bridged(&mut vpp, 1);
    assert_eq!(vpp.bd_del(1), Err(Retval::BD_IN_USE));
    vpp.set_l2_bridge(lo, 1, 0, 0, false).expect("leave");
    vpp.bd_del(1).expect("del");
    assert_eq!(vpp.bridge_domains().count(), 0, "BD 0 is never listed");
    assert_eq!(vpp.bd_add_v2(NONE, BdFlags::default()), Ok(1));
}

#[test]
fn set_l2_bridge_creates_a_missing_bd_and_allows_one_bvi() {
    let mut vpp = Vpp::default();
    let lo = bridged(&mut vpp, 4);
    let bd = vpp.bridge_domain(4).expect("auto-created");
    assert!(bd.flood && bd.uu_flood && bd.forward && bd.learn && !bd.arp_term);
    assert_eq!(bd.members, vec![(lo, 0)]);
    let bvi1 = vpp.create_loopback(Mac::default()).expect("bvi1");
    let bvi2 = vpp.create_loopback(Mac::default()).expect("bvi2");
    vpp.set_l2_bridge(bvi1, 4, 1, 0, true).expect("bvi");
    assert_eq!(
        vpp.set_l2_bridge(bvi2, 4, 1, 0, true),
        Err(Retval::BD_ALREADY_HAS_BVI)
    );
    // the BVI's MAC gets a static BVI FIB entry
    let entries = vpp.l2fib_entries(4);
    assert!(
        entries
            .iter()
            .any(|(_, _, e)| e.sw_if_index == bvi1 && e.bvi_mac && e.static_mac)
    );
    assert_eq!(
        vpp.set_l2_bridge(lo, 4, 9, 0, true),
        Err(Retval::INVALID_VALUE)
    );
}

#[test]
fn l2fib_needs_bd_and_bridged_interface() {
    let mut vpp = Vpp::default();
    let m = mac("52:54:00:53:18:57");
    let lo = vpp.create_loopback(Mac::default()).expect("lo");
    assert_eq!(
        vpp.l2fib_add_del(m, 1, lo, true, true, false, false),
        Err(Retval::NO_SUCH_ENTRY)
    );
    vpp.bd_add(1, BdFlags::default()).expect("bd");
    assert_eq!(
        vpp.l2fib_add_del(m, 1, lo, true, true, false, false),
        Err(Retval::INVALID_SW_IF_INDEX)
    );
    // bridged into *another* BD is enough for VPP
    vpp.set_l2_bridge(lo, 2, 0, 0, true).expect("bd2");
    vpp.l2fib_add_del(m, 1, lo, true, true, false, false)
        .expect("add");
    // delete with a different interface is -6, with 0 is a wildcard
    assert_eq!(
        vpp.l2fib_add_del(m, 1, 99, false, false, false, false),
        Err(Retval::NO_SUCH_ENTRY)
    );
    vpp.l2fib_add_del(m, 1, 0, false, false, false, false)
        .expect("del");
    assert_eq!(
        vpp.l2fib_add_del(m, 1, 0, false, false, false, false),
        Err(Retval::NO_SUCH_ENTRY)
    );
}

#[test]
fn seed_stale_fib_sequence() {
    // The seed's "Configuration Order using VPP CLI" walk-through, on the state model.
    let mut vpp = Vpp::default();
    let m = mac("52:54:00:53:18:57");
    let lo = vpp.create_loopback(Mac::default()).expect("loop0");
    vpp.set_flags(lo, 1).expect("up");
    vpp.bd_add(
        1,
        BdFlags {
            learn: true,
            forward: true,
            uu_flood: true,
            flood: true,
            arp_term: true,
            ..Default::default()
        },
    )
    .expect("bd 1");
    vpp.set_l2_bridge(lo, 1, 0, 0, true).expect("bridge");
    vpp.l2fib_add_del(m, 1, lo, true, true, false, false)
        .expect("fib");
    vpp.delete_loopback(lo).expect("delete loop0");
    assert_eq!(vpp.name_or_stale(lo), "Stale");
    assert_eq!(
        vpp.l2fib_entries(1).len(),
        1,
        "the entry survives its interface"
    );
    vpp.bd_del(1)
        .expect("the BD can be deleted: no member left, FIB not checked");
    let orphans = vpp.l2fib_entries(NONE);
    assert_eq!(orphans.len(), 1, "the entry survives its BD");
    assert_eq!(orphans[0].0, NONE, "and is reported under bd_id ~0");
    assert_eq!(
        vpp.l2fib_add_del(m, 1, 0, false, false, false, false),
        Err(Retval::NO_SUCH_ENTRY)
    );
    // re-creating the BD gets the same bd_index back and the entry reappears
    vpp.bd_add(1, BdFlags::default()).expect("bd again");
    assert_eq!(vpp.l2fib_entries(1).len(), 1);
    vpp.l2fib_add_del(m, 1, 0, false, false, false, false)
        .expect("now removable");
}

#[test]
fn deleting_an_interface_takes_membership_addresses_and_neighbors() {
    let mut vpp = Vpp::default();
    let lo = bridged(&mut vpp, 3);
    let other = vpp.create_loopback(Mac::default()).expect("other");
    vpp.add_del_address(other, true, false, prefix("10.0.0.1/24"))
        .expect("addr");
    vpp.ip_neighbor_add_del(
        true,
        other,
        "10.0.0.2".parse().expect("ip"),
        Mac::default(),
        1,
    )
    .expect("nbr");
    vpp.set_l2_xconnect(lo, other, true).expect("xc");
    assert!(
        vpp.bridge_domain(3).expect("bd").members.is_empty(),
        "xconnect moved it out of the BD"
    );
    vpp.delete_loopback(other).expect("delete");
    assert_eq!(vpp.xconnects().count(), 0);
    assert!(vpp.neighbors(NONE, false).is_empty());
    assert_eq!(vpp.interface(lo).expect("lo").l2, L2Mode::L3);
}

#[test]
fn sub_interfaces_follow_their_parent() {
    let mut vpp = Vpp::default();
    let lo = vpp.create_loopback(Mac::default()).expect("lo");
    let sub = vpp.create_subif(lo, 100, 100, 0, 0).expect("sub");
    assert_eq!(vpp.interface(sub).expect("sub").name, "loop0.100");
    assert_eq!(
        vpp.create_subif(lo, 100, 100, 0, 0),
        Err(Retval::SUBIF_ALREADY_EXISTS)
    );
    vpp.delete_loopback(lo).expect("delete parent");
    assert!(vpp.interface(sub).is_none());
}

#[test]
fn memif_sockets_are_registered_before_use() {
    let mut vpp = Vpp::default();
    assert_eq!(
        vpp.memif_create(1, 0, true, 0, 1024, 2048, None),
        Err(Retval::NO_SUCH_ENTRY)
    );
    assert_eq!(
        vpp.memif_socket_add_del(true, 0, "/tmp/x.sock"),
        Err(Retval::INVALID_ARGUMENT)
    );
    vpp.memif_socket_add_del(true, 1, "/tmp/a.sock")
        .expect("add");
    let m = vpp
        .memif_create(1, 0, true, 0, 1024, 2048, None)
        .expect("memif");
    assert_eq!(vpp.interface(m).expect("memif").name, "memif1/0");
    // in use: cannot be deleted or re-pointed, the same name is a no-op
    assert_eq!(
        vpp.memif_socket_add_del(false, 1, ""),
        Err(Retval::UNEXPECTED_INTF_STATE)
    );
    assert_eq!(
        vpp.memif_socket_add_del(true, 1, "/tmp/b.sock"),
        Err(Retval::UNEXPECTED_INTF_STATE)
    );
    vpp.memif_socket_add_del(true, 1, "/tmp/a.sock")
        .expect("same name");
    vpp.set_flags(m, 1).expect("admin up");
    assert_eq!(
        vpp.interface(m).expect("memif").flags(),
        1,
        "no peer, so the link stays down"
    );
    vpp.memif_delete(m).expect("delete");
    vpp.memif_socket_add_del(false, 1, "").expect("unused now");
    assert_eq!(
        vpp.memif_socket_add_del(false, 1, ""),
        Err(Retval::INVALID_ARGUMENT)
    );
    assert_eq!(vpp.memif_socket_add_v2(NONE, "/tmp/c.sock"), Ok(1));
}

#[test]
fn unnumbered_and_rx_mode_need_the_right_interfaces() {
    let mut vpp = Vpp::default();
    let lo = vpp.create_loopback(Mac::default()).expect("lo");
    let tap = vpp
        .tap_create(NONE, None, "", false, 256, 256)
        .expect("tap");
    assert_eq!(
        vpp.set_unnumbered(lo, 42, true),
        Err(Retval::INVALID_SW_IF_INDEX)
    );
    vpp.set_unnumbered(lo, tap, true).expect("borrow");
    assert_eq!(vpp.interface(tap).expect("tap").unnumbered, Some(lo));
    vpp.delete_loopback(lo).expect("delete");
    assert_eq!(vpp.interface(tap).expect("tap").unnumbered, None);
    vpp.set_rx_mode(tap).expect("tap has queues");
    assert_eq!(vpp.set_rx_mode(0), Err(Retval::INVALID_INTERFACE));
}

#[test]
fn vxlan_instances_are_lowest_free_or_requested() {
    let mut vpp = Vpp::default();
    let ip = |s: &str| -> IpAddr { s.parse().expect("ip") };
    let a = vpp
        .vxlan_add(ip("10.0.0.1"), ip("10.0.0.2"), 1, 0, NONE)
        .expect("a");
    assert_eq!(vpp.interface(a).expect("a").name, "vxlan_tunnel0");
    let b = vpp
        .vxlan_add_instance(5, ip("10.0.0.1"), ip("10.0.0.3"), 1, 0, NONE)
        .expect("b");
    assert_eq!(vpp.interface(b).expect("b").name, "vxlan_tunnel5");
    assert_eq!(
        vpp.vxlan_add_instance(5, ip("10.0.0.1"), ip("10.0.0.4"), 1, 0, NONE),
        Err(Retval::INSTANCE_IN_USE)
    );
    assert_eq!(
        vpp.vxlan_add(ip("10.0.0.1"), ip("10.0.0.2"), 1, 0, NONE),
        Err(Retval::VALUE_EXIST)
    );
    assert_eq!(
        vpp.vxlan_add(ip("10.0.0.1"), ip("10.0.0.9"), 1, 7, NONE),
        Err(Retval::NO_SUCH_FIB)
    );
    vpp.vxlan_del(ip("10.0.0.1"), ip("10.0.0.2"), 1)
        .expect("del");
    let c = vpp
        .vxlan_add(ip("10.0.0.1"), ip("10.0.0.6"), 1, 0, NONE)
        .expect("c");
    assert_eq!(vpp.interface(c).expect("c").name, "vxlan_tunnel0", "reused");
}
