//! `vpp-interface-vrf`: the VRF binding of a VPP interface, derived from the interface as
//! `vpp/interface/<if>/vrf/<vrf>/ip-version/<v4|v6|both>` (value `Empty`) when it has
//! addresses of that family; it binds the interface's IPv4 and/or IPv6 side to table `<vrf>`.
//!
//! For a non-zero VRF it depends on the VRF table (`vrf-table-v4-exists` /
//! `vrf-table-v6-exists`). The addresses depend on it, so VPP always sees table first, binding
//! next, addresses last. Unnumbered interfaces (`vrf/from-interface/...`) are not handled.
//! Retrieve reads the binding of every interface with addresses from the local routes of its
//! addresses (this build has no `sw_interface_get_table`).

use std::sync::Arc;

use kvscheduler::{Dependency, Descriptor, KvError, Metadata, MetadataView, Origin, Retrieved};
use messages::{Key, Value};

use crate::api::ApiHandle;
use crate::descriptors::interface_retrieve::read_l3;
use crate::descriptors::{INTERFACE_VRF, logical_name, sw_if_index, vrf_table_key};

const PREFIX: &str = "vpp/interface/";
const MARK: &str = "/vrf/";

/// `vpp/interface/<if>/vrf/<vrf>/ip-version/<v4|v6|both>`.
pub fn vrf_key(interface: &str, vrf: u32, v4: bool, v6: bool) -> Key {
    let version = match (v4, v6) {
        (true, true) => "both",
        (false, true) => "v6",
        _ => "v4",
    };
    Key::from(format!(
        "{PREFIX}{interface}{MARK}{vrf}/ip-version/{version}"
    ))
}

/// `(interface, vrf, ipv4, ipv6)` of a VRF key.
pub fn parse_vrf_key(key: &str) -> Option<(&str, u32, bool, bool)> {
    let rest = key.strip_prefix(PREFIX)?;
    let at = rest.rfind(MARK)?;
    let (interface, tail) = (&rest[..at], &rest[at + MARK.len()..]);
    let (vrf, version) = tail.split_once("/ip-version/")?;
    let vrf: u32 = vrf.parse().ok()?;
    let (v4, v6) = match version {
        "v4" => (true, false),
        "v6" => (false, true),
        "both" => (true, true),
        _ => return None,
    };
    (!interface.is_empty()).then_some((interface, vrf, v4, v6))
}

/// See the module docs.
#[derive(Debug)]
pub struct InterfaceVrfDescriptor {
    api: ApiHandle,
}

impl InterfaceVrfDescriptor {
    pub fn new(api: ApiHandle) -> Self {
        InterfaceVrfDescriptor { api }
    }

    fn bind(
        &self,
        md: &MetadataView<'_>,
        key: &Key,
        vrf_override: Option<u32>,
    ) -> Result<(), KvError> {
        let (interface, vrf, v4, v6) = parse_vrf_key(key.as_str())
            .ok_or_else(|| KvError::invalid(format!("{key} is not a vrf key"), &[]))?;
        let vrf = vrf_override.unwrap_or(vrf);
        let idx = sw_if_index(md, interface)?;
        let api = self.api.get();
        if v4 {
            api.set_table(idx, false, vrf)?;
        }
        if v6 {
            api.set_table(idx, true, vrf)?;
        }
        Ok(())
    }
}

impl Descriptor for InterfaceVrfDescriptor {
    fn name(&self) -> &str {
        INTERFACE_VRF
    }

    fn key_selector(&self, key: &Key) -> bool {
        parse_vrf_key(key.as_str()).is_some()
    }

    fn dependencies(&self, key: &Key, _value: &Value) -> Vec<Dependency> {
        let Some((_, vrf, v4, v6)) = parse_vrf_key(key.as_str()) else {
            return Vec::new();
        };
        let mut deps = Vec::new();
        if vrf != 0 && v4 {
            deps.push(Dependency::on_key(
                "vrf-table-v4-exists",
                vrf_table_key(vrf, false),
            ));
        }
        if vrf != 0 && v6 {
            deps.push(Dependency::on_key(
                "vrf-table-v6-exists",
                vrf_table_key(vrf, true),
            ));
        }
        deps
    }

    fn create(
        &self,
        md: &MetadataView<'_>,
        key: &Key,
        _value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        self.bind(md, key, None)?;
        Ok(None)
    }

    fn delete(
        &self,
        md: &MetadataView<'_>,
        key: &Key,
        _value: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        match parse_vrf_key(key.as_str()) {
            Some((_, 0, _, _)) => Ok(()),
            _ => self.bind(md, key, Some(0)),
        }
    }

    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        _correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        let l3 = read_l3(&*self.api.get())?;
        let out = l3
            .details
            .iter()
            .filter_map(|d| {
                let (vrf, v4, v6) = l3.vrf(d.sw_if_index)?;
                Some(Retrieved {
                    key: vrf_key(&logical_name(d), vrf, v4, v6),
                    value: Arc::new(messages::proto::Empty {}),
                    metadata: None,
                    origin: if d.tag.is_empty() {
                        Origin::FromSb
                    } else {
                        Origin::FromNb
                    },
                })
            })
            .collect();
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vrf_keys_round_trip() {
        let k = vrf_key("tap1", 3, true, true);
        assert_eq!(k.as_str(), "vpp/interface/tap1/vrf/3/ip-version/both");
        assert_eq!(parse_vrf_key(k.as_str()), Some(("tap1", 3, true, true)));
        assert_eq!(
            parse_vrf_key(vrf_key("a/b", 0, false, true).as_str()),
            Some(("a/b", 0, false, true))
        );
        assert_eq!(parse_vrf_key("vpp/interface/x/vrf/from-interface/y"), None);
    }
}
