//! `linux-route`: static routes of the main table (`config/linux/l3/v2/route/...`) in the
//! namespace of their outgoing interface, with gateway, metric and scope.
//!
//! Dependencies (Ligato's labels): `outgoing-interface-is-up` -> `linux/interface/state/<if>/UP`;
//! a route with a gateway also needs `gw-reachable`: an address of the outgoing interface
//! whose subnet holds the gateway; a route without one, unless its scope is LINK or HOST,
//! needs `outgoing-interface-has-ip-address`.
//!
//! Retrieve reports the desired routes that are present (matched by destination, interface
//! and metric), so a route removed by hand is seen as missing and put back by a resync, and
//! the other static routes on interfaces the agent created (so a restarted agent removes the
//! ones no longer configured). Routes on other interfaces, or added with another protocol
//! (`ip route add` uses `boot`), are left alone.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use kvscheduler::{
    Dependency, Descriptor, KeySelector, KvError, Metadata, MetadataView, Origin, Retrieved,
};
use messages::proto::linux_l3::Route as RouteModel;
use messages::proto::linux_l3::route::Scope as ModelScope;
use messages::value::downcast;
use messages::{Key, Value};

use super::{
    NsDumps, ROUTE_DESCRIPTOR, ROUTE_PREFIX, interface_address_prefix, interface_state_key,
    parse_address_key,
};
use crate::error::LinuxError;
use crate::index::{IfIndex, IfKind};
use crate::netlink::Netlink;
use crate::netlink::types::{IpNet, PROTO_STATIC, Route, RouteSpec, Scope, kernel_metric};
use crate::ns::NsRef;

/// The `linux-route` descriptor.
pub struct RouteDescriptor {
    pub(crate) nl: Netlink,
    pub(crate) index: IfIndex,
}

impl fmt::Debug for RouteDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteDescriptor").finish_non_exhaustive()
    }
}

/// A route model value, checked and parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Parsed {
    interface: String,
    dst: IpNet,
    gateway: Option<IpAddr>,
    metric: u32,
    scope: Option<Scope>,
}

fn item(r: &RouteModel) -> String {
    format!("route {} via {}", r.dst_network, r.outgoing_interface)
}

fn parse(value: &Value) -> Result<Parsed, KvError> {
    let r = downcast::<RouteModel>(&**value).ok_or_else(|| {
        KvError::invalid(
            format!("expected ligato.linux.l3.Route, got {}", value.type_name()),
            &[],
        )
    })?;
    Ok(parse_model(r)?)
}

fn parse_model(r: &RouteModel) -> Result<Parsed, LinuxError> {
    if r.outgoing_interface.is_empty() {
        return Err(LinuxError::invalid(
            item(r),
            "outgoing_interface",
            "",
            "a Linux route needs its outgoing interface",
        ));
    }
    let dst: IpNet = r
        .dst_network
        .parse()
        .map_err(|e| LinuxError::invalid(item(r), "dst_network", &r.dst_network, format!("{e}")))?;
    let gateway = if r.gw_addr.is_empty() {
        None
    } else {
        let gw: IpAddr = r.gw_addr.parse().map_err(|_| {
            LinuxError::invalid(item(r), "gw_addr", &r.gw_addr, "not an IP address")
        })?;
        if gw.is_ipv4() != dst.is_ipv4() {
            return Err(LinuxError::invalid(
                item(r),
                "gw_addr",
                &r.gw_addr,
                "the gateway and the destination are of different IP versions",
            ));
        }
        (!gw.is_unspecified()).then_some(gw)
    };
    let scope = match ModelScope::try_from(r.scope).unwrap_or(ModelScope::Undefined) {
        ModelScope::Undefined => None,
        ModelScope::Global => Some(Scope::Universe),
        ModelScope::Site => Some(Scope::Site),
        ModelScope::Link => Some(Scope::Link),
        ModelScope::Host => Some(Scope::Host),
    };
    Ok(Parsed {
        interface: r.outgoing_interface.clone(),
        dst: dst.trunc(),
        gateway,
        metric: r.metric,
        scope,
    })
}

fn model_scope(s: Scope) -> ModelScope {
    match s {
        Scope::Universe => ModelScope::Global,
        Scope::Site => ModelScope::Site,
        Scope::Link => ModelScope::Link,
        Scope::Host => ModelScope::Host,
        Scope::Other(_) => ModelScope::Undefined,
    }
}

impl Parsed {
    fn spec(&self, host: &str) -> RouteSpec {
        RouteSpec {
            dst: self.dst,
            gateway: self.gateway,
            interface: host.to_owned(),
            metric: self.metric,
            scope: self.scope.unwrap_or(Scope::Universe),
        }
    }

    /// Does the kernel route `r` (on link `oif`) implement this one?
    fn matches(&self, r: &Route, oif: u32) -> bool {
        r.dst == self.dst && r.oif == Some(oif) && r.metric == kernel_metric(&self.dst, self.metric)
    }
}

/// The model value of kernel route `found`, named as `m` names it; `metric` is reported as
/// desired when it matched in the kernel's form (IPv6 turns 0 into 1024).
fn observed(found: &Route, m: &RouteModel, metric: u32) -> RouteModel {
    RouteModel {
        outgoing_interface: m.outgoing_interface.clone(),
        scope: model_scope(found.scope) as i32,
        dst_network: m.dst_network.clone(),
        gw_addr: found.gateway.map(|g| g.to_string()).unwrap_or_default(),
        metric,
    }
}

impl RouteDescriptor {
    pub fn new(nl: Netlink, index: IfIndex) -> Self {
        RouteDescriptor { nl, index }
    }
}

impl Descriptor for RouteDescriptor {
    fn name(&self) -> &str {
        ROUTE_DESCRIPTOR
    }

    fn key_selector(&self, key: &Key) -> bool {
        key.as_str().starts_with(ROUTE_PREFIX)
    }

    fn nb_key_prefix(&self) -> Option<&str> {
        Some(ROUTE_PREFIX)
    }

    fn validate(&self, _key: &Key, value: &Value) -> Result<(), KvError> {
        parse(value).map(|_| ())
    }

    fn equivalent(&self, _key: &Key, old: &Value, new: &Value) -> bool {
        match (parse(old), parse(new)) {
            (Ok(a), Ok(b)) => {
                a.interface == b.interface
                    && a.dst == b.dst
                    && a.gateway == b.gateway
                    && a.metric == b.metric
                    && (b.scope.is_none() || a.scope == b.scope)
            }
            _ => old.eq_value(&**new),
        }
    }

    fn dependencies(&self, _key: &Key, value: &Value) -> Vec<Dependency> {
        let Ok(p) = parse(value) else {
            return Vec::new();
        };
        let mut deps = vec![Dependency::on_key(
            "outgoing-interface-is-up",
            interface_state_key(&p.interface, true),
        )];
        let prefix = interface_address_prefix(&p.interface);
        if let Some(gw) = p.gateway {
            let selector: KeySelector = Arc::new(move |k: &Key| {
                parse_address_key(k.as_str())
                    .and_then(|(_, _, a)| a.parse::<IpNet>().ok())
                    .is_some_and(|net| net.contains(gw))
            });
            deps.push(Dependency::any_of(
                "gw-reachable",
                vec![prefix],
                Some(selector),
            ));
        } else if !matches!(p.scope, Some(Scope::Link | Scope::Host)) {
            deps.push(Dependency::any_of_prefix(
                "outgoing-interface-has-ip-address",
                prefix,
            ));
        }
        deps
    }

    fn create(
        &self,
        _md: &MetadataView<'_>,
        key: &Key,
        value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        let p = parse(value)?;
        tracing::debug!(key = %key, "Adding a Linux route.");
        let meta = self
            .index
            .get(&p.interface)
            .ok_or_else(|| LinuxError::UnknownInterface {
                name: p.interface.clone(),
            })?;
        self.nl.add_route(&meta.ns, p.spec(&meta.host_name))?;
        Ok(None)
    }

    fn delete(
        &self,
        _md: &MetadataView<'_>,
        key: &Key,
        value: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        let p = parse(value)?;
        tracing::debug!(key = %key, "Deleting a Linux route.");
        let Some(meta) = self.index.get(&p.interface) else {
            return Ok(());
        };
        match self.nl.del_route(&meta.ns, p.spec(&meta.host_name)) {
            Err(e) if !e.is_gone() => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// The desired routes that are present, plus every other static route on an interface
    /// the agent created (an unwanted one is then removed). Routes on EXISTING interfaces
    /// that were not asked for, and routes someone added with another protocol, are not
    /// the agent's and are not reported.
    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        let wanted: Vec<(Parsed, &Key, &RouteModel)> = correlate
            .iter()
            .filter_map(|(k, v)| {
                let m = downcast::<RouteModel>(&**v)?;
                Some((parse_model(m).ok()?, k, m))
            })
            .collect();
        let mut dumps: NsDumps<Route> = NsDumps::new();
        let mut out = Vec::new();
        for meta in self.index.all() {
            let read = |ns: &NsRef| Ok((self.nl.links(ns)?, self.nl.routes(ns)?));
            let Some((links, routes)) = dumps.get(&meta.ns, read)? else {
                continue;
            };
            let Some(link) = links.iter().find(|l| l.name == meta.host_name) else {
                continue;
            };
            let owned = meta.kind != IfKind::Existing;
            for found in routes.iter().filter(|r| r.oif == Some(link.index)) {
                let desired = wanted
                    .iter()
                    .find(|(p, _, _)| p.interface == meta.name && p.matches(found, link.index));
                let (key, seen) = match desired {
                    Some((p, key, m)) => ((*key).clone(), observed(found, m, p.metric)),
                    None if owned && found.protocol == PROTO_STATIC => {
                        let m = RouteModel {
                            outgoing_interface: meta.name.clone(),
                            dst_network: found.dst.to_string(),
                            ..RouteModel::default()
                        };
                        let seen = observed(found, &m, found.metric);
                        let Ok(key) = messages::registry::builtin().key_of(&seen) else {
                            continue;
                        };
                        (key, seen)
                    }
                    None => continue,
                };
                out.push(Retrieved {
                    key,
                    value: Arc::new(seen),
                    metadata: None,
                    origin: Origin::FromNb,
                });
            }
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(dst: &str, gw: &str) -> Value {
        Arc::new(RouteModel {
            outgoing_interface: "veth1".into(),
            dst_network: dst.into(),
            gw_addr: gw.into(),
            ..Default::default()
        })
    }

    fn descriptor() -> RouteDescriptor {
        RouteDescriptor::new(Netlink::default(), IfIndex::default())
    }

    #[test]
    fn gateway_route_needs_a_matching_address() {
        let d = descriptor();
        let k = Key::from("config/linux/l3/v2/route/10.1.0.0/24/veth1");
        let deps = d.dependencies(&k, &route("10.1.0.0/24", "10.0.0.2"));
        assert_eq!(deps.len(), 2);
        assert_eq!(deps[0].label, "outgoing-interface-is-up");
        assert!(
            deps[0]
                .target
                .matches(&Key::from("linux/interface/state/veth1/UP"))
        );
        assert_eq!(deps[1].label, "gw-reachable");
        let t = &deps[1].target;
        assert!(t.matches(&Key::from(
            "linux/interface/veth1/address/static/10.0.0.1/24"
        )));
        assert!(!t.matches(&Key::from(
            "linux/interface/veth1/address/static/10.9.0.1/24"
        )));
        assert!(!t.matches(&Key::from(
            "linux/interface/veth2/address/static/10.0.0.1/24"
        )));
    }

    #[test]
    fn validation_and_equivalence() {
        let d = descriptor();
        let k = Key::from("k");
        assert!(d.validate(&k, &route("10.1.0.0/24", "")).is_ok());
        assert!(d.validate(&k, &route("10.1.0.0/24", "fd00::1")).is_err());
        assert!(d.validate(&k, &route("nonsense", "")).is_err());
        assert!(d.equivalent(&k, &route("10.1.0.0/24", ""), &route("10.1.0.7/24", "")));
        assert!(!d.equivalent(
            &k,
            &route("10.1.0.0/24", ""),
            &route("10.1.0.0/24", "10.0.0.2")
        ));
    }
}
