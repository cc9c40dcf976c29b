//! The Linux descriptors driven through the kvscheduler `Scheduler`, against the real kernel
//! in namespaces the tests create (run as root): a veth pair configured in reverse
//! dependency order converges and carries traffic; a namespace created after the config is
//! picked up through the namespace watcher and a downstream resync; a resync repairs a route
//! and a veth pair deleted by hand, removes an address added by hand to the agent's own
//! interface and leaves other links and routes alone; deleting the config leaves no
//! interface behind; the plugin can be disabled.
//!
//! TAP_TO_VPP is in `tap_to_vpp.rs`. Each test uses its own microservice label, so tests
//! running in parallel never claim each other's interfaces.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestNs, eventually, unique};
use config::LinuxIfPluginConfig;
use kvscheduler::{Scheduler, SchedulerConfig, SystemClock, Txn, ValueState};
use linux::{LinuxPlugin, Netlink, NsRef};
use messages::proto::ligato::linux::namespace::{NetNamespace, net_namespace::ReferenceType};
use messages::proto::linux_interfaces::interface::{Link as IfLink, Type};
use messages::proto::linux_interfaces::{Interface, VethLink};
use messages::proto::linux_l3::{ArpEntry, Route};
use messages::{Key, Value};

fn kv<T: messages::value::ProtoValue>(v: T) -> (Key, Value) {
    let key = messages::registry::builtin().key_of(&v).expect("model key");
    (key, Arc::new(v))
}

fn veth(name: &str, peer: &str, ns: &TestNs, addrs: &[&str], mac: &str) -> (Key, Value) {
    kv(Interface {
        name: name.into(),
        r#type: Type::Veth as i32,
        namespace: Some(NetNamespace {
            r#type: ReferenceType::Nsid as i32,
            reference: ns.name.clone(),
        }),
        enabled: true,
        ip_addresses: addrs.iter().map(|a| (*a).to_owned()).collect(),
        phys_address: mac.into(),
        link: Some(IfLink::Veth(VethLink {
            peer_if_name: peer.into(),
            ..Default::default()
        })),
        ..Default::default()
    })
}

fn route(dst: &str, gw: &str, oif: &str, metric: u32) -> (Key, Value) {
    kv(Route {
        outgoing_interface: oif.into(),
        dst_network: dst.into(),
        gw_addr: gw.into(),
        metric,
        ..Default::default()
    })
}

fn arp(oif: &str, ip: &str, mac: &str) -> (Key, Value) {
    kv(ArpEntry {
        interface: oif.into(),
        ip_address: ip.into(),
        hw_address: mac.into(),
    })
}

fn scheduler(plugin: &LinuxPlugin) -> Scheduler {
    let config = SchedulerConfig {
        print_txn_summary: false,
        ..SchedulerConfig::default()
    };
    let mut s = Scheduler::new(config, Arc::new(SystemClock));
    let registered = plugin
        .register(&mut s, &LinuxIfPluginConfig::default())
        .expect("register");
    assert!(registered);
    s
}

fn plugin() -> LinuxPlugin {
    LinuxPlugin::new(Netlink::default(), unique("lbl"))
}

fn put_all(values: &[(Key, Value)]) -> Txn {
    values
        .iter()
        .fold(Txn::nb(), |t, (k, v)| t.put(k.clone(), v.clone()))
}

fn state(s: &Scheduler, key: &Key) -> ValueState {
    s.value_status(key).state
}

fn commit_ok(s: &mut Scheduler, txn: Txn) -> Vec<String> {
    let report = s.commit(txn).expect("commit");
    assert!(
        report.is_ok(),
        "failed: {:?}\nops: {:#?}",
        report.failed,
        report.brief()
    );
    report.brief()
}

#[test]
fn reverse_order_converges_with_traffic_and_deleting_leaves_nothing() {
    let (a, b) = (TestNs::new("roa"), TestNs::new("rob"));
    let p = plugin();
    let mut s = scheduler(&p);
    commit_ok(&mut s, Txn::downstream_resync());

    let right_mac = "02:00:00:00:71:02";
    let left = veth("left", "right", &a, &["10.71.0.1/24"], "");
    let right = veth(
        "right",
        "left",
        &b,
        &["10.71.0.2/24", "10.72.0.1/24"],
        right_mac,
    );
    let rt = route("10.72.0.0/24", "10.71.0.2", "left", 0);
    let nb = arp("left", "10.71.0.2", right_mac);

    // The second end alone waits for its peer.
    commit_ok(&mut s, Txn::nb().put(right.0.clone(), right.1.clone()));
    assert_eq!(state(&s, &right.0), ValueState::Pending);
    let details = s.value_status(&right.0).details;
    assert!(
        details.iter().any(|d| d == "veth-peer-exists"),
        "{details:?}"
    );
    assert_eq!(b.links(), vec!["lo".to_owned()]);

    // Everything else, dependents first.
    let ops = commit_ok(&mut s, put_all(&[nb.clone(), rt.clone(), left.clone()]));
    for k in [&left.0, &right.0, &rt.0, &nb.0] {
        assert_eq!(state(&s, k), ValueState::Configured, "{k}: {ops:#?}");
    }
    let shown = a.ip(&["route", "show", "10.72.0.0/24"]).expect("ip route");
    assert!(shown.contains("via 10.71.0.2 dev left"), "{shown}");
    let shown = a.ip(&["neigh", "show", "10.71.0.2"]).expect("ip neigh");
    assert!(
        shown.contains(right_mac) && shown.contains("PERMANENT"),
        "{shown}"
    );
    let shown = b
        .ip(&["-o", "addr", "show", "dev", "right"])
        .expect("ip addr");
    assert!(
        shown.contains("10.71.0.2/24") && shown.contains("10.72.0.1/24"),
        "{shown}"
    );
    assert!(eventually(Duration::from_secs(10), || a.ping("10.72.0.1")));

    // The dataplane matches: a full resync with the same config changes nothing.
    let all = [left.clone(), right.clone(), rt.clone(), nb.clone()];
    let ops = commit_ok(&mut s, Txn::full_resync(all.iter().cloned()));
    assert!(ops.is_empty(), "resync of a converged config did {ops:#?}");

    let del = all.iter().fold(Txn::nb(), |t, (k, _)| t.delete(k.clone()));
    commit_ok(&mut s, del);
    assert_eq!(a.links(), vec!["lo".to_owned()]);
    assert_eq!(b.links(), vec!["lo".to_owned()]);
    let observed = |k: &Key| {
        k.as_str().starts_with("linux/namespace/")
            || k.as_str().starts_with("linux/interface/host-name/")
    };
    let left_over: Vec<Key> = s
        .applied_keys()
        .into_iter()
        .filter(|k| !observed(k))
        .collect();
    assert!(left_over.is_empty(), "{left_over:?}");
}

#[test]
fn a_namespace_created_after_the_config_is_picked_up_and_its_loss_withdraws_it() {
    let a = TestNs::new("lta");
    let late = TestNs::reserve("ltl");
    let p = plugin();
    let mut s = scheduler(&p);
    let (_watcher, mut events) = p.watch(Duration::from_millis(50)).expect("watcher");

    // "aaa" creates the pair but its namespace is missing; "zzz" waits for "aaa".
    let first = veth("aaa", "zzz", &late, &["10.77.0.1/24"], "");
    let second = veth("zzz", "aaa", &a, &["10.77.0.2/24"], "");
    commit_ok(&mut s, put_all(&[first.clone(), second.clone()]));
    assert_eq!(state(&s, &first.0), ValueState::Pending);
    assert_eq!(state(&s, &second.0), ValueState::Pending);
    let details = s.value_status(&first.0).details;
    assert!(
        details.iter().any(|d| d == "namespace-exists"),
        "{details:?}"
    );
    assert_eq!(a.links(), vec!["lo".to_owned()]);

    late.create();
    let late_key = NsRef::Named(late.name.clone()).key().expect("key");
    let appeared = eventually(Duration::from_secs(10), || {
        std::iter::from_fn(|| events.try_recv().ok()).any(|e| e.key == late_key && e.present)
    });
    assert!(appeared, "the watcher did not report {late_key}");
    commit_ok(&mut s, Txn::downstream_resync());
    assert_eq!(state(&s, &first.0), ValueState::Configured);
    assert_eq!(state(&s, &second.0), ValueState::Configured);
    assert!(
        late.links().contains(&"aaa".to_owned()),
        "{:?}",
        late.links()
    );
    assert!(a.links().contains(&"zzz".to_owned()), "{:?}", a.links());
    assert!(eventually(Duration::from_secs(10), || a.ping("10.77.0.1")));

    // The namespace goes away (a container stops): the values wait again.
    common::ip(&["netns", "del", &late.name]).expect("delete namespace");
    let vanished = eventually(Duration::from_secs(10), || {
        std::iter::from_fn(|| events.try_recv().ok()).any(|e| e.key == late_key && !e.present)
    });
    assert!(vanished, "the watcher did not report {late_key} gone");
    commit_ok(&mut s, Txn::downstream_resync());
    assert_eq!(state(&s, &first.0), ValueState::Pending);
    assert_eq!(state(&s, &second.0), ValueState::Pending);
    assert!(eventually(Duration::from_secs(10), || a.links() == ["lo"]));
}

#[test]
fn resync_repairs_what_was_deleted_by_hand_and_leaves_foreign_state_alone() {
    let (a, b) = (TestNs::new("rsa"), TestNs::new("rsb"));
    let p = plugin();
    let mut s = scheduler(&p);
    commit_ok(&mut s, Txn::downstream_resync());
    let left = veth("left", "right", &a, &["10.74.0.1/24"], "");
    let right = veth("right", "left", &b, &["10.74.0.2/24", "10.73.0.1/24"], "");
    let rt = route("10.73.0.0/24", "10.74.0.2", "left", 50);
    let all = [left.clone(), right.clone(), rt.clone()];
    commit_ok(&mut s, put_all(&all));

    // Someone else's link and route (`ip route add` marks it proto boot) in the same
    // namespace are theirs; an address added by hand to the agent's own interface is not.
    a.ip(&[
        "link", "add", "foreign0", "type", "veth", "peer", "name", "foreign1",
    ])
    .expect("foreign veth");
    a.ip(&["route", "add", "10.75.0.0/24", "dev", "left"])
        .expect("foreign route");
    a.ip(&["addr", "add", "10.76.0.1/24", "dev", "left"])
        .expect("address by hand");

    a.ip(&["route", "del", "10.73.0.0/24"])
        .expect("delete route by hand");
    commit_ok(&mut s, Txn::downstream_resync());
    let shown = a.ip(&["route", "show", "10.73.0.0/24"]).expect("ip route");
    assert!(
        shown.contains("via 10.74.0.2") && shown.contains("metric 50"),
        "{shown}"
    );
    assert!(a.links().contains(&"foreign0".to_owned()));
    let shown = a.ip(&["route", "show", "10.75.0.0/24"]).expect("ip route");
    assert!(shown.contains("dev left"), "{shown}");
    let shown = a
        .ip(&["-o", "addr", "show", "dev", "left"])
        .expect("ip addr");
    assert!(
        !shown.contains("10.76.0.1/24") && shown.contains("10.74.0.1/24"),
        "the agent owns the addresses of its interfaces, as Ligato does: {shown}"
    );

    // The whole pair deleted by hand comes back with its addresses and route.
    b.ip(&["link", "del", "right"])
        .expect("delete veth by hand");
    let only_foreign = |links: Vec<String>| {
        let mut links = links;
        links.sort();
        links == ["foreign0", "foreign1", "lo"]
    };
    assert!(only_foreign(a.links()), "{:?}", a.links());
    commit_ok(&mut s, Txn::downstream_resync());
    for k in [&left.0, &right.0, &rt.0] {
        assert_eq!(state(&s, k), ValueState::Configured, "{k}");
    }
    let shown = a.ip(&["route", "show", "10.73.0.0/24"]).expect("ip route");
    assert!(shown.contains("via 10.74.0.2"), "{shown}");
    assert!(eventually(Duration::from_secs(10), || a.ping("10.73.0.1")));

    // A full resync with an empty config removes only what the agent made.
    commit_ok(&mut s, Txn::full_resync(Vec::new()));
    assert!(only_foreign(a.links()), "{:?}", a.links());
    assert_eq!(b.links(), vec!["lo".to_owned()]);
}

#[test]
fn invalid_values_are_rejected_with_the_field() {
    let a = TestNs::new("inv");
    let p = plugin();
    let mut s = scheduler(&p);
    let bad = veth("left", "right", &a, &["10.78.0.1"], "");
    let report = s
        .commit(Txn::nb().put(bad.0.clone(), bad.1))
        .expect("commit");
    assert!(report.is_ok(), "an invalid value is not a failed operation");
    let st = s.value_status(&bad.0);
    assert_eq!(st.state, ValueState::Invalid);
    assert!(st.error.contains("left"), "{}", st.error);
    assert_eq!(st.details, vec!["ip_addresses".to_owned()]);
}

#[test]
fn a_plugin_disabled_by_its_config_file_registers_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("linux-ifplugin.conf");
    std::fs::write(&file, "disabled: true\n").expect("write config");
    let env = config::Environment::from_iter(Vec::<(&str, &str)>::new());
    let path = file.to_str().expect("utf-8 path");
    let cfg = config::AgentConfig::from_args(["vpp-agent", "--linux-ifplugin-config", path], &env)
        .expect("config loads");
    assert!(cfg.linux_ifplugin.config.disabled);

    let p = plugin();
    let mut s = Scheduler::new(SchedulerConfig::default(), Arc::new(SystemClock));
    assert!(
        !p.register(&mut s, &cfg.linux_ifplugin.config)
            .expect("register")
    );
    assert!(s.descriptors().is_empty());
    let ns = TestNs::reserve("dis");
    let v = veth("left", "right", &ns, &[], "");
    s.commit(Txn::nb().put(v.0.clone(), v.1)).expect("commit");
    assert_eq!(state(&s, &v.0), ValueState::Unimplemented);

    let enabled = config::AgentConfig::from_args(["vpp-agent"], &env).expect("defaults");
    assert!(!enabled.linux_ifplugin.config.disabled);
}
