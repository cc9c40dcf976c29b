//! L2 handlers, expanded per release: bridge domains (`bridge_domain_add_del`, and `_v2`
//! where the release has it via `l2_v2!`), bridge and xconnect membership, the L2 FIB and
//! their dumps with VPP's filter quirks (`bridge_domain_dump` with an interface filter
//! returns nothing; `l2_fib_table_dump` with an unknown BD returns nothing).
//!
//! The rules themselves (auto-created BDs, stale FIB entries) live in the state model.

macro_rules! l2 {
    ($rel:ident) => {
        use api::{BridgeDomainSwIf, InterfaceIndex};
        use binapi::$rel as api;

        use $crate::handlers::Ctx;
        use $crate::handlers::convert::{mac, wire_mac};
        use $crate::state::{BdFlags, NONE, VppResult};

        register! {
            requests {
                api::BridgeDomainAddDel => bd_add_del,
                api::SwInterfaceSetL2Bridge => set_l2_bridge,
                api::SwInterfaceSetL2Xconnect => set_l2_xconnect,
                api::L2fibAddDel => l2fib_add_del,
            }
            streams {
                api::BridgeDomainDump => bd_dump,
                api::L2XconnectDump => xconnect_dump,
                api::L2FibTableDump => l2fib_dump,
            }
        }

        fn bd_add_del(
            ctx: &mut Ctx<'_>,
            m: api::BridgeDomainAddDel,
        ) -> VppResult<api::BridgeDomainAddDelReply> {
            if m.is_add {
                let flags = BdFlags {
                    flood: m.flood,
                    uu_flood: m.uu_flood,
                    forward: m.forward,
                    learn: m.learn,
                    arp_term: m.arp_term,
                    arp_ufwd: m.arp_ufwd,
                    mac_age: m.mac_age,
                    tag: m.bd_tag,
                };
                ctx.vpp.bd_add(m.bd_id, flags)?;
            } else {
                ctx.vpp.bd_del(m.bd_id)?;
            }
            Ok(api::BridgeDomainAddDelReply { retval: 0 })
        }

        fn set_l2_bridge(
            ctx: &mut Ctx<'_>,
            m: api::SwInterfaceSetL2Bridge,
        ) -> VppResult<api::SwInterfaceSetL2BridgeReply> {
            ctx.vpp
                .set_l2_bridge(m.rx_sw_if_index.0, m.bd_id, m.port_type.0, m.shg, m.enable)?;
            Ok(api::SwInterfaceSetL2BridgeReply { retval: 0 })
        }

        fn set_l2_xconnect(
            ctx: &mut Ctx<'_>,
            m: api::SwInterfaceSetL2Xconnect,
        ) -> VppResult<api::SwInterfaceSetL2XconnectReply> {
            ctx.vpp
                .set_l2_xconnect(m.rx_sw_if_index.0, m.tx_sw_if_index.0, m.enable)?;
            Ok(api::SwInterfaceSetL2XconnectReply { retval: 0 })
        }

        fn l2fib_add_del(
            ctx: &mut Ctx<'_>,
            m: api::L2fibAddDel,
        ) -> VppResult<api::L2fibAddDelReply> {
            ctx.vpp.l2fib_add_del(
                mac(m.mac),
                m.bd_id,
                m.sw_if_index.0,
                m.is_add,
                m.static_mac,
                m.filter_mac,
                m.bvi_mac,
            )?;
            Ok(api::L2fibAddDelReply { retval: 0 })
        }

        /// `bridge_domain_dump`: `~0` lists all but BD 0, an id that one, BD 0 nothing; an
        /// interface filter other than `~0` gives nothing at all.
        fn bd_dump(ctx: &mut Ctx<'_>, m: api::BridgeDomainDump) {
            if m.sw_if_index.0 != NONE || m.bd_id == 0 {
                return;
            }
            let context = ctx.out.context;
            for bd in ctx.vpp.bridge_domains() {
                if m.bd_id != NONE && m.bd_id != bd.bd_id {
                    continue;
                }
                let members = bd
                    .members
                    .iter()
                    .map(|(idx, shg)| BridgeDomainSwIf {
                        context,
                        sw_if_index: InterfaceIndex(*idx),
                        shg: *shg,
                    })
                    .collect();
                ctx.out.reply(&api::BridgeDomainDetails {
                    bd_id: bd.bd_id,
                    flood: bd.flood,
                    uu_flood: bd.uu_flood,
                    forward: bd.forward,
                    learn: bd.learn,
                    arp_term: bd.arp_term,
                    arp_ufwd: bd.arp_ufwd,
                    mac_age: bd.mac_age,
                    bd_tag: bd.tag.clone(),
                    bvi_sw_if_index: InterfaceIndex(bd.bvi.unwrap_or(NONE)),
                    uu_fwd_sw_if_index: InterfaceIndex(NONE),
                    sw_if_details: members,
                });
            }
        }

        fn xconnect_dump(ctx: &mut Ctx<'_>, _m: api::L2XconnectDump) {
            let pairs: Vec<(u32, u32)> = ctx.vpp.xconnects().collect();
            for (rx, tx) in pairs {
                ctx.out.reply(&api::L2XconnectDetails {
                    rx_sw_if_index: InterfaceIndex(rx),
                    tx_sw_if_index: InterfaceIndex(tx),
                });
            }
        }

        /// `l2_fib_table_dump`: orphans of deleted BDs report bd_id `~0`.
        fn l2fib_dump(ctx: &mut Ctx<'_>, m: api::L2FibTableDump) {
            for (bd_id, mac, e) in ctx.vpp.l2fib_entries(m.bd_id) {
                ctx.out.reply(&api::L2FibTableDetails {
                    bd_id,
                    mac: wire_mac(mac),
                    sw_if_index: InterfaceIndex(e.sw_if_index),
                    static_mac: e.static_mac,
                    filter_mac: e.filter_mac,
                    bvi_mac: e.bvi_mac,
                });
            }
        }
    };
}

macro_rules! l2_v2 {
    ($rel:ident) => {
        use binapi::$rel as api;

        use $crate::handlers::Ctx;
        use $crate::state::{BdFlags, VppResult};

        register! {
            requests {
                api::BridgeDomainAddDelV2 => bd_add_del_v2,
            }
            streams {}
        }

        /// `bridge_domain_add_del_v2`: an add with bd_id `~0` allocates an id, returned.
        fn bd_add_del_v2(
            ctx: &mut Ctx<'_>,
            m: api::BridgeDomainAddDelV2,
        ) -> VppResult<api::BridgeDomainAddDelV2Reply> {
            if !m.is_add {
                ctx.vpp.bd_del(m.bd_id)?;
                return Ok(api::BridgeDomainAddDelV2Reply {
                    retval: 0,
                    bd_id: m.bd_id,
                });
            }
            let flags = BdFlags {
                flood: m.flood,
                uu_flood: m.uu_flood,
                forward: m.forward,
                learn: m.learn,
                arp_term: m.arp_term,
                arp_ufwd: m.arp_ufwd,
                mac_age: m.mac_age,
                tag: m.bd_tag,
            };
            let bd_id = ctx.vpp.bd_add_v2(m.bd_id, flags)?;
            Ok(api::BridgeDomainAddDelV2Reply { retval: 0, bd_id })
        }
    };
}
