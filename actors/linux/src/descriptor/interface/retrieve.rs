//! Retrieve for `linux-interface`: reads links and addresses from netlink in every namespace
//! that matters (the default one, those of the desired values, those of interfaces already
//! configured, every named namespace) and rebuilds model values for the interfaces the agent created (recognised by
//! their alias) and for desired EXISTING interfaces. It also refreshes the plugin's
//! interface index, so that the address, route and ARP descriptors, retrieved after this
//! one, know where each interface lives.
//!
//! Interfaces nobody asked the agent for are not reported, so a resync never removes them.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use kvscheduler::{Origin, Retrieved};
use messages::{Key, Value};

use super::InterfaceDescriptor;
use super::spec::{IfSpec, Observed, is_link_local, parse_alias};
use crate::descriptor::interface_key;
use crate::error::LinuxError;
use crate::index::{IfKind, LinuxIfMeta};
use crate::netlink::types::{IpNet, LinkKind};
use crate::ns::{NsRef, named_namespaces};

pub(super) fn retrieve(
    d: &InterfaceDescriptor,
    correlate: &[(Key, Value)],
) -> Result<Vec<Retrieved>, LinuxError> {
    let desired: BTreeMap<String, IfSpec> = correlate
        .iter()
        .filter_map(|(_, v)| super::spec_of(v).ok())
        .map(|s| (s.name.clone(), s))
        .collect();
    let mut namespaces: BTreeSet<NsRef> = BTreeSet::from([NsRef::Default]);
    namespaces.extend(desired.values().map(|s| s.ns.clone()));
    namespaces.extend(d.index.namespaces());
    // After a restart nothing is correlated yet: look for the agent's interfaces in every
    // named namespace too (PID and FD namespaces cannot be listed).
    namespaces.extend(named_namespaces().into_iter().map(NsRef::Named));

    let mut out = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for ns in namespaces {
        let links = match d.nl.links(&ns) {
            Ok(l) => l,
            Err(LinuxError::NamespaceNotFound { .. }) => continue,
            Err(e) => return Err(e),
        };
        // A namespace may vanish between the two reads (a container stopping): skip it, as
        // if it had not been listed.
        let addrs = match d.nl.addresses(&ns) {
            Ok(a) => a,
            Err(LinuxError::NamespaceNotFound { .. }) => continue,
            Err(e) => return Err(e),
        };
        for link in &links {
            let agent = link
                .alias
                .as_deref()
                .and_then(|a| parse_alias(a, &d.label))
                .and_then(|(name, linkref)| {
                    let kind = match link.kind {
                        LinkKind::Veth => IfKind::Veth {
                            peer: linkref.to_owned(),
                        },
                        LinkKind::Tun => IfKind::TapToVpp {
                            vpp_tap: linkref.to_owned(),
                        },
                        _ => return None,
                    };
                    Some((name.to_owned(), kind))
                });
            let existing = || {
                desired
                    .values()
                    .find(|s| s.kind == IfKind::Existing && s.host == link.name && s.ns == ns)
                    .map(|s| (s.name.clone(), IfKind::Existing))
            };
            let Some((name, kind)) = agent.or_else(existing) else {
                continue;
            };
            if !seen.insert(name.clone()) {
                continue;
            }
            let want = desired.get(&name);
            let on_link: Vec<_> = addrs
                .iter()
                .filter(|a| a.index == link.index && !is_link_local(&a.net))
                .map(|a| a.net)
                .collect();
            // The agent owns every address of an interface it created; of an EXISTING
            // one, only those it was asked for. Desired addresses keep their configured text.
            let text = |n: &IpNet| {
                want.and_then(|w| w.addrs.iter().find(|(d, _)| d == n))
                    .map_or_else(|| n.to_string(), |(_, t)| t.clone())
            };
            let owned = kind != IfKind::Existing;
            let addr_texts: Vec<String> = on_link
                .iter()
                .filter(|n| owned || want.is_some_and(|w| w.addrs.iter().any(|(d, _)| d == *n)))
                .map(text)
                .collect();
            let value = Observed {
                name: &name,
                kind: &kind,
                host: &link.name,
                ns: &ns,
                up: link.up,
                mac: link.mac,
                mtu: link.mtu,
                addrs: addr_texts,
                link_only: want.is_some_and(|w| w.link_only),
            }
            .to_model();
            let meta = LinuxIfMeta {
                name: name.clone(),
                host_name: link.name.clone(),
                ns: ns.clone(),
                kind,
            };
            d.index.insert(meta.clone());
            out.push(Retrieved {
                key: interface_key(&name),
                value: Arc::new(value),
                metadata: Some(Arc::new(meta)),
                origin: Origin::FromNb,
            });
        }
    }
    for stale in d
        .index
        .all()
        .into_iter()
        .filter(|m| !seen.contains(&m.name))
    {
        d.index.remove(&stale.name);
    }
    Ok(out)
}
