//! `vpp-arp`: static ARP/ND entries (`config/vpp/v2/arp/<if>/<ip>`), depending on their
//! interface (`interface-exists`).
//!
//! A MAC change is an in-place update (VPP overwrites the entry). MACs compare
//! case-insensitively. Retrieve reads both families; dynamic (learned) entries are OBTAINED,
//! and an entry lands on the key NB spelled when the scheduler passes the expected values.

use std::sync::Arc;

use kvscheduler::{Dependency, Descriptor, KvError, Metadata, MetadataView, Origin, Retrieved};
use messages::proto::vpp_l3::ArpEntry;
use messages::{Key, Value};

use crate::api::{ApiHandle, Mac, Neighbor};
use crate::descriptors::{
    ARP, ARP_PREFIX, interface_key, interface_names, model, respell, sw_if_index,
};
use crate::error::VppError;

/// `config/vpp/v2/arp/<if>/<ip>`.
pub fn arp_key(interface: &str, ip: &str) -> Key {
    Key::from(format!("{ARP_PREFIX}{interface}/{ip}"))
}

/// See the module docs.
#[derive(Debug)]
pub struct ArpDescriptor {
    api: ApiHandle,
}

fn neighbor(a: &ArpEntry, sw_if_index: u32) -> Result<Neighbor, VppError> {
    Ok(Neighbor {
        sw_if_index,
        ip: a.ip_address.parse().map_err(|_| {
            VppError::invalid(
                "ip_address",
                format!("{:?} is not an ip address", a.ip_address),
            )
        })?,
        mac: a
            .phys_address
            .parse::<Mac>()
            .map_err(|e| VppError::invalid("phys_address", e))?,
        is_static: a.r#static,
    })
}

/// Two ARP keys for the same interface and IP, however the IP is spelled.
fn same_arp_key(a: &str, b: &str) -> bool {
    let split = |s: &str| {
        s.rsplit_once('/')
            .and_then(|(p, ip)| Some((p.to_owned(), ip.parse::<std::net::IpAddr>().ok()?)))
    };
    matches!((split(a), split(b)), (Some(x), Some(y)) if x == y)
}

fn normalized(a: &ArpEntry) -> ArpEntry {
    let mut n = a.clone();
    n.phys_address = n.phys_address.to_ascii_lowercase();
    if let Ok(ip) = n.ip_address.parse::<std::net::IpAddr>() {
        n.ip_address = ip.to_string();
    }
    n
}

impl ArpDescriptor {
    pub fn new(api: ApiHandle) -> Self {
        ArpDescriptor { api }
    }

    fn apply(&self, md: &MetadataView<'_>, value: &Value, is_add: bool) -> Result<(), KvError> {
        let a = model::<ArpEntry>(value, "arp entry")?;
        let n = neighbor(a, sw_if_index(md, &a.interface)?)?;
        self.api.get().add_del_neighbor(&n, is_add)?;
        Ok(())
    }
}

impl Descriptor for ArpDescriptor {
    fn name(&self) -> &str {
        ARP
    }

    fn key_selector(&self, key: &Key) -> bool {
        key.has_prefix(ARP_PREFIX)
    }

    fn nb_key_prefix(&self) -> Option<&str> {
        Some(ARP_PREFIX)
    }

    fn validate(&self, _key: &Key, value: &Value) -> Result<(), KvError> {
        let a = model::<ArpEntry>(value, "arp entry")?;
        if a.interface.is_empty() {
            return Err(KvError::invalid("interface is empty", &["interface"]));
        }
        neighbor(a, 0)?;
        Ok(())
    }

    fn equivalent(&self, _key: &Key, old: &Value, new: &Value) -> bool {
        match (
            messages::value::downcast::<ArpEntry>(&**old),
            messages::value::downcast::<ArpEntry>(&**new),
        ) {
            (Some(a), Some(b)) => normalized(a) == normalized(b),
            _ => old.eq_value(&**new),
        }
    }

    fn dependencies(&self, _key: &Key, value: &Value) -> Vec<Dependency> {
        match messages::value::downcast::<ArpEntry>(&**value) {
            Some(a) => vec![Dependency::on_key(
                "interface-exists",
                interface_key(&a.interface),
            )],
            None => Vec::new(),
        }
    }

    fn can_update(&self) -> bool {
        true
    }

    fn create(
        &self,
        md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        self.apply(md, value, true)?;
        Ok(None)
    }

    fn update(
        &self,
        md: &MetadataView<'_>,
        _key: &Key,
        _old: &Value,
        new: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<Option<Metadata>, KvError> {
        self.apply(md, new, true)?;
        Ok(None)
    }

    fn delete(
        &self,
        md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        self.apply(md, value, false)
    }

    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        let api = self.api.get();
        let names = interface_names(&self.api)?;
        let mut out = Vec::new();
        for v6 in [false, true] {
            for n in api.dump_neighbors(v6)? {
                let Some(interface) = names.get(&n.sw_if_index) else {
                    continue;
                };
                let a = ArpEntry {
                    interface: interface.clone(),
                    ip_address: n.ip.to_string(),
                    phys_address: n.mac.to_string(),
                    r#static: n.is_static,
                };
                let key = respell(arp_key(interface, &a.ip_address), correlate, same_arp_key);
                out.push(Retrieved {
                    key,
                    value: Arc::new(a),
                    metadata: None,
                    origin: if n.is_static {
                        Origin::FromNb
                    } else {
                        Origin::FromSb
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
    fn keys_match_across_ip_spellings_and_macs_across_case() {
        assert!(same_arp_key(
            "config/vpp/v2/arp/lo1/fd00:0::9",
            "config/vpp/v2/arp/lo1/fd00::9"
        ));
        assert!(!same_arp_key(
            "config/vpp/v2/arp/lo1/fd00::9",
            "config/vpp/v2/arp/lo2/fd00::9"
        ));
        assert!(!same_arp_key(
            "config/vpp/v2/arp/lo1/x",
            "config/vpp/v2/arp/lo1/x"
        ));
        let a = ArpEntry {
            interface: "lo1".into(),
            ip_address: "fd00:0::9".into(),
            phys_address: "02:00:00:00:00:AA".into(),
            r#static: true,
        };
        let b = ArpEntry {
            ip_address: "fd00::9".into(),
            phys_address: "02:00:00:00:00:aa".into(),
            ..a.clone()
        };
        assert_eq!(normalized(&a), normalized(&b));
    }
}
