//! Retrieve for `vpp-interface`: turns VPP's dumps (interfaces, TAPs, memifs, af_packets,
//! VXLANs, addresses, and the local routes that reveal each interface's table) into Ligato
//! `Interface` values keyed by the VPP tag, with [`InterfaceMeta`].
//!
//! `local0` and NICs the agent did not create (DPDK) are OBTAINED (`Origin::FromSb`); untagged
//! interfaces of kinds the agent creates are named `UNTAGGED-<internal name>` and left for a
//! full resync to remove, as Ligato does. It deliberately reads memif socket files as unknown
//! (this build has no `memif_socket_filename_dump`), which equivalence treats as "any".

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use kvscheduler::{Origin, Retrieved};
use messages::proto::vpp_interfaces::interface::{Link, Type};
use messages::proto::vpp_interfaces::{
    AfpacketLink, Interface, MemifLink, SubInterface, TapLink, VxlanLink,
};
use messages::{Key, Value};

use crate::api::{InterfaceDetails, IpNet, NONE, PathKind, VppApi};
use crate::descriptors::{InterfaceMeta, interface_key, logical_name};
use crate::error::Result;

/// (sw_if_index, is_ipv6) -> table, learned from the local routes of interface addresses.
fn tables_of(api: &dyn VppApi, with_addresses: &HashSet<u32>) -> Result<HashMap<(u32, bool), u32>> {
    let mut out = HashMap::new();
    if with_addresses.is_empty() {
        return Ok(out);
    }
    for t in api.dump_ip_tables()? {
        for r in api.dump_routes(t.table_id, t.is_ipv6)? {
            for p in &r.paths {
                if p.kind == PathKind::Local && with_addresses.contains(&p.sw_if_index) {
                    out.insert((p.sw_if_index, t.is_ipv6), t.table_id);
                }
            }
        }
    }
    Ok(out)
}

/// What VPP says about interfaces at L3: the dump, every address, and each interface's table.
#[derive(Debug)]
pub(crate) struct L3 {
    pub details: Vec<InterfaceDetails>,
    pub addresses: HashMap<u32, Vec<IpNet>>,
    pub tables: HashMap<(u32, bool), u32>,
}

impl L3 {
    /// The VRF an interface with addresses is bound to (IPv4's table first), and which
    /// families its addresses have.
    pub fn vrf(&self, sw_if_index: u32) -> Option<(u32, bool, bool)> {
        let addrs = self.addresses.get(&sw_if_index)?;
        let v4 = addrs.iter().any(|a| !a.is_ipv6());
        let v6 = addrs.iter().any(IpNet::is_ipv6);
        let vrf = self
            .tables
            .get(&(sw_if_index, false))
            .or_else(|| self.tables.get(&(sw_if_index, true)))
            .copied()
            .unwrap_or(0);
        Some((vrf, v4, v6))
    }
}

/// Reads interfaces, their addresses and their tables.
pub(crate) fn read_l3(api: &dyn VppApi) -> Result<L3> {
    let details = api.dump_interfaces()?;
    let mut addresses: HashMap<u32, Vec<IpNet>> = HashMap::new();
    for d in details.iter().filter(|d| d.sw_if_index != 0) {
        let mut a = api.dump_addresses(d.sw_if_index, false)?;
        a.extend(api.dump_addresses(d.sw_if_index, true)?);
        if !a.is_empty() {
            addresses.insert(d.sw_if_index, a);
        }
    }
    let with_addresses: HashSet<u32> = addresses.keys().copied().collect();
    let tables = tables_of(api, &with_addresses)?;
    Ok(L3 {
        details,
        addresses,
        tables,
    })
}

/// NB's spelling of an address VPP reports, when the expected value of the same interface
/// has it (`fd00:0::1/64` for VPP's `fd00::1/64`): derived address keys are built from it.
fn nb_spelling(a: &IpNet, expected: Option<&Interface>) -> String {
    expected
        .and_then(|e| {
            e.ip_addresses
                .iter()
                .find(|s| s.parse::<IpNet>().is_ok_and(|n| n == *a))
        })
        .cloned()
        .unwrap_or_else(|| a.to_string())
}

/// Reads every interface VPP has; `correlate` (the expected values) only decides how
/// addresses are spelled.
pub(crate) fn retrieve(api: &dyn VppApi, correlate: &[(Key, Value)]) -> Result<Vec<Retrieved>> {
    let expected: HashMap<&Key, &Interface> = correlate
        .iter()
        .filter_map(|(k, v)| Some((k, messages::value::downcast::<Interface>(&**v)?)))
        .collect();
    let L3 {
        details,
        addresses,
        tables,
    } = read_l3(api)?;
    let names: HashMap<u32, String> = details
        .iter()
        .map(|d| (d.sw_if_index, logical_name(d)))
        .collect();
    let taps: HashMap<u32, _> = api
        .dump_taps()?
        .into_iter()
        .map(|t| (t.sw_if_index, t))
        .collect();
    let memifs: HashMap<u32, _> = api
        .dump_memifs()?
        .into_iter()
        .map(|m| (m.sw_if_index, m))
        .collect();
    let afps: HashMap<u32, _> = api
        .dump_af_packets()?
        .into_iter()
        .map(|a| (a.sw_if_index, a))
        .collect();
    let vxlans: HashMap<u32, _> = api
        .dump_vxlans()?
        .into_iter()
        .map(|v| (v.sw_if_index, v))
        .collect();
    let mut out = Vec::with_capacity(details.len());
    for d in &details {
        let idx = d.sw_if_index;
        let (kind, link) = if idx == 0 {
            (Type::UndefinedType, None)
        } else if let Some(t) = taps.get(&idx) {
            let link = TapLink {
                version: 2,
                host_if_name: t.host_if_name.clone(),
                rx_ring_size: u32::from(t.rx_ring_size),
                tx_ring_size: u32::from(t.tx_ring_size),
                enable_gso: t.gso,
                enable_tunnel: t.tun,
                ..Default::default()
            };
            (Type::Tap, Some(Link::Tap(link)))
        } else if let Some(m) = memifs.get(&idx) {
            let link = MemifLink {
                mode: i32::try_from(m.mode.code()).unwrap_or(0),
                master: m.master,
                id: m.id,
                ring_size: m.ring_size,
                buffer_size: u32::from(m.buffer_size),
                ..Default::default()
            };
            (Type::Memif, Some(Link::Memif(link)))
        } else if let Some(a) = afps.get(&idx) {
            #[allow(deprecated)]
            let link = AfpacketLink {
                host_if_name: a.host_if_name.clone(),
                ..Default::default()
            };
            (Type::AfPacket, Some(Link::Afpacket(link)))
        } else if let Some(v) = vxlans.get(&idx) {
            let link = VxlanLink {
                src_address: v.src.to_string(),
                dst_address: v.dst.to_string(),
                vni: v.vni,
                multicast: if v.mcast_sw_if_index == NONE {
                    String::new()
                } else {
                    names.get(&v.mcast_sw_if_index).cloned().unwrap_or_default()
                },
                gpe: None,
            };
            (Type::VxlanTunnel, Some(Link::Vxlan(link)))
        } else if d.dev_type.eq_ignore_ascii_case("loopback") {
            (Type::SoftwareLoopback, None)
        } else if d.sup_sw_if_index != idx {
            let link = SubInterface {
                parent_name: names.get(&d.sup_sw_if_index).cloned().unwrap_or_default(),
                sub_id: d.sub_id,
                ..Default::default()
            };
            (Type::SubInterface, Some(Link::Sub(link)))
        } else {
            (Type::Dpdk, None)
        };
        let addrs = addresses.get(&idx).cloned().unwrap_or_default();
        let v4_table = tables.get(&(idx, false)).copied();
        let v6_table = tables.get(&(idx, true)).copied();
        let vrf = v4_table.or(v6_table).unwrap_or(0);
        let vxlan_vrf = vxlans.get(&idx).map(|v| v.encap_vrf_id);
        let name = logical_name(d);
        let key = interface_key(&name);
        let nb = expected.get(&key).copied();
        let value = Interface {
            name: name.clone(),
            r#type: kind as i32,
            enabled: d.admin_up,
            phys_address: if d.mac.is_zero() {
                String::new()
            } else {
                d.mac.to_string()
            },
            ip_addresses: addrs.iter().map(|a| nb_spelling(a, nb)).collect(),
            vrf: vxlan_vrf.unwrap_or(vrf),
            mtu: d.link_mtu,
            link,
            ..Default::default()
        };
        out.push(Retrieved {
            key,
            value: Arc::new(value),
            metadata: Some(Arc::new(InterfaceMeta {
                sw_if_index: idx,
                internal_name: d.internal_name.clone(),
            })),
            origin: origin_of(d, kind),
        });
    }
    Ok(out)
}

/// `local0` and interfaces the agent never creates (NICs) belong to VPP.
pub(crate) fn origin_of(d: &InterfaceDetails, kind: Type) -> Origin {
    if d.sw_if_index == 0 || (kind == Type::Dpdk && d.tag.is_empty()) {
        Origin::FromSb
    } else {
        Origin::FromNb
    }
}
