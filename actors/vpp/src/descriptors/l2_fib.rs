//! `vpp-l2-fib`: static L2 FIB entries (`config/vpp/l2/v2/fib/<bd>/mac/<mac>`).
//!
//! A FORWARD entry depends on its interface being in that BD (`bridged-interface` ->
//! `vpp/bd/<bd>/interface/<if>`); a DROP entry (a filter) only on the BD (`bridge-domain`).
//! So the scheduler removes an entry before its BD or membership goes, and VPP is never left
//! with the stale, undeletable entries the seed describes. MACs compare case-insensitively;
//! retrieve lowercases them and, when the scheduler passes the expected values, puts an entry
//! back on the key NB spelled. Entries VPP made itself (learned MACs, a BVI's own MAC) are
//! OBTAINED; entries of deleted BDs (`bd_id ~0`) are skipped.

use std::collections::HashMap;
use std::sync::Arc;

use kvscheduler::{Dependency, Descriptor, KvError, Metadata, MetadataView, Origin, Retrieved};
use messages::proto::vpp_l2::{FibEntry, fib_entry::Action};
use messages::{Key, Value};

use crate::api::{ApiHandle, L2FibEntry, Mac, NONE};
use crate::descriptors::bridge_domain::bd_interface_key;
use crate::descriptors::{
    FIB_PREFIX, L2_FIB, bd_id, bd_key, interface_names, model, respell, sw_if_index,
};
use crate::error::VppError;

/// `config/vpp/l2/v2/fib/<bd>/mac/<mac>` (the MAC verbatim).
pub fn fib_key(bd: &str, mac: &str) -> Key {
    Key::from(format!("{FIB_PREFIX}{bd}/mac/{mac}"))
}

fn is_drop(f: &FibEntry) -> bool {
    f.action == Action::Drop as i32
}

fn parse_mac(f: &FibEntry) -> Result<Mac, VppError> {
    f.phys_address
        .parse()
        .map_err(|e: String| VppError::invalid("phys_address", e))
}

/// See the module docs.
#[derive(Debug)]
pub struct L2FibDescriptor {
    api: ApiHandle,
}

impl L2FibDescriptor {
    pub fn new(api: ApiHandle) -> Self {
        L2FibDescriptor { api }
    }

    fn entry(&self, md: &MetadataView<'_>, f: &FibEntry) -> Result<L2FibEntry, VppError> {
        let drop = is_drop(f);
        Ok(L2FibEntry {
            bd_id: bd_id(md, &f.bridge_domain)?,
            mac: parse_mac(f)?,
            sw_if_index: if drop {
                NONE
            } else {
                sw_if_index(md, &f.outgoing_interface)?
            },
            static_mac: f.static_config,
            filter_mac: drop,
            bvi_mac: f.bridged_virtual_interface,
        })
    }
}

fn normalized(f: &FibEntry) -> FibEntry {
    FibEntry {
        phys_address: f.phys_address.to_ascii_lowercase(),
        outgoing_interface: if is_drop(f) {
            String::new()
        } else {
            f.outgoing_interface.clone()
        },
        ..f.clone()
    }
}

impl Descriptor for L2FibDescriptor {
    fn name(&self) -> &str {
        L2_FIB
    }

    fn key_selector(&self, key: &Key) -> bool {
        key.has_prefix(FIB_PREFIX)
    }

    fn nb_key_prefix(&self) -> Option<&str> {
        Some(FIB_PREFIX)
    }

    fn validate(&self, _key: &Key, value: &Value) -> Result<(), KvError> {
        let f = model::<FibEntry>(value, "l2 fib entry")?;
        parse_mac(f)?;
        if f.bridge_domain.is_empty() {
            return Err(KvError::invalid(
                "bridge_domain is empty",
                &["bridge_domain"],
            ));
        }
        if !is_drop(f) && f.outgoing_interface.is_empty() {
            return Err(KvError::invalid(
                "a forward entry needs outgoing_interface",
                &["outgoing_interface"],
            ));
        }
        Ok(())
    }

    fn equivalent(&self, _key: &Key, old: &Value, new: &Value) -> bool {
        match (
            messages::value::downcast::<FibEntry>(&**old),
            messages::value::downcast::<FibEntry>(&**new),
        ) {
            (Some(a), Some(b)) => normalized(a) == normalized(b),
            _ => old.eq_value(&**new),
        }
    }

    fn dependencies(&self, _key: &Key, value: &Value) -> Vec<Dependency> {
        let Some(f) = messages::value::downcast::<FibEntry>(&**value) else {
            return Vec::new();
        };
        if is_drop(f) {
            vec![Dependency::on_key(
                "bridge-domain",
                bd_key(&f.bridge_domain),
            )]
        } else {
            vec![Dependency::on_key(
                "bridged-interface",
                bd_interface_key(&f.bridge_domain, &f.outgoing_interface),
            )]
        }
    }

    fn create(
        &self,
        md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        let f = model::<FibEntry>(value, "l2 fib entry")?;
        let e = self.entry(md, f)?;
        self.api.get().add_del_l2fib(&e, true)?;
        Ok(None)
    }

    fn delete(
        &self,
        md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        let f = model::<FibEntry>(value, "l2 fib entry")?;
        let mut e = self.entry(md, f)?;
        if e.filter_mac {
            // 0 is the delete's wildcard interface.
            e.sw_if_index = 0;
        }
        self.api.get().add_del_l2fib(&e, false)?;
        Ok(())
    }

    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        let api = self.api.get();
        let names = interface_names(&self.api)?;
        let bds: HashMap<u32, (String, Option<u32>)> = api
            .dump_bridge_domains()?
            .into_iter()
            .map(|d| {
                let name = if d.spec.tag.is_empty() {
                    format!("bd{}", d.spec.bd_id)
                } else {
                    d.spec.tag.clone()
                };
                (d.spec.bd_id, (name, d.bvi_sw_if_index))
            })
            .collect();
        let mut out = Vec::new();
        for e in api.dump_l2fib()? {
            let Some((bd, bvi)) = bds.get(&e.bd_id) else {
                continue;
            };
            let vpp_made =
                !e.static_mac && !e.filter_mac || (e.bvi_mac && *bvi == Some(e.sw_if_index));
            let f = FibEntry {
                phys_address: e.mac.to_string(),
                bridge_domain: bd.clone(),
                action: if e.filter_mac {
                    Action::Drop as i32
                } else {
                    Action::Forward as i32
                },
                outgoing_interface: if e.filter_mac {
                    String::new()
                } else {
                    names.get(&e.sw_if_index).cloned().unwrap_or_default()
                },
                static_config: e.static_mac,
                bridged_virtual_interface: e.bvi_mac,
            };
            let key = respell(fib_key(bd, &f.phys_address), correlate, |a, b| {
                a.eq_ignore_ascii_case(b)
            });
            out.push(Retrieved {
                key,
                value: Arc::new(f),
                metadata: None,
                origin: if vpp_made {
                    Origin::FromSb
                } else {
                    Origin::FromNb
                },
            });
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_compare_without_case_and_drop_entries_ignore_the_interface() {
        let a = FibEntry {
            phys_address: "62:89:C6:A3:6D:5C".into(),
            bridge_domain: "bd1".into(),
            outgoing_interface: "tap1".into(),
            ..Default::default()
        };
        let mut b = a.clone();
        b.phys_address = b.phys_address.to_ascii_lowercase();
        assert_eq!(normalized(&a), normalized(&b));
        b.outgoing_interface = "tap2".into();
        assert_ne!(normalized(&a), normalized(&b));
        let mut d1 = a.clone();
        d1.action = Action::Drop as i32;
        let mut d2 = b;
        d2.action = Action::Drop as i32;
        assert_eq!(normalized(&d1), normalized(&d2));
        assert_eq!(
            fib_key("bd1", "62:89:C6:A3:6D:5C").as_str(),
            "config/vpp/l2/v2/fib/bd1/mac/62:89:C6:A3:6D:5C"
        );
    }
}
