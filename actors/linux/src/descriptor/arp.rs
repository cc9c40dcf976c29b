//! `linux-arp`: permanent ARP (or NDP) entries (`config/linux/l3/v2/arp/<if>/<ip>`) on a
//! Linux interface, in the interface's namespace.
//!
//! Dependencies (Ligato's labels): `interface-is-up` -> `linux/interface/state/<if>/UP` and
//! `interface-has-ip-address` -> any key under `linux/interface/<if>/address/`. Retrieve
//! reports the desired entries that are present and the other permanent entries on
//! interfaces the agent created; entries the kernel learnt, and entries on interfaces the
//! agent did not create, are left alone.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use kvscheduler::{Dependency, Descriptor, KvError, Metadata, MetadataView, Origin, Retrieved};
use messages::proto::linux_l3::ArpEntry;
use messages::value::downcast;
use messages::{Key, Value};

use super::{ARP_DESCRIPTOR, ARP_PREFIX, NsDumps, interface_address_prefix, interface_state_key};
use crate::error::LinuxError;
use crate::index::{IfIndex, IfKind};
use crate::netlink::Netlink;
use crate::netlink::types::{Neighbour, NeighbourSpec, format_mac, parse_mac};
use crate::ns::NsRef;

/// The `linux-arp` descriptor.
pub struct ArpDescriptor {
    pub(crate) nl: Netlink,
    pub(crate) index: IfIndex,
}

impl fmt::Debug for ArpDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArpDescriptor").finish_non_exhaustive()
    }
}

fn parse(value: &Value) -> Result<(&ArpEntry, IpAddr, [u8; 6]), KvError> {
    let a = downcast::<ArpEntry>(&**value).ok_or_else(|| {
        KvError::invalid(
            format!(
                "expected ligato.linux.l3.ARPEntry, got {}",
                value.type_name()
            ),
            &[],
        )
    })?;
    let item = || format!("arp {} on {}", a.ip_address, a.interface);
    if a.interface.is_empty() {
        return Err(
            LinuxError::invalid(item(), "interface", "", "the interface is missing").into(),
        );
    }
    let ip: IpAddr = a.ip_address.parse().map_err(|_| {
        LinuxError::invalid(item(), "ip_address", &a.ip_address, "not an IP address")
    })?;
    let mac = parse_mac(&a.hw_address).ok_or_else(|| {
        LinuxError::invalid(item(), "hw_address", &a.hw_address, "not a MAC address")
    })?;
    Ok((a, ip, mac))
}

impl ArpDescriptor {
    pub fn new(nl: Netlink, index: IfIndex) -> Self {
        ArpDescriptor { nl, index }
    }
}

impl Descriptor for ArpDescriptor {
    fn name(&self) -> &str {
        ARP_DESCRIPTOR
    }

    fn key_selector(&self, key: &Key) -> bool {
        key.as_str().starts_with(ARP_PREFIX)
    }

    fn nb_key_prefix(&self) -> Option<&str> {
        Some(ARP_PREFIX)
    }

    fn validate(&self, _key: &Key, value: &Value) -> Result<(), KvError> {
        parse(value).map(|_| ())
    }

    fn equivalent(&self, _key: &Key, old: &Value, new: &Value) -> bool {
        match (parse(old), parse(new)) {
            (Ok(a), Ok(b)) => a.0.interface == b.0.interface && a.1 == b.1 && a.2 == b.2,
            _ => old.eq_value(&**new),
        }
    }

    fn dependencies(&self, _key: &Key, value: &Value) -> Vec<Dependency> {
        let Ok((a, _, _)) = parse(value) else {
            return Vec::new();
        };
        vec![
            Dependency::on_key("interface-is-up", interface_state_key(&a.interface, true)),
            Dependency::any_of_prefix(
                "interface-has-ip-address",
                interface_address_prefix(&a.interface),
            ),
        ]
    }

    fn can_update(&self) -> bool {
        true
    }

    fn create(
        &self,
        _md: &MetadataView<'_>,
        key: &Key,
        value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        let (a, ip, mac) = parse(value)?;
        tracing::debug!(key = %key, "Adding a Linux ARP entry.");
        let meta = self
            .index
            .get(&a.interface)
            .ok_or_else(|| LinuxError::UnknownInterface {
                name: a.interface.clone(),
            })?;
        self.nl.add_neighbour(
            &meta.ns,
            NeighbourSpec {
                interface: meta.host_name.clone(),
                ip,
                mac,
            },
        )?;
        Ok(None)
    }

    fn update(
        &self,
        md: &MetadataView<'_>,
        key: &Key,
        _old: &Value,
        new: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<Option<Metadata>, KvError> {
        // The key fixes interface and IP, so only the MAC changes: a replace does it.
        self.create(md, key, new)
    }

    fn delete(
        &self,
        _md: &MetadataView<'_>,
        key: &Key,
        value: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        let (a, ip, _) = parse(value)?;
        tracing::debug!(key = %key, "Deleting a Linux ARP entry.");
        let Some(meta) = self.index.get(&a.interface) else {
            return Ok(());
        };
        match self.nl.del_neighbour(&meta.ns, &meta.host_name, ip) {
            Err(e) if !e.is_gone() => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// The desired entries that are present, plus every other permanent entry on an
    /// interface the agent created (an unwanted one is then removed). Entries the kernel
    /// learnt are never permanent, so they are never reported.
    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        let wanted: HashMap<(&str, IpAddr), (&Key, &ArpEntry)> = correlate
            .iter()
            .filter_map(|(k, v)| {
                let (a, ip, _) = parse(v).ok()?;
                Some(((a.interface.as_str(), ip), (k, a)))
            })
            .collect();
        let mut dumps: NsDumps<Neighbour> = NsDumps::new();
        let mut out = Vec::new();
        for meta in self.index.all() {
            let read = |ns: &NsRef| Ok((self.nl.links(ns)?, self.nl.neighbours(ns)?));
            let Some((links, neigh)) = dumps.get(&meta.ns, read)? else {
                continue;
            };
            let Some(link) = links.iter().find(|l| l.name == meta.host_name) else {
                continue;
            };
            let owned = meta.kind != IfKind::Existing;
            for n in neigh
                .iter()
                .filter(|n| n.index == link.index && n.permanent)
            {
                let hw = n.mac.as_ref().map(format_mac).unwrap_or_default();
                let (key, seen) = match wanted.get(&(meta.name.as_str(), n.ip)) {
                    Some((key, a)) => (
                        (*key).clone(),
                        ArpEntry {
                            interface: a.interface.clone(),
                            ip_address: a.ip_address.clone(),
                            hw_address: hw,
                        },
                    ),
                    None if owned => {
                        let seen = ArpEntry {
                            interface: meta.name.clone(),
                            ip_address: n.ip.to_string(),
                            hw_address: hw,
                        };
                        let Ok(key) = messages::registry::builtin().key_of(&seen) else {
                            continue;
                        };
                        (key, seen)
                    }
                    None => continue,
                };
                out.push(Retrieved {
                    key,
                    value: Arc::new(seen),
                    metadata: None,
                    origin: Origin::FromNb,
                });
            }
        }
        Ok(Some(out))
    }
}
