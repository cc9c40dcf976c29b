//! Interface addresses, IP tables, routes and neighbours with VPP's rules: overlapping
//! addresses in one table are -105, a table must exist before an interface is bound to it or
//! a route is put in it (-3), binding needs an address-free interface (-114), table deletes
//! never fail, routes need paths (-52) whose interfaces exist (-54), and neighbours follow
//! `ip_neighbor_add`'s static/dynamic rules.

use std::net::IpAddr;

use super::{IfKind, Mac, NONE, Retval, Vpp, VppResult};

/// An IP table per address family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpTable {
    pub name: String,
    /// Created through `ip_table_add_del` (the API's lock).
    pub api_owned: bool,
    /// Interfaces bound to it (each holds a lock).
    pub bound: u32,
}

/// A prefix: network address (host bits kept as given) and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prefix {
    pub addr: IpAddr,
    pub len: u8,
}

impl Prefix {
    pub fn is_ip6(&self) -> bool {
        self.addr.is_ipv6()
    }

    fn bits(&self) -> u8 {
        if self.is_ip6() { 128 } else { 32 }
    }

    /// The network address with host bits cleared.
    pub fn network(&self) -> IpAddr {
        let len = u32::from(self.len.min(self.bits()));
        match self.addr {
            IpAddr::V4(a) => {
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                IpAddr::V6((u128::from(a) & mask).into())
            }
        }
    }

    /// True when the two prefixes share addresses (one contains the other).
    pub fn overlaps(&self, other: &Prefix) -> bool {
        if self.is_ip6() != other.is_ip6() {
            return false;
        }
        let len = self.len.min(other.len);
        Prefix {
            addr: self.addr,
            len,
        }
        .network()
            == Prefix {
                addr: other.addr,
                len,
            }
            .network()
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// One path of a route (`fib_path`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub sw_if_index: u32,
    pub table_id: u32,
    pub next_hop: Option<IpAddr>,
    pub weight: u8,
    pub preference: u8,
    /// `fib_path_type`: 0 NORMAL, 1 LOCAL, 2 DROP, ...
    pub path_type: u32,
    /// `fib_path_nh_proto`: 0 IP4, 1 IP6, ...
    pub proto: u32,
}

/// Where a FIB entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteSource {
    /// Entries every table has (default drop, broadcast, multicast).
    Special,
    /// Attached and local entries of an interface address.
    Interface,
    /// Added through `ip_route_add_del`.
    Api,
}

/// A FIB entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub table_id: u32,
    pub prefix: Prefix,
    pub paths: Vec<Path>,
    pub stats_index: u32,
    pub source: RouteSource,
}

/// An IP neighbour (ARP / ND entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neighbor {
    pub sw_if_index: u32,
    pub ip: IpAddr,
    pub mac: Mac,
    /// `ip_neighbor_flags`: STATIC = 1, NO_FIB_ENTRY = 2.
    pub flags: u8,
}

impl Vpp {
    /// `sw_interface_add_del_address`.
    pub fn add_del_address(
        &mut self,
        sw_if_index: u32,
        is_add: bool,
        del_all: bool,
        prefix: Prefix,
    ) -> VppResult<()> {
        let iface = self
            .interface(sw_if_index)
            .ok_or(Retval::INVALID_SW_IF_INDEX)?;
        if matches!(iface.kind, IfKind::Local) {
            return Err(Retval::UNSUPPORTED);
        }
        if del_all {
            self.interface_mut(sw_if_index)?.addresses.clear();
            return Ok(());
        }
        let af = usize::from(prefix.is_ip6());
        let table = iface.table[af];
        let exists = iface
            .addresses
            .iter()
            .any(|(a, l)| *a == prefix.addr && *l == prefix.len);
        if !is_add {
            if !exists {
                return Err(Retval::ADDRESS_NOT_FOUND_FOR_INTERFACE);
            }
            self.interface_mut(sw_if_index)?
                .addresses
                .retain(|(a, l)| !(*a == prefix.addr && *l == prefix.len));
            return Ok(());
        }
        for other in self.interfaces() {
            if other.table[af] != table {
                continue;
            }
            for (a, l) in &other.addresses {
                let existing = Prefix { addr: *a, len: *l };
                if !existing.overlaps(&prefix) {
                    continue;
                }
                // Only another address of the same subnet on the same interface is allowed.
                let same_subnet = other.sw_if_index == sw_if_index
                    && *l == prefix.len
                    && existing.network() == prefix.network()
                    && *a != prefix.addr;
                if !same_subnet {
                    return Err(Retval::ADDRESS_IN_USE);
                }
            }
        }
        self.interface_mut(sw_if_index)?
            .addresses
            .push((prefix.addr, prefix.len));
        Ok(())
    }

    /// `sw_interface_set_table`: the table must exist (-3) and the interface must have no
    /// address of that family (-114).
    pub fn set_table(&mut self, sw_if_index: u32, is_ip6: bool, vrf: u32) -> VppResult<()> {
        let iface = self
            .interface(sw_if_index)
            .ok_or(Retval::INVALID_SW_IF_INDEX)?;
        if !self.tables.contains_key(&(is_ip6, vrf)) {
            return Err(Retval::NO_SUCH_FIB);
        }
        if iface.addresses.iter().any(|(a, _)| a.is_ipv6() == is_ip6) {
            return Err(Retval::ADDRESS_FOUND_FOR_INTERFACE);
        }
        let af = usize::from(is_ip6);
        let old = iface.table[af];
        if old == vrf {
            return Ok(());
        }
        if old != 0 {
            self.unbind_table(is_ip6, old);
        }
        if vrf != 0
            && let Some(t) = self.tables.get_mut(&(is_ip6, vrf))
        {
            t.bound += 1;
        }
        self.interface_mut(sw_if_index)?.table[af] = vrf;
        Ok(())
    }

    /// Drops an interface's lock on a table; the table goes when no lock remains.
    pub(crate) fn unbind_table(&mut self, is_ip6: bool, vrf: u32) {
        if let Some(t) = self.tables.get_mut(&(is_ip6, vrf)) {
            t.bound = t.bound.saturating_sub(1);
            if t.bound == 0 && !t.api_owned && vrf != 0 {
                self.drop_table(is_ip6, vrf);
            }
        }
    }

    fn drop_table(&mut self, is_ip6: bool, vrf: u32) {
        self.tables.remove(&(is_ip6, vrf));
        self.routes
            .retain(|(ip6, t, _), _| !(*ip6 == is_ip6 && *t == vrf));
    }

    /// `ip_table_add_del`: always succeeds; table 0 is a no-op; a delete destroys the table
    /// only when no interface still holds it.
    pub fn ip_table_add_del(&mut self, is_add: bool, table_id: u32, is_ip6: bool, name: &str) {
        if table_id == 0 {
            return;
        }
        if is_add {
            let default_name = format!("{}-VRF:{table_id}", if is_ip6 { "ipv6" } else { "ipv4" });
            let t = self
                .tables
                .entry((is_ip6, table_id))
                .or_insert_with(|| IpTable {
                    name: if name.is_empty() {
                        default_name
                    } else {
                        name.to_owned()
                    },
                    api_owned: false,
                    bound: 0,
                });
            t.api_owned = true;
            return;
        }
        if let Some(t) = self.tables.get_mut(&(is_ip6, table_id)) {
            t.api_owned = false;
            if t.bound == 0 {
                self.drop_table(is_ip6, table_id);
            }
        }
    }

    /// Tables as `ip_table_dump` lists them: (is_ip6, table_id, name).
    pub fn tables(&self) -> impl Iterator<Item = (bool, u32, &str)> {
        self.tables
            .iter()
            .map(|((ip6, id), t)| (*ip6, *id, t.name.as_str()))
    }

    /// `ip_route_add_del`; returns the stats index (`~0` on delete).
    pub fn ip_route_add_del(
        &mut self,
        is_add: bool,
        is_multipath: bool,
        table_id: u32,
        prefix: Prefix,
        paths: Vec<Path>,
    ) -> VppResult<u32> {
        let ip6 = prefix.is_ip6();
        if !self.tables.contains_key(&(ip6, table_id)) {
            return Err(Retval::NO_SUCH_FIB);
        }
        if is_add && paths.is_empty() {
            return Err(Retval::NO_PATHS_IN_ROUTE);
        }
        for path in &paths {
            if path.path_type != 0 {
                continue;
            }
            if path.sw_if_index == NONE {
                let path_ip6 = path.proto == 1;
                if !self.tables.contains_key(&(path_ip6, path.table_id)) {
                    return Err(Retval::NO_SUCH_FIB);
                }
            } else if self.interface(path.sw_if_index).is_none() {
                return Err(Retval::NO_MATCHING_INTERFACE);
            }
        }
        let key = (
            ip6,
            table_id,
            Prefix {
                addr: prefix.network(),
                len: prefix.len,
            },
        );
        if !is_add {
            match self.routes.get_mut(&key) {
                Some(route) if is_multipath => {
                    route.paths.retain(|p| !paths.contains(p));
                    if route.paths.is_empty() {
                        self.routes.remove(&key);
                    }
                }
                _ => {
                    self.routes.remove(&key);
                }
            }
            return Ok(NONE);
        }
        let next_stats = self.routes.len() as u32 + 1;
        let route = self.routes.entry(key).or_insert_with(|| Route {
            table_id,
            prefix: key.2,
            paths: Vec::new(),
            stats_index: next_stats,
            source: RouteSource::Api,
        });
        if is_multipath {
            route.paths.extend(paths);
        } else {
            route.paths = paths;
        }
        Ok(route.stats_index)
    }

    /// Every FIB entry of a table, as `ip_route_dump` walks it: the special entries every
    /// table has, the attached and local entries of interface addresses, and API routes.
    pub fn fib_entries(&self, table_id: u32, is_ip6: bool) -> Vec<Route> {
        if !self.tables.contains_key(&(is_ip6, table_id)) {
            return Vec::new();
        }
        let special: &[&str] = if is_ip6 {
            &["::/0", "fe80::/10", "ff00::/8"]
        } else {
            &[
                "0.0.0.0/0",
                "0.0.0.0/32",
                "224.0.0.0/4",
                "240.0.0.0/4",
                "255.255.255.255/32",
            ]
        };
        let drop = |p: &str| -> Option<Route> {
            let (a, l) = p.split_once('/')?;
            Some(Route {
                table_id,
                prefix: Prefix {
                    addr: a.parse().ok()?,
                    len: l.parse().ok()?,
                },
                paths: vec![Path {
                    sw_if_index: NONE,
                    table_id,
                    next_hop: None,
                    weight: 1,
                    preference: 0,
                    path_type: 2,
                    proto: u32::from(is_ip6),
                }],
                stats_index: 0,
                source: RouteSource::Special,
            })
        };
        let mut out: Vec<Route> = special.iter().filter_map(|p| drop(p)).collect();
        for iface in self.interfaces() {
            if iface.table[usize::from(is_ip6)] != table_id {
                continue;
            }
            for (addr, len) in iface
                .addresses
                .iter()
                .filter(|(a, _)| a.is_ipv6() == is_ip6)
            {
                let host = if is_ip6 { 128 } else { 32 };
                let path = Path {
                    sw_if_index: iface.sw_if_index,
                    table_id,
                    next_hop: None,
                    weight: 1,
                    preference: 0,
                    path_type: 0,
                    proto: u32::from(is_ip6),
                };
                let net = Prefix {
                    addr: *addr,
                    len: *len,
                };
                out.push(Route {
                    table_id,
                    prefix: Prefix {
                        addr: net.network(),
                        len: *len,
                    },
                    paths: vec![path.clone()],
                    stats_index: 0,
                    source: RouteSource::Interface,
                });
                out.push(Route {
                    table_id,
                    prefix: Prefix {
                        addr: *addr,
                        len: host,
                    },
                    paths: vec![Path {
                        path_type: 1,
                        ..path
                    }],
                    stats_index: 0,
                    source: RouteSource::Interface,
                });
            }
        }
        out.extend(
            self.routes
                .iter()
                .filter(|((ip6, t, _), _)| *ip6 == is_ip6 && *t == table_id)
                .map(|(_, r)| r.clone()),
        );
        out.sort_by_key(|r| (r.prefix.network(), r.prefix.len));
        out
    }

    /// `ip_neighbor_add_del`: -2 for an unknown interface; a dynamic entry over a static one
    /// with another MAC is -2; deleting a missing entry is -6.
    pub fn ip_neighbor_add_del(
        &mut self,
        is_add: bool,
        sw_if_index: u32,
        ip: IpAddr,
        mac: Mac,
        flags: u8,
    ) -> VppResult<()> {
        self.interface(sw_if_index)
            .ok_or(Retval::INVALID_SW_IF_INDEX)?;
        let key = (sw_if_index, ip);
        if !is_add {
            return self
                .neighbors
                .remove(&key)
                .map(|_| ())
                .ok_or(Retval::NO_SUCH_ENTRY);
        }
        if let Some(existing) = self.neighbors.get(&key)
            && existing.flags & 1 != 0
            && flags & 1 == 0
            && existing.mac != mac
        {
            return Err(Retval::INVALID_SW_IF_INDEX);
        }
        self.neighbors.insert(
            key,
            Neighbor {
                sw_if_index,
                ip,
                mac,
                flags,
            },
        );
        Ok(())
    }

    /// Neighbours of one family, optionally of one interface (`~0` = all).
    pub fn neighbors(&self, sw_if_index: u32, is_ip6: bool) -> Vec<Neighbor> {
        self.neighbors
            .values()
            .filter(|n| n.ip.is_ipv6() == is_ip6)
            .filter(|n| sw_if_index == NONE || n.sw_if_index == sw_if_index)
            .copied()
            .collect()
    }
}
