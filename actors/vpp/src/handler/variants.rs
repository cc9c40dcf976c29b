//! The message variants that differ between releases, one macro per operation family:
//! `tap: v2 | v3`, `bd: v1 | v2`, `memif: v1 | v2`, `af_packet: v1 | v3`, `vxlan: v1 | v3`,
//! `ip_table: v1 | v2`. Each expands to the release-specific helper methods that
//! [`super::common::release_handler!`] calls; the release module's `rel` import decides the
//! types.
//!
//! It deliberately holds no shared code (see [`super::common`]) and no per-release choice (see
//! the release modules).

/// `tap_create_v2` / `tap_create_v3`.
macro_rules! tap_create_fn {
    (v2) => {
        fn create_tap_release(&self, t: &$crate::api::TapSpec) -> $crate::error::Result<u32> {
            let req = rel::TapCreateV2 {
                id: t.id.unwrap_or($crate::api::NONE),
                use_random_mac: t.mac.is_none(),
                mac_address: rel::MacAddress(t.mac.unwrap_or_default().0),
                num_rx_queues: 1,
                tx_ring_sz: ring(t.tx_ring_size),
                rx_ring_sz: ring(t.rx_ring_size),
                tap_flags: rel::TapFlags(tap_flags(t)),
                host_if_name_set: !t.host_if_name.is_empty(),
                host_if_name: t.host_if_name.clone(),
                tag: t.tag.clone(),
                ..Default::default()
            };
            Ok(self.conn.request(&req)?.sw_if_index.0)
        }
    };
    (v3) => {
        fn create_tap_release(&self, t: &$crate::api::TapSpec) -> $crate::error::Result<u32> {
            let req = rel::TapCreateV3 {
                id: t.id.unwrap_or($crate::api::NONE),
                use_random_mac: t.mac.is_none(),
                mac_address: rel::MacAddress(t.mac.unwrap_or_default().0),
                num_rx_queues: 1,
                num_tx_queues: 1,
                tx_ring_sz: ring(t.tx_ring_size),
                rx_ring_sz: ring(t.rx_ring_size),
                tap_flags: rel::TapFlags(tap_flags(t)),
                host_if_name_set: !t.host_if_name.is_empty(),
                host_if_name: t.host_if_name.clone(),
                tag: t.tag.clone(),
                ..Default::default()
            };
            Ok(self.conn.request(&req)?.sw_if_index.0)
        }
    };
}

/// `bridge_domain_add_del` / `bridge_domain_add_del_v2`.
macro_rules! bd_add_fn {
    (v1) => {
        fn add_bd_release(&self, bd: &$crate::api::BridgeDomainSpec) -> $crate::error::Result<u32> {
            let req = rel::BridgeDomainAddDel {
                bd_id: bd.bd_id,
                flood: bd.flood,
                uu_flood: bd.uu_flood,
                forward: bd.forward,
                learn: bd.learn,
                arp_term: bd.arp_term,
                arp_ufwd: false,
                mac_age: bd.mac_age,
                bd_tag: bd.tag.clone(),
                is_add: true,
            };
            self.conn.request(&req)?;
            Ok(bd.bd_id)
        }
    };
    (v2) => {
        fn add_bd_release(&self, bd: &$crate::api::BridgeDomainSpec) -> $crate::error::Result<u32> {
            let req = rel::BridgeDomainAddDelV2 {
                bd_id: bd.bd_id,
                flood: bd.flood,
                uu_flood: bd.uu_flood,
                forward: bd.forward,
                learn: bd.learn,
                arp_term: bd.arp_term,
                arp_ufwd: false,
                mac_age: bd.mac_age,
                bd_tag: bd.tag.clone(),
                is_add: true,
            };
            Ok(self.conn.request(&req)?.bd_id)
        }
    };
}

/// `memif_socket_filename_add_del` + `memif_create`, or their `_v2`.
macro_rules! memif_fns {
    (v1) => {
        fn memif_socket_release(
            &self,
            socket_id: u32,
            filename: &str,
            is_add: bool,
        ) -> $crate::error::Result<()> {
            let req = rel::MemifSocketFilenameAddDel {
                is_add,
                socket_id,
                socket_filename: filename.to_owned(),
            };
            self.conn.request(&req).map(|_| ())
        }
        fn create_memif_release(&self, m: &$crate::api::MemifSpec) -> $crate::error::Result<u32> {
            let req = rel::MemifCreate {
                role: rel::MemifRole(u32::from(!m.master)),
                mode: rel::MemifMode(m.mode.code()),
                rx_queues: m.rx_queues,
                tx_queues: m.tx_queues,
                id: m.id,
                socket_id: m.socket_id,
                ring_size: m.ring_size,
                buffer_size: m.buffer_size,
                no_zero_copy: false,
                hw_addr: rel::MacAddress(m.mac.unwrap_or_default().0),
                secret: m.secret.clone(),
            };
            Ok(self.conn.request(&req)?.sw_if_index.0)
        }
    };
    (v2) => {
        fn memif_socket_release(
            &self,
            socket_id: u32,
            filename: &str,
            is_add: bool,
        ) -> $crate::error::Result<()> {
            let req = rel::MemifSocketFilenameAddDelV2 {
                is_add,
                socket_id,
                socket_filename: filename.to_owned(),
            };
            self.conn.request(&req).map(|_| ())
        }
        fn create_memif_release(&self, m: &$crate::api::MemifSpec) -> $crate::error::Result<u32> {
            let req = rel::MemifCreateV2 {
                role: rel::MemifRole(u32::from(!m.master)),
                mode: rel::MemifMode(m.mode.code()),
                rx_queues: m.rx_queues,
                tx_queues: m.tx_queues,
                id: m.id,
                socket_id: m.socket_id,
                ring_size: m.ring_size,
                buffer_size: m.buffer_size,
                no_zero_copy: false,
                use_dma: false,
                hw_addr: rel::MacAddress(m.mac.unwrap_or_default().0),
                secret: m.secret.clone(),
            };
            Ok(self.conn.request(&req)?.sw_if_index.0)
        }
    };
}

/// `af_packet_create` / `af_packet_create_v3`.
macro_rules! af_packet_fn {
    (v1) => {
        fn create_af_packet_release(
            &self,
            host_if_name: &str,
            mac: Option<$crate::api::Mac>,
        ) -> $crate::error::Result<u32> {
            let req = rel::AfPacketCreate {
                hw_addr: rel::MacAddress(mac.unwrap_or_default().0),
                use_random_hw_addr: mac.is_none(),
                host_if_name: host_if_name.to_owned(),
            };
            Ok(self.conn.request(&req)?.sw_if_index.0)
        }
    };
    (v3) => {
        fn create_af_packet_release(
            &self,
            host_if_name: &str,
            mac: Option<$crate::api::Mac>,
        ) -> $crate::error::Result<u32> {
            let req = rel::AfPacketCreateV3 {
                mode: rel::AfPacketMode::AF_PACKET_API_MODE_ETHERNET,
                hw_addr: rel::MacAddress(mac.unwrap_or_default().0),
                use_random_hw_addr: mac.is_none(),
                host_if_name: host_if_name.to_owned(),
                num_rx_queues: 1,
                num_tx_queues: 1,
                ..Default::default()
            };
            Ok(self.conn.request(&req)?.sw_if_index.0)
        }
    };
}

/// `vxlan_add_del_tunnel` + `vxlan_tunnel_dump`, or `_v3` + `vxlan_tunnel_v2_dump`.
macro_rules! vxlan_fns {
    (v1) => {
        fn vxlan_release(
            &self,
            v: &$crate::api::Vxlan,
            is_add: bool,
        ) -> $crate::error::Result<u32> {
            let req = rel::VxlanAddDelTunnel {
                is_add,
                instance: $crate::api::NONE,
                src_address: rel::Address::from(v.src),
                dst_address: rel::Address::from(v.dst),
                mcast_sw_if_index: rel::InterfaceIndex(v.mcast_sw_if_index),
                encap_vrf_id: v.encap_vrf_id,
                decap_next_index: $crate::api::NONE,
                vni: v.vni,
            };
            Ok(self.conn.request(&req)?.sw_if_index.0)
        }
        fn dump_vxlan_release(&self) -> $crate::error::Result<Vec<$crate::api::Vxlan>> {
            let req = rel::VxlanTunnelDump {
                sw_if_index: rel::InterfaceIndex($crate::api::NONE),
            };
            Ok(self
                .conn
                .dump(&req)?
                .into_iter()
                .map(|d| $crate::api::Vxlan {
                    sw_if_index: d.sw_if_index.0,
                    src: d.src_address.to_ip(),
                    dst: d.dst_address.to_ip(),
                    vni: d.vni,
                    mcast_sw_if_index: d.mcast_sw_if_index.0,
                    encap_vrf_id: d.encap_vrf_id,
                })
                .collect())
        }
    };
    (v3) => {
        fn vxlan_release(
            &self,
            v: &$crate::api::Vxlan,
            is_add: bool,
        ) -> $crate::error::Result<u32> {
            let req = rel::VxlanAddDelTunnelV3 {
                is_add,
                instance: $crate::api::NONE,
                src_address: rel::Address::from(v.src),
                dst_address: rel::Address::from(v.dst),
                src_port: 0,
                dst_port: 0,
                mcast_sw_if_index: rel::InterfaceIndex(v.mcast_sw_if_index),
                encap_vrf_id: v.encap_vrf_id,
                decap_next_index: $crate::api::NONE,
                vni: v.vni,
                is_l3: false,
            };
            Ok(self.conn.request(&req)?.sw_if_index.0)
        }
        fn dump_vxlan_release(&self) -> $crate::error::Result<Vec<$crate::api::Vxlan>> {
            let req = rel::VxlanTunnelV2Dump {
                sw_if_index: rel::InterfaceIndex($crate::api::NONE),
            };
            Ok(self
                .conn
                .dump(&req)?
                .into_iter()
                .map(|d| $crate::api::Vxlan {
                    sw_if_index: d.sw_if_index.0,
                    src: d.src_address.to_ip(),
                    dst: d.dst_address.to_ip(),
                    vni: d.vni,
                    mcast_sw_if_index: d.mcast_sw_if_index.0,
                    encap_vrf_id: d.encap_vrf_id,
                })
                .collect())
        }
    };
}

/// `ip_table_add_del` / `ip_table_add_del_v2`.
macro_rules! ip_table_fn {
    (v1) => {
        fn ip_table_release(
            &self,
            t: &$crate::api::IpTable,
            is_add: bool,
        ) -> $crate::error::Result<()> {
            let req = rel::IpTableAddDel {
                is_add,
                table: rel::IpTable {
                    table_id: t.table_id,
                    is_ip6: t.is_ipv6,
                    name: t.name.clone(),
                },
            };
            self.conn.request(&req).map(|_| ())
        }
    };
    (v2) => {
        fn ip_table_release(
            &self,
            t: &$crate::api::IpTable,
            is_add: bool,
        ) -> $crate::error::Result<()> {
            let req = rel::IpTableAddDelV2 {
                table: rel::IpTable {
                    table_id: t.table_id,
                    is_ip6: t.is_ipv6,
                    name: t.name.clone(),
                },
                create_mfib: true,
                is_add,
            };
            self.conn.request(&req).map(|_| ())
        }
    };
}

pub(crate) use af_packet_fn;
pub(crate) use bd_add_fn;
pub(crate) use ip_table_fn;
pub(crate) use memif_fns;
pub(crate) use tap_create_fn;
pub(crate) use vxlan_fns;
