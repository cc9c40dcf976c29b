//! `vpp-vrf-table`: IP tables (`config/vpp/v2/vrf-table/id/<id>/protocol/<IPV4|IPV6>`).
//!
//! No dependencies. Table 0 of each family always exists in VPP: retrieve reports it as
//! OBTAINED and referrers skip the dependency for VRF 0. The label becomes VPP's table name;
//! VPP's default name (`ipv4-VRF:5`) equals an empty label. A label change re-creates the
//! table. It deliberately rejects `flow_hash_settings` (`set_ip_flow_hash` is not generated).

use std::sync::Arc;

use kvscheduler::{Descriptor, KvError, Metadata, MetadataView, Origin, Retrieved};
use messages::proto::vpp_l3::{VrfTable, vrf_table::Protocol};
use messages::{Key, Value};

use crate::api::{ApiHandle, IpTable};
use crate::descriptors::{VRF_TABLE, VRF_TABLE_PREFIX, model, vrf_table_key};

/// See the module docs.
#[derive(Debug)]
pub struct VrfTableDescriptor {
    api: ApiHandle,
}

fn is_v6(t: &VrfTable) -> bool {
    t.protocol == Protocol::Ipv6 as i32
}

fn default_name(id: u32, v6: bool) -> String {
    format!("{}-VRF:{id}", if v6 { "ipv6" } else { "ipv4" })
}

fn normalized(t: &VrfTable) -> VrfTable {
    let mut n = t.clone();
    if n.label == default_name(n.id, is_v6(&n)) {
        n.label.clear();
    }
    n
}

fn table(t: &VrfTable) -> IpTable {
    IpTable {
        table_id: t.id,
        is_ipv6: is_v6(t),
        name: t.label.clone(),
    }
}

impl VrfTableDescriptor {
    pub fn new(api: ApiHandle) -> Self {
        VrfTableDescriptor { api }
    }
}

impl Descriptor for VrfTableDescriptor {
    fn name(&self) -> &str {
        VRF_TABLE
    }

    fn key_selector(&self, key: &Key) -> bool {
        key.has_prefix(VRF_TABLE_PREFIX)
    }

    fn nb_key_prefix(&self) -> Option<&str> {
        Some(VRF_TABLE_PREFIX)
    }

    fn validate(&self, _key: &Key, value: &Value) -> Result<(), KvError> {
        let t = model::<VrfTable>(value, "vrf table")?;
        if t.label.len() > 63 {
            return Err(KvError::invalid(
                "label is longer than 63 characters",
                &["label"],
            ));
        }
        if Protocol::try_from(t.protocol).is_err() {
            return Err(KvError::invalid("unknown protocol", &["protocol"]));
        }
        if t.flow_hash_settings.is_some() {
            return Err(KvError::invalid(
                "flow_hash_settings is unsupported by this build (missing binapi message set_ip_flow_hash_v2)",
                &["flow_hash_settings"],
            ));
        }
        Ok(())
    }

    fn equivalent(&self, _key: &Key, old: &Value, new: &Value) -> bool {
        match (
            messages::value::downcast::<VrfTable>(&**old),
            messages::value::downcast::<VrfTable>(&**new),
        ) {
            (Some(a), Some(b)) => normalized(a) == normalized(b),
            _ => old.eq_value(&**new),
        }
    }

    fn create(
        &self,
        _md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        let t = model::<VrfTable>(value, "vrf table")?;
        self.api.get().add_del_ip_table(&table(t), true)?;
        Ok(None)
    }

    fn delete(
        &self,
        _md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        let t = model::<VrfTable>(value, "vrf table")?;
        if t.id != 0 {
            self.api.get().add_del_ip_table(&table(t), false)?;
        }
        Ok(())
    }

    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        _correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        let out = self
            .api
            .get()
            .dump_ip_tables()?
            .into_iter()
            .map(|t| {
                let label = if t.name == default_name(t.table_id, t.is_ipv6) {
                    String::new()
                } else {
                    t.name.clone()
                };
                let v = VrfTable {
                    id: t.table_id,
                    protocol: if t.is_ipv6 {
                        Protocol::Ipv6 as i32
                    } else {
                        Protocol::Ipv4 as i32
                    },
                    label,
                    flow_hash_settings: None,
                };
                Retrieved {
                    key: vrf_table_key(t.table_id, t.is_ipv6),
                    value: Arc::new(v),
                    metadata: None,
                    origin: if t.table_id == 0 {
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
    fn vpps_default_table_name_equals_no_label() {
        let t = VrfTable {
            id: 5,
            protocol: Protocol::Ipv6 as i32,
            label: "ipv6-VRF:5".into(),
            flow_hash_settings: None,
        };
        let none = VrfTable {
            label: String::new(),
            ..t.clone()
        };
        assert_eq!(normalized(&t), normalized(&none));
        let named = VrfTable {
            label: "blue".into(),
            ..t
        };
        assert_ne!(normalized(&named), normalized(&none));
    }
}
