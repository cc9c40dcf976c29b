//! `vpp-bd-interface`: one interface's membership in a bridge domain, derived from the BD as
//! `vpp/bd/<bd>/interface/<if>` (value `BridgeDomain.Interface`: BVI flag and split-horizon
//! group).
//!
//! It depends on the interface (`interface-exists`); the BD is its parent, so it exists only
//! while the BD does. A BVI or group change re-creates the membership. It deliberately does
//! not retrieve: membership is read back with the BD, from `bridge_domain_dump`.

use std::sync::Arc;

use kvscheduler::{Dependency, Descriptor, KvError, Metadata, MetadataView, Origin, Retrieved};
use messages::proto::vpp_l2::bridge_domain;
use messages::{Key, Value};

use crate::api::{ApiHandle, L2FibEntry};
use crate::descriptors::bridge_domain::bd_interface_key;
use crate::descriptors::{BD_INTERFACE, bd_id, interface_key, interface_names, model, sw_if_index};

const PREFIX: &str = "vpp/bd/";
const MARK: &str = "/interface/";

/// `(bd, interface)` of a membership key.
pub fn parse_bd_interface_key(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix(PREFIX)?;
    let (bd, interface) = rest.split_once(MARK)?;
    (!bd.is_empty() && !interface.is_empty()).then_some((bd, interface))
}

/// See the module docs.
#[derive(Debug)]
pub struct BdInterfaceDescriptor {
    api: ApiHandle,
}

impl BdInterfaceDescriptor {
    pub fn new(api: ApiHandle) -> Self {
        BdInterfaceDescriptor { api }
    }

    fn apply(
        &self,
        md: &MetadataView<'_>,
        key: &Key,
        value: &Value,
        enable: bool,
    ) -> Result<(), KvError> {
        let (bd, interface) = parse_bd_interface_key(key.as_str())
            .ok_or_else(|| KvError::invalid(format!("{key} is not a bd-interface key"), &[]))?;
        let m = model::<bridge_domain::Interface>(value, "bridge domain interface")?;
        let idx = sw_if_index(md, interface)?;
        let id = bd_id(md, bd)?;
        let shg = u8::try_from(m.split_horizon_group).unwrap_or(u8::MAX);
        let api = self.api.get();
        api.set_l2_bridge(idx, id, m.bridged_virtual_interface, shg, enable)?;
        if !enable && m.bridged_virtual_interface {
            // A BVI port installed a static FIB entry for its own MAC. VPP drops it when the
            // BVI leaves; a VPP (or simulator) that keeps it would strand it, so remove it
            // explicitly and accept "no such entry".
            if let Some(d) = api.dump_interface(idx)? {
                let entry = L2FibEntry {
                    bd_id: id,
                    mac: d.mac,
                    sw_if_index: idx,
                    static_mac: true,
                    filter_mac: false,
                    bvi_mac: true,
                };
                match api.add_del_l2fib(&entry, false) {
                    Err(e) if e.retval_code() == Some(-6) => {}
                    other => other?,
                }
            }
        }
        Ok(())
    }
}

impl Descriptor for BdInterfaceDescriptor {
    fn name(&self) -> &str {
        BD_INTERFACE
    }

    fn key_selector(&self, key: &Key) -> bool {
        parse_bd_interface_key(key.as_str()).is_some()
    }

    fn dependencies(&self, key: &Key, _value: &Value) -> Vec<Dependency> {
        match parse_bd_interface_key(key.as_str()) {
            Some((_, interface)) => vec![Dependency::on_key(
                "interface-exists",
                interface_key(interface),
            )],
            None => Vec::new(),
        }
    }

    fn create(
        &self,
        md: &MetadataView<'_>,
        key: &Key,
        value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        self.apply(md, key, value, true)?;
        Ok(None)
    }

    fn delete(
        &self,
        md: &MetadataView<'_>,
        key: &Key,
        value: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        self.apply(md, key, value, false)
    }

    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        _correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        let names = interface_names(&self.api)?;
        let mut out = Vec::new();
        for d in self.api.get().dump_bridge_domains()? {
            let untagged = d.spec.tag.is_empty();
            let bd = if untagged {
                format!("bd{}", d.spec.bd_id)
            } else {
                d.spec.tag.clone()
            };
            for (idx, shg) in &d.members {
                let Some(name) = names.get(idx) else {
                    continue;
                };
                let m = bridge_domain::Interface {
                    name: name.clone(),
                    bridged_virtual_interface: d.bvi_sw_if_index == Some(*idx),
                    split_horizon_group: u32::from(*shg),
                };
                out.push(Retrieved {
                    key: bd_interface_key(&bd, name),
                    value: Arc::new(m),
                    metadata: None,
                    origin: if untagged {
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
    fn membership_keys_parse() {
        assert_eq!(
            parse_bd_interface_key("vpp/bd/bd1/interface/tap1"),
            Some(("bd1", "tap1"))
        );
        assert_eq!(
            parse_bd_interface_key("vpp/bd/bd1/interface/GigabitEthernet0/8/0"),
            Some(("bd1", "GigabitEthernet0/8/0"))
        );
        assert_eq!(parse_bd_interface_key("vpp/bd/bd1"), None);
    }
}
