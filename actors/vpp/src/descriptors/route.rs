//! `vpp-route`: static routes (`config/vpp/v2/route/[if/<if>/]vrf/<vrf>/dst/<net>/<len>[/gw/<gw>]`),
//! one path each, added and removed with multipath semantics so routes to the same prefix
//! through different gateways coexist.
//!
//! Dependencies: `interface-exists` (outgoing interface), `vrf-table-exists` (non-zero VRF,
//! family of the destination), `via-vrf-table-exists` (INTER_VRF with a non-zero via VRF).
//! Retrieve walks every table; VPP's own entries (the special drop prefixes every table has,
//! an interface address's attached and local routes) are OBTAINED. Equivalence: weight 0 =
//! 1, an unspecified next hop = none, the destination compared as a masked network. Ligato's
//! netalloc references (`alloc:`) are not supported.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use kvscheduler::{Dependency, Descriptor, KvError, Metadata, MetadataView, Origin, Retrieved};
use messages::proto::vpp_l3::{Route as RouteModel, route::RouteType};
use messages::{Key, Value};

use crate::api::{ApiHandle, IpNet, NONE, PathKind, Route, RoutePath};
use crate::descriptors::{
    ROUTE, ROUTE_PREFIX, interface_key, interface_names, model, sw_if_index, vrf_table_key,
};
use crate::error::VppError;

/// The key Ligato builds for a route.
pub fn route_key(r: &RouteModel) -> Key {
    messages::registry::builtin().key_of(r).unwrap_or_else(|_| {
        Key::from(format!(
            "{ROUTE_PREFIX}vrf/{}/dst/{}",
            r.vrf_id, r.dst_network
        ))
    })
}

fn route_type(r: &RouteModel) -> RouteType {
    RouteType::try_from(r.r#type).unwrap_or(RouteType::IntraVrf)
}

fn dst(r: &RouteModel) -> Result<IpNet, VppError> {
    r.dst_network
        .parse()
        .map_err(|e: String| VppError::invalid("dst_network", e))
}

fn next_hop(r: &RouteModel) -> Result<Option<IpAddr>, VppError> {
    if r.next_hop_addr.is_empty() {
        return Ok(None);
    }
    let ip: IpAddr = r.next_hop_addr.parse().map_err(|_| {
        VppError::invalid(
            "next_hop_addr",
            format!("{:?} is not an ip address", r.next_hop_addr),
        )
    })?;
    Ok((!ip.is_unspecified()).then_some(ip))
}

/// The special prefixes every VPP table starts with.
const SPECIAL: &[&str] = &[
    "0.0.0.0/0",
    "0.0.0.0/32",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "255.255.255.255/32",
    "::/0",
    "fe80::/10",
    "ff00::/8",
];

fn normalized(r: &RouteModel) -> RouteModel {
    let mut n = r.clone();
    if let Ok(net) = dst(r) {
        n.dst_network = net.masked().to_string();
    }
    if let Ok(nh) = next_hop(r) {
        n.next_hop_addr = nh.map(|ip| ip.to_string()).unwrap_or_default();
    }
    if n.weight == 0 {
        n.weight = 1;
    }
    if route_type(r) != RouteType::InterVrf {
        n.via_vrf_id = 0;
    }
    n
}

/// See the module docs.
#[derive(Debug)]
pub struct RouteDescriptor {
    api: ApiHandle,
}

impl RouteDescriptor {
    pub fn new(api: ApiHandle) -> Self {
        RouteDescriptor { api }
    }

    fn spec(&self, md: &MetadataView<'_>, r: &RouteModel) -> Result<Route, VppError> {
        let prefix = dst(r)?.masked();
        let nh = next_hop(r)?;
        let sw = if r.outgoing_interface.is_empty() {
            NONE
        } else {
            sw_if_index(md, &r.outgoing_interface)?
        };
        let weight = u8::try_from(r.weight.max(1)).unwrap_or(u8::MAX);
        let preference = u8::try_from(r.preference).unwrap_or(u8::MAX);
        let path = match route_type(r) {
            RouteType::Drop => RoutePath {
                kind: PathKind::Drop,
                sw_if_index: NONE,
                table_id: r.vrf_id,
                next_hop: None,
                weight,
                preference,
            },
            RouteType::InterVrf => RoutePath {
                kind: PathKind::Normal,
                sw_if_index: NONE,
                table_id: r.via_vrf_id,
                next_hop: nh,
                weight,
                preference,
            },
            RouteType::IntraVrf => RoutePath {
                kind: PathKind::Normal,
                sw_if_index: sw,
                table_id: r.vrf_id,
                next_hop: nh,
                weight,
                preference,
            },
        };
        Ok(Route {
            table_id: r.vrf_id,
            prefix,
            paths: vec![path],
        })
    }
}

/// The model of one path of a dumped route, and whether VPP made it itself.
fn to_model(
    r: &Route,
    p: &RoutePath,
    names: &HashMap<u32, String>,
    own: &HashSet<(u32, IpAddr, u8)>,
) -> (RouteModel, bool) {
    let dst = r.prefix.masked();
    let special = p.kind == PathKind::Drop && SPECIAL.contains(&dst.to_string().as_str());
    let attached = p.kind == PathKind::Normal
        && p.next_hop.is_none()
        && own.contains(&(p.sw_if_index, dst.network(), dst.len));
    let vpp_made = special || attached || p.kind == PathKind::Local;
    let (kind, via) = match p.kind {
        PathKind::Drop => (RouteType::Drop, 0),
        _ if p.sw_if_index == NONE && p.table_id != r.table_id => (RouteType::InterVrf, p.table_id),
        _ => (RouteType::IntraVrf, 0),
    };
    let m = RouteModel {
        r#type: kind as i32,
        vrf_id: r.table_id,
        dst_network: dst.to_string(),
        next_hop_addr: p.next_hop.map(|ip| ip.to_string()).unwrap_or_default(),
        outgoing_interface: if p.sw_if_index == NONE || kind == RouteType::Drop {
            String::new()
        } else {
            names.get(&p.sw_if_index).cloned().unwrap_or_default()
        },
        weight: u32::from(p.weight),
        preference: u32::from(p.preference),
        via_vrf_id: via,
    };
    (m, vpp_made)
}

impl Descriptor for RouteDescriptor {
    fn name(&self) -> &str {
        ROUTE
    }

    fn key_selector(&self, key: &Key) -> bool {
        key.has_prefix(ROUTE_PREFIX)
    }

    fn nb_key_prefix(&self) -> Option<&str> {
        Some(ROUTE_PREFIX)
    }

    fn validate(&self, _key: &Key, value: &Value) -> Result<(), KvError> {
        let r = model::<RouteModel>(value, "route")?;
        let net = dst(r)?;
        if let Some(nh) = next_hop(r)?
            && nh.is_ipv6() != net.is_ipv6()
        {
            return Err(KvError::invalid(
                "next hop and destination differ in family",
                &["next_hop_addr"],
            ));
        }
        if RouteType::try_from(r.r#type).is_err() {
            return Err(KvError::invalid("unknown route type", &["type"]));
        }
        Ok(())
    }

    fn equivalent(&self, _key: &Key, old: &Value, new: &Value) -> bool {
        match (
            messages::value::downcast::<RouteModel>(&**old),
            messages::value::downcast::<RouteModel>(&**new),
        ) {
            (Some(a), Some(b)) => normalized(a) == normalized(b),
            _ => old.eq_value(&**new),
        }
    }

    fn dependencies(&self, _key: &Key, value: &Value) -> Vec<Dependency> {
        let Some(r) = messages::value::downcast::<RouteModel>(&**value) else {
            return Vec::new();
        };
        let v6 = dst(r).map(|n| n.is_ipv6()).unwrap_or(false);
        let mut deps = Vec::new();
        if !r.outgoing_interface.is_empty() {
            deps.push(Dependency::on_key(
                "interface-exists",
                interface_key(&r.outgoing_interface),
            ));
        }
        if r.vrf_id != 0 {
            deps.push(Dependency::on_key(
                "vrf-table-exists",
                vrf_table_key(r.vrf_id, v6),
            ));
        }
        if route_type(r) == RouteType::InterVrf && r.via_vrf_id != 0 {
            deps.push(Dependency::on_key(
                "via-vrf-table-exists",
                vrf_table_key(r.via_vrf_id, v6),
            ));
        }
        deps
    }

    fn create(
        &self,
        md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        let r = model::<RouteModel>(value, "route")?;
        let spec = self.spec(md, r)?;
        self.api.get().add_del_route(&spec, true)?;
        Ok(None)
    }

    fn delete(
        &self,
        md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        let r = model::<RouteModel>(value, "route")?;
        let spec = self.spec(md, r)?;
        self.api.get().add_del_route(&spec, false)?;
        Ok(())
    }

    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        let api = self.api.get();
        let details = api.dump_interfaces()?;
        let names = interface_names(&self.api)?;
        let mut own: HashSet<(u32, IpAddr, u8)> = HashSet::new();
        for d in details.iter().filter(|d| d.sw_if_index != 0) {
            for v6 in [false, true] {
                for a in api.dump_addresses(d.sw_if_index, v6)? {
                    own.insert((d.sw_if_index, a.network(), a.len));
                }
            }
        }
        let expected: HashMap<String, &Key> = correlate
            .iter()
            .filter_map(|(k, v)| {
                let r = messages::value::downcast::<RouteModel>(&**v)?;
                Some((route_key(&normalized(r)).to_string(), k))
            })
            .collect();
        let mut out = Vec::new();
        for t in api.dump_ip_tables()? {
            for r in api.dump_routes(t.table_id, t.is_ipv6)? {
                for p in &r.paths {
                    let (m, vpp_made) = to_model(&r, p, &names, &own);
                    let canonical = route_key(&normalized(&m));
                    let key = match expected.get(canonical.as_str()) {
                        Some(k) => (*k).clone(),
                        None => canonical,
                    };
                    out.push(Retrieved {
                        key,
                        value: Arc::new(m),
                        metadata: None,
                        origin: if vpp_made {
                            Origin::FromSb
                        } else {
                            Origin::FromNb
                        },
                    });
                }
            }
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_equivalence_follow_ligato() {
        let r = RouteModel {
            vrf_id: 0,
            dst_network: "10.10.0.5/24".into(),
            next_hop_addr: "0.0.0.0".into(),
            ..Default::default()
        };
        assert_eq!(
            route_key(&r).as_str(),
            "config/vpp/v2/route/vrf/0/dst/10.10.0.0/24/gw/0.0.0.0"
        );
        let n = normalized(&r);
        assert_eq!(n.dst_network, "10.10.0.0/24");
        assert_eq!(n.next_hop_addr, "");
        assert_eq!(n.weight, 1);
        let mut other = r.clone();
        other.next_hop_addr.clear();
        other.weight = 1;
        assert_eq!(normalized(&other), n);
    }
}
