//! The netlink layer against the real kernel (run as root): a veth pair between two
//! namespaces the test creates, with MAC, MTU, addresses, a route and a neighbour, checked
//! with the layer's own dumps and with `ip`, and traffic across; namespace errors; a
//! namespace re-created under the same name.
//!
//! It does not use the scheduler (see `descriptors.rs`).

mod common;

use std::time::Duration;

use common::{TestNs, eventually, unique};
use linux::{IpNet, LinkChange, LinuxError, NeighbourSpec, Netlink, NsRef, RouteSpec, Scope};

fn named(ns: &TestNs) -> NsRef {
    NsRef::Named(ns.name.clone())
}

fn net(s: &str) -> IpNet {
    s.parse().expect("test address")
}

#[test]
fn veth_pair_between_namespaces_with_addresses_route_neighbour_and_ping() {
    let (a, b) = (TestNs::new("nla"), TestNs::new("nlb"));
    let (na, nb) = (named(&a), named(&b));
    let nl = Netlink::default();
    let (va, vb) = (unique("va"), unique("vb"));

    nl.create_veth(&na, &va, &vb, &nb).expect("create veth");
    let mac_a = [0x02, 0, 0, 0, 0x0a, 0x01];
    nl.set_link(
        &na,
        &va,
        LinkChange {
            mac: Some(mac_a),
            mtu: Some(1400),
            up: Some(true),
            alias: Some("test-alias".into()),
            ..LinkChange::default()
        },
    )
    .expect("configure a");
    let vb_renamed = unique("vbr");
    nl.set_link(
        &nb,
        &vb,
        LinkChange {
            name: Some(vb_renamed.clone()),
            up: Some(true),
            ..LinkChange::default()
        },
    )
    .expect("rename and enable b");
    nl.add_address(&na, &va, net("10.61.0.1/24"))
        .expect("address a");
    nl.add_address(&nb, &vb_renamed, net("10.61.0.2/24"))
        .expect("address b");
    nl.add_address(&nb, &vb_renamed, net("10.62.0.1/24"))
        .expect("second address b");
    nl.add_address(&na, &va, net("fd61::1/64"))
        .expect("ipv6 address a");

    let link = nl.link(&na, &va).expect("dump").expect("va exists");
    assert_eq!(link.mtu, 1400);
    assert_eq!(link.mac, Some(mac_a));
    assert!(link.up);
    assert_eq!(link.alias.as_deref(), Some("test-alias"));
    assert_eq!(link.kind, linux::LinkKind::Veth);
    assert!(nl.link(&na, &vb).expect("dump").is_none(), "peer went to b");
    assert!(b.links().contains(&vb_renamed), "ip sees {:?}", b.links());
    let addrs = nl.addresses(&na).expect("dump addresses");
    assert!(
        addrs
            .iter()
            .any(|x| x.index == link.index && x.net == net("10.61.0.1/24"))
    );
    assert!(
        addrs
            .iter()
            .any(|x| x.index == link.index && x.net == net("fd61::1/64"))
    );

    nl.add_route(
        &na,
        RouteSpec {
            dst: net("10.62.0.0/24"),
            gateway: Some("10.61.0.2".parse().expect("ip")),
            interface: va.clone(),
            metric: 7,
            scope: Scope::Universe,
        },
    )
    .expect("route");
    let mac_b = nl
        .link(&nb, &vb_renamed)
        .expect("dump")
        .and_then(|l| l.mac)
        .expect("mac b");
    nl.add_neighbour(
        &na,
        NeighbourSpec {
            interface: va.clone(),
            ip: "10.61.0.2".parse().expect("ip"),
            mac: mac_b,
        },
    )
    .expect("neighbour");

    let routes = nl.routes(&na).expect("dump routes");
    let r = routes
        .iter()
        .find(|r| r.dst == net("10.62.0.0/24"))
        .expect("route in dump");
    assert_eq!(r.gateway, Some("10.61.0.2".parse().expect("ip")));
    assert_eq!((r.metric, r.oif), (7, Some(link.index)));
    let shown = a.ip(&["route", "show", "10.62.0.0/24"]).expect("ip route");
    assert!(
        shown.contains("via 10.61.0.2") && shown.contains("metric 7"),
        "{shown}"
    );
    let neigh = nl.neighbours(&na).expect("dump neighbours");
    assert!(
        neigh
            .iter()
            .any(|n| n.ip.to_string() == "10.61.0.2" && n.permanent)
    );
    let shown = a.ip(&["neigh", "show", "10.61.0.2"]).expect("ip neigh");
    assert!(shown.contains("PERMANENT"), "{shown}");

    // Traffic: directly and through the route's gateway.
    assert!(eventually(Duration::from_secs(10), || a.ping("10.61.0.2")));
    assert!(a.ping("10.62.0.1"));

    let spec = RouteSpec {
        dst: net("10.62.0.0/24"),
        gateway: Some("10.61.0.2".parse().expect("ip")),
        interface: va.clone(),
        metric: 7,
        scope: Scope::Universe,
    };
    assert!(nl.del_route(&na, spec.clone()).expect("delete route"));
    assert!(
        !nl.del_route(&na, spec)
            .expect("second delete finds nothing")
    );
    assert!(
        a.ip(&["route", "show", "10.62.0.0/24"])
            .expect("ip")
            .trim()
            .is_empty()
    );
    assert!(
        nl.del_neighbour(&na, &va, "10.61.0.2".parse().expect("ip"))
            .expect("delete neighbour")
    );
    assert!(
        nl.del_address(&na, &va, net("10.61.0.1/24"))
            .expect("delete address")
    );
    assert!(
        !nl.del_address(&na, &va, net("10.61.0.1/24"))
            .expect("already gone")
    );

    nl.delete_link(&na, &va).expect("delete veth");
    assert_eq!(a.links(), vec!["lo".to_owned()]);
    assert_eq!(b.links(), vec!["lo".to_owned()], "the peer goes with it");
}

#[test]
fn move_link_keeps_it_whole() {
    let (a, b) = (TestNs::new("mva"), TestNs::new("mvb"));
    let nl = Netlink::default();
    let (x, y) = (unique("mx"), unique("my"));
    nl.create_veth(&named(&a), &x, &y, &named(&a))
        .expect("veth in a");
    nl.move_link(&named(&a), &y, &named(&b))
        .expect("move y to b");
    assert!(b.links().contains(&y));
    assert!(!a.links().contains(&y));
    let err = nl
        .move_link(&named(&a), &y, &named(&b))
        .expect_err("y is no longer in a");
    assert!(matches!(err, LinuxError::LinkNotFound { .. }), "{err}");
    assert!(err.is_gone());
}

#[test]
fn a_missing_namespace_is_retriable_and_named() {
    let nl = Netlink::default();
    let ghost = TestNs::reserve("gh");
    let err = nl.links(&named(&ghost)).expect_err("no such namespace");
    assert!(matches!(err, LinuxError::NamespaceNotFound { .. }));
    assert!(err.is_retriable());
    assert!(err.to_string().contains(&ghost.name), "{err}");
    let err = nl
        .links(&NsRef::Path("/etc/hostname".into()))
        .expect_err("not a namespace");
    assert!(matches!(err, LinuxError::NamespaceNotFound { .. }));
}

#[test]
fn a_namespace_recreated_under_the_same_name_gets_a_fresh_worker() {
    let a = TestNs::new("rc");
    let nl = Netlink::default();
    let (x, y) = (unique("rx"), unique("ry"));
    nl.create_veth(&named(&a), &x, &y, &named(&a))
        .expect("veth");
    common::ip(&["netns", "del", &a.name]).expect("delete namespace");
    a.create();
    // The old worker still sits in the deleted namespace; the layer must not use it.
    assert!(nl.link(&named(&a), &x).expect("dump").is_none());
    nl.create_veth(&named(&a), &x, &y, &named(&a))
        .expect("veth again");
    assert!(a.links().contains(&x), "ip sees {:?}", a.links());
}

#[test]
fn the_default_namespace_is_the_agents_own() {
    let nl = Netlink::default();
    let links = nl.links(&NsRef::Default).expect("dump");
    assert!(
        links
            .iter()
            .any(|l| l.name == "lo" && l.kind == linux::LinkKind::Loopback)
    );
}

/// A process kept in a namespace, killed on drop.
struct InNamespace(std::process::Child);

impl Drop for InNamespace {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn pid_file_and_microservice_references_reach_the_same_namespace() {
    use std::os::unix::fs::MetadataExt;
    let a = TestNs::new("ref");
    let child = std::process::Command::new("ip")
        .args(["netns", "exec", &a.name, "sleep", "60"])
        .spawn()
        .expect("process in the namespace");
    let pid = child.id();
    let _child = InNamespace(child);
    let ns_file = format!("/var/run/netns/{}", a.name);
    let entered = eventually(Duration::from_secs(5), || {
        let inode = |p: &str| std::fs::metadata(p).map(|m| m.ino()).ok();
        inode(&format!("/proc/{pid}/ns/net")).is_some()
            && inode(&format!("/proc/{pid}/ns/net")) == inode(&ns_file)
    });
    assert!(entered, "the process did not enter {}", a.name);

    let nl = Netlink::default();
    let (x, y) = (unique("px"), unique("py"));
    nl.create_veth(
        &NsRef::Pid(pid),
        &x,
        &y,
        &NsRef::Path(ns_file.clone().into()),
    )
    .expect("veth by pid and by file");
    assert!(
        a.links().contains(&x) && a.links().contains(&y),
        "{:?}",
        a.links()
    );
    let by_label = nl
        .links(&NsRef::Microservice(a.name.clone()))
        .expect("a microservice label resolves as a named namespace");
    assert!(by_label.iter().any(|l| l.name == x));
}

#[test]
fn an_idle_worker_stops_pinning_a_deleted_namespace() {
    let (a, b) = (TestNs::new("ida"), TestNs::new("idb"));
    let nl = Netlink::new(linux::NetlinkConfig {
        idle: Duration::from_millis(100),
        ..linux::NetlinkConfig::default()
    });
    let (x, y) = (unique("ix"), unique("iy"));
    nl.create_veth(&named(&a), &x, &y, &named(&b))
        .expect("veth across");
    assert!(nl.link(&named(&a), &x).expect("dump").is_some());
    // The worker that just answered is still inside `a`; deleting the name does not end
    // the namespace while a thread is in it. Once the worker goes idle, the kernel tears the
    // namespace down, and the veth (with its end in `b`) with it.
    common::ip(&["netns", "del", &a.name]).expect("delete namespace");
    assert!(
        eventually(Duration::from_secs(10), || b.links() == ["lo"]),
        "the veth end in b outlived its namespace: {:?}",
        b.links()
    );
}

#[test]
fn ipv6_routes_with_the_default_metric_are_found_and_deleted() {
    let a = TestNs::new("v6");
    let nl = Netlink::default();
    let (x, y) = (unique("6x"), unique("6y"));
    let na = named(&a);
    nl.create_veth(&na, &x, &y, &na).expect("veth");
    for l in [&x, &y] {
        let up = LinkChange {
            up: Some(true),
            ..LinkChange::default()
        };
        nl.set_link(&na, l, up).expect("up");
    }
    nl.add_address(&na, &x, net("fd63::1/64")).expect("address");
    let spec = RouteSpec {
        dst: net("fd64::/64"),
        gateway: Some("fd63::2".parse().expect("ip")),
        interface: x.clone(),
        metric: 0,
        scope: Scope::Universe,
    };
    nl.add_route(&na, spec.clone()).expect("ipv6 route");
    let found = nl.routes(&na).expect("dump");
    let r = found
        .iter()
        .find(|r| r.dst == net("fd64::/64"))
        .expect("in dump");
    assert_eq!(r.metric, 1024, "the kernel's default IPv6 metric");
    assert!(nl.del_route(&na, spec).expect("delete"));
    assert!(
        a.ip(&["-6", "route", "show", "fd64::/64"])
            .expect("ip")
            .trim()
            .is_empty()
    );
}
