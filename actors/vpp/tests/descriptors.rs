//! Descriptor tests over the in-process simulator, through the real scheduler: what each
//! descriptor does to VPP (checked on the simulator's state), its dependencies and derived
//! values, sub-interfaces waiting for their parent, and retrieve:
//! OBTAINED defaults, a resync after an agent restart that changes nothing, drift repair and a
//! VPP restart.
//!
//! It deliberately does not test the binapi handlers (see `socket.rs`).

mod common;

use common::*;
use kvscheduler::{Txn, ValueState};
use messages::Key;
use messages::proto::vpp_interfaces::Interface;
use messages::proto::vpp_interfaces::SubInterface;
use messages::proto::vpp_interfaces::interface::{Link, Type};

#[test]
fn interface_in_a_vrf_waits_for_the_table_then_binds_before_addresses() {
    let (sim, _h, mut s) = setup("23.06");
    let lo = loopback("lo1", &["10.1.0.1/24", "fd00::1/64"], 5);
    let ops = put(&mut s, &[lo]);
    assert_eq!(ops[0], "CREATE config/vpp/v2/interfaces/lo1");
    assert!(
        ops.contains(
            &"CREATE vpp/interface/lo1/vrf/5/ip-version/both [DERIVED NOOP IS-PENDING]".to_owned()
        ),
        "{ops:#?}"
    );
    assert!(
        ops.contains(
            &"CREATE vpp/interface/lo1/address/static/10.1.0.1/24 [DERIVED NOOP IS-PENDING]"
                .to_owned()
        ),
        "{ops:#?}"
    );
    assert_eq!(
        state(&s, "vpp/interface/lo1/has-IP-address"),
        ValueState::Configured
    );
    {
        let vpp = sim.vpp();
        let i = vpp.interface_by_name("loop0").expect("loop0");
        assert_eq!(i.tag, "lo1");
        assert!(i.addresses.is_empty());
    }
    put(&mut s, &[vrf(5, false)]);
    assert_eq!(
        state(&s, "vpp/interface/lo1/vrf/5/ip-version/both"),
        ValueState::Pending
    );
    let ops = put(&mut s, &[vrf(5, true)]);
    let pos = |k: &str| ops.iter().position(|o| o.contains(k)).unwrap_or(usize::MAX);
    assert!(
        pos("/vrf/5/ip-version/both") < pos("/address/static/10.1.0.1/24"),
        "{ops:#?}"
    );
    let vpp = sim.vpp();
    let i = vpp.interface_by_name("loop0").expect("loop0");
    assert_eq!(i.table, [5, 5]);
    assert_eq!(i.addresses.len(), 2);
}

#[test]
fn interface_updates_apply_in_place_and_addresses_follow() {
    let (sim, _h, mut s) = setup("23.06");
    put(&mut s, &[loopback("lo1", &["10.1.0.1/24"], 0)]);
    let mut changed = Interface {
        name: "lo1".into(),
        r#type: Type::SoftwareLoopback as i32,
        enabled: false,
        mtu: 1500,
        ip_addresses: vec!["10.2.0.1/24".into()],
        ..Default::default()
    };
    let ops = put(&mut s, &[value(changed.clone())]);
    assert!(
        ops.iter()
            .any(|o| o == "UPDATE config/vpp/v2/interfaces/lo1"),
        "{ops:#?}"
    );
    {
        let vpp = sim.vpp();
        let i = vpp
            .interface_by_name("loop0")
            .expect("same interface, not re-created");
        assert!(!i.admin_up);
        assert_eq!(i.mtu[0], 1500);
        assert_eq!(i.addresses, vec![("10.2.0.1".parse().expect("ip"), 24)]);
    }
    changed.r#type = Type::Tap as i32;
    let ops = put(&mut s, &[value(changed)]);
    assert!(
        ops.iter().any(|o| o.contains("RECREATE")),
        "a type change re-creates: {ops:#?}"
    );
    assert!(sim.vpp().interface_by_name("tap0").is_some());
    assert!(sim.vpp().interface_by_name("loop0").is_none());
}

#[test]
fn memif_registers_its_socket_once() {
    let (sim, _h, mut s) = setup("23.06");
    put(
        &mut s,
        &[memif("m1", 1, "/run/m.sock"), memif("m2", 2, "/run/m.sock")],
    );
    assert_eq!(sim.memif_socket(1).as_deref(), Some("/run/m.sock"));
    assert_eq!(sim.memif_socket(2), None);
    assert_eq!(
        state(&s, "config/vpp/v2/interfaces/m2"),
        ValueState::Configured
    );
    assert!(sim.vpp().interface_by_name("memif1/2").is_some());
    delete(&mut s, &[Key::from("config/vpp/v2/interfaces/m1")]);
    assert!(sim.vpp().interface_by_name("memif1/1").is_none());
}

#[test]
fn sub_interfaces_wait_for_their_parent() {
    let (sim, _h, mut s) = setup("23.06");
    let sub = value(Interface {
        name: "lo1.10".into(),
        r#type: Type::SubInterface as i32,
        link: Some(Link::Sub(SubInterface {
            parent_name: "lo1".into(),
            sub_id: 10,
            ..Default::default()
        })),
        ..Default::default()
    });
    let ops = put(&mut s, &[sub]);
    assert_eq!(
        ops,
        ["CREATE config/vpp/v2/interfaces/lo1.10 [NOOP IS-PENDING]"]
    );
    let ops = put(&mut s, &[loopback("lo1", &[], 0)]);
    assert!(
        ops.iter()
            .any(|o| o.contains("lo1.10") && o.contains("WAS-PENDING")),
        "{ops:#?}"
    );
    assert_eq!(
        state(&s, "config/vpp/v2/interfaces/lo1.10"),
        ValueState::Configured
    );
    let parent = sim
        .vpp()
        .interfaces()
        .find(|i| i.tag == "lo1")
        .map(|i| i.name.clone())
        .expect("parent in vpp");
    assert!(
        sim.vpp()
            .interface_by_name(&format!("{parent}.10"))
            .is_some()
    );
    // Deleting the parent first deletes the sub-interface, which goes pending again.
    delete(&mut s, &[Key::from("config/vpp/v2/interfaces/lo1")]);
    assert_eq!(
        state(&s, "config/vpp/v2/interfaces/lo1.10"),
        ValueState::Pending
    );
    assert!(
        sim.vpp()
            .interface_by_name(&format!("{parent}.10"))
            .is_none()
    );
}

#[test]
fn bridge_domain_with_bvi_and_split_horizon() {
    let (sim, _h, mut s) = setup("23.06");
    let mut b = messages::proto::vpp_l2::BridgeDomain {
        name: "bd1".into(),
        learn: true,
        mac_age: 5,
        ..Default::default()
    };
    b.interfaces = vec![
        messages::proto::vpp_l2::bridge_domain::Interface {
            name: "bvi".into(),
            bridged_virtual_interface: true,
            split_horizon_group: 0,
        },
        messages::proto::vpp_l2::bridge_domain::Interface {
            name: "t1".into(),
            bridged_virtual_interface: false,
            split_horizon_group: 2,
        },
    ];
    put(
        &mut s,
        &[value(b), loopback("bvi", &["192.168.1.1/24"], 0), tap("t1")],
    );
    let vpp = sim.vpp();
    let bd = vpp.bridge_domains().next().expect("bd");
    assert_eq!(bd.tag, "bd1");
    assert_eq!(bd.mac_age, 5);
    let bvi = vpp.interface_by_name("loop0").expect("bvi").sw_if_index;
    let t1 = vpp.interface_by_name("tap0").expect("t1").sw_if_index;
    assert_eq!(bd.bvi, Some(bvi));
    assert!(bd.members.contains(&(t1, 2)));
}

#[test]
fn drop_fib_entries_need_only_the_bridge_domain() {
    let (sim, _h, mut s) = setup("23.06");
    let drop = value(messages::proto::vpp_l2::FibEntry {
        phys_address: "aa:bb:cc:00:00:01".into(),
        bridge_domain: "bd1".into(),
        action: messages::proto::vpp_l2::fib_entry::Action::Drop as i32,
        ..Default::default()
    });
    let ops = put(&mut s, &[drop]);
    assert!(ops[0].ends_with("[NOOP IS-PENDING]"));
    let ops = put(&mut s, &[bd("bd1", &[])]);
    assert_eq!(ops.len(), 2, "{ops:#?}");
    let entries = sim.vpp().l2fib_entries(u32::MAX);
    assert_eq!(entries.len(), 1);
    assert!(entries[0].2.filter_mac);
    delete(&mut s, &[Key::from("config/vpp/l2/v2/bridge-domain/bd1")]);
    assert!(sim.vpp().l2fib_entries(u32::MAX).is_empty());
}

#[test]
fn xconnect_waits_for_both_interfaces() {
    let (sim, _h, mut s) = setup("21.01");
    let ops = put(&mut s, &[xconnect("a", "b"), tap("a")]);
    assert!(
        ops.iter()
            .any(|o| o.ends_with("xconnect/a [NOOP IS-PENDING]")),
        "{ops:#?}"
    );
    put(&mut s, &[tap("b")]);
    assert_eq!(
        snapshot(&sim.vpp())
            .iter()
            .filter(|l| l.starts_with("xc "))
            .count(),
        1
    );
    delete(&mut s, &[Key::from("config/vpp/v2/interfaces/b")]);
    assert_eq!(
        state(&s, "config/vpp/l2/v2/xconnect/a"),
        ValueState::Pending
    );
    assert!(sim.vpp().xconnects().next().is_none());
}

#[test]
fn routes_need_their_interface_and_tables() {
    let (sim, _h, mut s) = setup("25.06");
    let r1 = route(0, "10.9.0.0/16", "10.1.0.254", "lo1");
    let r2 = route(7, "10.8.0.0/16", "", "");
    let inter = messages::proto::vpp_l3::Route {
        vrf_id: 0,
        dst_network: "172.16.0.0/12".into(),
        r#type: messages::proto::vpp_l3::route::RouteType::InterVrf as i32,
        via_vrf_id: 7,
        ..Default::default()
    };
    let r3 = value(inter.clone());
    let ops = put(&mut s, &[r1.clone(), r2, r3]);
    assert_eq!(
        ops.iter()
            .filter(|o| o.ends_with("[NOOP IS-PENDING]"))
            .count(),
        3,
        "{ops:#?}"
    );
    put(
        &mut s,
        &[loopback("lo1", &["10.1.0.1/24"], 0), vrf(7, false)],
    );
    for k in [key(&r1), key(&value(inter.clone()))] {
        assert_eq!(s.value_status(&k).state, ValueState::Configured, "{k}");
    }
    let snap = snapshot(&sim.vpp());
    assert!(
        snap.iter()
            .any(|l| l.starts_with("route 0 10.9.0.0/16") && l.contains("lo1")),
        "{snap:#?}"
    );
    assert!(
        snap.iter()
            .any(|l| l.starts_with("route 0 172.16.0.0/12") && l.contains("t=7")),
        "{snap:#?}"
    );
    // r2 (vrf 7, no path info) is a recursive lookup in its own table.
    assert!(
        snap.iter().any(|l| l.starts_with("route 7 10.8.0.0/16")),
        "{snap:#?}"
    );
    delete(
        &mut s,
        &[Key::from("config/vpp/v2/vrf-table/id/7/protocol/IPV4")],
    );
    let snap = snapshot(&sim.vpp());
    assert!(
        !snap
            .iter()
            .any(|l| l.starts_with("route 7 ") || l.contains("t=7")),
        "{snap:#?}"
    );
}

#[test]
fn arp_entries_follow_their_interface_and_update_in_place() {
    let (sim, _h, mut s) = setup("23.06");
    put(
        &mut s,
        &[
            arp("lo1", "10.1.0.9", "02:00:00:00:00:09"),
            loopback("lo1", &["10.1.0.1/24"], 0),
        ],
    );
    assert_eq!(sim.vpp().neighbors(u32::MAX, false).len(), 1);
    let ops = put(&mut s, &[arp("lo1", "10.1.0.9", "02:00:00:00:00:0A")]);
    assert_eq!(ops, ["UPDATE config/vpp/v2/arp/lo1/10.1.0.9"]);
    assert_eq!(
        sim.vpp().neighbors(u32::MAX, false)[0].mac.to_string(),
        "02:00:00:00:00:0a"
    );
    // The same MAC in another case is no change.
    let ops = put(&mut s, &[arp("lo1", "10.1.0.9", "02:00:00:00:00:0a")]);
    assert!(ops.is_empty(), "{ops:#?}");
}

/// A configuration touching every descriptor, with lowercase MACs.
fn full_config() -> Vec<messages::Value> {
    vec![
        loopback("lo1", &["10.1.0.1/24", "fd00::1/64"], 3),
        loopback("lo2", &["10.2.0.1/24"], 0),
        tap("tap1"),
        memif("m1", 1, "/run/m.sock"),
        vrf(3, false),
        vrf(3, true),
        bd("bd1", &[("tap1", false), ("m1", false)]),
        fib("bd1", "62:89:c6:a3:6d:5c", "tap1"),
        xconnect("lo2", "lo1"),
        route(3, "10.30.0.0/16", "10.1.0.254", "lo1"),
        route(0, "10.40.0.0/16", "10.2.0.254", ""),
        arp("lo2", "10.2.0.9", "02:00:00:00:00:09"),
        value(Interface {
            name: "lo3".into(),
            r#type: Type::SoftwareLoopback as i32,
            enabled: true,
            mtu: 1500,
            phys_address: "02:00:00:00:03:AA".into(),
            ..Default::default()
        }),
    ]
}

#[test]
fn resync_after_agent_restart_changes_nothing_and_keeps_obtained_values() {
    let (sim, handle, mut s) = setup("23.06");
    let config = full_config();
    let report = s
        .commit(Txn::full_resync(config.iter().map(|v| (key(v), v.clone()))))
        .expect("resync");
    assert!(report.is_ok(), "{:#?}", report.failed);
    assert_eq!(
        state(&s, "config/vpp/v2/interfaces/local0"),
        ValueState::Obtained
    );
    assert_eq!(
        state(&s, "config/vpp/v2/vrf-table/id/0/protocol/IPV4"),
        ValueState::Obtained
    );
    // VPP's own routes: a special drop prefix every table has.
    assert_eq!(
        state(&s, "config/vpp/v2/route/vrf/0/dst/0.0.0.0/0"),
        ValueState::Obtained
    );
    let before = snapshot(&sim.vpp());

    // A new agent: same desired state, VPP already right.
    let mut again = scheduler(&handle);
    let report = again
        .commit(Txn::full_resync(config.iter().map(|v| (key(v), v.clone()))))
        .expect("resync");
    let changes: Vec<String> = report
        .brief()
        .into_iter()
        .filter(|o| !o.contains("NOOP"))
        .collect();
    assert!(changes.is_empty(), "{changes:#?}");
    assert!(report.is_ok());
    assert_eq!(snapshot(&sim.vpp()), before);
    for v in &config {
        assert_eq!(
            again.value_status(&key(v)).state,
            ValueState::Configured,
            "{}",
            key(v)
        );
    }
    assert_eq!(
        state(&again, "config/vpp/v2/interfaces/local0"),
        ValueState::Obtained
    );
    // The attached route of an address the agent configured is VPP's, not the agent's.
    assert_eq!(
        state(&again, "config/vpp/v2/route/if/lo2/vrf/0/dst/10.2.0.0/24"),
        ValueState::Obtained
    );
    assert_eq!(
        state(&again, "vpp/bd/bd1/interface/tap1"),
        ValueState::Configured
    );
}

#[test]
fn uppercase_fib_mac_is_recreated_by_a_restart_resync() {
    // FIXME: the scheduler passes `correlate` from its graph, which is empty after a restart,
    // so retrieve cannot put the entry back on NB's uppercase key: the resync deletes the
    // lowercase-keyed entry and adds it again. VPP ends right, but the resync is not a no-op.
    // Ligato passes the resync's NB values as `correlate`; once kvscheduler does, this test
    // should assert an empty change list.
    let (sim, handle, mut s) = setup("23.06");
    let config = [
        tap("tap1"),
        bd("bd1", &[("tap1", false)]),
        fib("bd1", "62:89:C6:A3:6D:5C", "tap1"),
    ];
    s.commit(Txn::full_resync(config.iter().map(|v| (key(v), v.clone()))))
        .expect("resync");
    let mut again = scheduler(&handle);
    let report = again
        .commit(Txn::full_resync(config.iter().map(|v| (key(v), v.clone()))))
        .expect("resync");
    let changes: Vec<String> = report
        .brief()
        .into_iter()
        .filter(|o| !o.contains("NOOP"))
        .collect();
    assert_eq!(
        changes,
        [
            "DELETE config/vpp/l2/v2/fib/bd1/mac/62:89:c6:a3:6d:5c",
            "CREATE config/vpp/l2/v2/fib/bd1/mac/62:89:C6:A3:6D:5C",
        ]
    );
    assert_eq!(sim.vpp().l2fib_entries(u32::MAX).len(), 1);
}

#[test]
fn downstream_resync_repairs_drift_and_a_restarted_vpp() {
    let (sim, _h, mut s) = setup("23.06");
    let config = full_config();
    s.commit(Txn::full_resync(config.iter().map(|v| (key(v), v.clone()))))
        .expect("resync");
    let good = snapshot(&sim.vpp());

    // Someone changes VPP by hand.
    {
        let mut vpp = sim.vpp();
        let idx = vpp.interface_by_name("loop1").expect("lo2").sw_if_index;
        vpp.set_flags(idx, 0).expect("down");
        let p = vpp_sim::state::Prefix {
            addr: "10.2.0.1".parse().expect("ip"),
            len: 24,
        };
        vpp.add_del_address(idx, false, false, p).expect("del");
    }
    assert_ne!(snapshot(&sim.vpp()), good);
    let report = s.commit(Txn::downstream_resync()).expect("resync");
    assert!(report.is_ok(), "{:#?}", report.failed);
    assert_eq!(snapshot(&sim.vpp()), good);

    // VPP restarts empty; the agent configures everything again.
    sim.restart();
    let report = s.commit(Txn::downstream_resync()).expect("resync");
    assert!(report.is_ok(), "{:#?}", report.failed);
    assert_eq!(snapshot(&sim.vpp()), good);
    for v in &config {
        assert_eq!(
            s.value_status(&key(v)).state,
            ValueState::Configured,
            "{}",
            key(v)
        );
    }
}

#[test]
fn downstream_resync_keeps_the_nb_spelling_of_macs_addresses_and_gateways() {
    let (sim, _h, mut s) = setup("23.06");
    let config = [
        tap("tap1"),
        bd("bd1", &[("tap1", false)]),
        fib("bd1", "62:89:C6:A3:6D:5C", "tap1"),
        loopback("lo1", &["10.1.0.1/24", "fd00:0:0::1/64"], 0),
        route(0, "10.50.0.0/16", "0.0.0.0", "lo1"),
        arp("lo1", "fd00:0::9", "02:00:00:00:00:AA"),
    ];
    let report = s
        .commit(Txn::full_resync(config.iter().map(|v| (key(v), v.clone()))))
        .expect("resync");
    assert!(report.is_ok(), "{:#?}", report.failed);
    let before = snapshot(&sim.vpp());
    // The scheduler passes its desired values as `correlate`, and retrieve puts what it reads
    // back on those keys, so nothing is deleted and re-created.
    let report = s.commit(Txn::downstream_resync()).expect("resync");
    let changes: Vec<String> = report
        .brief()
        .into_iter()
        .filter(|o| !o.contains("NOOP"))
        .collect();
    assert!(changes.is_empty(), "{changes:#?}");
    assert_eq!(snapshot(&sim.vpp()), before);
    for v in &config {
        assert_eq!(
            s.value_status(&key(v)).state,
            ValueState::Configured,
            "{}",
            key(v)
        );
    }
}

#[test]
fn a_new_memif_socket_skips_ids_vpp_still_uses_after_an_agent_restart() {
    let (sim, handle, mut s) = setup("23.06");
    put(&mut s, &[memif("m1", 1, "/run/a.sock")]);
    assert_eq!(sim.memif_socket(1).as_deref(), Some("/run/a.sock"));
    // A new agent knows no socket ids; VPP still has id 1 in use.
    let mut again = scheduler(&handle);
    let ops = put(&mut again, &[memif("m2", 1, "/run/b.sock")]);
    assert_eq!(ops, ["CREATE config/vpp/v2/interfaces/m2"]);
    assert_eq!(sim.memif_socket(1).as_deref(), Some("/run/a.sock"));
    assert_eq!(sim.memif_socket(2).as_deref(), Some("/run/b.sock"));
    assert!(sim.vpp().interface_by_name("memif2/1").is_some());
}

#[test]
fn full_resync_removes_untagged_interfaces_but_keeps_local0() {
    let (sim, _h, mut s) = setup("23.06");
    sim.vpp()
        .create_loopback(vpp_sim::state::Mac::default())
        .expect("loopback by hand");
    let config = [tap("tap1")];
    let report = s
        .commit(Txn::full_resync(config.iter().map(|v| (key(v), v.clone()))))
        .expect("resync");
    assert!(
        report
            .brief()
            .contains(&"DELETE config/vpp/v2/interfaces/UNTAGGED-loop0".to_owned()),
        "{:#?}",
        report.brief()
    );
    // (Its index is reused by tap1, as VPP's pool does.)
    assert!(sim.vpp().interface_by_name("loop0").is_none());
    assert!(sim.vpp().interface(0).is_some());
    assert_eq!(
        state(&s, "config/vpp/v2/interfaces/local0"),
        ValueState::Obtained
    );
}

#[test]
fn moving_an_interface_to_another_vrf_rebinds_between_address_removal_and_re_adding() {
    let (sim, _h, mut s) = setup("23.06");
    put(
        &mut s,
        &[vrf(5, false), loopback("lo1", &["10.1.0.1/24"], 0)],
    );
    let ops = put(&mut s, &[loopback("lo1", &["10.1.0.1/24"], 5)]);
    let pos = |needle: &str| {
        ops.iter()
            .position(|o| o.starts_with(needle))
            .unwrap_or_else(|| panic!("{needle} missing: {ops:#?}"))
    };
    let del_addr = pos("DELETE vpp/interface/lo1/address/static/10.1.0.1/24");
    let bind = pos("CREATE vpp/interface/lo1/vrf/5/ip-version/v4");
    let add_addr = ops
        .iter()
        .rposition(|o| o.starts_with("CREATE vpp/interface/lo1/address/static/10.1.0.1/24"))
        .unwrap_or(0);
    assert!(del_addr < bind && bind < add_addr, "{ops:#?}");
    let vpp = sim.vpp();
    let i = vpp.interface_by_name("loop0").expect("lo1");
    assert_eq!(i.table, [5, 0]);
    assert_eq!(i.addresses.len(), 1);
}
