//! `linux-interface-address`: the derived values `linux/interface/<if>/address/<source>/<addr>`
//! of Linux interfaces, applied with netlink on the interface in its namespace. The value is
//! `google.protobuf.Empty`: the key says everything.
//!
//! It finds the interface through the plugin's interface index and does not create, move
//! or configure interfaces. On interfaces the agent created it owns every address (a resync
//! removes those nobody asked for, as Ligato does); on EXISTING interfaces it only knows the
//! addresses it was asked for and leaves the others alone.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use kvscheduler::{Descriptor, KvError, Metadata, MetadataView, Origin, Retrieved};
use messages::proto::Empty;
use messages::{Key, Value};

use super::interface::spec::is_link_local;
use super::{ADDRESS_DESCRIPTOR, NsDumps, interface_address_key, parse_address_key};
use crate::error::LinuxError;
use crate::index::{IfIndex, IfKind};
use crate::netlink::Netlink;
use crate::netlink::types::{Address, IpNet};
use crate::ns::NsRef;

/// The `linux-interface-address` descriptor.
pub struct AddressDescriptor {
    pub(crate) nl: Netlink,
    pub(crate) index: IfIndex,
}

impl fmt::Debug for AddressDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AddressDescriptor").finish_non_exhaustive()
    }
}

fn parse(key: &Key) -> Result<(&str, IpNet), KvError> {
    let (ifname, _, addr) = parse_address_key(key.as_str())
        .ok_or_else(|| KvError::invalid(format!("{key} is not an address key"), &[]))?;
    let net = addr.parse::<IpNet>().map_err(|e| {
        KvError::from(LinuxError::invalid(
            ifname,
            "ip_addresses",
            addr,
            e.to_string(),
        ))
    })?;
    Ok((ifname, net))
}

impl AddressDescriptor {
    pub fn new(nl: Netlink, index: IfIndex) -> Self {
        AddressDescriptor { nl, index }
    }
}

impl Descriptor for AddressDescriptor {
    fn name(&self) -> &str {
        ADDRESS_DESCRIPTOR
    }

    fn key_selector(&self, key: &Key) -> bool {
        parse_address_key(key.as_str()).is_some()
    }

    fn validate(&self, key: &Key, _value: &Value) -> Result<(), KvError> {
        parse(key).map(|_| ())
    }

    fn create(
        &self,
        _md: &MetadataView<'_>,
        key: &Key,
        _value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        let (ifname, net) = parse(key)?;
        tracing::debug!(key = %key, "Adding a Linux interface address.");
        let meta = self
            .index
            .get(ifname)
            .ok_or_else(|| LinuxError::UnknownInterface {
                name: ifname.to_owned(),
            })?;
        match self.nl.add_address(&meta.ns, &meta.host_name, net) {
            Err(e) if !e.is_exists() => Err(e.into()),
            _ => Ok(None),
        }
    }

    fn delete(
        &self,
        _md: &MetadataView<'_>,
        key: &Key,
        _value: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        let (ifname, net) = parse(key)?;
        tracing::debug!(key = %key, "Deleting a Linux interface address.");
        let Some(meta) = self.index.get(ifname) else {
            return Ok(());
        };
        match self.nl.del_address(&meta.ns, &meta.host_name, net) {
            Err(e) if !e.is_gone() => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// Every address of the interfaces the agent created (an unwanted one is then removed),
    /// and the desired addresses of EXISTING interfaces (their other addresses are not the
    /// agent's). Runs after the interface descriptor's retrieve has refreshed the index.
    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        let wanted: HashMap<(&str, IpNet), &(Key, Value)> = correlate
            .iter()
            .filter_map(|kv| parse(&kv.0).ok().map(|(i, n)| ((i, n), kv)))
            .collect();
        let empty: Value = Arc::new(Empty {});
        let mut dumps: NsDumps<Address> = NsDumps::new();
        let mut out = Vec::new();
        for meta in self.index.all() {
            let read = |ns: &NsRef| Ok((self.nl.links(ns)?, self.nl.addresses(ns)?));
            let Some((links, addrs)) = dumps.get(&meta.ns, read)? else {
                continue;
            };
            let Some(link) = links.iter().find(|l| l.name == meta.host_name) else {
                continue;
            };
            let owned = meta.kind != IfKind::Existing;
            let on_link = addrs
                .iter()
                .filter(|a| a.index == link.index && !is_link_local(&a.net));
            for a in on_link {
                let (key, value) = match wanted.get(&(meta.name.as_str(), a.net)) {
                    Some((k, v)) => (k.clone(), v.clone()),
                    None if owned => (
                        interface_address_key(&meta.name, &a.net.to_string()),
                        empty.clone(),
                    ),
                    None => continue,
                };
                out.push(Retrieved {
                    key,
                    value,
                    metadata: None,
                    origin: Origin::FromNb,
                });
            }
        }
        Ok(Some(out))
    }
}
