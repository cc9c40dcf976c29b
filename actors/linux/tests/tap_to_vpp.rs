//! TAP_TO_VPP, the Linux half: a kernel TAP created by a stand-in for the VPP interface
//! descriptor (what VPP's `tap_create_v2` would leave in the default namespace) is moved into
//! a namespace, renamed, and given its MAC, MTU, addresses, admin state, a route and an ARP
//! entry; removing the Linux value hands the TAP back to the default namespace under VPP's
//! name, and removing the VPP value deletes it.
//!
//! The real VPP side (vpp-sim and the VPP descriptors) is another crate's; this test only
//! checks that the Linux descriptor depends on the VPP interface key and finishes the job.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{LinkGuard, TestNs, default_has_link, eventually, ip, unique};
use config::LinuxIfPluginConfig;
use kvscheduler::{
    Descriptor, KvError, Metadata, MetadataView, Scheduler, SchedulerConfig, SystemClock, Txn,
    ValueState,
};
use linux::{LinuxPlugin, Netlink, VppTapNames};
use messages::proto::ligato::linux::namespace::{NetNamespace, net_namespace::ReferenceType};
use messages::proto::linux_interfaces::interface::{Link as IfLink, Type};
use messages::proto::linux_interfaces::{Interface, TapLink};
use messages::proto::linux_l3::{ArpEntry, Route};
use messages::proto::vpp_interfaces;
use messages::value::downcast;
use messages::{Key, Value};

/// Stands in for `vpp-interface`: creating a VPP TAP makes the kernel TAP VPP would make.
#[derive(Debug)]
struct KernelTapForVpp;

fn tap_host(value: &Value) -> Result<String, KvError> {
    let v = downcast::<vpp_interfaces::Interface>(&**value)
        .ok_or_else(|| KvError::fatal("not a vpp interface"))?;
    match &v.link {
        Some(vpp_interfaces::interface::Link::Tap(t)) => Ok(t.host_if_name.clone()),
        _ => Err(KvError::fatal("not a tap")),
    }
}

impl Descriptor for KernelTapForVpp {
    fn name(&self) -> &str {
        "vpp-interface"
    }

    fn key_selector(&self, key: &Key) -> bool {
        key.as_str().starts_with("config/vpp/v2/interfaces/")
    }

    fn create(
        &self,
        _md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        let host = tap_host(value)?;
        ip(&["tuntap", "add", "dev", &host, "mode", "tap"]).map_err(KvError::fatal)?;
        Ok(None)
    }

    fn delete(
        &self,
        _md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        let host = tap_host(value)?;
        ip(&["link", "del", "dev", &host]).map_err(KvError::fatal)?;
        Ok(())
    }
}

fn kv<T: messages::value::ProtoValue>(v: T) -> (Key, Value) {
    let key = messages::registry::builtin().key_of(&v).expect("model key");
    (key, Arc::new(v))
}

#[test]
fn tap_to_vpp_moves_renames_and_configures_the_tap_and_hands_it_back() {
    let a = TestNs::new("tap");
    let vpp_host = unique("vtap");
    let linux_host = unique("ltap");
    let _guards = (LinkGuard(vpp_host.clone()), LinkGuard(linux_host.clone()));

    let names = vpp_host.clone();
    let resolver: Arc<dyn VppTapNames> =
        Arc::new(move |_: &MetadataView<'_>, vpp: &str| (vpp == "tap1").then(|| names.clone()));
    let p = LinuxPlugin::new(Netlink::default(), unique("lbl")).with_vpp_tap_names(resolver);
    let mut s = Scheduler::new(
        SchedulerConfig {
            print_txn_summary: false,
            ..SchedulerConfig::default()
        },
        Arc::new(SystemClock),
    );
    s.register(Arc::new(KernelTapForVpp))
        .expect("register vpp stand-in");
    assert!(
        p.register(&mut s, &LinuxIfPluginConfig::default())
            .expect("register")
    );
    s.commit(Txn::downstream_resync())
        .expect("learn namespaces");

    let mac = "02:00:00:00:81:01";
    let linux_tap = kv(Interface {
        name: "linux-tap1".into(),
        r#type: Type::TapToVpp as i32,
        namespace: Some(NetNamespace {
            r#type: ReferenceType::Nsid as i32,
            reference: a.name.clone(),
        }),
        host_if_name: linux_host.clone(),
        enabled: true,
        ip_addresses: vec!["10.81.0.1/24".into()],
        phys_address: mac.into(),
        mtu: 1400,
        link: Some(IfLink::Tap(TapLink {
            vpp_tap_if_name: "tap1".into(),
        })),
        ..Default::default()
    });
    let rt = kv(Route {
        outgoing_interface: "linux-tap1".into(),
        dst_network: "10.82.0.0/24".into(),
        gw_addr: "10.81.0.254".into(),
        ..Default::default()
    });
    let nb = kv(ArpEntry {
        interface: "linux-tap1".into(),
        ip_address: "10.81.0.254".into(),
        hw_address: "02:00:00:00:81:fe".into(),
    });
    let vpp_tap = kv(vpp_interfaces::Interface {
        name: "tap1".into(),
        r#type: vpp_interfaces::interface::Type::Tap as i32,
        enabled: true,
        link: Some(vpp_interfaces::interface::Link::Tap(
            vpp_interfaces::TapLink {
                version: 2,
                host_if_name: vpp_host.clone(),
                ..Default::default()
            },
        )),
        ..Default::default()
    });

    // The Linux side first: it waits for the VPP TAP.
    let linux_side = [nb.clone(), rt.clone(), linux_tap.clone()];
    let txn = linux_side
        .iter()
        .fold(Txn::nb(), |t, (k, v)| t.put(k.clone(), v.clone()));
    let report = s.commit(txn).expect("commit");
    assert!(report.is_ok(), "{:?}", report.failed);
    assert_eq!(s.value_status(&linux_tap.0).state, ValueState::Pending);
    assert_eq!(
        s.value_status(&linux_tap.0).details,
        vec!["vpp-tap-interface-exists".to_owned()]
    );

    let report = s
        .commit(Txn::nb().put(vpp_tap.0.clone(), vpp_tap.1.clone()))
        .expect("commit");
    assert!(report.is_ok(), "{:?}\n{:#?}", report.failed, report.brief());
    for (k, _) in &linux_side {
        assert_eq!(s.value_status(k).state, ValueState::Configured, "{k}");
    }
    assert!(
        !default_has_link(&vpp_host),
        "the TAP left the default namespace"
    );
    let shown = a
        .ip(&["-o", "link", "show", "dev", &linux_host])
        .expect("tap in the namespace");
    assert!(shown.contains("mtu 1400") && shown.contains(mac), "{shown}");
    assert!(shown.contains(",UP"), "admin up: {shown}");
    let shown = a
        .ip(&["-o", "addr", "show", "dev", &linux_host])
        .expect("ip addr");
    assert!(shown.contains("10.81.0.1/24"), "{shown}");
    let shown = a.ip(&["route", "show", "10.82.0.0/24"]).expect("ip route");
    assert!(shown.contains("via 10.81.0.254"), "{shown}");
    let shown = a.ip(&["neigh", "show", "10.81.0.254"]).expect("ip neigh");
    assert!(shown.contains("PERMANENT"), "{shown}");

    // A resync finds it as configured.
    let report = s.commit(Txn::downstream_resync()).expect("resync");
    assert!(report.brief().is_empty(), "{:#?}", report.brief());

    // Removing the Linux side hands the TAP back to VPP as VPP made it.
    let txn = linux_side
        .iter()
        .fold(Txn::nb(), |t, (k, _)| t.delete(k.clone()));
    assert!(s.commit(txn).expect("commit").is_ok());
    assert!(
        default_has_link(&vpp_host),
        "the TAP is back under VPP's name"
    );
    assert_eq!(a.links(), vec!["lo".to_owned()]);
    let shown = ip(&["-o", "link", "show", "dev", &vpp_host]).expect("ip link");
    assert!(!shown.contains(",UP"), "handed back down: {shown}");

    assert!(
        s.commit(Txn::nb().delete(vpp_tap.0.clone()))
            .expect("commit")
            .is_ok()
    );
    assert!(eventually(Duration::from_secs(5), || !default_has_link(
        &vpp_host
    )));
    assert!(!default_has_link(&linux_host));
}

#[test]
fn without_a_vpp_name_lookup_the_tap_is_found_under_the_linux_host_name() {
    let a = TestNs::new("tpf");
    let host = unique("ftap");
    let _guard = LinkGuard(host.clone());
    let p = LinuxPlugin::new(Netlink::default(), unique("lbl"));
    let mut s = Scheduler::new(
        SchedulerConfig {
            print_txn_summary: false,
            ..SchedulerConfig::default()
        },
        Arc::new(SystemClock),
    );
    s.register(Arc::new(KernelTapForVpp))
        .expect("register vpp stand-in");
    assert!(
        p.register(&mut s, &LinuxIfPluginConfig::default())
            .expect("register")
    );
    s.commit(Txn::downstream_resync())
        .expect("learn namespaces");

    let vpp_tap = kv(vpp_interfaces::Interface {
        name: "tap2".into(),
        r#type: vpp_interfaces::interface::Type::Tap as i32,
        link: Some(vpp_interfaces::interface::Link::Tap(
            vpp_interfaces::TapLink {
                version: 2,
                host_if_name: host.clone(),
                ..Default::default()
            },
        )),
        ..Default::default()
    });
    let linux_tap = kv(Interface {
        name: "linux-tap2".into(),
        r#type: Type::TapToVpp as i32,
        namespace: Some(NetNamespace {
            r#type: ReferenceType::Nsid as i32,
            reference: a.name.clone(),
        }),
        host_if_name: host.clone(),
        enabled: true,
        link: Some(IfLink::Tap(TapLink {
            vpp_tap_if_name: "tap2".into(),
        })),
        ..Default::default()
    });
    let txn = Txn::nb()
        .put(linux_tap.0.clone(), linux_tap.1.clone())
        .put(vpp_tap.0.clone(), vpp_tap.1.clone());
    let report = s.commit(txn).expect("commit");
    assert!(report.is_ok(), "{:?}", report.failed);
    assert_eq!(s.value_status(&linux_tap.0).state, ValueState::Configured);
    assert!(a.links().contains(&host), "{:?}", a.links());
    assert!(!default_has_link(&host));

    let txn = Txn::nb()
        .delete(linux_tap.0.clone())
        .delete(vpp_tap.0.clone());
    assert!(s.commit(txn).expect("commit").is_ok());
    assert_eq!(a.links(), vec!["lo".to_owned()]);
    assert!(!default_has_link(&host));
}
