//! IP handlers, expanded per release: tables, routes (v1 everywhere, `ip_v2!` adds the v2
//! route messages 23.06 has), neighbours, and their dumps. A route dump walks the whole FIB
//! of the table as VPP does (special, attached and local entries included); a dump of a
//! missing table gives nothing.
//!
//! The rules (tables before routes, paths needing interfaces) live in the state model.

macro_rules! ip {
    ($rel:ident) => {
        use api::{AddressFamily, InterfaceIndex, IpNeighborFlags};
        use binapi::$rel as api;

        use $crate::handlers::Ctx;
        use $crate::handlers::convert::{mac, path, prefix, wire_mac, wire_path, wire_prefix};
        use $crate::state::{NONE, VppResult};

        register! {
            requests {
                api::IpTableAddDel => ip_table_add_del,
                api::IpRouteAddDel => ip_route_add_del,
                api::IpNeighborAddDel => ip_neighbor_add_del,
            }
            streams {
                api::IpTableDump => ip_table_dump,
                api::IpRouteDump => ip_route_dump,
                api::IpNeighborDump => ip_neighbor_dump,
            }
        }

        fn ip_table_add_del(
            ctx: &mut Ctx<'_>,
            m: api::IpTableAddDel,
        ) -> VppResult<api::IpTableAddDelReply> {
            let t = &m.table;
            ctx.vpp
                .ip_table_add_del(m.is_add, t.table_id, t.is_ip6, &t.name);
            Ok(api::IpTableAddDelReply { retval: 0 })
        }

        fn ip_table_dump(ctx: &mut Ctx<'_>, _m: api::IpTableDump) {
            let tables: Vec<api::IpTable> = ctx
                .vpp
                .tables()
                .map(|(is_ip6, table_id, name)| api::IpTable {
                    table_id,
                    is_ip6,
                    name: name.to_owned(),
                })
                .collect();
            for table in tables {
                ctx.out.reply(&api::IpTableDetails { table });
            }
        }

        /// The common part of route v1 and v2; returns the stats index.
        pub fn route_add_del(
            ctx: &mut Ctx<'_>,
            is_add: bool,
            is_multipath: bool,
            table_id: u32,
            p: &api::Prefix,
            paths: &[api::FibPath],
        ) -> VppResult<u32> {
            let paths = paths.iter().map(path).collect();
            ctx.vpp
                .ip_route_add_del(is_add, is_multipath, table_id, prefix(p), paths)
        }

        fn ip_route_add_del(
            ctx: &mut Ctx<'_>,
            m: api::IpRouteAddDel,
        ) -> VppResult<api::IpRouteAddDelReply> {
            let r = &m.route;
            let stats_index = route_add_del(
                ctx,
                m.is_add,
                m.is_multipath,
                r.table_id,
                &r.prefix,
                &r.paths,
            )?;
            Ok(api::IpRouteAddDelReply {
                retval: 0,
                stats_index,
            })
        }

        /// Every FIB entry of a table, as the wire route type: (table, stats, prefix, paths).
        pub fn fib_routes(ctx: &Ctx<'_>, table: &api::IpTable) -> Vec<api::IpRoute> {
            ctx.vpp
                .fib_entries(table.table_id, table.is_ip6)
                .iter()
                .map(|r| api::IpRoute {
                    table_id: r.table_id,
                    stats_index: r.stats_index,
                    prefix: wire_prefix(r.prefix),
                    paths: r.paths.iter().map(wire_path).collect(),
                })
                .collect()
        }

        fn ip_route_dump(ctx: &mut Ctx<'_>, m: api::IpRouteDump) {
            for route in fib_routes(ctx, &m.table) {
                ctx.out.reply(&api::IpRouteDetails { route });
            }
        }

        fn ip_neighbor_add_del(
            ctx: &mut Ctx<'_>,
            m: api::IpNeighborAddDel,
        ) -> VppResult<api::IpNeighborAddDelReply> {
            let n = &m.neighbor;
            ctx.vpp.ip_neighbor_add_del(
                m.is_add,
                n.sw_if_index.0,
                n.ip_address.to_ip(),
                mac(n.mac_address),
                n.flags.0,
            )?;
            let stats_index = if m.is_add { 0 } else { NONE };
            Ok(api::IpNeighborAddDelReply {
                retval: 0,
                stats_index,
            })
        }

        fn ip_neighbor_dump(ctx: &mut Ctx<'_>, m: api::IpNeighborDump) {
            let is_ip6 = m.af == AddressFamily::ADDRESS_IP6;
            for n in ctx.vpp.neighbors(m.sw_if_index.0, is_ip6) {
                ctx.out.reply(&api::IpNeighborDetails {
                    age: 0.0,
                    neighbor: api::IpNeighbor {
                        sw_if_index: InterfaceIndex(n.sw_if_index),
                        flags: IpNeighborFlags(n.flags),
                        mac_address: wire_mac(n.mac),
                        ip_address: n.ip.into(),
                    },
                });
            }
        }
    };
}

macro_rules! ip_v2 {
    ($rel:ident) => {
        use binapi::$rel as api;

        use $crate::handlers::Ctx;
        use $crate::state::VppResult;

        use super::ip::{fib_routes, route_add_del};

        register! {
            requests {
                api::IpRouteAddDelV2 => ip_route_add_del_v2,
            }
            streams {
                api::IpRouteV2Dump => ip_route_v2_dump,
            }
        }

        fn ip_route_add_del_v2(
            ctx: &mut Ctx<'_>,
            m: api::IpRouteAddDelV2,
        ) -> VppResult<api::IpRouteAddDelV2Reply> {
            let r = &m.route;
            let stats_index = route_add_del(
                ctx,
                m.is_add,
                m.is_multipath,
                r.table_id,
                &r.prefix,
                &r.paths,
            )?;
            Ok(api::IpRouteAddDelV2Reply {
                retval: 0,
                stats_index,
            })
        }

        fn ip_route_v2_dump(ctx: &mut Ctx<'_>, m: api::IpRouteV2Dump) {
            for r in fib_routes(ctx, &m.table) {
                ctx.out.reply(&api::IpRouteV2Details {
                    route: api::IpRouteV2 {
                        table_id: r.table_id,
                        stats_index: r.stats_index,
                        prefix: r.prefix,
                        src: 0,
                        paths: r.paths,
                    },
                });
            }
        }
    };
}
