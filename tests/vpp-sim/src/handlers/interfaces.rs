//! Interface handlers, written once and expanded per release by `interfaces!(vppYYMM)`:
//! loopbacks, admin state, addresses, tables, MAC, MTU, tags, rx mode, unnumbered, interface
//! events, and the `sw_interface_dump` / `ip_address_dump` streams with VPP's filter rules.
//!
//! Devices (tap, memif, af_packet, vxlan) live in `devices.rs`; sub-interfaces in `subif.rs`.

macro_rules! interfaces {
    ($rel:ident) => {
        use binapi::$rel as api;
        use api::{IfStatusFlags, IfType, InterfaceIndex, LinkDuplex, SubIfFlags};

        use $crate::handlers::convert::{mac, prefix, wire_mac, wire_prefix};
        use $crate::handlers::Ctx;
        use $crate::state::{IfKind, Interface, Retval, VppResult, NONE};

        register! {
            requests {
                api::CreateLoopback => create_loopback,
                api::CreateLoopbackInstance => create_loopback_instance,
                api::DeleteLoopback => delete_loopback,
                api::SwInterfaceSetFlags => set_flags,
                api::SwInterfaceAddDelAddress => add_del_address,
                api::SwInterfaceSetTable => set_table,
                api::SwInterfaceSetMacAddress => set_mac,
                api::SwInterfaceSetMtu => set_mtu,
                api::HwInterfaceSetMtu => hw_set_mtu,
                api::SwInterfaceTagAddDel => tag_add_del,
                api::SwInterfaceSetRxMode => set_rx_mode,
                api::SwInterfaceSetUnnumbered => set_unnumbered,
                api::WantInterfaceEvents => want_interface_events,
            }
            streams {
                api::SwInterfaceDump => sw_interface_dump,
                api::IpAddressDump => ip_address_dump,
            }
        }

        fn create_loopback(
            ctx: &mut Ctx<'_>,
            m: api::CreateLoopback,
        ) -> VppResult<api::CreateLoopbackReply> {
            let idx = ctx.vpp.create_loopback(mac(m.mac_address))?;
            Ok(api::CreateLoopbackReply {
                retval: 0,
                sw_if_index: InterfaceIndex(idx),
            })
        }

        fn create_loopback_instance(
            ctx: &mut Ctx<'_>,
            m: api::CreateLoopbackInstance,
        ) -> VppResult<api::CreateLoopbackInstanceReply> {
            let idx = ctx.vpp.create_loopback_instance(
                mac(m.mac_address),
                m.is_specified,
                m.user_instance,
            )?;
            Ok(api::CreateLoopbackInstanceReply {
                retval: 0,
                sw_if_index: InterfaceIndex(idx),
            })
        }

        fn delete_loopback(
            ctx: &mut Ctx<'_>,
            m: api::DeleteLoopback,
        ) -> VppResult<api::DeleteLoopbackReply> {
            ctx.vpp.delete_loopback(m.sw_if_index.0)?;
            Ok(api::DeleteLoopbackReply { retval: 0 })
        }

        fn set_flags(
            ctx: &mut Ctx<'_>,
            m: api::SwInterfaceSetFlags,
        ) -> VppResult<api::SwInterfaceSetFlagsReply> {
            ctx.vpp.set_flags(m.sw_if_index.0, m.flags.0)?;
            Ok(api::SwInterfaceSetFlagsReply { retval: 0 })
        }

        fn add_del_address(
            ctx: &mut Ctx<'_>,
            m: api::SwInterfaceAddDelAddress,
        ) -> VppResult<api::SwInterfaceAddDelAddressReply> {
            ctx.vpp
                .add_del_address(m.sw_if_index.0, m.is_add, m.del_all, prefix(&m.prefix))?;
            Ok(api::SwInterfaceAddDelAddressReply { retval: 0 })
        }

        fn set_table(
            ctx: &mut Ctx<'_>,
            m: api::SwInterfaceSetTable,
        ) -> VppResult<api::SwInterfaceSetTableReply> {
            ctx.vpp.set_table(m.sw_if_index.0, m.is_ipv6, m.vrf_id)?;
            Ok(api::SwInterfaceSetTableReply { retval: 0 })
        }

        fn set_mac(
            ctx: &mut Ctx<'_>,
            m: api::SwInterfaceSetMacAddress,
        ) -> VppResult<api::SwInterfaceSetMacAddressReply> {
            ctx.vpp.set_mac(m.sw_if_index.0, mac(m.mac_address))?;
            Ok(api::SwInterfaceSetMacAddressReply { retval: 0 })
        }

        fn set_mtu(
            ctx: &mut Ctx<'_>,
            m: api::SwInterfaceSetMtu,
        ) -> VppResult<api::SwInterfaceSetMtuReply> {
            ctx.vpp.set_mtu(m.sw_if_index.0, m.mtu)?;
            Ok(api::SwInterfaceSetMtuReply { retval: 0 })
        }

        fn hw_set_mtu(
            ctx: &mut Ctx<'_>,
            m: api::HwInterfaceSetMtu,
        ) -> VppResult<api::HwInterfaceSetMtuReply> {
            ctx.vpp.set_link_mtu(m.sw_if_index.0, m.mtu)?;
            Ok(api::HwInterfaceSetMtuReply { retval: 0 })
        }

        fn tag_add_del(
            ctx: &mut Ctx<'_>,
            m: api::SwInterfaceTagAddDel,
        ) -> VppResult<api::SwInterfaceTagAddDelReply> {
            ctx.vpp.set_tag(m.sw_if_index.0, &m.tag, m.is_add)?;
            Ok(api::SwInterfaceTagAddDelReply { retval: 0 })
        }

        fn set_rx_mode(
            ctx: &mut Ctx<'_>,
            m: api::SwInterfaceSetRxMode,
        ) -> VppResult<api::SwInterfaceSetRxModeReply> {
            ctx.vpp.set_rx_mode(m.sw_if_index.0)?;
            Ok(api::SwInterfaceSetRxModeReply { retval: 0 })
        }

        fn set_unnumbered(
            ctx: &mut Ctx<'_>,
            m: api::SwInterfaceSetUnnumbered,
        ) -> VppResult<api::SwInterfaceSetUnnumberedReply> {
            ctx.vpp.set_unnumbered(
                m.sw_if_index.0,
                m.unnumbered_sw_if_index.0,
                m.is_add,
            )?;
            Ok(api::SwInterfaceSetUnnumberedReply { retval: 0 })
        }

        /// `want_interface_events` (VPP's `pub_sub_handler`): enabling twice or disabling
        /// without a registration is -31.
        fn want_interface_events(
            ctx: &mut Ctx<'_>,
            m: api::WantInterfaceEvents,
        ) -> VppResult<api::WantInterfaceEventsReply> {
            let registered = ctx.sys.interface_events.contains_key(&ctx.client_index);
            if registered == (m.enable_disable != 0) {
                return Err(Retval::INVALID_REGISTRATION);
            }
            if m.enable_disable != 0 {
                ctx.sys.interface_events.insert(ctx.client_index, m.pid);
            } else {
                ctx.sys.interface_events.remove(&ctx.client_index);
            }
            Ok(api::WantInterfaceEventsReply { retval: 0 })
        }

        fn details(i: &Interface) -> api::SwInterfaceDetails {
            let mut d = api::SwInterfaceDetails {
                sw_if_index: InterfaceIndex(i.sw_if_index),
                sup_sw_if_index: i.sup_sw_if_index,
                l2_address: wire_mac(i.mac),
                flags: IfStatusFlags(i.flags()),
                type_: IfType::IF_API_TYPE_HARDWARE,
                link_duplex: LinkDuplex::default(),
                link_mtu: i.link_mtu,
                mtu: i.mtu,
                interface_name: i.name.clone(),
                interface_dev_type: i.dev_type.clone(),
                tag: i.tag.clone(),
                ..Default::default()
            };
            if let IfKind::Sub {
                sub_id,
                outer_vlan,
                inner_vlan,
                flags,
                ..
            } = i.kind
            {
                d.type_ = IfType::IF_API_TYPE_SUB;
                d.sub_id = sub_id;
                d.sub_number_of_tags = if flags & 4 != 0 {
                    2
                } else if flags & 2 != 0 {
                    1
                } else {
                    0
                };
                d.sub_outer_vlan_id = outer_vlan;
                d.sub_inner_vlan_id = inner_vlan;
                d.sub_if_flags = SubIfFlags(flags);
            }
            d
        }

        /// `sw_interface_dump`: an index other than 0 and `~0` (without a name filter)
        /// gives that interface or nothing; a name filter is a case-insensitive substring.
        fn sw_interface_dump(ctx: &mut Ctx<'_>, m: api::SwInterfaceDump) {
            let idx = m.sw_if_index.0;
            if !m.name_filter_valid && idx != 0 && idx != NONE {
                if let Some(i) = ctx.vpp.interface(idx) {
                    ctx.out.reply(&details(i));
                }
                return;
            }
            let filter = m.name_filter_valid.then(|| m.name_filter.to_lowercase());
            for i in ctx.vpp.interfaces() {
                if let Some(f) = &filter
                    && !i.name.to_lowercase().contains(f.as_str())
                {
                    continue;
                }
                ctx.out.reply(&details(i));
            }
        }

        /// `ip_address_dump`: the addresses of one interface and family; an unknown
        /// index gives nothing.
        fn ip_address_dump(ctx: &mut Ctx<'_>, m: api::IpAddressDump) {
            let Some(i) = ctx.vpp.interface(m.sw_if_index.0) else {
                return;
            };
            for (addr, len) in i.addresses.iter().filter(|(a, _)| a.is_ipv6() == m.is_ipv6) {
                let p = $crate::state::Prefix {
                    addr: *addr,
                    len: *len,
                };
                ctx.out.reply(&api::IpAddressDetails {
                    sw_if_index: InterfaceIndex(i.sw_if_index),
                    prefix: wire_prefix(p),
                });
            }
        }

        /// Encodes one `sw_interface_event` of this release for a subscriber.
        pub fn interface_event(
            table: &binapi::MessageTable,
            client_index: u32,
            pid: u32,
            sw_if_index: u32,
            flags: u32,
            deleted: bool,
            out: &mut Vec<u8>,
        ) {
            let ev = api::SwInterfaceEvent {
                pid,
                sw_if_index: InterfaceIndex(sw_if_index),
                flags: IfStatusFlags(flags),
                deleted,
            };
            let Some(id) = table.id_of::<api::SwInterfaceEvent>() else {
                return;
            };
            let header = binapi::Header {
                client_index,
                context: 0,
            };
            if let Err(e) = binapi::codec::frame::encode_frame(out, id, header, &ev) {
                tracing::warn!(error = %e, "interface event not encodable");
            }
        }
    };
}
