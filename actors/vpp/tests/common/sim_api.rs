//! An in-process [`VppApi`] over `vpp_sim::state::Vpp`: the test double for descriptor tests.
//! Every call takes the lock and applies VPP's rules from the simulator, turning its retvals
//! into the same [`VppError::Retval`] a real handler returns (named after the binapi message a
//! handler would send).
//!
//! It deliberately mirrors the shipped handlers where they differ from VPP: sub-interfaces are
//! "unsupported by this build" as in the handlers (sub-interfaces are supported). It does not speak the socket protocol.

use std::sync::{Mutex, MutexGuard};

use vpp::api::*;
use vpp::error::{Result, VppError};
use vpp_sim::state::{self as sim, IfKind, Vpp};

/// The double; `vpp()` gives the simulator for assertions and for "someone changed VPP by hand".
#[derive(Debug)]
pub struct SimApi {
    vpp: Mutex<Vpp>,
}

fn rv<T>(msg: &'static str, r: sim::VppResult<T>) -> Result<T> {
    r.map_err(|e| VppError::retval(msg, e.0))
}

fn mac(m: Option<Mac>) -> Option<sim::Mac> {
    m.map(|m| sim::Mac(m.0))
}

impl SimApi {
    pub fn new(vpp: Vpp) -> Self {
        SimApi {
            vpp: Mutex::new(vpp),
        }
    }

    pub fn vpp(&self) -> MutexGuard<'_, Vpp> {
        match self.vpp.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// VPP restarted: a fresh, empty instance of the same release.
    pub fn restart(&self) {
        let version = self.vpp().version.clone();
        *self.vpp() = Vpp::new(&version);
    }

    /// Runs a CLI command on the simulator (as `cli_inband` would).
    pub fn cli(&self, cmd: &str) -> String {
        vpp_sim::cli::execute(&mut self.vpp(), 0, cmd).text
    }

    pub fn memif_socket(&self, id: u32) -> Option<String> {
        self.vpp()
            .memif_sockets()
            .find(|(i, _)| *i == id)
            .map(|(_, f)| f.to_owned())
    }
}

impl VppApi for SimApi {
    fn release(&self) -> &'static str {
        "sim"
    }

    fn show_version(&self) -> Result<VersionInfo> {
        Ok(VersionInfo {
            program: "vpe".into(),
            version: self.vpp().version.clone(),
            build_date: String::new(),
        })
    }

    fn cli_inband(&self, cmd: &str) -> Result<String> {
        let r = vpp_sim::cli::execute(&mut self.vpp(), 0, cmd);
        if r.retval != 0 {
            return Err(VppError::retval("cli_inband", r.retval));
        }
        Ok(r.text)
    }

    fn create_loopback(&self, m: Option<Mac>) -> Result<u32> {
        rv(
            "create_loopback",
            self.vpp().create_loopback(mac(m).unwrap_or_default()),
        )
    }

    fn delete_loopback(&self, idx: u32) -> Result<()> {
        rv("delete_loopback", self.vpp().delete_loopback(idx))
    }

    fn create_tap(&self, t: &TapSpec) -> Result<u32> {
        let mut vpp = self.vpp();
        let idx = rv(
            "tap_create_v3",
            vpp.tap_create(
                t.id.unwrap_or(NONE),
                mac(t.mac),
                &t.host_if_name,
                t.tun,
                if t.rx_ring_size == 0 {
                    256
                } else {
                    t.rx_ring_size
                },
                if t.tx_ring_size == 0 {
                    256
                } else {
                    t.tx_ring_size
                },
            ),
        )?;
        if !t.tag.is_empty() {
            rv("tap_create_v3", vpp.set_tag(idx, &t.tag, true))?;
        }
        Ok(idx)
    }

    fn delete_tap(&self, idx: u32) -> Result<()> {
        rv("tap_delete_v2", self.vpp().tap_delete(idx))
    }

    fn add_memif_socket(&self, socket_id: u32, filename: &str) -> Result<()> {
        rv(
            "memif_socket_filename_add_del_v2",
            self.vpp().memif_socket_add_del(true, socket_id, filename),
        )
    }

    fn delete_memif_socket(&self, socket_id: u32) -> Result<()> {
        rv(
            "memif_socket_filename_add_del_v2",
            self.vpp().memif_socket_add_del(false, socket_id, ""),
        )
    }

    fn create_memif(&self, m: &MemifSpec) -> Result<u32> {
        rv(
            "memif_create_v2",
            self.vpp().memif_create(
                m.socket_id,
                m.id,
                m.master,
                u8::try_from(m.mode.code()).unwrap_or(0),
                if m.ring_size == 0 { 1024 } else { m.ring_size },
                if m.buffer_size == 0 {
                    2048
                } else {
                    m.buffer_size
                },
                mac(m.mac),
            ),
        )
    }

    fn delete_memif(&self, idx: u32) -> Result<()> {
        rv("memif_delete", self.vpp().memif_delete(idx))
    }

    fn create_af_packet(&self, host: &str, m: Option<Mac>) -> Result<u32> {
        rv(
            "af_packet_create_v3",
            self.vpp().af_packet_create(host, mac(m)),
        )
    }

    fn delete_af_packet(&self, host: &str) -> Result<()> {
        rv("af_packet_delete", self.vpp().af_packet_delete(host))
    }

    fn add_vxlan(&self, v: &Vxlan) -> Result<u32> {
        rv(
            "vxlan_add_del_tunnel_v3",
            self.vpp()
                .vxlan_add(v.src, v.dst, v.vni, v.encap_vrf_id, NONE),
        )
    }

    fn delete_vxlan(&self, v: &Vxlan) -> Result<()> {
        rv(
            "vxlan_add_del_tunnel_v3",
            self.vpp().vxlan_del(v.src, v.dst, v.vni),
        )
        .map(|_| ())
    }

    fn create_subif(&self, parent: u32, sub_id: u32, vlan: u16) -> Result<u32> {
        // ONE_TAG | EXACT_MATCH, as the handlers send it.
        rv(
            "create_subif",
            self.vpp().create_subif(parent, sub_id, vlan, 0, 2 | 16),
        )
    }

    fn delete_subif(&self, idx: u32) -> Result<()> {
        rv("delete_subif", self.vpp().delete_subif(idx))
    }

    fn set_tag(&self, idx: u32, tag: &str) -> Result<()> {
        rv(
            "sw_interface_tag_add_del",
            self.vpp().set_tag(idx, tag, !tag.is_empty()),
        )
    }

    fn set_admin_up(&self, idx: u32, up: bool) -> Result<()> {
        rv(
            "sw_interface_set_flags",
            self.vpp().set_flags(idx, u32::from(up)),
        )
    }

    fn set_mac(&self, idx: u32, m: Mac) -> Result<()> {
        rv(
            "sw_interface_set_mac_address",
            self.vpp().set_mac(idx, sim::Mac(m.0)),
        )
    }

    fn set_mtu(&self, idx: u32, mtu: u32) -> Result<()> {
        let mtu = u16::try_from(mtu).map_err(|_| VppError::invalid("mtu", "exceeds 65535"))?;
        rv("hw_interface_set_mtu", self.vpp().set_link_mtu(idx, mtu))
    }

    fn add_del_address(&self, idx: u32, a: IpNet, is_add: bool) -> Result<()> {
        rv(
            "sw_interface_add_del_address",
            self.vpp().add_del_address(
                idx,
                is_add,
                false,
                sim::Prefix {
                    addr: a.addr,
                    len: a.len,
                },
            ),
        )
    }

    fn set_table(&self, idx: u32, is_ipv6: bool, vrf: u32) -> Result<()> {
        rv(
            "sw_interface_set_table",
            self.vpp().set_table(idx, is_ipv6, vrf),
        )
    }

    fn dump_interfaces(&self) -> Result<Vec<InterfaceDetails>> {
        Ok(self.vpp().interfaces().map(details).collect())
    }

    fn dump_interface(&self, idx: u32) -> Result<Option<InterfaceDetails>> {
        Ok(self.vpp().interface(idx).map(details))
    }

    fn dump_addresses(&self, idx: u32, is_ipv6: bool) -> Result<Vec<IpNet>> {
        Ok(self
            .vpp()
            .interface(idx)
            .map(|i| {
                i.addresses
                    .iter()
                    .filter(|(a, _)| a.is_ipv6() == is_ipv6)
                    .map(|(a, l)| IpNet { addr: *a, len: *l })
                    .collect()
            })
            .unwrap_or_default())
    }

    fn dump_taps(&self) -> Result<Vec<TapDetails>> {
        Ok(self
            .vpp()
            .interfaces()
            .filter_map(|i| match &i.kind {
                IfKind::Tap {
                    id,
                    host_if_name,
                    tun,
                    rx_ring,
                    tx_ring,
                } => Some(TapDetails {
                    sw_if_index: i.sw_if_index,
                    id: *id,
                    host_if_name: host_if_name.clone(),
                    rx_ring_size: *rx_ring,
                    tx_ring_size: *tx_ring,
                    gso: false,
                    tun: *tun,
                }),
                _ => None,
            })
            .collect())
    }

    fn dump_memifs(&self) -> Result<Vec<MemifDetails>> {
        Ok(self
            .vpp()
            .interfaces()
            .filter_map(|i| match &i.kind {
                IfKind::Memif {
                    socket_id,
                    id,
                    master,
                    mode,
                    ring_size,
                    buffer_size,
                } => Some(MemifDetails {
                    sw_if_index: i.sw_if_index,
                    socket_id: *socket_id,
                    id: *id,
                    master: *master,
                    mode: MemifMode::from_code(u32::from(*mode)),
                    ring_size: *ring_size,
                    buffer_size: *buffer_size,
                }),
                _ => None,
            })
            .collect())
    }

    fn dump_af_packets(&self) -> Result<Vec<AfPacketDetails>> {
        Ok(self
            .vpp()
            .interfaces()
            .filter_map(|i| match &i.kind {
                IfKind::AfPacket { host_if_name } => Some(AfPacketDetails {
                    sw_if_index: i.sw_if_index,
                    host_if_name: host_if_name.clone(),
                }),
                _ => None,
            })
            .collect())
    }

    fn dump_vxlans(&self) -> Result<Vec<Vxlan>> {
        Ok(self
            .vpp()
            .interfaces()
            .filter_map(|i| match &i.kind {
                IfKind::Vxlan {
                    src,
                    dst,
                    vni,
                    encap_vrf,
                    ..
                } => Some(Vxlan {
                    sw_if_index: i.sw_if_index,
                    src: *src,
                    dst: *dst,
                    vni: *vni,
                    mcast_sw_if_index: NONE,
                    encap_vrf_id: *encap_vrf,
                }),
                _ => None,
            })
            .collect())
    }

    fn add_bridge_domain(&self, bd: &BridgeDomainSpec) -> Result<u32> {
        let flags = sim::BdFlags {
            flood: bd.flood,
            uu_flood: bd.uu_flood,
            forward: bd.forward,
            learn: bd.learn,
            arp_term: bd.arp_term,
            arp_ufwd: false,
            mac_age: bd.mac_age,
            tag: bd.tag.clone(),
        };
        rv(
            "bridge_domain_add_del_v2",
            self.vpp().bd_add_v2(bd.bd_id, flags),
        )
    }

    fn delete_bridge_domain(&self, bd_id: u32) -> Result<()> {
        rv("bridge_domain_add_del", self.vpp().bd_del(bd_id))
    }

    fn dump_bridge_domains(&self) -> Result<Vec<BridgeDomainDetails>> {
        Ok(self
            .vpp()
            .bridge_domains()
            .map(|b| BridgeDomainDetails {
                spec: BridgeDomainSpec {
                    bd_id: b.bd_id,
                    flood: b.flood,
                    uu_flood: b.uu_flood,
                    forward: b.forward,
                    learn: b.learn,
                    arp_term: b.arp_term,
                    mac_age: b.mac_age,
                    tag: b.tag.clone(),
                },
                bvi_sw_if_index: b.bvi,
                members: b.members.clone(),
            })
            .collect())
    }

    fn set_l2_bridge(&self, idx: u32, bd_id: u32, bvi: bool, shg: u8, enable: bool) -> Result<()> {
        rv(
            "sw_interface_set_l2_bridge",
            self.vpp()
                .set_l2_bridge(idx, bd_id, u32::from(bvi), shg, enable),
        )
    }

    fn add_del_l2fib(&self, e: &L2FibEntry, is_add: bool) -> Result<()> {
        rv(
            "l2fib_add_del",
            self.vpp().l2fib_add_del(
                sim::Mac(e.mac.0),
                e.bd_id,
                e.sw_if_index,
                is_add,
                e.static_mac,
                e.filter_mac,
                e.bvi_mac,
            ),
        )
    }

    fn dump_l2fib(&self) -> Result<Vec<L2FibEntry>> {
        Ok(self
            .vpp()
            .l2fib_entries(NONE)
            .into_iter()
            .map(|(bd_id, m, e)| L2FibEntry {
                bd_id,
                mac: Mac(m.0),
                sw_if_index: e.sw_if_index,
                static_mac: e.static_mac,
                filter_mac: e.filter_mac,
                bvi_mac: e.bvi_mac,
            })
            .collect())
    }

    fn set_xconnect(&self, rx: u32, tx: u32, enable: bool) -> Result<()> {
        rv(
            "sw_interface_set_l2_xconnect",
            self.vpp().set_l2_xconnect(rx, tx, enable),
        )
    }

    fn dump_xconnects(&self) -> Result<Vec<(u32, u32)>> {
        Ok(self.vpp().xconnects().collect())
    }

    fn add_del_ip_table(&self, t: &IpTable, is_add: bool) -> Result<()> {
        self.vpp()
            .ip_table_add_del(is_add, t.table_id, t.is_ipv6, &t.name);
        Ok(())
    }

    fn dump_ip_tables(&self) -> Result<Vec<IpTable>> {
        Ok(self
            .vpp()
            .tables()
            .map(|(is_ipv6, table_id, name)| IpTable {
                table_id,
                is_ipv6,
                name: name.to_owned(),
            })
            .collect())
    }

    fn add_del_route(&self, r: &Route, is_add: bool) -> Result<()> {
        let v6 = r.prefix.is_ipv6();
        let paths = r
            .paths
            .iter()
            .map(|p| sim::Path {
                sw_if_index: p.sw_if_index,
                table_id: p.table_id,
                next_hop: p.next_hop,
                weight: p.weight,
                preference: p.preference,
                path_type: p.kind.code(),
                proto: u32::from(v6),
            })
            .collect();
        rv(
            "ip_route_add_del",
            self.vpp().ip_route_add_del(
                is_add,
                true,
                r.table_id,
                sim::Prefix {
                    addr: r.prefix.network(),
                    len: r.prefix.len,
                },
                paths,
            ),
        )
        .map(|_| ())
    }

    fn dump_routes(&self, table_id: u32, is_ipv6: bool) -> Result<Vec<Route>> {
        Ok(self
            .vpp()
            .fib_entries(table_id, is_ipv6)
            .into_iter()
            .map(|r| Route {
                table_id: r.table_id,
                prefix: IpNet {
                    addr: r.prefix.addr,
                    len: r.prefix.len,
                },
                paths: r
                    .paths
                    .iter()
                    .map(|p| RoutePath {
                        kind: PathKind::from_code(p.path_type),
                        sw_if_index: p.sw_if_index,
                        table_id: p.table_id,
                        next_hop: p.next_hop.filter(|ip| !ip.is_unspecified()),
                        weight: p.weight,
                        preference: p.preference,
                    })
                    .collect(),
            })
            .collect())
    }

    fn add_del_neighbor(&self, n: &Neighbor, is_add: bool) -> Result<()> {
        rv(
            "ip_neighbor_add_del",
            self.vpp().ip_neighbor_add_del(
                is_add,
                n.sw_if_index,
                n.ip,
                sim::Mac(n.mac.0),
                u8::from(n.is_static),
            ),
        )
    }

    fn dump_neighbors(&self, is_ipv6: bool) -> Result<Vec<Neighbor>> {
        Ok(self
            .vpp()
            .neighbors(NONE, is_ipv6)
            .into_iter()
            .map(|n| Neighbor {
                sw_if_index: n.sw_if_index,
                ip: n.ip,
                mac: Mac(n.mac.0),
                is_static: n.flags & 1 != 0,
            })
            .collect())
    }
}

fn details(i: &sim::Interface) -> InterfaceDetails {
    InterfaceDetails {
        sw_if_index: i.sw_if_index,
        sup_sw_if_index: i.sup_sw_if_index,
        internal_name: i.name.clone(),
        dev_type: i.dev_type.clone(),
        tag: i.tag.clone(),
        mac: Mac(i.mac.0),
        admin_up: i.admin_up,
        link_up: i.link_up,
        link_mtu: u32::from(i.link_mtu),
        mtu: i.mtu[0],
        sub_id: 0,
    }
}
