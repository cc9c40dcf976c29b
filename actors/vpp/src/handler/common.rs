//! The handler code that is the same in every release, written once as the macro
//! [`release_handler!`]; the operations whose message differs between releases come from
//! [`super::variants`], chosen by the macro's arguments.
//!
//! A release module imports its binapi module as `rel` and invokes `release_handler!` with its
//! variant choices; the expansion is then type checked against that release's messages (the
//! same field names, different CRCs and layouts). This file deliberately holds no per-release
//! knowledge: which variant a release uses is said in the release module.

/// The whole handler of one release: `struct Handler`, its release-specific helpers (chosen by
/// the arguments) and `impl VppApi` with the code every release shares.
macro_rules! release_handler {
    (
        version: $version:literal,
        tap: $tap:ident,
        bd: $bd:ident,
        memif: $memif:ident,
        af_packet: $af:ident,
        vxlan: $vxlan:ident,
        ip_table: $ipt:ident $(,)?
    ) => {
        use $crate::api::{
            AfPacketDetails, BridgeDomainDetails, BridgeDomainSpec, InterfaceDetails, IpNet,
            IpTable, L2FibEntry, Mac, MemifDetails, MemifMode, MemifSpec, NONE, Neighbor, PathKind,
            Route, RoutePath, TapDetails, TapSpec, VersionInfo, VppApi, Vxlan,
        };
        use $crate::error::{Result, VppError};
        use $crate::handler::{Conn, HandlerEntry};

        /// The handler; see the module docs for the message variants it uses.
        #[derive(Debug)]
        pub struct Handler {
            conn: Conn,
        }

        /// This release in [`crate::handler::HANDLERS`].
        pub const ENTRY: HandlerEntry = HandlerEntry {
            release: &rel::RELEASE,
            make: |conn| std::sync::Arc::new(Handler { conn }),
        };

        fn ring(size: u16) -> u16 {
            if size == 0 { 256 } else { size }
        }

        fn tap_flags(t: &TapSpec) -> u32 {
            let mut f = 0;
            if t.gso {
                f |= rel::TapFlags::TAP_API_FLAG_GSO.0;
            }
            if t.tun {
                f |= rel::TapFlags::TAP_API_FLAG_TUN.0;
            }
            f
        }

        fn prefix(n: IpNet) -> rel::Prefix {
            rel::Prefix::new(n.addr, n.len)
        }

        fn to_path(p: &RoutePath, is_ipv6: bool) -> rel::FibPath {
            let mut nh = [0u8; 16];
            match p.next_hop {
                Some(std::net::IpAddr::V4(v4)) => nh[..4].copy_from_slice(&v4.octets()),
                Some(std::net::IpAddr::V6(v6)) => nh = v6.octets(),
                None => {}
            }
            rel::FibPath {
                sw_if_index: p.sw_if_index,
                table_id: p.table_id,
                rpf_id: 0,
                weight: p.weight,
                preference: p.preference,
                type_: rel::FibPathType(p.kind.code()),
                flags: rel::FibPathFlags::FIB_API_PATH_FLAG_NONE,
                proto: if is_ipv6 {
                    rel::FibPathNhProto::FIB_API_PATH_NH_PROTO_IP6
                } else {
                    rel::FibPathNhProto::FIB_API_PATH_NH_PROTO_IP4
                },
                nh: rel::FibPathNh {
                    address: rel::AddressUnion(nh),
                    ..Default::default()
                },
                ..Default::default()
            }
        }

        fn from_path(p: &rel::FibPath) -> RoutePath {
            let b = p.nh.address.0;
            let ip = if p.proto == rel::FibPathNhProto::FIB_API_PATH_NH_PROTO_IP6 {
                std::net::IpAddr::V6(std::net::Ipv6Addr::from(b))
            } else {
                std::net::IpAddr::V4(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]))
            };
            RoutePath {
                kind: PathKind::from_code(p.type_.0),
                sw_if_index: p.sw_if_index,
                table_id: p.table_id,
                next_hop: (!ip.is_unspecified()).then_some(ip),
                weight: p.weight,
                preference: p.preference,
            }
        }

        impl Handler {
            $crate::handler::variants::tap_create_fn!($tap);
            $crate::handler::variants::bd_add_fn!($bd);
            $crate::handler::variants::memif_fns!($memif);
            $crate::handler::variants::af_packet_fn!($af);
            $crate::handler::variants::vxlan_fns!($vxlan);
            $crate::handler::variants::ip_table_fn!($ipt);

            fn dump_interfaces_filtered(&self, sw_if_index: u32) -> Result<Vec<InterfaceDetails>> {
                let req = rel::SwInterfaceDump {
                    sw_if_index: rel::InterfaceIndex(sw_if_index),
                    name_filter_valid: false,
                    name_filter: String::new(),
                };
                Ok(self
                    .conn
                    .dump(&req)?
                    .into_iter()
                    .map(|d| InterfaceDetails {
                        sw_if_index: d.sw_if_index.0,
                        sup_sw_if_index: d.sup_sw_if_index,
                        internal_name: d.interface_name,
                        dev_type: d.interface_dev_type,
                        tag: d.tag,
                        mac: Mac(d.l2_address.0),
                        admin_up: d.flags.0 & 1 != 0,
                        link_up: d.flags.0 & 2 != 0,
                        link_mtu: u32::from(d.link_mtu),
                        mtu: d.mtu[0],
                        sub_id: d.sub_id,
                    })
                    .collect())
            }
        }

        impl VppApi for Handler {
            fn release(&self) -> &'static str {
                $version
            }

            fn show_version(&self) -> Result<VersionInfo> {
                let r = self.conn.request(&rel::ShowVersion {})?;
                Ok(VersionInfo {
                    program: r.program,
                    version: r.version,
                    build_date: r.build_date,
                })
            }

            fn cli_inband(&self, cmd: &str) -> Result<String> {
                let r = self.conn.request(&rel::CliInband {
                    cmd: cmd.to_owned(),
                })?;
                Ok(r.reply)
            }

            fn create_loopback(&self, mac: Option<Mac>) -> Result<u32> {
                let req = rel::CreateLoopback {
                    mac_address: rel::MacAddress(mac.unwrap_or_default().0),
                };
                Ok(self.conn.request(&req)?.sw_if_index.0)
            }

            fn delete_loopback(&self, sw_if_index: u32) -> Result<()> {
                let req = rel::DeleteLoopback {
                    sw_if_index: rel::InterfaceIndex(sw_if_index),
                };
                self.conn.request(&req).map(|_| ())
            }

            fn create_tap(&self, tap: &TapSpec) -> Result<u32> {
                self.create_tap_release(tap)
            }

            fn delete_tap(&self, sw_if_index: u32) -> Result<()> {
                let req = rel::TapDeleteV2 {
                    sw_if_index: rel::InterfaceIndex(sw_if_index),
                };
                self.conn.request(&req).map(|_| ())
            }

            fn add_memif_socket(&self, socket_id: u32, filename: &str) -> Result<()> {
                self.memif_socket_release(socket_id, filename, true)
            }

            fn delete_memif_socket(&self, socket_id: u32) -> Result<()> {
                self.memif_socket_release(socket_id, "", false)
            }

            fn create_memif(&self, memif: &MemifSpec) -> Result<u32> {
                self.create_memif_release(memif)
            }

            fn delete_memif(&self, sw_if_index: u32) -> Result<()> {
                let req = rel::MemifDelete {
                    sw_if_index: rel::InterfaceIndex(sw_if_index),
                };
                self.conn.request(&req).map(|_| ())
            }

            fn create_af_packet(&self, host_if_name: &str, mac: Option<Mac>) -> Result<u32> {
                self.create_af_packet_release(host_if_name, mac)
            }

            fn delete_af_packet(&self, host_if_name: &str) -> Result<()> {
                let req = rel::AfPacketDelete {
                    host_if_name: host_if_name.to_owned(),
                };
                self.conn.request(&req).map(|_| ())
            }

            fn add_vxlan(&self, vxlan: &Vxlan) -> Result<u32> {
                self.vxlan_release(vxlan, true)
            }

            fn delete_vxlan(&self, vxlan: &Vxlan) -> Result<()> {
                self.vxlan_release(vxlan, false).map(|_| ())
            }

            fn create_subif(&self, parent: u32, sub_id: u32, outer_vlan: u16) -> Result<u32> {
                // One exact-match 802.1q tag, as Ligato creates sub-interfaces.
                let flags = rel::SubIfFlags(
                    rel::SubIfFlags::SUB_IF_API_FLAG_ONE_TAG.0
                        | rel::SubIfFlags::SUB_IF_API_FLAG_EXACT_MATCH.0,
                );
                let req = rel::CreateSubif {
                    sw_if_index: rel::InterfaceIndex(parent),
                    sub_id,
                    sub_if_flags: flags,
                    outer_vlan_id: outer_vlan,
                    inner_vlan_id: 0,
                };
                Ok(self.conn.request(&req)?.sw_if_index.0)
            }

            fn delete_subif(&self, sw_if_index: u32) -> Result<()> {
                let req = rel::DeleteSubif {
                    sw_if_index: rel::InterfaceIndex(sw_if_index),
                };
                self.conn.request(&req).map(|_| ())
            }

            fn set_tag(&self, sw_if_index: u32, tag: &str) -> Result<()> {
                let req = rel::SwInterfaceTagAddDel {
                    is_add: !tag.is_empty(),
                    sw_if_index: rel::InterfaceIndex(sw_if_index),
                    tag: tag.to_owned(),
                };
                self.conn.request(&req).map(|_| ())
            }

            fn set_admin_up(&self, sw_if_index: u32, up: bool) -> Result<()> {
                let req = rel::SwInterfaceSetFlags {
                    sw_if_index: rel::InterfaceIndex(sw_if_index),
                    flags: if up {
                        rel::IfStatusFlags::IF_STATUS_API_FLAG_ADMIN_UP
                    } else {
                        rel::IfStatusFlags(0)
                    },
                };
                self.conn.request(&req).map(|_| ())
            }

            fn set_mac(&self, sw_if_index: u32, mac: Mac) -> Result<()> {
                let req = rel::SwInterfaceSetMacAddress {
                    sw_if_index: rel::InterfaceIndex(sw_if_index),
                    mac_address: rel::MacAddress(mac.0),
                };
                self.conn.request(&req).map(|_| ())
            }

            fn set_mtu(&self, sw_if_index: u32, mtu: u32) -> Result<()> {
                let req = rel::HwInterfaceSetMtu {
                    sw_if_index: rel::InterfaceIndex(sw_if_index),
                    mtu: u16::try_from(mtu)
                        .map_err(|_| VppError::invalid("mtu", format!("{mtu} exceeds 65535")))?,
                };
                self.conn.request(&req).map(|_| ())
            }

            fn add_del_address(&self, sw_if_index: u32, addr: IpNet, is_add: bool) -> Result<()> {
                let req = rel::SwInterfaceAddDelAddress {
                    sw_if_index: rel::InterfaceIndex(sw_if_index),
                    is_add,
                    del_all: false,
                    prefix: prefix(addr),
                };
                self.conn.request(&req).map(|_| ())
            }

            fn set_table(&self, sw_if_index: u32, is_ipv6: bool, vrf: u32) -> Result<()> {
                let req = rel::SwInterfaceSetTable {
                    sw_if_index: rel::InterfaceIndex(sw_if_index),
                    is_ipv6,
                    vrf_id: vrf,
                };
                self.conn.request(&req).map(|_| ())
            }

            fn dump_interfaces(&self) -> Result<Vec<InterfaceDetails>> {
                self.dump_interfaces_filtered(NONE)
            }

            fn dump_interface(&self, sw_if_index: u32) -> Result<Option<InterfaceDetails>> {
                Ok(self
                    .dump_interfaces_filtered(sw_if_index)?
                    .into_iter()
                    .find(|d| d.sw_if_index == sw_if_index))
            }

            fn dump_addresses(&self, sw_if_index: u32, is_ipv6: bool) -> Result<Vec<IpNet>> {
                let req = rel::IpAddressDump {
                    sw_if_index: rel::InterfaceIndex(sw_if_index),
                    is_ipv6,
                };
                Ok(self
                    .conn
                    .dump(&req)?
                    .into_iter()
                    .map(|d| IpNet {
                        addr: d.prefix.address.to_ip(),
                        len: d.prefix.len,
                    })
                    .collect())
            }

            fn dump_taps(&self) -> Result<Vec<TapDetails>> {
                let req = rel::SwInterfaceTapV2Dump {
                    sw_if_index: rel::InterfaceIndex(NONE),
                };
                Ok(self
                    .conn
                    .dump(&req)?
                    .into_iter()
                    .map(|d| TapDetails {
                        sw_if_index: d.sw_if_index,
                        id: d.id,
                        host_if_name: d.host_if_name,
                        rx_ring_size: d.rx_ring_sz,
                        tx_ring_size: d.tx_ring_sz,
                        gso: d.tap_flags.0 & rel::TapFlags::TAP_API_FLAG_GSO.0 != 0,
                        tun: d.tap_flags.0 & rel::TapFlags::TAP_API_FLAG_TUN.0 != 0,
                    })
                    .collect())
            }

            fn dump_memifs(&self) -> Result<Vec<MemifDetails>> {
                Ok(self
                    .conn
                    .dump(&rel::MemifDump {})?
                    .into_iter()
                    .map(|d| MemifDetails {
                        sw_if_index: d.sw_if_index.0,
                        socket_id: d.socket_id,
                        id: d.id,
                        master: d.role == rel::MemifRole::MEMIF_ROLE_API_MASTER,
                        mode: MemifMode::from_code(d.mode.0),
                        ring_size: d.ring_size,
                        buffer_size: d.buffer_size,
                    })
                    .collect())
            }

            fn dump_af_packets(&self) -> Result<Vec<AfPacketDetails>> {
                Ok(self
                    .conn
                    .dump(&rel::AfPacketDump {})?
                    .into_iter()
                    .map(|d| AfPacketDetails {
                        sw_if_index: d.sw_if_index.0,
                        host_if_name: d.host_if_name,
                    })
                    .collect())
            }

            fn dump_vxlans(&self) -> Result<Vec<Vxlan>> {
                self.dump_vxlan_release()
            }

            fn add_bridge_domain(&self, bd: &BridgeDomainSpec) -> Result<u32> {
                self.add_bd_release(bd)
            }

            fn delete_bridge_domain(&self, bd_id: u32) -> Result<()> {
                let req = rel::BridgeDomainAddDel {
                    bd_id,
                    is_add: false,
                    ..Default::default()
                };
                self.conn.request(&req).map(|_| ())
            }

            fn dump_bridge_domains(&self) -> Result<Vec<BridgeDomainDetails>> {
                let req = rel::BridgeDomainDump {
                    bd_id: NONE,
                    sw_if_index: rel::InterfaceIndex(NONE),
                };
                Ok(self
                    .conn
                    .dump(&req)?
                    .into_iter()
                    .map(|d| BridgeDomainDetails {
                        spec: BridgeDomainSpec {
                            bd_id: d.bd_id,
                            flood: d.flood,
                            uu_flood: d.uu_flood,
                            forward: d.forward,
                            learn: d.learn,
                            arp_term: d.arp_term,
                            mac_age: d.mac_age,
                            tag: d.bd_tag,
                        },
                        bvi_sw_if_index: (d.bvi_sw_if_index.0 != NONE)
                            .then_some(d.bvi_sw_if_index.0),
                        members: d
                            .sw_if_details
                            .iter()
                            .map(|m| (m.sw_if_index.0, m.shg))
                            .collect(),
                    })
                    .collect())
            }

            fn set_l2_bridge(
                &self,
                sw_if_index: u32,
                bd_id: u32,
                bvi: bool,
                shg: u8,
                enable: bool,
            ) -> Result<()> {
                let req = rel::SwInterfaceSetL2Bridge {
                    rx_sw_if_index: rel::InterfaceIndex(sw_if_index),
                    bd_id,
                    port_type: if bvi {
                        rel::L2PortType::L2_API_PORT_TYPE_BVI
                    } else {
                        rel::L2PortType::L2_API_PORT_TYPE_NORMAL
                    },
                    shg,
                    enable,
                };
                self.conn.request(&req).map(|_| ())
            }

            fn add_del_l2fib(&self, e: &L2FibEntry, is_add: bool) -> Result<()> {
                let req = rel::L2fibAddDel {
                    mac: rel::MacAddress(e.mac.0),
                    bd_id: e.bd_id,
                    sw_if_index: rel::InterfaceIndex(e.sw_if_index),
                    is_add,
                    static_mac: e.static_mac,
                    filter_mac: e.filter_mac,
                    bvi_mac: e.bvi_mac,
                };
                self.conn.request(&req).map(|_| ())
            }

            fn dump_l2fib(&self) -> Result<Vec<L2FibEntry>> {
                Ok(self
                    .conn
                    .dump(&rel::L2FibTableDump { bd_id: NONE })?
                    .into_iter()
                    .map(|d| L2FibEntry {
                        bd_id: d.bd_id,
                        mac: Mac(d.mac.0),
                        sw_if_index: d.sw_if_index.0,
                        static_mac: d.static_mac,
                        filter_mac: d.filter_mac,
                        bvi_mac: d.bvi_mac,
                    })
                    .collect())
            }

            fn set_xconnect(&self, rx: u32, tx: u32, enable: bool) -> Result<()> {
                let req = rel::SwInterfaceSetL2Xconnect {
                    rx_sw_if_index: rel::InterfaceIndex(rx),
                    tx_sw_if_index: rel::InterfaceIndex(tx),
                    enable,
                };
                self.conn.request(&req).map(|_| ())
            }

            fn dump_xconnects(&self) -> Result<Vec<(u32, u32)>> {
                Ok(self
                    .conn
                    .dump(&rel::L2XconnectDump {})?
                    .into_iter()
                    .map(|d| (d.rx_sw_if_index.0, d.tx_sw_if_index.0))
                    .collect())
            }

            fn add_del_ip_table(&self, table: &IpTable, is_add: bool) -> Result<()> {
                self.ip_table_release(table, is_add)
            }

            fn dump_ip_tables(&self) -> Result<Vec<IpTable>> {
                Ok(self
                    .conn
                    .dump(&rel::IpTableDump {})?
                    .into_iter()
                    .map(|d| IpTable {
                        table_id: d.table.table_id,
                        is_ipv6: d.table.is_ip6,
                        name: d.table.name,
                    })
                    .collect())
            }

            fn add_del_route(&self, route: &Route, is_add: bool) -> Result<()> {
                let v6 = route.prefix.is_ipv6();
                let req = rel::IpRouteAddDel {
                    is_add,
                    is_multipath: true,
                    route: rel::IpRoute {
                        table_id: route.table_id,
                        stats_index: 0,
                        prefix: prefix(route.prefix.masked()),
                        paths: route.paths.iter().map(|p| to_path(p, v6)).collect(),
                    },
                };
                self.conn.request(&req).map(|_| ())
            }

            fn dump_routes(&self, table_id: u32, is_ipv6: bool) -> Result<Vec<Route>> {
                let req = rel::IpRouteDump {
                    table: rel::IpTable {
                        table_id,
                        is_ip6: is_ipv6,
                        name: String::new(),
                    },
                };
                Ok(self
                    .conn
                    .dump(&req)?
                    .into_iter()
                    .map(|d| Route {
                        table_id: d.route.table_id,
                        prefix: IpNet {
                            addr: d.route.prefix.address.to_ip(),
                            len: d.route.prefix.len,
                        },
                        paths: d.route.paths.iter().map(from_path).collect(),
                    })
                    .collect())
            }

            fn add_del_neighbor(&self, n: &Neighbor, is_add: bool) -> Result<()> {
                let req = rel::IpNeighborAddDel {
                    is_add,
                    neighbor: rel::IpNeighbor {
                        sw_if_index: rel::InterfaceIndex(n.sw_if_index),
                        flags: if n.is_static {
                            rel::IpNeighborFlags::IP_API_NEIGHBOR_FLAG_STATIC
                        } else {
                            rel::IpNeighborFlags::IP_API_NEIGHBOR_FLAG_NONE
                        },
                        mac_address: rel::MacAddress(n.mac.0),
                        ip_address: rel::Address::from(n.ip),
                    },
                };
                self.conn.request(&req).map(|_| ())
            }

            fn dump_neighbors(&self, is_ipv6: bool) -> Result<Vec<Neighbor>> {
                let req = rel::IpNeighborDump {
                    sw_if_index: rel::InterfaceIndex(NONE),
                    af: if is_ipv6 {
                        rel::AddressFamily::ADDRESS_IP6
                    } else {
                        rel::AddressFamily::ADDRESS_IP4
                    },
                };
                Ok(self
                    .conn
                    .dump(&req)?
                    .into_iter()
                    .map(|d| Neighbor {
                        sw_if_index: d.neighbor.sw_if_index.0,
                        ip: d.neighbor.ip_address.to_ip(),
                        mac: Mac(d.neighbor.mac_address.0),
                        is_static: d.neighbor.flags.0
                            & rel::IpNeighborFlags::IP_API_NEIGHBOR_FLAG_STATIC.0
                            != 0,
                    })
                    .collect())
            }
        }
    };
}

pub(crate) use release_handler;
