//! `vpp-interface-address`: one IP address of a VPP interface, derived from the interface as
//! `vpp/interface/<if>/address/<source>/<addr>` (value `Empty`; the key says everything).
//!
//! It depends on the interface's VRF binding (`interface-assigned-to-vrf-table`, any key under
//! `vpp/interface/<if>/vrf/`), because VPP refuses to move an interface with addresses into
//! another table. It deliberately does not retrieve: addresses are read back with their
//! interface, so the scheduler knows them from the interface's retrieved value.

use std::sync::Arc;

use kvscheduler::{Dependency, Descriptor, KvError, Metadata, MetadataView, Origin, Retrieved};
use messages::{Key, Value};

use crate::api::{ApiHandle, IpNet};
use crate::descriptors::interface_retrieve::read_l3;
use crate::descriptors::{INTERFACE_ADDRESS, logical_name, respell, sw_if_index};

const PREFIX: &str = "vpp/interface/";
const MARK: &str = "/address/";

/// `vpp/interface/<if>/address/static/<addr>` (the address verbatim, as Ligato keeps it).
pub fn address_key(interface: &str, addr: &str) -> Key {
    Key::from(format!("{PREFIX}{interface}{MARK}static/{addr}"))
}

/// `(interface, source, address)` of an address key.
pub fn parse_address_key(key: &str) -> Option<(&str, &str, &str)> {
    let rest = key.strip_prefix(PREFIX)?;
    let at = rest.rfind(MARK)?;
    let (interface, tail) = (&rest[..at], &rest[at + MARK.len()..]);
    let (source, addr) = tail.split_once('/')?;
    if interface.is_empty() || addr.is_empty() {
        return None;
    }
    Some((interface, source, addr))
}

/// Two address keys of the same interface and address, however the address is spelled.
fn same_address_key(a: &str, b: &str) -> bool {
    match (parse_address_key(a), parse_address_key(b)) {
        (Some((i, s, x)), Some((j, t, y))) => {
            i == j
                && s == t
                && x.parse::<IpNet>()
                    .ok()
                    .is_some_and(|x| y.parse::<IpNet>() == Ok(x))
        }
        _ => false,
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct InterfaceAddressDescriptor {
    api: ApiHandle,
}

impl InterfaceAddressDescriptor {
    pub fn new(api: ApiHandle) -> Self {
        InterfaceAddressDescriptor { api }
    }

    fn parse(key: &Key) -> Result<(&str, IpNet), KvError> {
        let (interface, _, addr) = parse_address_key(key.as_str())
            .ok_or_else(|| KvError::invalid(format!("{key} is not an address key"), &[]))?;
        let net: IpNet = addr
            .parse()
            .map_err(|e: String| KvError::invalid(e, &["ip_addresses"]))?;
        Ok((interface, net))
    }

    fn apply(&self, md: &MetadataView<'_>, key: &Key, is_add: bool) -> Result<(), KvError> {
        let (interface, net) = Self::parse(key)?;
        let idx = sw_if_index(md, interface)?;
        self.api.get().add_del_address(idx, net, is_add)?;
        Ok(())
    }
}

impl Descriptor for InterfaceAddressDescriptor {
    fn name(&self) -> &str {
        INTERFACE_ADDRESS
    }

    fn key_selector(&self, key: &Key) -> bool {
        parse_address_key(key.as_str()).is_some()
    }

    fn validate(&self, key: &Key, _value: &Value) -> Result<(), KvError> {
        Self::parse(key).map(|_| ())
    }

    fn dependencies(&self, key: &Key, _value: &Value) -> Vec<Dependency> {
        match parse_address_key(key.as_str()) {
            Some((interface, _, _)) => vec![Dependency::any_of_prefix(
                "interface-assigned-to-vrf-table",
                format!("{PREFIX}{interface}/vrf/"),
            )],
            None => Vec::new(),
        }
    }

    fn create(
        &self,
        md: &MetadataView<'_>,
        key: &Key,
        _value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        self.apply(md, key, true)?;
        Ok(None)
    }

    fn delete(
        &self,
        md: &MetadataView<'_>,
        key: &Key,
        _value: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        self.apply(md, key, false)
    }

    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        let l3 = read_l3(&*self.api.get())?;
        let mut out = Vec::new();
        for d in &l3.details {
            let Some(addrs) = l3.addresses.get(&d.sw_if_index) else {
                continue;
            };
            let name = logical_name(d);
            for a in addrs {
                let key = respell(
                    address_key(&name, &a.to_string()),
                    correlate,
                    same_address_key,
                );
                out.push(Retrieved {
                    key,
                    value: Arc::new(messages::proto::Empty {}),
                    metadata: None,
                    origin: if d.tag.is_empty() {
                        Origin::FromSb
                    } else {
                        Origin::FromNb
                    },
                });
            }
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_keys_round_trip_with_slashes_in_names() {
        let k = address_key("GigabitEthernet0/8/0", "10.0.0.1/24");
        assert_eq!(
            k.as_str(),
            "vpp/interface/GigabitEthernet0/8/0/address/static/10.0.0.1/24"
        );
        assert_eq!(
            parse_address_key(k.as_str()),
            Some(("GigabitEthernet0/8/0", "static", "10.0.0.1/24"))
        );
        assert_eq!(
            parse_address_key("vpp/interface/x/vrf/0/ip-version/v4"),
            None
        );
    }
}
