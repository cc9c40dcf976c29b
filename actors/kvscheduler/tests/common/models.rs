//! Realistic test descriptors over the fake dataplane, with the dependencies and derived
//! values of Ligato's VPP descriptors (reference §3.6): interfaces (sub-interface parent,
//! derived addresses and VRF assignment), VRF tables, bridge domains with derived
//! bridge-domain interfaces, and L2 FIB entries.
//!
//! They do not program anything real; they also parse YAML/JSON values for the golden tests.

use std::sync::Arc;

use kvscheduler::{Dependency, KvError, Scheduler};
use messages::proto::Empty;
use messages::proto::vpp_interfaces::{Interface, interface::Link};
use messages::proto::vpp_l2::{BridgeDomain, FibEntry, bridge_domain, fib_entry};
use messages::proto::vpp_l3::VrfTable;
use messages::value::{downcast, value};
use messages::{Key, Value};
use prost_reflect::DynamicMessage;

use super::{FakeDp, TestDescriptor};

pub const IF_PREFIX: &str = "config/vpp/v2/interfaces/";
pub const VRF_PREFIX: &str = "config/vpp/v2/vrf-table/id/";
pub const BD_PREFIX: &str = "config/vpp/l2/v2/bridge-domain/";
pub const FIB_PREFIX: &str = "config/vpp/l2/v2/fib/";

fn segment(key: &Key, idx: usize) -> String {
    key.as_str()
        .split('/')
        .nth(idx)
        .unwrap_or_default()
        .to_owned()
}

fn interface(dp: &FakeDp) -> TestDescriptor {
    let mut d = TestDescriptor::new("vpp-interface", IF_PREFIX, dp);
    d.validate = Box::new(|_, v| match downcast::<Interface>(&**v) {
        Some(i) if i.mtu > 9216 => Err(KvError::invalid("mtu above 9216", &["mtu"])),
        Some(i) if i.name.is_empty() => Err(KvError::invalid("missing name", &["name"])),
        Some(_) => Ok(()),
        None => Err(KvError::invalid("not an interface", &[])),
    });
    d.deps = Box::new(
        |_, v| match downcast::<Interface>(&**v).and_then(|i| i.link.as_ref()) {
            Some(Link::Sub(sub)) => vec![Dependency::on_key(
                "parent-interface-exists",
                format!("{IF_PREFIX}{}", sub.parent_name),
            )],
            _ => Vec::new(),
        },
    );
    d.derived = Box::new(|_, v| {
        let Some(i) = downcast::<Interface>(&**v) else {
            return Vec::new();
        };
        let mut out: Vec<(Key, Value)> = i
            .ip_addresses
            .iter()
            .map(|a| {
                let k = format!("vpp/interface/{}/address/static/{a}", i.name);
                (Key::from(k), value(Empty {}))
            })
            .collect();
        if !i.ip_addresses.is_empty() {
            let k = format!("vpp/interface/{}/vrf/{}/ip-version/v4", i.name, i.vrf);
            out.push((Key::from(k), value(Empty {})));
        }
        out
    });
    d.recreate = Box::new(|old, new| {
        let (Some(o), Some(n)) = (downcast::<Interface>(&**old), downcast::<Interface>(&**new))
        else {
            return true;
        };
        o.r#type != n.r#type || o.link != n.link
    });
    d
}

fn interface_address(dp: &FakeDp) -> TestDescriptor {
    let mut d = TestDescriptor::new("vpp-interface-address", "vpp/interface/", dp);
    d.nb_prefix = None;
    d.select = Box::new(|k| k.has_prefix("vpp/interface/") && k.as_str().contains("/address/"));
    d.deps = Box::new(|k, _| {
        vec![Dependency::any_of_prefix(
            "interface-assigned-to-vrf-table",
            format!("vpp/interface/{}/vrf/", segment(k, 2)),
        )]
    });
    d
}

fn interface_vrf(dp: &FakeDp) -> TestDescriptor {
    let mut d = TestDescriptor::new("vpp-interface-vrf", "vpp/interface/", dp);
    d.nb_prefix = None;
    d.select = Box::new(|k| k.has_prefix("vpp/interface/") && k.as_str().contains("/vrf/"));
    d.deps = Box::new(|k, _| {
        let vrf = segment(k, 4);
        if vrf == "0" {
            return Vec::new();
        }
        vec![Dependency::on_key(
            "vrf-table-v4-exists",
            format!("{VRF_PREFIX}{vrf}/protocol/IPV4"),
        )]
    });
    d
}

fn vrf_table(dp: &FakeDp) -> TestDescriptor {
    TestDescriptor::new("vpp-vrf-table", VRF_PREFIX, dp)
}

fn bridge_domain(dp: &FakeDp) -> TestDescriptor {
    let mut d = TestDescriptor::new("vpp-bridge-domain", BD_PREFIX, dp);
    d.derived = Box::new(|_, v| {
        let Some(bd) = downcast::<BridgeDomain>(&**v) else {
            return Vec::new();
        };
        bd.interfaces
            .iter()
            .map(|i| {
                let k = format!("vpp/bd/{}/interface/{}", bd.name, i.name);
                (Key::from(k), value(i.clone()))
            })
            .collect()
    });
    d
}

fn bd_interface(dp: &FakeDp) -> TestDescriptor {
    let mut d = TestDescriptor::new("vpp-bd-interface", "vpp/bd/", dp);
    d.nb_prefix = None;
    d.deps = Box::new(|k, _| {
        vec![Dependency::on_key(
            "interface-exists",
            format!("{IF_PREFIX}{}", segment(k, 4)),
        )]
    });
    d
}

fn fib(dp: &FakeDp) -> TestDescriptor {
    let mut d = TestDescriptor::new("vpp-l2-fib", FIB_PREFIX, dp);
    d.deps = Box::new(|_, v| {
        let Some(f) = downcast::<FibEntry>(&**v) else {
            return Vec::new();
        };
        if f.action == fib_entry::Action::Drop as i32 {
            return vec![Dependency::on_key(
                "bridge-domain",
                format!("{BD_PREFIX}{}", f.bridge_domain),
            )];
        }
        vec![Dependency::on_key(
            "bridged-interface",
            format!(
                "vpp/bd/{}/interface/{}",
                f.bridge_domain, f.outgoing_interface
            ),
        )]
    });
    d
}

/// Registers all model descriptors over `dp`.
pub fn register_all(s: &mut Scheduler, dp: &FakeDp) -> Result<(), KvError> {
    s.register(Arc::new(interface(dp)))?;
    s.register(Arc::new(interface_address(dp)))?;
    s.register(Arc::new(interface_vrf(dp)))?;
    s.register(Arc::new(vrf_table(dp)))?;
    s.register(Arc::new(bridge_domain(dp)))?;
    s.register(Arc::new(bd_interface(dp)))?;
    s.register(Arc::new(fib(dp)))?;
    Ok(())
}

fn transcode<T: prost::Message + Default>(m: &DynamicMessage) -> Result<T, String> {
    m.transcode_to::<T>().map_err(|e| e.to_string())
}

/// Parses a JSON value of the model stored under `key`.
pub fn parse_value(key: &str, json: serde_json::Value) -> Result<Value, String> {
    let name = if key.starts_with(IF_PREFIX) {
        "ligato.vpp.interfaces.Interface"
    } else if key.starts_with(VRF_PREFIX) {
        "ligato.vpp.l3.VrfTable"
    } else if key.starts_with(BD_PREFIX) {
        "ligato.vpp.l2.BridgeDomain"
    } else if key.starts_with(FIB_PREFIX) {
        "ligato.vpp.l2.FIBEntry"
    } else if key.starts_with("vpp/bd/") {
        "ligato.vpp.l2.BridgeDomain.Interface"
    } else {
        "google.protobuf.Empty"
    };
    if name == "google.protobuf.Empty" {
        return Ok(value(Empty {}));
    }
    let desc = messages::proto::descriptor_pool()
        .get_message_by_name(name)
        .ok_or_else(|| format!("no message {name}"))?;
    let msg = DynamicMessage::deserialize(desc, json).map_err(|e| format!("{key}: {e}"))?;
    Ok(match name {
        "ligato.vpp.interfaces.Interface" => value(transcode::<Interface>(&msg)?),
        "ligato.vpp.l3.VrfTable" => value(transcode::<VrfTable>(&msg)?),
        "ligato.vpp.l2.BridgeDomain" => value(transcode::<BridgeDomain>(&msg)?),
        "ligato.vpp.l2.FIBEntry" => value(transcode::<FibEntry>(&msg)?),
        _ => value(transcode::<bridge_domain::Interface>(&msg)?),
    })
}
