//! Device handlers, expanded per release: tap v2 (`devices!`), memif, af_packet and vxlan,
//! and the newer message versions 23.06 added (`devices_v2!`: tap v3, memif v2, af_packet
//! v2/v3, vxlan v2/v3). The kernel side is faked: a tap or af_packet host interface is
//! assumed to exist, and no memif peer ever connects; with kernel taps enabled
//! ([`crate::kernel_tap`]), a tap's host side is a real kernel device.
//!
//! Naming, id allocation and refusals live in the state model; this file maps fields.

/// Ring sizes VPP's tap accepts: a power of two up to 32768; 0 takes the default.
pub fn tap_ring(size: u16) -> crate::state::VppResult<u16> {
    match size {
        0 => Ok(256),
        s if s.is_power_of_two() && s <= 32768 => Ok(s),
        _ => Err(crate::state::Retval::INVALID_VALUE),
    }
}

/// The TUN bit of `tap_flags`.
pub const TAP_FLAG_TUN: u32 = 16;

macro_rules! devices {
    ($rel:ident) => {
        use api::{InterfaceIndex, MemifMode, MemifRole};
        use binapi::$rel as api;

        use $crate::handlers::Ctx;
        use $crate::handlers::convert::{opt_mac, wire_mac};
        use $crate::handlers::devices::{TAP_FLAG_TUN, tap_ring};
        use $crate::state::{IfKind, NONE, Retval, VppResult};

        register! {
            requests {
                api::TapCreateV2 => tap_create_v2,
                api::TapDeleteV2 => tap_delete_v2,
                api::MemifSocketFilenameAddDel => memif_socket_add_del,
                api::MemifCreate => memif_create,
                api::MemifDelete => memif_delete,
                api::AfPacketCreate => af_packet_create,
                api::AfPacketDelete => af_packet_delete,
                api::VxlanAddDelTunnel => vxlan_add_del,
            }
            streams {
                api::SwInterfaceTapV2Dump => tap_dump,
                api::MemifDump => memif_dump,
                api::AfPacketDump => af_packet_dump,
                api::VxlanTunnelDump => vxlan_dump,
            }
        }

        /// The common part of tap v2 and v3: rings, MAC, host name, TUN flag, tag.
        #[allow(clippy::too_many_arguments)]
        pub fn tap_create(
            ctx: &mut Ctx<'_>,
            id: u32,
            use_random_mac: bool,
            mac: api::MacAddress,
            rx_ring: u16,
            tx_ring: u16,
            flags: u32,
            host_if_name: Option<&str>,
            host_namespace: Option<&str>,
            host_mac: Option<api::MacAddress>,
            tag: &str,
        ) -> VppResult<u32> {
            let (rx, tx) = (tap_ring(rx_ring)?, tap_ring(tx_ring)?);
            let mac = if use_random_mac { None } else { opt_mac(mac) };
            let tun = flags & TAP_FLAG_TUN != 0;
            let host = host_if_name.unwrap_or("");
            let idx = ctx.vpp.tap_create(id, mac, host, tun, rx, tx)?;
            if let Some(taps) = ctx.sys.kernel_taps.as_mut() {
                let name = match ctx.vpp.interface(idx).map(|i| &i.kind) {
                    Some(IfKind::Tap { host_if_name, .. }) => host_if_name.clone(),
                    _ => String::new(),
                };
                let spec = $crate::kernel_tap::TapSpec {
                    name,
                    namespace: host_namespace.filter(|n| !n.is_empty()).map(str::to_owned),
                    mac: host_mac.and_then(opt_mac).map(|m| m.0),
                    tun,
                };
                if let Err(e) = taps.create(idx, spec) {
                    tracing::warn!(error = %e, "Kernel tap not created; the tap is refused.");
                    let _ = ctx.vpp.tap_delete(idx);
                    return Err(Retval(e.retval()));
                }
            }
            if !tag.is_empty() {
                ctx.vpp.set_tag(idx, tag, true)?;
            }
            Ok(idx)
        }

        fn tap_create_v2(
            ctx: &mut Ctx<'_>,
            m: api::TapCreateV2,
        ) -> VppResult<api::TapCreateV2Reply> {
            let host = m.host_if_name_set.then_some(m.host_if_name.as_str());
            let idx = tap_create(
                ctx,
                m.id,
                m.use_random_mac,
                m.mac_address,
                m.rx_ring_sz,
                m.tx_ring_sz,
                m.tap_flags.0,
                host,
                m.host_namespace_set.then_some(m.host_namespace.as_str()),
                m.host_mac_addr_set.then_some(m.host_mac_addr),
                &m.tag,
            )?;
            Ok(api::TapCreateV2Reply {
                retval: 0,
                sw_if_index: InterfaceIndex(idx),
            })
        }

        fn tap_delete_v2(
            ctx: &mut Ctx<'_>,
            m: api::TapDeleteV2,
        ) -> VppResult<api::TapDeleteV2Reply> {
            ctx.vpp.tap_delete(m.sw_if_index.0)?;
            if let Some(taps) = ctx.sys.kernel_taps.as_mut() {
                taps.remove(m.sw_if_index.0);
            }
            Ok(api::TapDeleteV2Reply { retval: 0 })
        }

        /// `sw_interface_tap_v2_dump`: `~0` lists every tap, another index only that one.
        fn tap_dump(ctx: &mut Ctx<'_>, m: api::SwInterfaceTapV2Dump) {
            let filter = m.sw_if_index.0;
            for i in ctx.vpp.interfaces() {
                let IfKind::Tap {
                    id,
                    host_if_name,
                    tun,
                    rx_ring,
                    tx_ring,
                } = &i.kind
                else {
                    continue;
                };
                if filter != NONE && filter != i.sw_if_index {
                    continue;
                }
                let mut d = api::SwInterfaceTapV2Details {
                    sw_if_index: i.sw_if_index,
                    id: *id,
                    tx_ring_sz: *tx_ring,
                    rx_ring_sz: *rx_ring,
                    host_mtu_size: 1500,
                    dev_name: i.name.clone(),
                    host_if_name: host_if_name.clone(),
                    ..Default::default()
                };
                if *tun {
                    d.tap_flags.0 = TAP_FLAG_TUN;
                }
                ctx.out.reply(&d);
            }
        }

        fn memif_socket_add_del(
            ctx: &mut Ctx<'_>,
            m: api::MemifSocketFilenameAddDel,
        ) -> VppResult<api::MemifSocketFilenameAddDelReply> {
            ctx.vpp
                .memif_socket_add_del(m.is_add, m.socket_id, &m.socket_filename)?;
            Ok(api::MemifSocketFilenameAddDelReply { retval: 0 })
        }

        /// The common part of memif v1 and v2: ring size 0 means 1024, buffer 0 means 2048.
        #[allow(clippy::too_many_arguments)]
        pub fn memif_create_common(
            ctx: &mut Ctx<'_>,
            socket_id: u32,
            id: u32,
            role: MemifRole,
            mode: MemifMode,
            ring_size: u32,
            buffer_size: u16,
            mac: api::MacAddress,
        ) -> VppResult<u32> {
            if ring_size != 0 && !ring_size.is_power_of_two() {
                return Err(Retval::INVALID_ARGUMENT);
            }
            let ring = if ring_size == 0 { 1024 } else { ring_size };
            let buffer = if buffer_size == 0 { 2048 } else { buffer_size };
            let master = role == MemifRole::MEMIF_ROLE_API_MASTER;
            let mode = u8::try_from(mode.0).map_err(|_| Retval::INVALID_ARGUMENT)?;
            ctx.vpp
                .memif_create(socket_id, id, master, mode, ring, buffer, opt_mac(mac))
        }

        fn memif_create(
            ctx: &mut Ctx<'_>,
            m: api::MemifCreate,
        ) -> VppResult<api::MemifCreateReply> {
            let idx = memif_create_common(
                ctx,
                m.socket_id,
                m.id,
                m.role,
                m.mode,
                m.ring_size,
                m.buffer_size,
                m.hw_addr,
            )?;
            Ok(api::MemifCreateReply {
                retval: 0,
                sw_if_index: InterfaceIndex(idx),
            })
        }

        fn memif_delete(
            ctx: &mut Ctx<'_>,
            m: api::MemifDelete,
        ) -> VppResult<api::MemifDeleteReply> {
            ctx.vpp.memif_delete(m.sw_if_index.0)?;
            Ok(api::MemifDeleteReply { retval: 0 })
        }

        fn memif_dump(ctx: &mut Ctx<'_>, _m: api::MemifDump) {
            for i in ctx.vpp.interfaces() {
                let IfKind::Memif {
                    socket_id,
                    id,
                    master,
                    mode,
                    ring_size,
                    buffer_size,
                } = i.kind
                else {
                    continue;
                };
                ctx.out.reply(&api::MemifDetails {
                    sw_if_index: InterfaceIndex(i.sw_if_index),
                    hw_addr: wire_mac(i.mac),
                    id,
                    role: if master {
                        MemifRole::MEMIF_ROLE_API_MASTER
                    } else {
                        MemifRole::MEMIF_ROLE_API_SLAVE
                    },
                    mode: MemifMode(u32::from(mode)),
                    zero_copy: false,
                    socket_id,
                    ring_size,
                    buffer_size,
                    flags: api::IfStatusFlags(i.flags()),
                    if_name: i.name.clone(),
                });
            }
        }

        pub fn af_packet_create_common(
            ctx: &mut Ctx<'_>,
            host_if_name: &str,
            use_random: bool,
            hw_addr: api::MacAddress,
        ) -> VppResult<u32> {
            let mac = if use_random { None } else { opt_mac(hw_addr) };
            ctx.vpp.af_packet_create(host_if_name, mac)
        }

        fn af_packet_create(
            ctx: &mut Ctx<'_>,
            m: api::AfPacketCreate,
        ) -> VppResult<api::AfPacketCreateReply> {
            let idx =
                af_packet_create_common(ctx, &m.host_if_name, m.use_random_hw_addr, m.hw_addr)?;
            Ok(api::AfPacketCreateReply {
                retval: 0,
                sw_if_index: InterfaceIndex(idx),
            })
        }

        fn af_packet_delete(
            ctx: &mut Ctx<'_>,
            m: api::AfPacketDelete,
        ) -> VppResult<api::AfPacketDeleteReply> {
            ctx.vpp.af_packet_delete(&m.host_if_name)?;
            Ok(api::AfPacketDeleteReply { retval: 0 })
        }

        fn af_packet_dump(ctx: &mut Ctx<'_>, _m: api::AfPacketDump) {
            for i in ctx.vpp.interfaces() {
                if let IfKind::AfPacket { host_if_name } = &i.kind {
                    ctx.out.reply(&api::AfPacketDetails {
                        sw_if_index: InterfaceIndex(i.sw_if_index),
                        host_if_name: host_if_name.clone(),
                    });
                }
            }
        }

        /// The common part of every vxlan_add_del_tunnel version; returns the index.
        #[allow(clippy::too_many_arguments)]
        pub fn vxlan_common(
            ctx: &mut Ctx<'_>,
            is_add: bool,
            instance: u32,
            src: &api::Address,
            dst: &api::Address,
            encap_vrf: u32,
            decap_next: u32,
            vni: u32,
        ) -> VppResult<u32> {
            let (src, dst) = (src.to_ip(), dst.to_ip());
            if src == dst {
                return Err(Retval::SAME_SRC_DST);
            }
            if is_add {
                ctx.vpp
                    .vxlan_add_instance(instance, src, dst, vni, encap_vrf, decap_next)
            } else {
                ctx.vpp.vxlan_del(src, dst, vni)
            }
        }

        fn vxlan_add_del(
            ctx: &mut Ctx<'_>,
            m: api::VxlanAddDelTunnel,
        ) -> VppResult<api::VxlanAddDelTunnelReply> {
            let idx = vxlan_common(
                ctx,
                m.is_add,
                m.instance,
                &m.src_address,
                &m.dst_address,
                m.encap_vrf_id,
                m.decap_next_index,
                m.vni,
            )?;
            Ok(api::VxlanAddDelTunnelReply {
                retval: 0,
                sw_if_index: InterfaceIndex(idx),
            })
        }

        /// Live vxlan tunnels, optionally one index (`~0` = all): (index, instance, src,
        /// dst, vni, encap vrf, decap next).
        pub fn vxlan_tunnels(
            vpp: &$crate::state::Vpp,
            filter: u32,
        ) -> Vec<(u32, u32, std::net::IpAddr, std::net::IpAddr, u32, u32, u32)> {
            vpp.interfaces()
                .filter(|i| filter == NONE || filter == i.sw_if_index)
                .filter_map(|i| match i.kind {
                    IfKind::Vxlan {
                        instance,
                        src,
                        dst,
                        vni,
                        encap_vrf,
                        decap_next,
                    } => Some((
                        i.sw_if_index,
                        instance,
                        src,
                        dst,
                        vni,
                        encap_vrf,
                        decap_next,
                    )),
                    _ => None,
                })
                .collect()
        }

        fn vxlan_dump(ctx: &mut Ctx<'_>, m: api::VxlanTunnelDump) {
            for (idx, instance, src, dst, vni, vrf, next) in vxlan_tunnels(ctx.vpp, m.sw_if_index.0)
            {
                ctx.out.reply(&api::VxlanTunnelDetails {
                    sw_if_index: InterfaceIndex(idx),
                    instance,
                    src_address: src.into(),
                    dst_address: dst.into(),
                    mcast_sw_if_index: InterfaceIndex(NONE),
                    encap_vrf_id: vrf,
                    decap_next_index: next,
                    vni,
                });
            }
        }
    };
}

macro_rules! devices_v2 {
    ($rel:ident) => {
        use api::InterfaceIndex;
        use binapi::$rel as api;

        use $crate::handlers::Ctx;
        use $crate::state::{NONE, VppResult};

        use super::devices::{
            af_packet_create_common, memif_create_common, tap_create, vxlan_common, vxlan_tunnels,
        };

        register! {
            requests {
                api::TapCreateV3 => tap_create_v3,
                api::MemifSocketFilenameAddDelV2 => memif_socket_add_del_v2,
                api::MemifCreateV2 => memif_create_v2,
                api::AfPacketCreateV2 => af_packet_create_v2,
                api::AfPacketCreateV3 => af_packet_create_v3,
                api::VxlanAddDelTunnelV2 => vxlan_add_del_v2,
                api::VxlanAddDelTunnelV3 => vxlan_add_del_v3,
            }
            streams {
                api::VxlanTunnelV2Dump => vxlan_v2_dump,
            }
        }

        fn tap_create_v3(
            ctx: &mut Ctx<'_>,
            m: api::TapCreateV3,
        ) -> VppResult<api::TapCreateV3Reply> {
            let host = m.host_if_name_set.then_some(m.host_if_name.as_str());
            let idx = tap_create(
                ctx,
                m.id,
                m.use_random_mac,
                m.mac_address,
                m.rx_ring_sz,
                m.tx_ring_sz,
                m.tap_flags.0,
                host,
                m.host_namespace_set.then_some(m.host_namespace.as_str()),
                m.host_mac_addr_set.then_some(m.host_mac_addr),
                &m.tag,
            )?;
            Ok(api::TapCreateV3Reply {
                retval: 0,
                sw_if_index: InterfaceIndex(idx),
            })
        }

        /// v2 add: `~0` allocates a socket id, returned in the reply; v2 delete as v1.
        fn memif_socket_add_del_v2(
            ctx: &mut Ctx<'_>,
            m: api::MemifSocketFilenameAddDelV2,
        ) -> VppResult<api::MemifSocketFilenameAddDelV2Reply> {
            let socket_id = if m.is_add {
                ctx.vpp
                    .memif_socket_add_v2(m.socket_id, &m.socket_filename)?
            } else {
                ctx.vpp
                    .memif_socket_add_del(false, m.socket_id, &m.socket_filename)?;
                m.socket_id
            };
            Ok(api::MemifSocketFilenameAddDelV2Reply {
                retval: 0,
                socket_id,
            })
        }

        fn memif_create_v2(
            ctx: &mut Ctx<'_>,
            m: api::MemifCreateV2,
        ) -> VppResult<api::MemifCreateV2Reply> {
            let idx = memif_create_common(
                ctx,
                m.socket_id,
                m.id,
                m.role,
                m.mode,
                m.ring_size,
                m.buffer_size,
                m.hw_addr,
            )?;
            Ok(api::MemifCreateV2Reply {
                retval: 0,
                sw_if_index: InterfaceIndex(idx),
            })
        }

        fn af_packet_create_v2(
            ctx: &mut Ctx<'_>,
            m: api::AfPacketCreateV2,
        ) -> VppResult<api::AfPacketCreateV2Reply> {
            let idx =
                af_packet_create_common(ctx, &m.host_if_name, m.use_random_hw_addr, m.hw_addr)?;
            Ok(api::AfPacketCreateV2Reply {
                retval: 0,
                sw_if_index: InterfaceIndex(idx),
            })
        }

        fn af_packet_create_v3(
            ctx: &mut Ctx<'_>,
            m: api::AfPacketCreateV3,
        ) -> VppResult<api::AfPacketCreateV3Reply> {
            let idx =
                af_packet_create_common(ctx, &m.host_if_name, m.use_random_hw_addr, m.hw_addr)?;
            Ok(api::AfPacketCreateV3Reply {
                retval: 0,
                sw_if_index: InterfaceIndex(idx),
            })
        }

        fn vxlan_add_del_v2(
            ctx: &mut Ctx<'_>,
            m: api::VxlanAddDelTunnelV2,
        ) -> VppResult<api::VxlanAddDelTunnelV2Reply> {
            let idx = vxlan_common(
                ctx,
                m.is_add,
                m.instance,
                &m.src_address,
                &m.dst_address,
                m.encap_vrf_id,
                m.decap_next_index,
                m.vni,
            )?;
            Ok(api::VxlanAddDelTunnelV2Reply {
                retval: 0,
                sw_if_index: InterfaceIndex(idx),
            })
        }

        fn vxlan_add_del_v3(
            ctx: &mut Ctx<'_>,
            m: api::VxlanAddDelTunnelV3,
        ) -> VppResult<api::VxlanAddDelTunnelV3Reply> {
            let idx = vxlan_common(
                ctx,
                m.is_add,
                m.instance,
                &m.src_address,
                &m.dst_address,
                m.encap_vrf_id,
                m.decap_next_index,
                m.vni,
            )?;
            Ok(api::VxlanAddDelTunnelV3Reply {
                retval: 0,
                sw_if_index: InterfaceIndex(idx),
            })
        }

        fn vxlan_v2_dump(ctx: &mut Ctx<'_>, m: api::VxlanTunnelV2Dump) {
            for (idx, instance, src, dst, vni, vrf, next) in vxlan_tunnels(ctx.vpp, m.sw_if_index.0)
            {
                ctx.out.reply(&api::VxlanTunnelV2Details {
                    sw_if_index: InterfaceIndex(idx),
                    instance,
                    src_address: src.into(),
                    dst_address: dst.into(),
                    src_port: 4789,
                    dst_port: 4789,
                    mcast_sw_if_index: InterfaceIndex(NONE),
                    encap_vrf_id: vrf,
                    decap_next_index: next,
                    vni,
                });
            }
        }
    };
}
