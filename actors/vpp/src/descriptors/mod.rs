//! The kvscheduler descriptors for VPP objects, one per file, with Ligato's names, keys,
//! dependencies and derived values (ligato.md §3.6), and what they share: key builders and
//! parsers, metadata types other descriptors read, and the interface-name resolution retrieve
//! needs.
//!
//! | descriptor | keys |
//! |---|---|
//! | `vpp-interface` | `config/vpp/v2/interfaces/<name>` |
//! | `vpp-interface-address` | `vpp/interface/<if>/address/<source>/<addr>` (derived) |
//! | `vpp-interface-vrf` | `vpp/interface/<if>/vrf/<vrf>/ip-version/<v4,v6,both>` (derived) |
//! | `vpp-bridge-domain` | `config/vpp/l2/v2/bridge-domain/<name>` |
//! | `vpp-bd-interface` | `vpp/bd/<bd>/interface/<if>` (derived) |
//! | `vpp-l2-fib` | `config/vpp/l2/v2/fib/<bd>/mac/<mac>` |
//! | `vpp-xconnect` | `config/vpp/l2/v2/xconnect/<rx>` |
//! | `vpp-vrf-table` | `config/vpp/v2/vrf-table/id/<id>/protocol/<IPV4,IPV6>` |
//! | `vpp-route` | `config/vpp/v2/route/...` |
//! | `vpp-arp` | `config/vpp/v2/arp/<if>/<ip>` |
//!
//! Descriptors call VPP only through [`crate::VppApi`] (via [`ApiHandle`]); they never see a
//! binapi type. Retrieve reads VPP's dumps and names interfaces by their VPP tag, so it works
//! right after an agent restart, when the scheduler has no metadata yet.

pub mod arp;
pub mod bd_interface;
pub mod bridge_domain;
pub mod interface;
pub mod interface_address;
mod interface_retrieve;
pub mod interface_vrf;
pub mod l2_fib;
pub mod route;
pub mod vrf_table;
pub mod xconnect;

use std::collections::HashMap;
use std::sync::Arc;

use kvscheduler::{Descriptor, KvError, MetadataView, Scheduler};
use messages::Key;

use crate::api::{ApiHandle, InterfaceDetails};
use crate::error::{Result, VppError};

pub use bridge_domain::BdMeta;
pub use interface::InterfaceMeta;

/// Key prefixes of the NB models.
pub const INTERFACE_PREFIX: &str = "config/vpp/v2/interfaces/";
pub const BD_PREFIX: &str = "config/vpp/l2/v2/bridge-domain/";
pub const FIB_PREFIX: &str = "config/vpp/l2/v2/fib/";
pub const XCONNECT_PREFIX: &str = "config/vpp/l2/v2/xconnect/";
pub const VRF_TABLE_PREFIX: &str = "config/vpp/v2/vrf-table/";
pub const ROUTE_PREFIX: &str = "config/vpp/v2/route/";
pub const ARP_PREFIX: &str = "config/vpp/v2/arp/";

/// Descriptor names, as Ligato calls them.
pub const INTERFACE: &str = "vpp-interface";
pub const INTERFACE_ADDRESS: &str = "vpp-interface-address";
pub const INTERFACE_VRF: &str = "vpp-interface-vrf";
pub const BRIDGE_DOMAIN: &str = "vpp-bridge-domain";
pub const BD_INTERFACE: &str = "vpp-bd-interface";
pub const L2_FIB: &str = "vpp-l2-fib";
pub const XCONNECT: &str = "vpp-xconnect";
pub const VRF_TABLE: &str = "vpp-vrf-table";
pub const ROUTE: &str = "vpp-route";
pub const ARP: &str = "vpp-arp";

/// Name prefix of interfaces found in VPP without a tag (they are not the agent's).
pub const UNTAGGED_PREFIX: &str = "UNTAGGED-";

/// `config/vpp/v2/interfaces/<name>`.
pub fn interface_key(name: &str) -> Key {
    Key::from(format!("{INTERFACE_PREFIX}{name}"))
}

/// `config/vpp/l2/v2/bridge-domain/<name>`.
pub fn bd_key(name: &str) -> Key {
    Key::from(format!("{BD_PREFIX}{name}"))
}

/// `config/vpp/v2/vrf-table/id/<id>/protocol/<IPV4|IPV6>`.
pub fn vrf_table_key(id: u32, ipv6: bool) -> Key {
    let p = if ipv6 { "IPV6" } else { "IPV4" };
    Key::from(format!("{VRF_TABLE_PREFIX}id/{id}/protocol/{p}"))
}

/// The metadata of interface `name` (its sw_if_index and VPP's internal name), as the
/// `vpp-interface` descriptor stored it.
pub fn interface_meta<'a>(md: &MetadataView<'a>, name: &str) -> Option<&'a InterfaceMeta> {
    md.get_as::<InterfaceMeta>(INTERFACE, &interface_key(name))
}

/// The sw_if_index of interface `name`, or a retriable not-found error.
pub(crate) fn sw_if_index(md: &MetadataView<'_>, name: &str) -> Result<u32> {
    interface_meta(md, name)
        .map(|m| m.sw_if_index)
        .ok_or_else(|| VppError::not_found("interface", name))
}

/// The bd_id of bridge domain `name`, or a retriable not-found error.
pub(crate) fn bd_id(md: &MetadataView<'_>, name: &str) -> Result<u32> {
    md.get_as::<BdMeta>(BRIDGE_DOMAIN, &bd_key(name))
        .map(|m| m.bd_id)
        .ok_or_else(|| VppError::not_found("bridge domain", name))
}

/// The logical name retrieve gives an interface: its tag, `local0` for index 0, else
/// `UNTAGGED-<internal name>`.
pub fn logical_name(d: &InterfaceDetails) -> String {
    if !d.tag.is_empty() {
        d.tag.clone()
    } else if d.sw_if_index == 0 {
        d.internal_name.clone()
    } else {
        format!("{UNTAGGED_PREFIX}{}", d.internal_name)
    }
}

/// sw_if_index -> logical name of every interface VPP has.
pub(crate) fn interface_names(api: &ApiHandle) -> Result<HashMap<u32, String>> {
    Ok(api
        .get()
        .dump_interfaces()?
        .iter()
        .map(|d| (d.sw_if_index, logical_name(d)))
        .collect())
}

/// A key from `correlate` that names the same object as `key` modulo spelling (MAC case,
/// address text), so a retrieved value lands on the key NB uses.
pub(crate) fn respell(
    key: Key,
    correlate: &[(Key, messages::Value)],
    same: impl Fn(&str, &str) -> bool,
) -> Key {
    correlate
        .iter()
        .find(|(k, _)| k != &key && same(k.as_str(), key.as_str()))
        .map(|(k, _)| k.clone())
        .unwrap_or(key)
}

/// Downcasts a value to the model a descriptor handles.
pub(crate) fn model<'a, T: messages::ProtoValue>(
    value: &'a messages::Value,
    what: &str,
) -> std::result::Result<&'a T, KvError> {
    messages::value::downcast::<T>(&**value)
        .ok_or_else(|| KvError::invalid(format!("value is not a {what}"), &[]))
}

/// Every descriptor of this crate, in registration order.
pub fn all(api: &ApiHandle) -> Vec<Arc<dyn Descriptor>> {
    vec![
        Arc::new(interface::InterfaceDescriptor::new(api.clone())),
        Arc::new(interface_address::InterfaceAddressDescriptor::new(
            api.clone(),
        )),
        Arc::new(interface_vrf::InterfaceVrfDescriptor::new(api.clone())),
        Arc::new(bridge_domain::BridgeDomainDescriptor::new(api.clone())),
        Arc::new(bd_interface::BdInterfaceDescriptor::new(api.clone())),
        Arc::new(l2_fib::L2FibDescriptor::new(api.clone())),
        Arc::new(xconnect::XConnectDescriptor::new(api.clone())),
        Arc::new(vrf_table::VrfTableDescriptor::new(api.clone())),
        Arc::new(route::RouteDescriptor::new(api.clone())),
        Arc::new(arp::ArpDescriptor::new(api.clone())),
    ]
}

/// Registers every descriptor of this crate on `scheduler`.
pub fn register_all(
    scheduler: &mut Scheduler,
    api: &ApiHandle,
) -> std::result::Result<(), KvError> {
    for d in all(api) {
        scheduler.register(d)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_built_as_ligato_builds_them() {
        assert_eq!(
            interface_key("tap1").as_str(),
            "config/vpp/v2/interfaces/tap1"
        );
        assert_eq!(bd_key("bd1").as_str(), "config/vpp/l2/v2/bridge-domain/bd1");
        assert_eq!(
            vrf_table_key(1, true).as_str(),
            "config/vpp/v2/vrf-table/id/1/protocol/IPV6"
        );
    }

    #[test]
    fn logical_names_prefer_the_tag() {
        let mut d = InterfaceDetails {
            sw_if_index: 3,
            internal_name: "tap0".into(),
            tag: "tap1".into(),
            ..Default::default()
        };
        assert_eq!(logical_name(&d), "tap1");
        d.tag.clear();
        assert_eq!(logical_name(&d), "UNTAGGED-tap0");
        d.sw_if_index = 0;
        d.internal_name = "local0".into();
        assert_eq!(logical_name(&d), "local0");
    }
}
