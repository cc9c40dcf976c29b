//! `linux-interface`: Linux interfaces of type VETH (one value per end), TAP_TO_VPP (the
//! Linux side of a VPP TAP) and EXISTING, moved to their namespace and configured (host
//! name, MAC, MTU, admin state) through the netlink layer. Addresses are derived values
//! (`address.rs`); the state key `linux/interface/state/<if>/<UP|DOWN>` is a derived property.
//!
//! Dependencies (labels as in Ligato):
//! - VETH: each end depends on its peer (`veth-peer-exists` -> the peer's key), a cycle the
//!   scheduler resolves as Ligato's does: nothing happens until both ends are desired, then
//!   the first end's create makes the pair with the peer parked (down, under a temporary
//!   name) in the peer's namespace, and the peer's create names and configures it. Deleting
//!   either end deletes the pair; the scheduler takes the other end down to PENDING first.
//! - TAP_TO_VPP: `vpp-tap-interface-exists` -> `config/vpp/v2/interfaces/<vpp_tap_if_name>`.
//! - EXISTING in the default namespace: `host-interface-exists` ->
//!   `linux/interface/host-name/<host_if_name>` (elsewhere, a missing link fails retriably).
//! - a namespace other than the default: `namespace-exists` -> `linux/namespace/<TYPE>/<ref>`
//!   (`microservice-available` -> `linux/microservice/<label>` for MICROSERVICE).
//!
//! Interfaces the agent creates carry the alias `vpp-agent/<label>/<name>/<peer or tap>`;
//! retrieve reports only those (and desired EXISTING ones), so interfaces someone else
//! made are never touched. This file does not touch addresses, routes or ARP entries.

mod retrieve;
pub mod spec;

use std::fmt;
use std::sync::Arc;

use kvscheduler::{Dependency, Descriptor, KvError, Metadata, MetadataView, Retrieved};
use messages::proto::Empty;
use messages::proto::linux_interfaces::Interface;
use messages::value::downcast;
use messages::{Key, Value};

use super::{
    INTERFACE_DESCRIPTOR, INTERFACE_PREFIX, host_name_key, interface_address_key, interface_key,
    interface_state_key, vpp_interface_key,
};
use crate::error::LinuxError;
use crate::index::{IfIndex, IfKind};
use crate::netlink::Netlink;
use crate::netlink::types::LinkChange;
use crate::ns::{NsRef, WatchedNamespaces};
use spec::{IfSpec, parked_name};

/// Finds the host name VPP gave the TAP interface `vpp_tap` (its `tap.host_if_name`), from
/// the VPP side's metadata. The agent wires this to the VPP interface descriptor.
pub trait VppTapNames: Send + Sync {
    fn host_name(&self, md: &MetadataView<'_>, vpp_tap: &str) -> Option<String>;
}

impl<F> VppTapNames for F
where
    F: Fn(&MetadataView<'_>, &str) -> Option<String> + Send + Sync,
{
    fn host_name(&self, md: &MetadataView<'_>, vpp_tap: &str) -> Option<String> {
        self(md, vpp_tap)
    }
}

/// The `linux-interface` descriptor.
pub struct InterfaceDescriptor {
    pub(crate) nl: Netlink,
    pub(crate) index: IfIndex,
    pub(crate) watched: WatchedNamespaces,
    pub(crate) label: String,
    pub(crate) tap_names: Arc<dyn VppTapNames>,
}

impl fmt::Debug for InterfaceDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InterfaceDescriptor")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

fn model(value: &Value) -> Result<&Interface, KvError> {
    downcast::<Interface>(&**value).ok_or_else(|| {
        KvError::invalid(
            format!(
                "expected ligato.linux.interfaces.Interface, got {}",
                value.type_name()
            ),
            &[],
        )
    })
}

fn spec_of(value: &Value) -> Result<IfSpec, KvError> {
    Ok(IfSpec::parse(model(value)?)?)
}

impl InterfaceDescriptor {
    pub fn new(
        nl: Netlink,
        index: IfIndex,
        watched: WatchedNamespaces,
        label: impl Into<String>,
        tap_names: Arc<dyn VppTapNames>,
    ) -> Self {
        InterfaceDescriptor {
            nl,
            index,
            watched,
            label: label.into(),
            tap_names,
        }
    }

    /// Name, MAC, MTU, alias and admin state of an interface already in its namespace.
    fn configure(&self, s: &IfSpec, current_name: &str) -> Result<(), LinuxError> {
        let change = LinkChange {
            name: (current_name != s.host).then(|| s.host.clone()),
            mac: s.mac,
            mtu: s.mtu,
            up: Some(s.enabled),
            alias: s.alias(&self.label),
        };
        self.nl.set_link(&s.ns, current_name, change)
    }

    fn exists(&self, ns: &NsRef, name: &str) -> Result<bool, LinuxError> {
        Ok(self.nl.link(ns, name)?.is_some())
    }

    /// Creates the veth end `s`. Both ends are desired (the scheduler creates a dependency
    /// cycle only then): the first end's create makes the pair, with the peer parked under
    /// a temporary name directly in the peer's namespace; the peer's create finds it there,
    /// names and configures it.
    fn create_veth(&self, md: &MetadataView<'_>, s: &IfSpec, peer: &str) -> Result<(), LinuxError> {
        if self.exists(&s.ns, &s.host)? {
            return self.configure(s, &s.host);
        }
        let parked = parked_name(&s.name);
        if self.exists(&s.ns, &parked)? {
            return self.configure(s, &parked);
        }
        // Parked elsewhere (its namespace was not known when the peer was created).
        if let Some(p) = self.index.get(peer)
            && p.ns != s.ns
            && self.exists(&p.ns, &parked)?
        {
            self.nl.move_link(&p.ns, &parked, &s.ns)?;
            return self.configure(s, &parked);
        }
        let peer_ns = md
            .desired(&interface_key(peer))
            .and_then(|v| spec_of(v).ok())
            .map_or_else(|| s.ns.clone(), |p| p.ns);
        self.nl
            .create_veth(&s.ns, &s.host, &parked_name(peer), &peer_ns)?;
        self.configure(s, &s.host)
    }

    fn create_tap(
        &self,
        md: &MetadataView<'_>,
        s: &IfSpec,
        vpp_tap: &str,
    ) -> Result<(), LinuxError> {
        if self.exists(&s.ns, &s.host)? {
            return self.configure(s, &s.host);
        }
        let vpp_name = self
            .tap_names
            .host_name(md, vpp_tap)
            .unwrap_or_else(|| s.host.clone());
        if self.nl.link(&NsRef::Default, &vpp_name)?.is_none() {
            return Err(LinuxError::LinkNotFound {
                name: vpp_name,
                ns: NsRef::Default,
            });
        }
        if s.ns != NsRef::Default {
            self.nl.move_link(&NsRef::Default, &vpp_name, &s.ns)?;
        }
        self.configure(s, &vpp_name)
    }

    fn create_existing(&self, s: &IfSpec) -> Result<(), LinuxError> {
        if !self.exists(&s.ns, &s.host)? {
            return Err(LinuxError::LinkNotFound {
                name: s.host.clone(),
                ns: s.ns.clone(),
            });
        }
        self.nl.set_link(
            &s.ns,
            &s.host,
            LinkChange {
                mac: s.mac,
                mtu: s.mtu,
                up: Some(s.enabled),
                ..LinkChange::default()
            },
        )
    }

    fn delete_spec(&self, md: &MetadataView<'_>, s: &IfSpec) -> Result<(), LinuxError> {
        match &s.kind {
            // The kernel takes the peer with it; the scheduler has taken the peer's value
            // down first (it depends on this one), so its delete finds nothing.
            IfKind::Veth { .. } => self.nl.delete_link(&s.ns, &s.host),
            IfKind::TapToVpp { vpp_tap } => {
                // Hand the TAP back to VPP as VPP made it: down, under VPP's name, in the
                // default namespace, without the agent's alias.
                let vpp_name = self
                    .tap_names
                    .host_name(md, vpp_tap)
                    .unwrap_or_else(|| s.host.clone());
                self.nl.set_link(
                    &s.ns,
                    &s.host,
                    LinkChange {
                        name: (vpp_name != s.host).then(|| vpp_name.clone()),
                        up: Some(false),
                        alias: Some(String::new()),
                        ..LinkChange::default()
                    },
                )?;
                self.nl.move_link(&s.ns, &vpp_name, &NsRef::Default)
            }
            IfKind::Existing => Ok(()),
        }
    }
}

impl Descriptor for InterfaceDescriptor {
    fn name(&self) -> &str {
        INTERFACE_DESCRIPTOR
    }

    fn key_selector(&self, key: &Key) -> bool {
        key.as_str().starts_with(INTERFACE_PREFIX)
    }

    fn nb_key_prefix(&self) -> Option<&str> {
        Some(INTERFACE_PREFIX)
    }

    fn validate(&self, key: &Key, value: &Value) -> Result<(), KvError> {
        let s = spec_of(value)?;
        if interface_key(&s.name) != *key {
            return Err(KvError::invalid(
                format!("interface {} does not belong under key {key}", s.name),
                &["name"],
            ));
        }
        self.watched.add(&s.ns);
        Ok(())
    }

    fn equivalent(&self, _key: &Key, old: &Value, new: &Value) -> bool {
        match (spec_of(old), spec_of(new)) {
            (Ok(a), Ok(b)) => IfSpec::equivalent(&a, &b),
            _ => old.eq_value(&**new),
        }
    }

    fn dependencies(&self, _key: &Key, value: &Value) -> Vec<Dependency> {
        let Ok(s) = spec_of(value) else {
            return Vec::new();
        };
        let mut deps = Vec::new();
        match &s.kind {
            // A cycle: each end needs the other; the scheduler creates them together.
            IfKind::Veth { peer } => {
                deps.push(Dependency::on_key("veth-peer-exists", interface_key(peer)));
            }
            IfKind::TapToVpp { vpp_tap } => deps.push(Dependency::on_key(
                "vpp-tap-interface-exists",
                vpp_interface_key(vpp_tap),
            )),
            IfKind::Existing if s.ns == NsRef::Default => deps.push(Dependency::on_key(
                "host-interface-exists",
                host_name_key(&s.host),
            )),
            _ => {}
        }
        if let Some(ns_key) = s.ns.key() {
            self.watched.add(&s.ns);
            let label = match s.ns {
                NsRef::Microservice(_) => "microservice-available",
                _ => "namespace-exists",
            };
            deps.push(Dependency::on_key(label, ns_key));
        }
        deps
    }

    fn derived_values(&self, _key: &Key, value: &Value) -> Vec<(Key, Value)> {
        let Ok(s) = spec_of(value) else {
            return Vec::new();
        };
        let empty: Value = Arc::new(Empty {});
        let mut out = vec![(interface_state_key(&s.name, s.enabled), empty.clone())];
        if !s.link_only {
            for (_, text) in &s.addrs {
                out.push((interface_address_key(&s.name, text), empty.clone()));
            }
        }
        out
    }

    fn can_update(&self) -> bool {
        true
    }

    fn needs_recreate(
        &self,
        _key: &Key,
        old: &Value,
        new: &Value,
        _metadata: Option<&Metadata>,
    ) -> bool {
        match (spec_of(old), spec_of(new)) {
            (Ok(a), Ok(b)) => a.kind != b.kind || a.host != b.host || a.ns != b.ns,
            _ => true,
        }
    }

    fn create(
        &self,
        md: &MetadataView<'_>,
        key: &Key,
        value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        let s = spec_of(value)?;
        tracing::debug!(key = %key, namespace = %s.ns, host = %s.host, "Creating a Linux interface.");
        match &s.kind {
            IfKind::Veth { peer } => self.create_veth(md, &s, peer)?,
            IfKind::TapToVpp { vpp_tap } => self.create_tap(md, &s, vpp_tap)?,
            IfKind::Existing => self.create_existing(&s)?,
        }
        let meta = s.meta();
        self.index.insert(meta.clone());
        Ok(Some(Arc::new(meta)))
    }

    fn update(
        &self,
        _md: &MetadataView<'_>,
        key: &Key,
        old: &Value,
        new: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<Option<Metadata>, KvError> {
        let (a, b) = (spec_of(old)?, spec_of(new)?);
        tracing::debug!(key = %key, namespace = %b.ns, host = %b.host, "Updating a Linux interface.");
        let change = LinkChange {
            mac: b.mac.filter(|m| a.mac != Some(*m)),
            mtu: b.mtu.filter(|m| a.mtu != Some(*m)),
            up: (a.enabled != b.enabled).then_some(b.enabled),
            ..LinkChange::default()
        };
        if change != LinkChange::default() {
            self.nl.set_link(&b.ns, &b.host, change)?;
        }
        let meta = b.meta();
        self.index.insert(meta.clone());
        Ok(Some(Arc::new(meta)))
    }

    fn delete(
        &self,
        md: &MetadataView<'_>,
        key: &Key,
        value: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        let s = spec_of(value)?;
        tracing::debug!(key = %key, namespace = %s.ns, host = %s.host, "Deleting a Linux interface.");
        let res = self.delete_spec(md, &s);
        self.index.remove(&s.name);
        match res {
            Err(e) if !e.is_gone() => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        Ok(Some(retrieve::retrieve(self, correlate)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use messages::proto::ligato::linux::namespace::{NetNamespace, net_namespace::ReferenceType};
    use messages::proto::linux_interfaces::interface::{Link as IfLink, Type};
    use messages::proto::linux_interfaces::{TapLink, VethLink};

    fn descriptor() -> InterfaceDescriptor {
        let none = |_: &MetadataView<'_>, _: &str| None;
        InterfaceDescriptor::new(
            Netlink::default(),
            IfIndex::default(),
            WatchedNamespaces::default(),
            "vpp1",
            Arc::new(none),
        )
    }

    fn value(v: Interface) -> Value {
        Arc::new(v)
    }

    fn deps(d: &InterfaceDescriptor, v: Interface) -> Vec<(String, String)> {
        let key = interface_key(&v.name);
        d.dependencies(&key, &value(v))
            .into_iter()
            .map(|d| (d.label, format!("{:?}", d.target)))
            .collect()
    }

    fn veth(name: &str, peer: &str, ns: Option<(ReferenceType, &str)>) -> Interface {
        Interface {
            name: name.into(),
            r#type: Type::Veth as i32,
            namespace: ns.map(|(t, r)| NetNamespace {
                r#type: t as i32,
                reference: r.into(),
            }),
            enabled: true,
            ip_addresses: vec!["10.0.0.1/24".into(), "fd00::1/64".into()],
            link: Some(IfLink::Veth(VethLink {
                peer_if_name: peer.into(),
                ..Default::default()
            })),
            ..Default::default()
        }
    }

    #[test]
    fn dependencies_as_ligato_labels_them() {
        let d = descriptor();
        assert_eq!(
            deps(&d, veth("a", "b", None)),
            vec![(
                "veth-peer-exists".into(),
                "config/linux/interfaces/v2/interface/b".into()
            )],
            "each end waits for the other"
        );
        assert_eq!(
            deps(&d, veth("b", "a", Some((ReferenceType::Nsid, "blue")))),
            vec![
                (
                    "veth-peer-exists".into(),
                    "config/linux/interfaces/v2/interface/a".into()
                ),
                (
                    "namespace-exists".into(),
                    "linux/namespace/NSID/blue".into()
                ),
            ]
        );
        assert_eq!(
            deps(
                &d,
                veth("a", "b", Some((ReferenceType::Microservice, "ms1")))
            ),
            vec![
                (
                    "veth-peer-exists".into(),
                    "config/linux/interfaces/v2/interface/b".into()
                ),
                (
                    "microservice-available".into(),
                    "linux/microservice/ms1".into()
                )
            ]
        );
        let tap = Interface {
            name: "t".into(),
            r#type: Type::TapToVpp as i32,
            link: Some(IfLink::Tap(TapLink {
                vpp_tap_if_name: "tap1".into(),
            })),
            ..Default::default()
        };
        assert_eq!(
            deps(&d, tap),
            vec![(
                "vpp-tap-interface-exists".into(),
                "config/vpp/v2/interfaces/tap1".into()
            )]
        );
        let existing = Interface {
            name: "e".into(),
            r#type: Type::Existing as i32,
            host_if_name: "eth7".into(),
            ..Default::default()
        };
        assert_eq!(
            deps(&d, existing),
            vec![(
                "host-interface-exists".into(),
                "linux/interface/host-name/eth7".into()
            )]
        );
        let watched = d.watched.snapshot();
        assert!(watched.contains(&NsRef::Named("blue".into())));
        assert!(watched.contains(&NsRef::Microservice("ms1".into())));
    }

    #[test]
    fn derived_values_are_the_state_and_one_key_per_address() {
        let d = descriptor();
        let v = veth("a", "b", None);
        let keys: Vec<String> = d
            .derived_values(&interface_key("a"), &value(v.clone()))
            .into_iter()
            .map(|(k, _)| k.to_string())
            .collect();
        assert_eq!(
            keys,
            vec![
                "linux/interface/state/a/UP",
                "linux/interface/a/address/static/10.0.0.1/24",
                "linux/interface/a/address/static/fd00::1/64",
            ]
        );
        let down = Interface {
            enabled: false,
            link_only: true,
            ..v
        };
        let keys: Vec<String> = d
            .derived_values(&interface_key("a"), &value(down))
            .into_iter()
            .map(|(k, _)| k.to_string())
            .collect();
        assert_eq!(keys, vec!["linux/interface/state/a/DOWN"]);
    }

    #[test]
    fn recreate_only_for_identity_changes() {
        let d = descriptor();
        let k = interface_key("a");
        let base = veth("a", "b", None);
        let mtu = Interface {
            mtu: 1400,
            ..base.clone()
        };
        assert!(!d.needs_recreate(&k, &value(base.clone()), &value(mtu), None));
        let moved = veth("a", "b", Some((ReferenceType::Nsid, "blue")));
        assert!(d.needs_recreate(&k, &value(base.clone()), &value(moved), None));
        let renamed = Interface {
            host_if_name: "other".into(),
            ..base.clone()
        };
        assert!(d.needs_recreate(&k, &value(base), &value(renamed), None));
        assert!(
            d.validate(&interface_key("x"), &value(veth("a", "b", None)))
                .is_err()
        );
    }
}
