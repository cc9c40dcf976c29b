//! The netlink operations themselves, as async functions over an rtnetlink [`Handle`] whose
//! socket lives in the namespace being configured, and the conversion of netlink messages
//! into the layer's plain types.
//!
//! Nothing here enters a namespace or spawns anything: the worker (`worker.rs`) runs these
//! futures on its thread, inside the namespace. Deletes work from a fresh dump so that the
//! kernel gets back exactly the message it reported.

use std::net::IpAddr;
use std::os::fd::RawFd;

use futures::TryStreamExt;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteScope, RouteType,
};
use rtnetlink::{Handle, LinkMessageBuilder, LinkUnspec, LinkVeth, RouteMessageBuilder};

use crate::error::LinuxError;
use crate::netlink::types::{
    Address, IpNet, Link, LinkChange, LinkKind, Neighbour, NeighbourSpec, Route, RouteSpec, Scope,
};
use crate::ns::NsRef;

fn nl(op: &'static str, target: impl Into<String>, ns: &NsRef, e: rtnetlink::Error) -> LinuxError {
    LinuxError::Netlink {
        op,
        target: target.into(),
        ns: ns.clone(),
        source: Box::new(e),
    }
}

fn mac_of(bytes: &[u8]) -> Option<[u8; 6]> {
    <[u8; 6]>::try_from(bytes).ok()
}

fn link_from(m: &LinkMessage) -> Link {
    let mut link = Link {
        index: m.header.index,
        name: String::new(),
        kind: LinkKind::Other(String::new()),
        mac: None,
        mtu: 0,
        up: m.header.flags.contains(LinkFlags::Up),
        alias: None,
    };
    if m.header.flags.contains(LinkFlags::Loopback) {
        link.kind = LinkKind::Loopback;
    }
    for a in &m.attributes {
        match a {
            LinkAttribute::IfName(n) => link.name.clone_from(n),
            LinkAttribute::Address(b) => link.mac = mac_of(b),
            LinkAttribute::Mtu(v) => link.mtu = *v,
            LinkAttribute::IfAlias(s) => link.alias = Some(s.clone()),
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    if let LinkInfo::Kind(k) = i {
                        link.kind = match k {
                            InfoKind::Veth => LinkKind::Veth,
                            InfoKind::Tun => LinkKind::Tun,
                            other => LinkKind::Other(other.to_string()),
                        };
                    }
                }
            }
            _ => {}
        }
    }
    link
}

pub(crate) async fn links(h: &Handle, ns: &NsRef) -> Result<Vec<Link>, LinuxError> {
    let mut dump = h.link().get().execute();
    let mut out = Vec::new();
    while let Some(m) = dump
        .try_next()
        .await
        .map_err(|e| nl("dump", "links", ns, e))?
    {
        out.push(link_from(&m));
    }
    Ok(out)
}

pub(crate) async fn link_by_name(
    h: &Handle,
    ns: &NsRef,
    name: &str,
) -> Result<Option<Link>, LinuxError> {
    Ok(links(h, ns).await?.into_iter().find(|l| l.name == name))
}

async fn index_of(h: &Handle, ns: &NsRef, name: &str) -> Result<u32, LinuxError> {
    link_by_name(h, ns, name)
        .await?
        .map(|l| l.index)
        .ok_or_else(|| LinuxError::LinkNotFound {
            name: name.to_owned(),
            ns: ns.clone(),
        })
}

/// Creates a veth pair `name` (here) / `peer` (here, or in the namespace of `peer_ns_fd`).
pub(crate) async fn create_veth(
    h: &Handle,
    ns: &NsRef,
    name: &str,
    peer: &str,
    peer_ns_fd: Option<RawFd>,
) -> Result<(), LinuxError> {
    let mut peer_msg = LinkMessageBuilder::<LinkUnspec>::new().name(peer.to_owned());
    if let Some(fd) = peer_ns_fd {
        peer_msg = peer_msg.setns_by_fd(fd);
    }
    let msg = LinkMessageBuilder::<LinkVeth>::new_with_info_kind(InfoKind::Veth)
        .name(name.to_owned())
        .set_info_data(InfoData::Veth(InfoVeth::Peer(peer_msg.build())))
        .build();
    h.link()
        .add(msg)
        .execute()
        .await
        .map_err(|e| nl("create veth", format!("{name}/{peer}"), ns, e))
}

pub(crate) async fn delete_link(h: &Handle, ns: &NsRef, name: &str) -> Result<(), LinuxError> {
    let index = index_of(h, ns, name).await?;
    h.link()
        .del(index)
        .execute()
        .await
        .map_err(|e| nl("delete link", name, ns, e))
}

/// Moves link `name` into the namespace open at `fd`.
pub(crate) async fn move_link(
    h: &Handle,
    ns: &NsRef,
    name: &str,
    fd: RawFd,
) -> Result<(), LinuxError> {
    let index = index_of(h, ns, name).await?;
    let msg = LinkUnspec::new_with_index(index).setns_by_fd(fd).build();
    h.link()
        .set(msg)
        .execute()
        .await
        .map_err(|e| nl("move link", name, ns, e))
}

pub(crate) async fn set_link(
    h: &Handle,
    ns: &NsRef,
    name: &str,
    change: &LinkChange,
) -> Result<(), LinuxError> {
    let index = index_of(h, ns, name).await?;
    let set_state = |up: bool| async move {
        let b = LinkUnspec::new_with_index(index);
        let b = if up { b.up() } else { b.down() };
        h.link()
            .set(b.build())
            .execute()
            .await
            .map_err(|e| nl("set link state", name, ns, e))
    };
    // The kernel refuses to rename a running link: take it down first, and bring it up
    // (when asked) only after the other attributes are set.
    if change.name.is_some() || change.up == Some(false) {
        set_state(false).await?;
    }
    let mut b = LinkUnspec::new_with_index(index);
    let mut any = false;
    if let Some(n) = &change.name {
        b = b.name(n.clone());
        any = true;
    }
    if let Some(mac) = change.mac {
        b = b.address(mac.to_vec());
        any = true;
    }
    if let Some(mtu) = change.mtu {
        b = b.mtu(mtu);
        any = true;
    }
    if let Some(alias) = &change.alias {
        b = b.alias(alias.clone());
        any = true;
    }
    if any {
        h.link()
            .set(b.build())
            .execute()
            .await
            .map_err(|e| nl("set link", name, ns, e))?;
    }
    if change.up == Some(true) {
        set_state(true).await?;
    }
    Ok(())
}

fn address_from(m: &AddressMessage) -> Option<Address> {
    // IFA_LOCAL is the interface's own address on point-to-point links; IFA_ADDRESS otherwise.
    let local = m.attributes.iter().find_map(|a| match a {
        AddressAttribute::Local(ip) => Some(*ip),
        _ => None,
    });
    let addr = local.or_else(|| {
        m.attributes.iter().find_map(|a| match a {
            AddressAttribute::Address(ip) => Some(*ip),
            _ => None,
        })
    })?;
    Some(Address {
        index: m.header.index,
        net: IpNet::new(addr, m.header.prefix_len)?,
    })
}

async fn address_messages(h: &Handle, ns: &NsRef) -> Result<Vec<AddressMessage>, LinuxError> {
    let mut dump = h.address().get().execute();
    let mut out = Vec::new();
    while let Some(m) = dump
        .try_next()
        .await
        .map_err(|e| nl("dump", "addresses", ns, e))?
    {
        out.push(m);
    }
    Ok(out)
}

pub(crate) async fn addresses(h: &Handle, ns: &NsRef) -> Result<Vec<Address>, LinuxError> {
    Ok(address_messages(h, ns)
        .await?
        .iter()
        .filter_map(address_from)
        .collect())
}

pub(crate) async fn add_address(
    h: &Handle,
    ns: &NsRef,
    name: &str,
    net: IpNet,
) -> Result<(), LinuxError> {
    let index = index_of(h, ns, name).await?;
    h.address()
        .add(index, net.addr, net.prefix)
        .execute()
        .await
        .map_err(|e| nl("add address", format!("{net} on {name}"), ns, e))
}

/// Deletes the address; `Ok(false)` when the interface does not have it.
pub(crate) async fn del_address(
    h: &Handle,
    ns: &NsRef,
    name: &str,
    net: IpNet,
) -> Result<bool, LinuxError> {
    let index = index_of(h, ns, name).await?;
    let found = address_messages(h, ns)
        .await?
        .into_iter()
        .find(|m| address_from(m).is_some_and(|a| a.index == index && a.net == net));
    let Some(msg) = found else {
        return Ok(false);
    };
    h.address()
        .del(msg)
        .execute()
        .await
        .map_err(|e| nl("delete address", format!("{net} on {name}"), ns, e))?;
    Ok(true)
}

fn scope_to_kernel(s: Scope) -> RouteScope {
    match s {
        Scope::Universe => RouteScope::Universe,
        Scope::Site => RouteScope::Site,
        Scope::Link => RouteScope::Link,
        Scope::Host => RouteScope::Host,
        Scope::Other(v) => RouteScope::Other(v),
    }
}

fn scope_from_kernel(s: RouteScope) -> Scope {
    match s {
        RouteScope::Universe => Scope::Universe,
        RouteScope::Site => Scope::Site,
        RouteScope::Link => Scope::Link,
        RouteScope::Host => Scope::Host,
        other => Scope::Other(u8::from(other)),
    }
}

fn route_ip(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn route_from(m: &RouteMessage) -> Option<Route> {
    let table = m
        .attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Table(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(u32::from(m.header.table));
    if table != u32::from(RouteHeader::RT_TABLE_MAIN) || m.header.kind != RouteType::Unicast {
        return None;
    }
    let mut dst = None;
    let mut gateway = None;
    let mut oif = None;
    let mut metric = 0;
    for a in &m.attributes {
        match a {
            RouteAttribute::Destination(d) => dst = route_ip(d),
            RouteAttribute::Gateway(g) => gateway = route_ip(g),
            RouteAttribute::Oif(i) => oif = Some(*i),
            RouteAttribute::Priority(p) => metric = *p,
            _ => {}
        }
    }
    let ipv4 = m.header.address_family == netlink_packet_route::AddressFamily::Inet;
    let dst = dst.unwrap_or(if ipv4 {
        IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
    });
    Some(Route {
        dst: IpNet::new(dst, m.header.destination_prefix_length)?,
        gateway,
        oif,
        metric,
        scope: scope_from_kernel(m.header.scope),
        protocol: u8::from(m.header.protocol),
    })
}

async fn route_messages(h: &Handle, ns: &NsRef) -> Result<Vec<RouteMessage>, LinuxError> {
    let mut out = Vec::new();
    for query in [
        RouteMessageBuilder::<std::net::Ipv4Addr>::new().build(),
        RouteMessageBuilder::<std::net::Ipv6Addr>::new().build(),
    ] {
        let mut dump = h.route().get(query).execute();
        while let Some(m) = dump
            .try_next()
            .await
            .map_err(|e| nl("dump", "routes", ns, e))?
        {
            out.push(m);
        }
    }
    Ok(out)
}

/// The routes of the main table.
pub(crate) async fn routes(h: &Handle, ns: &NsRef) -> Result<Vec<Route>, LinuxError> {
    Ok(route_messages(h, ns)
        .await?
        .iter()
        .filter_map(route_from)
        .collect())
}

fn route_matches(r: &Route, spec: &RouteSpec, index: u32) -> bool {
    r.dst == spec.dst.trunc() && r.oif == Some(index) && r.metric == spec.kernel_metric()
}

/// Adds (or replaces) the route.
pub(crate) async fn add_route(h: &Handle, ns: &NsRef, spec: &RouteSpec) -> Result<(), LinuxError> {
    let index = index_of(h, ns, &spec.interface).await?;
    let target = || format!("route {} via {}", spec.dst, spec.interface);
    let dst = spec.dst.trunc();
    let mut b = RouteMessageBuilder::<IpAddr>::new()
        .destination_prefix(dst.addr, dst.prefix)
        .map_err(|e| LinuxError::invalid(target(), "dst_network", dst.to_string(), e.to_string()))?
        .output_interface(index)
        .scope(scope_to_kernel(spec.scope));
    if let Some(gw) = spec.gateway {
        b = b
            .gateway(gw)
            .map_err(|e| LinuxError::invalid(target(), "gw_addr", gw.to_string(), e.to_string()))?;
    }
    if spec.metric != 0 {
        b = b.priority(spec.metric);
    }
    h.route()
        .add(b.build())
        .replace()
        .execute()
        .await
        .map_err(|e| nl("add route", target(), ns, e))
}

/// Deletes the route; `Ok(false)` when the namespace has no such route.
pub(crate) async fn del_route(
    h: &Handle,
    ns: &NsRef,
    spec: &RouteSpec,
) -> Result<bool, LinuxError> {
    let index = index_of(h, ns, &spec.interface).await?;
    let found = route_messages(h, ns)
        .await?
        .into_iter()
        .find(|m| route_from(m).is_some_and(|r| route_matches(&r, spec, index)));
    let Some(msg) = found else {
        return Ok(false);
    };
    h.route().del(msg).execute().await.map_err(|e| {
        nl(
            "delete route",
            format!("route {} via {}", spec.dst, spec.interface),
            ns,
            e,
        )
    })?;
    Ok(true)
}

fn neighbour_from(m: &NeighbourMessage) -> Option<Neighbour> {
    let mut ip = None;
    let mut mac = None;
    for a in &m.attributes {
        match a {
            NeighbourAttribute::Destination(NeighbourAddress::Inet(v4)) => {
                ip = Some(IpAddr::V4(*v4));
            }
            NeighbourAttribute::Destination(NeighbourAddress::Inet6(v6)) => {
                ip = Some(IpAddr::V6(*v6));
            }
            NeighbourAttribute::LinkLayerAddress(b) => mac = mac_of(b),
            _ => {}
        }
    }
    Some(Neighbour {
        index: m.header.ifindex,
        ip: ip?,
        mac,
        permanent: m.header.state == NeighbourState::Permanent,
    })
}

async fn neighbour_messages(h: &Handle, ns: &NsRef) -> Result<Vec<NeighbourMessage>, LinuxError> {
    let mut dump = h.neighbours().get().execute();
    let mut out = Vec::new();
    while let Some(m) = dump
        .try_next()
        .await
        .map_err(|e| nl("dump", "neighbours", ns, e))?
    {
        out.push(m);
    }
    Ok(out)
}

pub(crate) async fn neighbours(h: &Handle, ns: &NsRef) -> Result<Vec<Neighbour>, LinuxError> {
    Ok(neighbour_messages(h, ns)
        .await?
        .iter()
        .filter_map(neighbour_from)
        .collect())
}

/// Adds (or replaces) a permanent neighbour entry.
pub(crate) async fn add_neighbour(
    h: &Handle,
    ns: &NsRef,
    spec: &NeighbourSpec,
) -> Result<(), LinuxError> {
    let index = index_of(h, ns, &spec.interface).await?;
    h.neighbours()
        .add(index, spec.ip)
        .link_layer_address(&spec.mac)
        .state(NeighbourState::Permanent)
        .replace()
        .execute()
        .await
        .map_err(|e| {
            nl(
                "add neighbour",
                format!("{} on {}", spec.ip, spec.interface),
                ns,
                e,
            )
        })
}

/// Deletes the neighbour entry; `Ok(false)` when there is none.
pub(crate) async fn del_neighbour(
    h: &Handle,
    ns: &NsRef,
    interface: &str,
    ip: IpAddr,
) -> Result<bool, LinuxError> {
    let index = index_of(h, ns, interface).await?;
    let found = neighbour_messages(h, ns)
        .await?
        .into_iter()
        .find(|m| neighbour_from(m).is_some_and(|n| n.index == index && n.ip == ip));
    let Some(msg) = found else {
        return Ok(false);
    };
    h.neighbours()
        .del(msg)
        .execute()
        .await
        .map_err(|e| nl("delete neighbour", format!("{ip} on {interface}"), ns, e))?;
    Ok(true)
}
