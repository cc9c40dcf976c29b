//! Shared helpers of this crate's integration tests: the in-process simulator double
//! ([`sim_api::SimApi`]), a scheduler with every VPP descriptor registered, model value
//! builders, and a VPP state snapshot that names objects by their tags, so two runs that
//! created things in different orders (different indices, bd ids) compare equal.
//!
//! Test-only code; it deliberately asserts nothing itself.

#![allow(dead_code)]

pub mod scenarios;
pub mod sim_api;

use std::sync::Arc;

use kvscheduler::{ManualClock, Scheduler, SchedulerConfig, Txn, ValueState};
use messages::proto::vpp_interfaces::interface::{Link, Type};
use messages::proto::vpp_interfaces::{Interface, MemifLink, TapLink};
use messages::proto::vpp_l2::{BridgeDomain, FibEntry, XConnectPair, bridge_domain, fib_entry};
use messages::proto::vpp_l3::{ArpEntry, Route, VrfTable, vrf_table};
use messages::{Key, Value};
use vpp::ApiHandle;
use vpp_sim::state::{IfKind, L2Mode, RouteSource, Vpp};

pub use sim_api::SimApi;

/// A simulator double of `version` and a scheduler with all VPP descriptors on it.
pub fn setup(version: &str) -> (Arc<SimApi>, ApiHandle, Scheduler) {
    let sim = Arc::new(SimApi::new(Vpp::new(version)));
    let handle = ApiHandle::new(sim.clone());
    let sched = scheduler(&handle);
    (sim, handle, sched)
}

/// A fresh scheduler (an agent restart) over `handle`.
pub fn scheduler(handle: &ApiHandle) -> Scheduler {
    let config = SchedulerConfig {
        print_txn_summary: false,
        ..SchedulerConfig::default()
    };
    let mut s = Scheduler::new(config, Arc::new(ManualClock::new(1_700_000_000)));
    vpp::descriptors::register_all(&mut s, handle).expect("register");
    s
}

pub fn value<T: messages::ProtoValue>(v: T) -> Value {
    Arc::new(v)
}

/// The key Ligato builds for a model value.
pub fn key(v: &Value) -> Key {
    messages::registry::builtin()
        .key_of(&**v)
        .expect("model key")
}

/// Commits one NB transaction putting `values`, returning the brief op list.
pub fn put(s: &mut Scheduler, values: &[Value]) -> Vec<String> {
    let mut txn = Txn::nb();
    for v in values {
        txn = txn.put(key(v), v.clone());
    }
    s.commit(txn).expect("commit").brief()
}

/// Commits one NB transaction deleting `keys`.
pub fn delete(s: &mut Scheduler, keys: &[Key]) -> Vec<String> {
    let mut txn = Txn::nb();
    for k in keys {
        txn = txn.delete(k.clone());
    }
    s.commit(txn).expect("commit").brief()
}

pub fn state(s: &Scheduler, k: &str) -> ValueState {
    s.value_status(&Key::from(k)).state
}

pub fn loopback(name: &str, addrs: &[&str], vrf: u32) -> Value {
    value(Interface {
        name: name.into(),
        r#type: Type::SoftwareLoopback as i32,
        enabled: true,
        ip_addresses: addrs.iter().map(|a| (*a).to_owned()).collect(),
        vrf,
        ..Default::default()
    })
}

pub fn tap(name: &str) -> Value {
    value(Interface {
        name: name.into(),
        r#type: Type::Tap as i32,
        enabled: true,
        link: Some(Link::Tap(TapLink {
            version: 2,
            ..Default::default()
        })),
        ..Default::default()
    })
}

pub fn memif(name: &str, id: u32, socket: &str) -> Value {
    value(Interface {
        name: name.into(),
        r#type: Type::Memif as i32,
        enabled: true,
        link: Some(Link::Memif(MemifLink {
            id,
            master: true,
            socket_filename: socket.into(),
            ..Default::default()
        })),
        ..Default::default()
    })
}

pub fn bd(name: &str, members: &[(&str, bool)]) -> Value {
    value(BridgeDomain {
        name: name.into(),
        flood: true,
        unknown_unicast_flood: true,
        forward: true,
        learn: true,
        interfaces: members
            .iter()
            .map(|(n, bvi)| bridge_domain::Interface {
                name: (*n).into(),
                bridged_virtual_interface: *bvi,
                split_horizon_group: 0,
            })
            .collect(),
        ..Default::default()
    })
}

pub fn fib(bd: &str, mac: &str, iface: &str) -> Value {
    value(FibEntry {
        phys_address: mac.into(),
        bridge_domain: bd.into(),
        outgoing_interface: iface.into(),
        action: fib_entry::Action::Forward as i32,
        static_config: true,
        ..Default::default()
    })
}

pub fn xconnect(rx: &str, tx: &str) -> Value {
    value(XConnectPair {
        receive_interface: rx.into(),
        transmit_interface: tx.into(),
    })
}

pub fn vrf(id: u32, v6: bool) -> Value {
    value(VrfTable {
        id,
        protocol: if v6 {
            vrf_table::Protocol::Ipv6 as i32
        } else {
            vrf_table::Protocol::Ipv4 as i32
        },
        ..Default::default()
    })
}

pub fn route(vrf_id: u32, dst: &str, gw: &str, iface: &str) -> Value {
    value(Route {
        vrf_id,
        dst_network: dst.into(),
        next_hop_addr: gw.into(),
        outgoing_interface: iface.into(),
        ..Default::default()
    })
}

pub fn arp(iface: &str, ip: &str, mac: &str) -> Value {
    value(ArpEntry {
        interface: iface.into(),
        ip_address: ip.into(),
        phys_address: mac.into(),
        r#static: true,
    })
}

/// VPP's state with objects named by tag (indices, bd ids and internal names left out), one
/// line per object, sorted.
pub fn snapshot(vpp: &Vpp) -> Vec<String> {
    let name = |idx: u32| -> String {
        vpp.interface(idx)
            .map(|i| {
                if i.tag.is_empty() {
                    i.name.clone()
                } else {
                    i.tag.clone()
                }
            })
            .unwrap_or_else(|| format!("stale{idx}"))
    };
    let bd_name = |bd_id: u32| -> String {
        vpp.bridge_domain(bd_id)
            .map(|b| b.tag.clone())
            .unwrap_or_else(|| format!("bd{bd_id}"))
    };
    let mut out = Vec::new();
    for i in vpp.interfaces() {
        let kind = match &i.kind {
            IfKind::Local => "local".to_owned(),
            IfKind::Loopback { .. } => "loopback".to_owned(),
            IfKind::Tap { .. } => "tap".to_owned(),
            IfKind::Memif { id, master, .. } => format!("memif id={id} master={master}"),
            IfKind::AfPacket { host_if_name } => format!("afpacket {host_if_name}"),
            IfKind::Vxlan { src, dst, vni, .. } => format!("vxlan {src}->{dst} vni={vni}"),
            other => format!("{other:?}"),
        };
        let mut addrs: Vec<String> = i
            .addresses
            .iter()
            .map(|(a, l)| format!("{a}/{l}"))
            .collect();
        addrs.sort();
        let l2 = match i.l2 {
            L2Mode::L3 => "l3".to_owned(),
            L2Mode::Bridge { bd_id, bvi, shg } => {
                format!("bd={} bvi={bvi} shg={shg}", bd_name(bd_id))
            }
            L2Mode::Xconnect { tx } => format!("xc={}", name(tx)),
        };
        out.push(format!(
            "iface {} {kind} up={} mtu={} addrs={addrs:?} table={:?} {l2}",
            name(i.sw_if_index),
            i.admin_up,
            i.mtu[0],
            i.table
        ));
    }
    for b in vpp.bridge_domains() {
        let mut members: Vec<String> = b
            .members
            .iter()
            .map(|(m, shg)| format!("{}:{shg}", name(*m)))
            .collect();
        members.sort();
        out.push(format!(
            "bd {} flood={} uu={} fwd={} learn={} arp={} age={} members={members:?} bvi={:?}",
            b.tag,
            b.flood,
            b.uu_flood,
            b.forward,
            b.learn,
            b.arp_term,
            b.mac_age,
            b.bvi.map(name)
        ));
    }
    for (bd_id, mac, e) in vpp.l2fib_entries(u32::MAX) {
        // A BVI's own entry carries the loopback's MAC, which depends on creation order.
        let mac = if e.bvi_mac {
            "<bvi-mac>".to_owned()
        } else {
            mac.to_string()
        };
        out.push(format!(
            "fib {} {mac} {} static={} filter={} bvi={}",
            bd_name(bd_id),
            name(e.sw_if_index),
            e.static_mac,
            e.filter_mac,
            e.bvi_mac
        ));
    }
    for (rx, tx) in vpp.xconnects() {
        out.push(format!("xc {} -> {}", name(rx), name(tx)));
    }
    let tables: Vec<(bool, u32, String)> = vpp
        .tables()
        .map(|(v6, id, n)| (v6, id, n.to_owned()))
        .collect();
    for (v6, id, n) in &tables {
        out.push(format!("table v6={v6} {id} {n}"));
        for r in vpp.fib_entries(*id, *v6) {
            if r.source != RouteSource::Api {
                continue;
            }
            let mut paths: Vec<String> = r
                .paths
                .iter()
                .map(|p| {
                    let via = if p.sw_if_index == u32::MAX {
                        "~0".to_owned()
                    } else {
                        name(p.sw_if_index)
                    };
                    format!(
                        "{via} nh={:?} t={} w={} type={}",
                        p.next_hop, p.table_id, p.weight, p.path_type
                    )
                })
                .collect();
            paths.sort();
            out.push(format!(
                "route {id} {}/{} {paths:?}",
                r.prefix.addr, r.prefix.len
            ));
        }
    }
    for v6 in [false, true] {
        for n in vpp.neighbors(u32::MAX, v6) {
            out.push(format!(
                "neigh {} {} {} flags={}",
                name(n.sw_if_index),
                n.ip,
                n.mac,
                n.flags
            ));
        }
    }
    out.sort();
    out
}
