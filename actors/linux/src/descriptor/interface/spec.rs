//! [`IfSpec`]: a Linux interface model value checked and normalised (host name defaulted,
//! namespace resolved, MAC and addresses parsed), the alias that marks interfaces the agent
//! created, and the temporary names used while a veth end or TAP moves between namespaces.
//!
//! Pure functions only; nothing here talks to the kernel.

use std::net::IpAddr;

use messages::proto::linux_interfaces::interface::{Link as IfLink, Type};
use messages::proto::linux_interfaces::{Interface, TapLink, VethLink};

use crate::error::LinuxError;
use crate::index::{IfKind, LinuxIfMeta};
use crate::netlink::types::{IpNet, format_mac, parse_mac};
use crate::ns::NsRef;

/// Longest interface name the kernel accepts (IFNAMSIZ - 1).
pub const MAX_HOST_NAME: usize = 15;
/// Largest MTU the model allows.
pub const MAX_MTU: u32 = 9216;
/// Every alias the agent sets starts with this.
pub const ALIAS_PREFIX: &str = "vpp-agent/";

/// A validated, normalised Linux interface value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfSpec {
    pub name: String,
    pub kind: IfKind,
    pub host: String,
    pub ns: NsRef,
    pub enabled: bool,
    pub mac: Option<[u8; 6]>,
    pub mtu: Option<u32>,
    /// Parsed addresses with the text they were configured as (sorted, no duplicates).
    pub addrs: Vec<(IpNet, String)>,
    pub link_only: bool,
}

impl IfSpec {
    pub fn parse(v: &Interface) -> Result<IfSpec, LinuxError> {
        let name = v.name.as_str();
        let item = if name.is_empty() { "interface" } else { name };
        if name.is_empty() || name.contains('/') {
            return Err(LinuxError::invalid(
                item,
                "name",
                name,
                "the name must be non-empty and contain no '/'",
            ));
        }
        let kind = match (Type::try_from(v.r#type), &v.link) {
            (Ok(Type::Veth), Some(IfLink::Veth(VethLink { peer_if_name, .. })))
                if !peer_if_name.is_empty() =>
            {
                if peer_if_name == name || peer_if_name.contains('/') {
                    return Err(LinuxError::invalid(
                        item,
                        "veth.peer_if_name",
                        peer_if_name,
                        "the peer must be another interface",
                    ));
                }
                IfKind::Veth {
                    peer: peer_if_name.clone(),
                }
            }
            (Ok(Type::Veth), _) => {
                return Err(LinuxError::invalid(
                    item,
                    "veth.peer_if_name",
                    "",
                    "a VETH needs its peer",
                ));
            }
            (Ok(Type::TapToVpp), Some(IfLink::Tap(TapLink { vpp_tap_if_name })))
                if !vpp_tap_if_name.is_empty() =>
            {
                IfKind::TapToVpp {
                    vpp_tap: vpp_tap_if_name.clone(),
                }
            }
            (Ok(Type::TapToVpp), _) => {
                return Err(LinuxError::invalid(
                    item,
                    "tap.vpp_tap_if_name",
                    "",
                    "a TAP_TO_VPP needs its VPP TAP interface",
                ));
            }
            (Ok(Type::Existing), _) => IfKind::Existing,
            (ty, _) => {
                let ty = ty.map(|t| t.as_str_name()).unwrap_or("unknown");
                return Err(LinuxError::invalid(
                    item,
                    "type",
                    ty,
                    "only VETH, TAP_TO_VPP and EXISTING are supported",
                ));
            }
        };
        let host = if v.host_if_name.is_empty() {
            name.to_owned()
        } else {
            v.host_if_name.clone()
        };
        if host.len() > MAX_HOST_NAME || host.contains('/') {
            return Err(LinuxError::invalid(
                item,
                "host_if_name",
                host,
                "a kernel interface name has at most 15 characters and no '/'",
            ));
        }
        let mac = if v.phys_address.is_empty() {
            None
        } else {
            Some(parse_mac(&v.phys_address).ok_or_else(|| {
                LinuxError::invalid(item, "phys_address", &v.phys_address, "not a MAC address")
            })?)
        };
        if v.mtu > MAX_MTU {
            return Err(LinuxError::invalid(
                item,
                "mtu",
                v.mtu.to_string(),
                "the MTU is at most 9216",
            ));
        }
        let mut addrs = Vec::with_capacity(v.ip_addresses.len());
        for a in &v.ip_addresses {
            if !a.contains('/') {
                return Err(LinuxError::invalid(
                    item,
                    "ip_addresses",
                    a,
                    "an address needs its prefix length",
                ));
            }
            let net: IpNet = a
                .parse()
                .map_err(|e| LinuxError::invalid(item, "ip_addresses", a, format!("{e}")))?;
            addrs.push((net, a.clone()));
        }
        addrs.sort();
        addrs.dedup_by(|a, b| a.0 == b.0);
        Ok(IfSpec {
            name: name.to_owned(),
            kind,
            host,
            ns: NsRef::from_model(item, v.namespace.as_ref())?,
            enabled: v.enabled,
            mac,
            mtu: (v.mtu != 0).then_some(v.mtu),
            addrs,
            link_only: v.link_only,
        })
    }

    /// The alias that marks an interface the agent created: `vpp-agent/<label>/<name>/<link>`
    /// where `<link>` is the veth peer or the VPP TAP. EXISTING interfaces get none.
    pub fn alias(&self, label: &str) -> Option<String> {
        let link = match &self.kind {
            IfKind::Veth { peer } => peer,
            IfKind::TapToVpp { vpp_tap } => vpp_tap,
            IfKind::Existing => return None,
        };
        Some(format!("{ALIAS_PREFIX}{label}/{}/{link}", self.name))
    }

    pub fn meta(&self) -> LinuxIfMeta {
        LinuxIfMeta {
            name: self.name.clone(),
            host_name: self.host.clone(),
            ns: self.ns.clone(),
            kind: self.kind.clone(),
        }
    }

    /// Equivalence as the scheduler needs it: an unset MAC or MTU in `desired` accepts
    /// whatever the kernel has.
    pub fn equivalent(applied: &IfSpec, desired: &IfSpec) -> bool {
        applied.name == desired.name
            && applied.kind == desired.kind
            && applied.host == desired.host
            && applied.ns == desired.ns
            && applied.enabled == desired.enabled
            && applied.link_only == desired.link_only
            && desired.mac.is_none_or(|m| applied.mac == Some(m))
            && desired.mtu.is_none_or(|m| applied.mtu == Some(m))
            && applied
                .addrs
                .iter()
                .map(|a| a.0)
                .eq(desired.addrs.iter().map(|a| a.0))
    }
}

/// What an alias set by the agent says: (logical name, peer or VPP TAP).
pub fn parse_alias<'a>(alias: &'a str, label: &str) -> Option<(&'a str, &'a str)> {
    let rest = alias.strip_prefix(ALIAS_PREFIX)?.strip_prefix(label)?;
    let rest = rest.strip_prefix('/')?;
    let (name, link) = rest.split_once('/')?;
    (!name.is_empty() && !link.is_empty() && !link.contains('/')).then_some((name, link))
}

/// The name a veth end has while it waits, parked in its namespace, for its own create to
/// name and configure it: `vt` + 8 hex digits of a hash of the logical name (FNV-1a), so that both ends
/// agree on it without talking to each other.
pub fn parked_name(logical: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in logical.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("vt{h:08x}")
}

/// Rebuilds a model value from what the kernel reports, for resync.
#[derive(Debug)]
pub struct Observed<'a> {
    pub name: &'a str,
    pub kind: &'a IfKind,
    pub host: &'a str,
    pub ns: &'a NsRef,
    pub up: bool,
    pub mac: Option<[u8; 6]>,
    pub mtu: u32,
    pub addrs: Vec<String>,
    pub link_only: bool,
}

impl Observed<'_> {
    pub fn to_model(&self) -> Interface {
        let (ty, link) = match self.kind {
            IfKind::Veth { peer } => (
                Type::Veth,
                Some(IfLink::Veth(VethLink {
                    peer_if_name: peer.clone(),
                    ..Default::default()
                })),
            ),
            IfKind::TapToVpp { vpp_tap } => (
                Type::TapToVpp,
                Some(IfLink::Tap(TapLink {
                    vpp_tap_if_name: vpp_tap.clone(),
                })),
            ),
            IfKind::Existing => (Type::Existing, None),
        };
        Interface {
            name: self.name.to_owned(),
            r#type: ty as i32,
            namespace: self.ns.to_model(),
            host_if_name: self.host.to_owned(),
            enabled: self.up,
            ip_addresses: self.addrs.clone(),
            phys_address: self.mac.as_ref().map(format_mac).unwrap_or_default(),
            mtu: self.mtu,
            link_only: self.link_only,
            vrf_master_interface: String::new(),
            link,
        }
    }
}

/// Is this an IPv6 link-local address (which the kernel adds by itself)?
pub fn is_link_local(net: &IpNet) -> bool {
    match net.addr {
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
        IpAddr::V4(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use messages::proto::ligato::linux::namespace::{NetNamespace, net_namespace::ReferenceType};

    fn veth(name: &str, peer: &str) -> Interface {
        Interface {
            name: name.into(),
            r#type: Type::Veth as i32,
            enabled: true,
            ip_addresses: vec!["10.0.0.1/24".into()],
            namespace: Some(NetNamespace {
                r#type: ReferenceType::Nsid as i32,
                reference: "blue".into(),
            }),
            link: Some(IfLink::Veth(VethLink {
                peer_if_name: peer.into(),
                ..Default::default()
            })),
            ..Default::default()
        }
    }

    #[test]
    fn parse_defaults_and_rejects() {
        let s = IfSpec::parse(&veth("v1", "v2")).unwrap();
        assert_eq!(s.host, "v1");
        assert_eq!(s.ns, NsRef::Named("blue".into()));
        assert_eq!(s.alias("vpp1").as_deref(), Some("vpp-agent/vpp1/v1/v2"));
        assert_eq!(
            parse_alias("vpp-agent/vpp1/v1/v2", "vpp1"),
            Some(("v1", "v2"))
        );
        assert_eq!(parse_alias("vpp-agent/vpp2/v1/v2", "vpp1"), None);
        assert_eq!(parse_alias("something else", "vpp1"), None);

        let mut bad = veth("v1", "v2");
        bad.ip_addresses = vec!["10.0.0.1".into()];
        let e = IfSpec::parse(&bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid ip_addresses \"10.0.0.1\" of v1: an address needs its prefix length"
        );
        let mut bad = veth("v1", "v1");
        assert!(IfSpec::parse(&bad).is_err());
        bad = veth("v1", "v2");
        bad.host_if_name = "a-very-long-interface-name".into();
        assert!(IfSpec::parse(&bad).is_err());
        bad = veth("v1", "v2");
        bad.r#type = Type::Dummy as i32;
        assert!(IfSpec::parse(&bad).is_err());
        bad = veth("v1", "v2");
        bad.phys_address = "zz".into();
        assert!(IfSpec::parse(&bad).is_err());
    }

    #[test]
    fn equivalence_ignores_unset_mac_and_mtu_and_address_order() {
        let desired = IfSpec::parse(&veth("v1", "v2")).unwrap();
        let mut found = veth("v1", "v2");
        found.phys_address = "02:00:00:00:00:01".into();
        found.mtu = 1500;
        let found = IfSpec::parse(&found).unwrap();
        assert!(IfSpec::equivalent(&found, &desired));
        let mut two = veth("v1", "v2");
        two.ip_addresses = vec!["10.0.1.1/24".into(), "10.0.0.1/24".into()];
        let mut two_rev = two.clone();
        two_rev.ip_addresses.reverse();
        assert!(IfSpec::equivalent(
            &IfSpec::parse(&two).unwrap(),
            &IfSpec::parse(&two_rev).unwrap()
        ));
        assert!(!IfSpec::equivalent(&IfSpec::parse(&two).unwrap(), &desired));
        let mut mtu = veth("v1", "v2");
        mtu.mtu = 1400;
        assert!(!IfSpec::equivalent(&found, &IfSpec::parse(&mtu).unwrap()));
    }

    #[test]
    fn parked_names_fit_and_differ() {
        let a = parked_name("veth-left");
        let b = parked_name("veth-right");
        assert_ne!(a, b);
        assert!(a.len() <= MAX_HOST_NAME);
        assert_eq!(a, parked_name("veth-left"));
    }
}
