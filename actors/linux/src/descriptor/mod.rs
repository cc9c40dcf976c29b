//! The scheduler descriptors of the Linux plugin, one object kind per file, and the key
//! helpers they share (Ligato's key templates for Linux values).
//!
//! | descriptor | keys |
//! |---|---|
//! | `linux-namespace` | `linux/namespace/<TYPE>/<ref>`, `linux/microservice/<label>` (OBTAINED) |
//! | `linux-interface-watcher` | `linux/interface/host-name/<host-name>` (default namespace, OBTAINED) |
//! | `linux-interface` | `config/linux/interfaces/v2/interface/<name>` |
//! | `linux-interface-address` | `linux/interface/<if>/address/<source>/<addr>` (derived) |
//! | `linux-route` | `config/linux/l3/v2/route/<dst>/<len>/<if>` |
//! | `linux-arp` | `config/linux/l3/v2/arp/<if>/<ip>` |
//!
//! `linux/interface/state/<if>/<UP|DOWN>` is a derived property with no descriptor: it
//! exists while its interface does, and routes and ARP entries depend on the UP form.

pub mod address;
pub mod arp;
pub mod host_interface;
pub mod interface;
pub mod namespace;
pub mod route;

use std::collections::BTreeMap;

use messages::Key;

use crate::error::LinuxError;
use crate::netlink::types::Link;
use crate::ns::NsRef;

/// NB prefix of Linux interfaces.
pub const INTERFACE_PREFIX: &str = "config/linux/interfaces/v2/interface/";
/// NB prefix of Linux routes.
pub const ROUTE_PREFIX: &str = "config/linux/l3/v2/route/";
/// NB prefix of Linux ARP entries.
pub const ARP_PREFIX: &str = "config/linux/l3/v2/arp/";
/// Prefix of the links of the default namespace, by kernel name.
pub const HOST_NAME_PREFIX: &str = "linux/interface/host-name/";
/// NB prefix of VPP interfaces (TAP_TO_VPP depends on one).
pub const VPP_INTERFACE_PREFIX: &str = "config/vpp/v2/interfaces/";

pub const INTERFACE_DESCRIPTOR: &str = "linux-interface";
pub const ADDRESS_DESCRIPTOR: &str = "linux-interface-address";
pub const ROUTE_DESCRIPTOR: &str = "linux-route";
pub const ARP_DESCRIPTOR: &str = "linux-arp";
pub const NAMESPACE_DESCRIPTOR: &str = "linux-namespace";
pub const HOST_INTERFACE_DESCRIPTOR: &str = "linux-interface-watcher";
/// Every descriptor of the plugin: the scope of the resync that answers a host event.
pub const ALL: [&str; 6] = [
    NAMESPACE_DESCRIPTOR,
    HOST_INTERFACE_DESCRIPTOR,
    INTERFACE_DESCRIPTOR,
    ADDRESS_DESCRIPTOR,
    ROUTE_DESCRIPTOR,
    ARP_DESCRIPTOR,
];

/// `config/linux/interfaces/v2/interface/<name>`
pub fn interface_key(name: &str) -> Key {
    Key::new(format!("{INTERFACE_PREFIX}{name}"))
}

/// `linux/interface/state/<name>/<UP|DOWN>`
pub fn interface_state_key(name: &str, up: bool) -> Key {
    let state = if up { "UP" } else { "DOWN" };
    Key::new(format!("linux/interface/state/{name}/{state}"))
}

/// `linux/interface/<name>/address/` (the prefix of the interface's address keys)
pub fn interface_address_prefix(name: &str) -> String {
    format!("linux/interface/{name}/address/")
}

/// `linux/interface/<name>/address/static/<addr>` (the address as configured)
pub fn interface_address_key(name: &str, addr: &str) -> Key {
    Key::new(format!("{}static/{addr}", interface_address_prefix(name)))
}

/// Splits an address key into (interface, source, address).
pub fn parse_address_key(key: &str) -> Option<(&str, &str, &str)> {
    let rest = key.strip_prefix("linux/interface/")?;
    let (name, rest) = rest.split_once("/address/")?;
    let (source, addr) = rest.split_once('/')?;
    (!name.is_empty() && !addr.is_empty()).then_some((name, source, addr))
}

/// `linux/interface/host-name/<host-name>`
pub fn host_name_key(host: &str) -> Key {
    Key::new(format!("{HOST_NAME_PREFIX}{host}"))
}

/// `config/vpp/v2/interfaces/<name>`
pub fn vpp_interface_key(name: &str) -> Key {
    Key::new(format!("{VPP_INTERFACE_PREFIX}{name}"))
}

/// The links of a namespace and one other table of it.
pub(crate) type Dump<T> = (Vec<Link>, Vec<T>);

/// Per-namespace dumps read once per retrieve, `None` when the namespace is gone.
pub(crate) struct NsDumps<T>(BTreeMap<NsRef, Option<Dump<T>>>);

impl<T> NsDumps<T> {
    pub fn new() -> Self {
        NsDumps(BTreeMap::new())
    }

    /// The dump of `ns` (read with `read` the first time), `None` when it does not exist.
    pub fn get(
        &mut self,
        ns: &NsRef,
        read: impl FnOnce(&NsRef) -> Result<Dump<T>, LinuxError>,
    ) -> Result<Option<&Dump<T>>, LinuxError> {
        if !self.0.contains_key(ns) {
            let dump = match read(ns) {
                Ok(d) => Some(d),
                Err(LinuxError::NamespaceNotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            self.0.insert(ns.clone(), dump);
        }
        Ok(self.0.get(ns).and_then(Option::as_ref))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_as_ligato_builds_them() {
        assert_eq!(
            interface_key("veth1").as_str(),
            "config/linux/interfaces/v2/interface/veth1"
        );
        assert_eq!(
            interface_state_key("veth1", true).as_str(),
            "linux/interface/state/veth1/UP"
        );
        assert_eq!(
            interface_address_key("veth1", "10.0.0.1/24").as_str(),
            "linux/interface/veth1/address/static/10.0.0.1/24"
        );
        assert_eq!(
            parse_address_key("linux/interface/veth1/address/static/10.0.0.1/24"),
            Some(("veth1", "static", "10.0.0.1/24"))
        );
        assert_eq!(parse_address_key("linux/interface/state/veth1/UP"), None);
    }
}
