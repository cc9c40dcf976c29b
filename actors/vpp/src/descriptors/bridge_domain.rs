//! `vpp-bridge-domain`: bridge domains (`config/vpp/l2/v2/bridge-domain/<name>`).
//!
//! The BD name goes into VPP's `bd_tag`; the bd_id is allocated here (the lowest id not held by
//! another BD the scheduler knows, moving on if VPP says the id is taken) and kept in
//! [`BdMeta`]. Each member interface is a derived value `vpp/bd/<bd>/interface/<if>` handled by
//! `vpp-bd-interface`, so membership follows the interfaces' lifecycle on its own. Flag
//! changes re-create the BD (this build has no `bridge_flags`); membership changes are an
//! in-place update. It deliberately rejects the ARP termination table (`bd_ip_mac_add_del`
//! is not generated).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use kvscheduler::{Descriptor, KvError, Metadata, MetadataView, Origin, Retrieved};
use messages::proto::vpp_l2::{BridgeDomain, bridge_domain};
use messages::{Key, Value};

use crate::api::{ApiHandle, BridgeDomainSpec, VppApi};
use crate::descriptors::{BD_PREFIX, BRIDGE_DOMAIN, bd_key, interface_names, model};
use crate::error::VppError;

/// What the `vpp-bridge-domain` descriptor remembers per BD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BdMeta {
    pub bd_id: u32,
}

/// `vpp/bd/<bd>/interface/<if>`.
pub fn bd_interface_key(bd: &str, interface: &str) -> Key {
    Key::from(format!("vpp/bd/{bd}/interface/{interface}"))
}

/// The highest bd_id VPP accepts.
const BD_ID_MAX: u32 = 0x00FF_FFFF;

/// See the module docs.
#[derive(Debug)]
pub struct BridgeDomainDescriptor {
    api: ApiHandle,
}

fn spec(bd: &BridgeDomain, bd_id: u32) -> BridgeDomainSpec {
    BridgeDomainSpec {
        bd_id,
        flood: bd.flood,
        uu_flood: bd.unknown_unicast_flood,
        forward: bd.forward,
        learn: bd.learn,
        arp_term: bd.arp_termination,
        mac_age: u8::try_from(bd.mac_age).unwrap_or(u8::MAX),
        tag: bd.name.clone(),
    }
}

/// Members by name, for order-independent comparison.
fn members(bd: &BridgeDomain) -> BTreeMap<&str, (bool, u32)> {
    bd.interfaces
        .iter()
        .map(|i| {
            (
                i.name.as_str(),
                (i.bridged_virtual_interface, i.split_horizon_group),
            )
        })
        .collect()
}

fn same_settings(a: &BridgeDomain, b: &BridgeDomain) -> bool {
    spec(a, 0) == spec(b, 0)
}

impl BridgeDomainDescriptor {
    pub fn new(api: ApiHandle) -> Self {
        BridgeDomainDescriptor { api }
    }

    fn add(
        &self,
        api: &dyn VppApi,
        md: &MetadataView<'_>,
        bd: &BridgeDomain,
    ) -> Result<u32, VppError> {
        let used: HashSet<u32> = md
            .all(BRIDGE_DOMAIN)
            .into_iter()
            .filter_map(|(_, m)| m.downcast_ref::<BdMeta>().map(|m| m.bd_id))
            .collect();
        let mut candidates = (1..=BD_ID_MAX).filter(|id| !used.contains(id));
        let mut last = None;
        for _ in 0..8 {
            let Some(id) = candidates.next() else { break };
            match api.add_bridge_domain(&spec(bd, id)) {
                Ok(id) => return Ok(id),
                // -119: the id is taken by a BD the scheduler does not know yet.
                Err(e) if e.retval_code() == Some(-119) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| VppError::invalid("bd_id", "no free bridge domain id")))
    }
}

impl Descriptor for BridgeDomainDescriptor {
    fn name(&self) -> &str {
        BRIDGE_DOMAIN
    }

    fn key_selector(&self, key: &Key) -> bool {
        key.has_prefix(BD_PREFIX)
    }

    fn nb_key_prefix(&self) -> Option<&str> {
        Some(BD_PREFIX)
    }

    fn validate(&self, _key: &Key, value: &Value) -> Result<(), KvError> {
        let bd = model::<BridgeDomain>(value, "bridge domain")?;
        if bd.name.is_empty() {
            return Err(KvError::invalid("bridge domain name is empty", &["name"]));
        }
        if bd.mac_age > 255 {
            return Err(KvError::invalid("mac_age exceeds 255", &["mac_age"]));
        }
        if bd
            .interfaces
            .iter()
            .filter(|i| i.bridged_virtual_interface)
            .count()
            > 1
        {
            return Err(KvError::invalid(
                "a bridge domain has at most one bvi",
                &["bridged_virtual_interface"],
            ));
        }
        let mut seen = HashSet::new();
        for i in &bd.interfaces {
            if i.name.is_empty() || !seen.insert(i.name.as_str()) {
                return Err(KvError::invalid(
                    "interface names must be set and unique",
                    &["interfaces"],
                ));
            }
            if i.split_horizon_group > 255 {
                return Err(KvError::invalid(
                    "split_horizon_group exceeds 255",
                    &["split_horizon_group"],
                ));
            }
        }
        if !bd.arp_termination_table.is_empty() {
            return Err(KvError::invalid(
                "arp_termination_table is unsupported by this build (missing binapi message bd_ip_mac_add_del)",
                &["arp_termination_table"],
            ));
        }
        Ok(())
    }

    fn equivalent(&self, _key: &Key, old: &Value, new: &Value) -> bool {
        match (
            messages::value::downcast::<BridgeDomain>(&**old),
            messages::value::downcast::<BridgeDomain>(&**new),
        ) {
            (Some(a), Some(b)) => same_settings(a, b) && members(a) == members(b),
            _ => old.eq_value(&**new),
        }
    }

    fn derived_values(&self, _key: &Key, value: &Value) -> Vec<(Key, Value)> {
        let Some(bd) = messages::value::downcast::<BridgeDomain>(&**value) else {
            return Vec::new();
        };
        bd.interfaces
            .iter()
            .map(|i| {
                let v: Value = Arc::new(i.clone());
                (bd_interface_key(&bd.name, &i.name), v)
            })
            .collect()
    }

    fn can_update(&self) -> bool {
        true
    }

    fn needs_recreate(&self, _key: &Key, old: &Value, new: &Value, _md: Option<&Metadata>) -> bool {
        match (
            messages::value::downcast::<BridgeDomain>(&**old),
            messages::value::downcast::<BridgeDomain>(&**new),
        ) {
            (Some(a), Some(b)) => !same_settings(a, b),
            _ => true,
        }
    }

    fn create(
        &self,
        md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        let bd = model::<BridgeDomain>(value, "bridge domain")?;
        let bd_id = self.add(&*self.api.get(), md, bd)?;
        Ok(Some(Arc::new(BdMeta { bd_id })))
    }

    /// Membership changes are applied by the derived values; the BD itself stays.
    fn update(
        &self,
        _md: &MetadataView<'_>,
        _key: &Key,
        _old: &Value,
        _new: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<Option<Metadata>, KvError> {
        Ok(None)
    }

    fn delete(
        &self,
        md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
        metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        let bd = model::<BridgeDomain>(value, "bridge domain")?;
        let bd_id = match metadata.and_then(|m| m.downcast_ref::<BdMeta>()) {
            Some(m) => m.bd_id,
            None => super::bd_id(md, &bd.name)?,
        };
        self.api.get().delete_bridge_domain(bd_id)?;
        Ok(())
    }

    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        _correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        let names = interface_names(&self.api)?;
        let bds = self.api.get().dump_bridge_domains()?;
        let out = bds
            .into_iter()
            .map(|d| {
                let untagged = d.spec.tag.is_empty();
                let name = if untagged {
                    format!("bd{}", d.spec.bd_id)
                } else {
                    d.spec.tag.clone()
                };
                let interfaces = d
                    .members
                    .iter()
                    .map(|(idx, shg)| bridge_domain::Interface {
                        name: names
                            .get(idx)
                            .cloned()
                            .unwrap_or_else(|| format!("sw{idx}")),
                        bridged_virtual_interface: d.bvi_sw_if_index == Some(*idx),
                        split_horizon_group: u32::from(*shg),
                    })
                    .collect();
                let value = BridgeDomain {
                    name: name.clone(),
                    flood: d.spec.flood,
                    unknown_unicast_flood: d.spec.uu_flood,
                    forward: d.spec.forward,
                    learn: d.spec.learn,
                    arp_termination: d.spec.arp_term,
                    mac_age: u32::from(d.spec.mac_age),
                    interfaces,
                    arp_termination_table: Vec::new(),
                };
                Retrieved {
                    key: bd_key(&name),
                    value: Arc::new(value),
                    metadata: Some(Arc::new(BdMeta {
                        bd_id: d.spec.bd_id,
                    })),
                    origin: if untagged {
                        Origin::FromSb
                    } else {
                        Origin::FromNb
                    },
                }
            })
            .collect();
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_compare_without_order() {
        let m = |n: &str, bvi| bridge_domain::Interface {
            name: n.into(),
            bridged_virtual_interface: bvi,
            split_horizon_group: 0,
        };
        let a = BridgeDomain {
            name: "bd1".into(),
            interfaces: vec![m("a", false), m("b", true)],
            ..Default::default()
        };
        let mut b = a.clone();
        b.interfaces.reverse();
        assert_eq!(members(&a), members(&b));
        b.interfaces[0].bridged_virtual_interface = false;
        assert_ne!(members(&a), members(&b));
        assert!(same_settings(&a, &b));
        b.learn = true;
        assert!(!same_settings(&a, &b));
    }
}
