//! `linux-interface-address`: the derived values `linux/interface/<if>/address/<source>/<addr>`
//! of Linux interfaces, applied with netlink on the interface in its namespace. The value is
//! `google.protobuf.Empty`: the key says everything.
//!
//! It finds the interface through the plugin's interface index and does not create, move
//! or configure interfaces. Retrieve reports only the desired addresses that are present, so
//! addresses the agent did not ask for are left alone.

use std::fmt;
use std::sync::Arc;

use kvscheduler::{Descriptor, KvError, Metadata, MetadataView, Origin, Retrieved};
use messages::{Key, Value};

use super::{ADDRESS_DESCRIPTOR, NsDumps, parse_address_key};
use crate::error::LinuxError;
use crate::index::IfIndex;
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

    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        let mut dumps: NsDumps<Address> = NsDumps::new();
        let mut out = Vec::new();
        for (key, value) in correlate {
            let Ok((ifname, net)) = parse(key) else {
                continue;
            };
            let Some(meta) = self.index.get(ifname) else {
                continue;
            };
            let read = |ns: &NsRef| Ok((self.nl.links(ns)?, self.nl.addresses(ns)?));
            let Some((links, addrs)) = dumps.get(&meta.ns, read)? else {
                continue;
            };
            let Some(link) = links.iter().find(|l| l.name == meta.host_name) else {
                continue;
            };
            if addrs.iter().any(|a| a.index == link.index && a.net == net) {
                out.push(Retrieved {
                    key: key.clone(),
                    value: Arc::clone(value),
                    metadata: None,
                    origin: Origin::FromNb,
                });
            }
        }
        Ok(Some(out))
    }
}
