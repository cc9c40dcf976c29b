//! Changes to configured Linux values, through the scheduler against the real kernel (run as
//! root): disabling an interface withdraws the routes that need it UP and enabling it brings
//! them back; MTU and address changes are applied in place; an EXISTING interface is
//! configured but never deleted; and a veth end waits for its peer, as in Ligato.

mod common;

use std::sync::Arc;

use std::time::Duration;

use common::{LinkGuard, TestNs, eventually, ip, unique};
use config::LinuxIfPluginConfig;
use kvscheduler::{Scheduler, SchedulerConfig, SystemClock, Txn, ValueState};
use linux::descriptor::host_name_key;
use linux::descriptor::interface::spec::parked_name;
use linux::{LinuxPlugin, Netlink};
use messages::proto::ligato::linux::namespace::{NetNamespace, net_namespace::ReferenceType};
use messages::proto::linux_interfaces::interface::{Link as IfLink, Type};
use messages::proto::linux_interfaces::{Interface, VethLink};
use messages::proto::linux_l3::Route;
use messages::{Key, Value};

fn kv<T: messages::value::ProtoValue>(v: T) -> (Key, Value) {
    let key = messages::registry::builtin().key_of(&v).expect("model key");
    (key, Arc::new(v))
}

fn ns_ref(ns: &TestNs) -> Option<NetNamespace> {
    Some(NetNamespace {
        r#type: ReferenceType::Nsid as i32,
        reference: ns.name.clone(),
    })
}

fn veth_model(name: &str, peer: &str, ns: &TestNs, addrs: &[&str]) -> Interface {
    Interface {
        name: name.into(),
        r#type: Type::Veth as i32,
        namespace: ns_ref(ns),
        enabled: true,
        ip_addresses: addrs.iter().map(|a| (*a).to_owned()).collect(),
        link: Some(IfLink::Veth(VethLink {
            peer_if_name: peer.into(),
            ..Default::default()
        })),
        ..Default::default()
    }
}

fn scheduler() -> Scheduler {
    scheduler_with(&LinuxPlugin::new(Netlink::default(), unique("lbl")))
}

/// A scheduler with the plugin registered and nothing committed yet (an agent just started).
fn fresh_scheduler(p: &LinuxPlugin) -> Scheduler {
    let config = SchedulerConfig {
        print_txn_summary: false,
        ..SchedulerConfig::default()
    };
    let mut s = Scheduler::new(config, Arc::new(SystemClock));
    assert!(
        p.register(&mut s, &LinuxIfPluginConfig::default())
            .expect("register")
    );
    s
}

fn scheduler_with(p: &LinuxPlugin) -> Scheduler {
    let config = SchedulerConfig {
        print_txn_summary: false,
        ..SchedulerConfig::default()
    };
    let mut s = Scheduler::new(config, Arc::new(SystemClock));
    assert!(
        p.register(&mut s, &LinuxIfPluginConfig::default())
            .expect("register")
    );
    let report = s
        .commit(Txn::downstream_resync())
        .expect("learn namespaces");
    assert!(report.is_ok());
    s
}

fn apply(s: &mut Scheduler, values: &[&(Key, Value)]) {
    let txn = values
        .iter()
        .fold(Txn::nb(), |t, (k, v)| t.put(k.clone(), v.clone()));
    let report = s.commit(txn).expect("commit");
    assert!(report.is_ok(), "{:?}\n{:#?}", report.failed, report.brief());
}

#[test]
fn disabling_an_interface_withdraws_its_routes_and_changes_apply_in_place() {
    let (a, b) = (TestNs::new("upa"), TestNs::new("upb"));
    let mut s = scheduler();
    let mut left_model = veth_model("left", "right", &a, &["10.83.0.1/24"]);
    let left = kv(left_model.clone());
    let right = kv(veth_model("right", "left", &b, &["10.83.0.2/24"]));
    let rt = kv(Route {
        outgoing_interface: "left".into(),
        dst_network: "10.84.0.0/24".into(),
        gw_addr: "10.83.0.2".into(),
        ..Default::default()
    });
    apply(&mut s, &[&rt, &right, &left]);
    let index_before = a
        .ip(&["-o", "link", "show", "dev", "left"])
        .expect("ip link");

    left_model.enabled = false;
    left_model.mtu = 1300;
    left_model.ip_addresses = vec!["10.83.0.3/24".into()];
    let left_down = kv(left_model.clone());
    apply(&mut s, &[&left_down]);
    assert_eq!(s.value_status(&rt.0).state, ValueState::Pending);
    assert!(
        a.ip(&["route", "show", "10.84.0.0/24"])
            .expect("ip")
            .trim()
            .is_empty()
    );
    let shown = a
        .ip(&["-o", "link", "show", "dev", "left"])
        .expect("ip link");
    assert!(
        shown.contains("mtu 1300") && !shown.contains(",UP"),
        "{shown}"
    );
    let same_link = |l: &str| l.split(':').next().map(str::to_owned);
    assert_eq!(
        same_link(&shown),
        same_link(&index_before),
        "updated, not re-created"
    );
    let shown = a
        .ip(&["-o", "addr", "show", "dev", "left"])
        .expect("ip addr");
    assert!(
        shown.contains("10.83.0.3/24") && !shown.contains("10.83.0.1/24"),
        "{shown}"
    );

    left_model.enabled = true;
    apply(&mut s, &[&kv(left_model)]);
    assert_eq!(s.value_status(&rt.0).state, ValueState::Configured);
    let shown = a.ip(&["route", "show", "10.84.0.0/24"]).expect("ip route");
    assert!(shown.contains("via 10.83.0.2"), "{shown}");
}

#[test]
fn an_existing_interface_is_configured_but_never_deleted() {
    let a = TestNs::new("exi");
    a.ip(&[
        "link", "add", "ext0", "type", "veth", "peer", "name", "ext1",
    ])
    .expect("veth by hand");
    let mut s = scheduler();
    let ext = kv(Interface {
        name: "ext".into(),
        r#type: Type::Existing as i32,
        namespace: ns_ref(&a),
        host_if_name: "ext0".into(),
        enabled: true,
        mtu: 1450,
        ip_addresses: vec!["10.85.0.1/24".into()],
        ..Default::default()
    });
    apply(&mut s, &[&ext]);
    assert_eq!(s.value_status(&ext.0).state, ValueState::Configured);
    let shown = a
        .ip(&["-o", "link", "show", "dev", "ext0"])
        .expect("ip link");
    assert!(
        shown.contains("mtu 1450") && shown.contains(",UP"),
        "{shown}"
    );
    let shown = a
        .ip(&["-o", "addr", "show", "dev", "ext0"])
        .expect("ip addr");
    assert!(shown.contains("10.85.0.1/24"), "{shown}");

    let report = s.commit(Txn::downstream_resync()).expect("resync");
    assert!(report.brief().is_empty(), "{:#?}", report.brief());

    assert!(
        s.commit(Txn::nb().delete(ext.0.clone()))
            .expect("commit")
            .is_ok()
    );
    assert!(a.links().contains(&"ext0".to_owned()), "left in place");
    let shown = a
        .ip(&["-o", "addr", "show", "dev", "ext0"])
        .expect("ip addr");
    assert!(
        !shown.contains("10.85.0.1/24"),
        "its address is removed: {shown}"
    );

    // An EXISTING interface that is not there fails (retriably) and says where it looked.
    let missing = kv(Interface {
        name: "ghost".into(),
        r#type: Type::Existing as i32,
        namespace: ns_ref(&a),
        ..Default::default()
    });
    let report = s
        .commit(Txn::nb().put(missing.0.clone(), missing.1))
        .expect("commit");
    assert_eq!(report.failed.len(), 1);
    assert!(report.failed[0].retriable);
    let err = &report.failed[0].error;
    assert!(err.contains("ghost") && err.contains(&a.name), "{err}");
}

/// As in Ligato, a veth exists only while both ends are configured: one end alone waits
/// (PENDING on `veth-peer-exists`), the second creates the pair, and deleting either end
/// deletes the pair while the other end goes back to PENDING.
#[test]
fn a_veth_end_waits_for_its_peer_and_deleting_one_end_removes_the_pair() {
    let (a, b) = (TestNs::new("fst"), TestNs::new("snd"));
    let mut s = scheduler();
    let first = kv(veth_model("aaa", "zzz", &a, &["10.86.0.1/24"]));
    let second = kv(veth_model("zzz", "aaa", &b, &["10.86.0.2/24"]));
    apply(&mut s, &[&first]);
    let st = s.value_status(&first.0);
    assert_eq!(st.state, ValueState::Pending);
    assert_eq!(st.details, ["veth-peer-exists"]);
    assert_eq!(a.links(), vec!["lo".to_owned()]);

    apply(&mut s, &[&second]);
    assert_eq!(s.value_status(&first.0).state, ValueState::Configured);
    assert_eq!(s.value_status(&second.0).state, ValueState::Configured);
    assert!(a.links().contains(&"aaa".to_owned()), "{:?}", a.links());
    assert!(b.links().contains(&"zzz".to_owned()), "{:?}", b.links());
    assert!(
        !a.links().contains(&parked_name("zzz")) && !b.links().contains(&parked_name("zzz")),
        "nothing left parked"
    );

    let report = s.commit(Txn::nb().delete(first.0.clone())).expect("commit");
    assert!(report.is_ok(), "{:?}", report.failed);
    assert_eq!(s.value_status(&second.0).state, ValueState::Pending);
    assert_eq!(a.links(), vec!["lo".to_owned()]);
    assert_eq!(b.links(), vec!["lo".to_owned()]);

    // Back again, this time from the other end.
    apply(&mut s, &[&first]);
    assert!(
        eventually(Duration::from_secs(10), || a.ping("10.86.0.2")),
        "traffic across the re-created pair"
    );
}

#[test]
fn an_existing_interface_in_the_default_namespace_waits_for_its_link() {
    let (host, peer) = (unique("hx"), unique("hy"));
    let _guard = LinkGuard(host.clone());
    let p = LinuxPlugin::new(Netlink::default(), unique("lbl"));
    let mut s = scheduler_with(&p);
    let (_watcher, mut events) = p.watch(Duration::from_millis(50)).expect("watcher");
    let ext = kv(Interface {
        name: "host-ext".into(),
        r#type: Type::Existing as i32,
        host_if_name: host.clone(),
        enabled: true,
        mtu: 1420,
        ..Default::default()
    });
    apply(&mut s, &[&ext]);
    let st = s.value_status(&ext.0);
    assert_eq!(st.state, ValueState::Pending);
    assert_eq!(st.details, vec!["host-interface-exists".to_owned()]);

    ip(&["link", "add", &host, "type", "veth", "peer", "name", &peer]).expect("link by hand");
    let key = host_name_key(&host);
    let seen = eventually(Duration::from_secs(10), || {
        std::iter::from_fn(|| events.try_recv().ok()).any(|e| e.key == key && e.present)
    });
    assert!(seen, "the watcher did not report {key}");
    let report = s.commit(Txn::downstream_resync()).expect("resync");
    assert!(report.is_ok(), "{:?}", report.failed);
    assert_eq!(s.value_status(&ext.0).state, ValueState::Configured);
    let shown = ip(&["-o", "link", "show", "dev", &host]).expect("ip link");
    assert!(
        shown.contains("mtu 1420") && shown.contains(",UP"),
        "{shown}"
    );

    assert!(
        s.commit(Txn::nb().delete(ext.0.clone()))
            .expect("commit")
            .is_ok()
    );
    assert!(
        common::default_has_link(&host),
        "an EXISTING link is never deleted"
    );
}

#[test]
fn a_restarted_agent_adopts_what_it_made_and_removes_what_is_no_longer_wanted() {
    let (a, b) = (TestNs::new("rsta"), TestNs::new("rstb"));
    let label = unique("lbl");
    let left = kv(veth_model("left", "right", &a, &["10.87.0.1/24"]));
    let right = kv(veth_model("right", "left", &b, &["10.87.0.2/24"]));
    let rt = kv(Route {
        outgoing_interface: "left".into(),
        dst_network: "10.88.0.0/24".into(),
        gw_addr: "10.87.0.2".into(),
        metric: 5,
        ..Default::default()
    });
    {
        let mut first_run = scheduler_with(&LinuxPlugin::new(Netlink::default(), label.clone()));
        apply(&mut first_run, &[&left, &right, &rt]);
    }
    let before = a
        .ip(&["-o", "link", "show", "dev", "left"])
        .expect("ip link");

    // A new agent with the same label and the same config: nothing to do.
    // (A downstream resync first would remove everything: NB has not spoken yet.)
    let mut s = fresh_scheduler(&LinuxPlugin::new(Netlink::default(), label.clone()));
    let all = [left.clone(), right.clone(), rt.clone()];
    let report = s
        .commit(Txn::full_resync(all.iter().cloned()))
        .expect("resync");
    assert!(report.is_ok(), "{:?}", report.failed);
    assert!(report.brief().is_empty(), "{:#?}", report.brief());
    for (k, _) in &all {
        assert_eq!(s.value_status(k).state, ValueState::Configured, "{k}");
    }
    let after = a
        .ip(&["-o", "link", "show", "dev", "left"])
        .expect("ip link");
    assert_eq!(before, after, "the interface was adopted, not re-created");

    // Another agent (another label) does not claim them.
    let mut other = fresh_scheduler(&LinuxPlugin::new(Netlink::default(), unique("lbl")));
    assert!(
        other
            .commit(Txn::full_resync(Vec::new()))
            .expect("resync")
            .is_ok()
    );
    assert!(a.links().contains(&"left".to_owned()));

    // The same agent restarted with an empty config removes what it made.
    let mut s = fresh_scheduler(&LinuxPlugin::new(Netlink::default(), label));
    assert!(
        s.commit(Txn::full_resync(Vec::new()))
            .expect("resync")
            .is_ok()
    );
    assert_eq!(a.links(), vec!["lo".to_owned()]);
    assert_eq!(b.links(), vec!["lo".to_owned()]);
}
