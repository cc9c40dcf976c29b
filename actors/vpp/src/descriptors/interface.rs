//! `vpp-interface`: VPP interfaces (`config/vpp/v2/interfaces/<name>`) of type loopback, TAP,
//! memif, af_packet, VXLAN, DPDK (an existing NIC, configured but never created) and
//! sub-interface (one exact-match 802.1q tag on its parent, created with `create_subif`).
//!
//! The user's name becomes the VPP tag; [`InterfaceMeta`] keeps the sw_if_index and VPP's
//! internal name (`tap0`) for other descriptors and for status. Admin state, MAC and MTU are
//! part of create/update (not derived values); IP addresses, the VRF binding and
//! `has-IP-address` are derived values (see [`super::interface_address`],
//! [`super::interface_vrf`]). Equivalence ignores what VPP picks when the user did not say
//! (MAC, MTU, TAP host name, ring sizes), MAC case and address order, so a resync over a
//! correctly configured VPP changes nothing. Conversion from dumps lives in
//! `interface_retrieve.rs`. Unnumbered, DHCP, IPv6 ND and RX modes/placements are
//! rejected as INVALID rather than silently ignored.

use std::collections::HashMap;
use std::sync::Mutex;

use kvscheduler::{Dependency, Descriptor, KvError, Metadata, MetadataView, Retrieved};
use messages::proto::Empty;
use messages::proto::vpp_interfaces::interface::{Link, Type};
use messages::proto::vpp_interfaces::{AfpacketLink, Interface, MemifLink, TapLink, VxlanLink};
use messages::{Key, Value};

use crate::api::{ApiHandle, Mac, MemifMode, MemifSpec, NONE, TapSpec, VppApi, Vxlan};
use crate::descriptors::interface_address::address_key;
use crate::descriptors::interface_vrf::vrf_key;
use crate::descriptors::{
    INTERFACE, INTERFACE_PREFIX, interface_key, interface_retrieve, model, sw_if_index,
};
use crate::error::{Result, VppError};

/// What the `vpp-interface` descriptor remembers per interface; read it by interface name with
/// [`super::interface_meta`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceMeta {
    pub sw_if_index: u32,
    /// VPP's own name (`tap0`, `loop1`, `memif1/0`).
    pub internal_name: String,
}

/// See the module docs.
#[derive(Debug)]
pub struct InterfaceDescriptor {
    api: ApiHandle,
    /// memif socket file -> the socket id registered for it in VPP.
    memif_sockets: Mutex<HashMap<String, u32>>,
}

/// `vpp/interface/<if>/has-IP-address`.
pub fn has_ip_key(interface: &str) -> Key {
    Key::from(format!("vpp/interface/{interface}/has-IP-address"))
}

/// The af_packet host interface: `host_if_name` (deprecated in the model, still accepted as
/// Ligato accepts it) or else the Linux interface's name.
#[allow(deprecated)]
pub(crate) fn afpacket_host(a: &AfpacketLink) -> &str {
    if a.host_if_name.is_empty() {
        &a.linux_interface
    } else {
        &a.host_if_name
    }
}

pub(crate) fn if_type(i: &Interface) -> Type {
    Type::try_from(i.r#type).unwrap_or(Type::UndefinedType)
}

fn parse_mac(s: &str) -> Result<Option<Mac>> {
    if s.is_empty() {
        return Ok(None);
    }
    s.parse()
        .map(Some)
        .map_err(|e: String| VppError::invalid("phys_address", e))
}

fn invalid(reason: impl Into<String>, field: &str) -> KvError {
    KvError::invalid(reason, &[field])
}

fn validate_interface(i: &Interface) -> std::result::Result<(), KvError> {
    if i.name.is_empty() {
        return Err(invalid("interface name is empty", "name"));
    }
    if i.name.len() > 63 {
        return Err(invalid(
            "interface name is longer than 63 bytes (it is stored as the vpp tag)",
            "name",
        ));
    }
    let t = if_type(i);
    let link_ok = match (&i.link, t) {
        (None, Type::SoftwareLoopback | Type::Tap | Type::Dpdk) => true,
        (None, _) => false,
        (Some(Link::Tap(_)), Type::Tap)
        | (Some(Link::Memif(_)), Type::Memif)
        | (Some(Link::Afpacket(_)), Type::AfPacket)
        | (Some(Link::Vxlan(_)), Type::VxlanTunnel)
        | (Some(Link::Sub(_)), Type::SubInterface) => true,
        _ => false,
    };
    if !matches!(
        t,
        Type::SoftwareLoopback
            | Type::Tap
            | Type::Memif
            | Type::AfPacket
            | Type::VxlanTunnel
            | Type::SubInterface
            | Type::Dpdk
    ) {
        return Err(invalid(
            format!("interface type {} is not supported", t.as_str_name()),
            "type",
        ));
    }
    if !link_ok {
        return Err(invalid(
            format!("link does not fit interface type {}", t.as_str_name()),
            "link",
        ));
    }
    match &i.link {
        Some(Link::Vxlan(v)) => {
            let src: std::net::IpAddr = v
                .src_address
                .parse()
                .map_err(|_| invalid("bad vxlan src_address", "src_address"))?;
            let dst: std::net::IpAddr = v
                .dst_address
                .parse()
                .map_err(|_| invalid("bad vxlan dst_address", "dst_address"))?;
            if src.is_ipv6() != dst.is_ipv6() {
                return Err(invalid(
                    "vxlan addresses of different families",
                    "dst_address",
                ));
            }
            if v.gpe.is_some() {
                return Err(invalid("vxlan-gpe is not supported by this build", "gpe"));
            }
        }
        Some(Link::Afpacket(a)) if afpacket_host(a).is_empty() => {
            return Err(invalid(
                "af_packet needs host_if_name or linux_interface",
                "host_if_name",
            ));
        }
        Some(Link::Sub(s)) if s.parent_name.is_empty() => {
            return Err(invalid("sub-interface needs parent_name", "parent_name"));
        }
        _ => {}
    }
    parse_mac(&i.phys_address).map_err(KvError::from)?;
    for a in &i.ip_addresses {
        a.parse::<crate::api::IpNet>()
            .map_err(|e| invalid(e, "ip_addresses"))?;
    }
    if i.mtu > 9216 {
        return Err(invalid(format!("mtu {} exceeds 9216", i.mtu), "mtu"));
    }
    let unsupported = [
        ("unnumbered", i.unnumbered.is_some()),
        ("set_dhcp_client", i.set_dhcp_client),
        ("ip6_nd", i.ip6_nd.is_some()),
        ("rx_modes", !i.rx_modes.is_empty()),
        ("rx_placements", !i.rx_placements.is_empty()),
    ];
    if let Some((field, _)) = unsupported.iter().find(|(_, set)| *set) {
        return Err(invalid(
            format!("{field} is not supported by this agent"),
            field,
        ));
    }
    Ok(())
}

/// The link of `i` with defaults filled in, as VPP would report it.
fn normalized_link(i: &Interface) -> Option<Link> {
    match (&i.link, if_type(i)) {
        (None, Type::Tap) | (Some(Link::Tap(_)), _) => {
            let t = match &i.link {
                Some(Link::Tap(t)) => t.clone(),
                _ => TapLink::default(),
            };
            Some(Link::Tap(TapLink {
                version: 2,
                rx_ring_size: if t.rx_ring_size == 0 {
                    256
                } else {
                    t.rx_ring_size
                },
                tx_ring_size: if t.tx_ring_size == 0 {
                    256
                } else {
                    t.tx_ring_size
                },
                ..t
            }))
        }
        (Some(Link::Memif(m)), _) => Some(Link::Memif(MemifLink {
            ring_size: if m.ring_size == 0 { 1024 } else { m.ring_size },
            buffer_size: if m.buffer_size == 0 {
                2048
            } else {
                m.buffer_size
            },
            rx_queues: m.rx_queues.max(1),
            tx_queues: m.tx_queues.max(1),
            ..m.clone()
        })),
        (other, _) => other.clone(),
    }
}

/// `i` as it compares: lowercase MAC, sorted canonical addresses, filled-in link, VRF only
/// where it matters (with addresses).
fn normalized(i: &Interface) -> Interface {
    let mut addrs: Vec<String> = i
        .ip_addresses
        .iter()
        .map(|a| {
            a.parse::<crate::api::IpNet>()
                .map_or(a.clone(), |n| n.to_string())
        })
        .collect();
    addrs.sort();
    addrs.dedup();
    Interface {
        phys_address: i.phys_address.to_ascii_lowercase(),
        vrf: if addrs.is_empty() { 0 } else { i.vrf },
        ip_addresses: addrs,
        link: normalized_link(i),
        ..i.clone()
    }
}

/// Fields one side leaves to VPP take the other side's value.
fn merge_dont_care(a: &mut Interface, b: &mut Interface) {
    fn pick<T: Clone + PartialEq + Default>(x: &mut T, y: &mut T) {
        if *x == T::default() {
            *x = y.clone();
        } else if *y == T::default() {
            *y = x.clone();
        }
    }
    pick(&mut a.phys_address, &mut b.phys_address);
    pick(&mut a.mtu, &mut b.mtu);
    match (&mut a.link, &mut b.link) {
        (Some(Link::Tap(x)), Some(Link::Tap(y))) => pick(&mut x.host_if_name, &mut y.host_if_name),
        (Some(Link::Memif(x)), Some(Link::Memif(y))) => {
            pick(&mut x.socket_filename, &mut y.socket_filename);
            pick(&mut x.secret, &mut y.secret);
        }
        #[allow(deprecated)]
        (Some(Link::Afpacket(x)), Some(Link::Afpacket(y))) => {
            pick(&mut x.linux_interface, &mut y.linux_interface);
            pick(&mut x.host_if_name, &mut y.host_if_name);
        }
        _ => {}
    }
}

/// Interface equivalence (see the module docs).
pub fn equivalent_interfaces(a: &Interface, b: &Interface) -> bool {
    let (mut a, mut b) = (normalized(a), normalized(b));
    merge_dont_care(&mut a, &mut b);
    a == b
}

fn vxlan_spec(md: &MetadataView<'_>, i: &Interface, v: &VxlanLink) -> Result<Vxlan> {
    let src = v
        .src_address
        .parse()
        .map_err(|_| VppError::invalid("src_address", v.src_address.clone()))?;
    let dst = v
        .dst_address
        .parse()
        .map_err(|_| VppError::invalid("dst_address", v.dst_address.clone()))?;
    let mcast = if v.multicast.is_empty() {
        NONE
    } else {
        sw_if_index(md, &v.multicast)?
    };
    Ok(Vxlan {
        sw_if_index: NONE,
        src,
        dst,
        vni: v.vni,
        mcast_sw_if_index: mcast,
        encap_vrf_id: i.vrf,
    })
}

impl InterfaceDescriptor {
    pub fn new(api: ApiHandle) -> Self {
        InterfaceDescriptor {
            api,
            memif_sockets: Mutex::new(HashMap::new()),
        }
    }

    /// The socket id for a memif socket file, registering it in VPP the first time.
    fn memif_socket(&self, api: &dyn VppApi, filename: &str) -> Result<u32> {
        if filename.is_empty() {
            return Ok(0);
        }
        let mut sockets = match self.memif_sockets.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        // Registered again every time: a no-op for VPP when it already has the file under
        // that id, and what a restarted VPP needs.
        if let Some(id) = sockets.get(filename).copied() {
            api.add_memif_socket(id, filename)?;
            return Ok(id);
        }
        // A new file takes the next id; after an agent restart VPP may still hold ids this map
        // forgot, and refuses to re-point one in use (-74), so move on to the next.
        let mut id = sockets.values().max().map_or(1, |m| m + 1);
        for _ in 0..16 {
            match api.add_memif_socket(id, filename) {
                Ok(()) => {
                    sockets.insert(filename.to_owned(), id);
                    return Ok(id);
                }
                Err(e) if e.retval_code() == Some(-74) => id += 1,
                Err(e) => return Err(e),
            }
        }
        Err(VppError::invalid(
            "socket_filename",
            "no free memif socket id",
        ))
    }

    /// Creates the VPP object of `i` and returns its sw_if_index.
    fn create_object(&self, api: &dyn VppApi, md: &MetadataView<'_>, i: &Interface) -> Result<u32> {
        let mac = parse_mac(&i.phys_address)?;
        match (if_type(i), &i.link) {
            (Type::SoftwareLoopback, _) => api.create_loopback(mac),
            (Type::Tap, link) => {
                let t = match link {
                    Some(Link::Tap(t)) => t.clone(),
                    _ => TapLink::default(),
                };
                api.create_tap(&TapSpec {
                    id: None,
                    mac,
                    host_if_name: t.host_if_name.clone(),
                    rx_ring_size: u16::try_from(t.rx_ring_size).unwrap_or(u16::MAX),
                    tx_ring_size: u16::try_from(t.tx_ring_size).unwrap_or(u16::MAX),
                    gso: t.enable_gso,
                    tun: t.enable_tunnel,
                    tag: i.name.clone(),
                })
            }
            (Type::Memif, Some(Link::Memif(m))) => {
                let socket_id = self.memif_socket(api, &m.socket_filename)?;
                api.create_memif(&MemifSpec {
                    socket_id,
                    id: m.id,
                    master: m.master,
                    mode: MemifMode::from_code(u32::try_from(m.mode).unwrap_or(0)),
                    ring_size: m.ring_size,
                    buffer_size: u16::try_from(m.buffer_size).unwrap_or(u16::MAX),
                    rx_queues: u8::try_from(m.rx_queues).unwrap_or(u8::MAX),
                    tx_queues: u8::try_from(m.tx_queues).unwrap_or(u8::MAX),
                    secret: m.secret.clone(),
                    mac,
                })
            }
            (Type::AfPacket, Some(Link::Afpacket(a))) => {
                let host = afpacket_host(a);
                api.create_af_packet(host, mac)
            }
            (Type::VxlanTunnel, Some(Link::Vxlan(v))) => api.add_vxlan(&vxlan_spec(md, i, v)?),
            (Type::SubInterface, Some(Link::Sub(s))) => {
                let parent = sw_if_index(md, &s.parent_name)?;
                let vlan = u16::try_from(s.tag1).unwrap_or(u16::MAX);
                api.create_subif(parent, s.sub_id, vlan)
            }
            (Type::Dpdk, _) => api
                .dump_interfaces()?
                .into_iter()
                .find(|d| d.internal_name == i.name)
                .map(|d| d.sw_if_index)
                .ok_or_else(|| VppError::not_found("dpdk interface", i.name.clone())),
            (t, _) => Err(VppError::invalid(
                "type",
                format!("cannot create a {} interface", t.as_str_name()),
            )),
        }
    }

    /// Removes the VPP object of `i` (DPDK interfaces are only reset).
    fn delete_object(
        &self,
        api: &dyn VppApi,
        md: &MetadataView<'_>,
        i: &Interface,
        idx: u32,
    ) -> Result<()> {
        match (if_type(i), &i.link) {
            (Type::SoftwareLoopback, _) => api.delete_loopback(idx),
            (Type::Tap, _) => api.delete_tap(idx),
            (Type::Memif, _) => api.delete_memif(idx),
            (Type::AfPacket, Some(Link::Afpacket(a))) => {
                let host = afpacket_host(a);
                api.delete_af_packet(host)
            }
            (Type::VxlanTunnel, Some(Link::Vxlan(v))) => api.delete_vxlan(&vxlan_spec(md, i, v)?),
            (Type::SubInterface, _) => api.delete_subif(idx),
            _ => {
                api.set_admin_up(idx, false)?;
                api.set_tag(idx, "")
            }
        }
    }

    /// Tag, MAC (where it is not given at creation), MTU and admin state of a fresh interface.
    fn configure(&self, api: &dyn VppApi, i: &Interface, idx: u32) -> Result<()> {
        if if_type(i) != Type::Tap {
            api.set_tag(idx, &i.name)?;
        }
        if matches!(if_type(i), Type::Dpdk | Type::SubInterface)
            && let Some(mac) = parse_mac(&i.phys_address)?
        {
            api.set_mac(idx, mac)?;
        }
        if i.mtu > 0 {
            api.set_mtu(idx, i.mtu)?;
        }
        if i.enabled {
            api.set_admin_up(idx, true)?;
        }
        Ok(())
    }
}

impl Descriptor for InterfaceDescriptor {
    fn name(&self) -> &str {
        INTERFACE
    }

    fn key_selector(&self, key: &Key) -> bool {
        key.has_prefix(INTERFACE_PREFIX)
    }

    fn nb_key_prefix(&self) -> Option<&str> {
        Some(INTERFACE_PREFIX)
    }

    fn validate(&self, _key: &Key, value: &Value) -> std::result::Result<(), KvError> {
        validate_interface(model::<Interface>(value, "vpp interface")?)
    }

    fn equivalent(&self, _key: &Key, old: &Value, new: &Value) -> bool {
        match (
            messages::value::downcast::<Interface>(&**old),
            messages::value::downcast::<Interface>(&**new),
        ) {
            (Some(a), Some(b)) => equivalent_interfaces(a, b),
            _ => old.eq_value(&**new),
        }
    }

    fn dependencies(&self, _key: &Key, value: &Value) -> Vec<Dependency> {
        let Some(i) = messages::value::downcast::<Interface>(&**value) else {
            return Vec::new();
        };
        let mut deps = Vec::new();
        match &i.link {
            Some(Link::Afpacket(a)) if !a.linux_interface.is_empty() => {
                deps.push(Dependency::on_key(
                    "afpacket-host-interface-exists",
                    format!("config/linux/interfaces/v2/interface/{}", a.linux_interface),
                ))
            }
            Some(Link::Afpacket(a)) => deps.push(Dependency::on_key(
                "afpacket-host-interface-exists",
                format!("linux/interface/host-name/{}", afpacket_host(a)),
            )),
            Some(Link::Tap(t)) if !t.to_microservice.is_empty() => deps.push(Dependency::on_key(
                "microservice-available",
                format!("linux/microservice/{}", t.to_microservice),
            )),
            Some(Link::Vxlan(v)) => {
                if !v.multicast.is_empty() {
                    deps.push(Dependency::any_of_prefix(
                        "vxlan-multicast-interface-exists",
                        format!("vpp/interface/{}/address/", v.multicast),
                    ));
                }
                if i.vrf != 0 {
                    let v6 = v.src_address.contains(':');
                    deps.push(Dependency::on_key(
                        "vrf-table-for-vxlan-exists",
                        super::vrf_table_key(i.vrf, v6),
                    ));
                }
            }
            Some(Link::Sub(s)) => deps.push(Dependency::on_key(
                "parent-interface-exists",
                interface_key(&s.parent_name),
            )),
            _ => {}
        }
        deps
    }

    fn derived_values(&self, _key: &Key, value: &Value) -> Vec<(Key, Value)> {
        let Some(i) = messages::value::downcast::<Interface>(&**value) else {
            return Vec::new();
        };
        let empty = || -> Value { std::sync::Arc::new(Empty {}) };
        let mut out: Vec<(Key, Value)> = Vec::new();
        let (mut v4, mut v6) = (false, false);
        for a in &i.ip_addresses {
            if let Ok(net) = a.parse::<crate::api::IpNet>() {
                v4 |= !net.is_ipv6();
                v6 |= net.is_ipv6();
                out.push((address_key(&i.name, a), empty()));
            }
        }
        if v4 || v6 {
            out.push((vrf_key(&i.name, i.vrf, v4, v6), empty()));
            out.push((has_ip_key(&i.name), empty()));
        }
        out
    }

    fn can_update(&self) -> bool {
        true
    }

    fn needs_recreate(&self, _key: &Key, old: &Value, new: &Value, _md: Option<&Metadata>) -> bool {
        let (Some(a), Some(b)) = (
            messages::value::downcast::<Interface>(&**old),
            messages::value::downcast::<Interface>(&**new),
        ) else {
            return true;
        };
        let (mut a, mut b) = (normalized(a), normalized(b));
        merge_dont_care(&mut a, &mut b);
        let vxlan_vrf = if_type(&a) == Type::VxlanTunnel && a.vrf != b.vrf;
        a.r#type != b.r#type || a.link != b.link || vxlan_vrf
    }

    fn create(
        &self,
        md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
    ) -> std::result::Result<Option<Metadata>, KvError> {
        let i = model::<Interface>(value, "vpp interface")?;
        let api = self.api.get();
        let idx = self.create_object(&*api, md, i)?;
        let configured = self
            .configure(&*api, i, idx)
            .and_then(|()| api.dump_interface(idx));
        match configured {
            Ok(details) => {
                let internal_name = details.map(|d| d.internal_name).unwrap_or_default();
                Ok(Some(std::sync::Arc::new(InterfaceMeta {
                    sw_if_index: idx,
                    internal_name,
                })))
            }
            Err(e) => {
                if let Err(undo) = self.delete_object(&*api, md, i, idx) {
                    tracing::warn!(error = %undo, interface = %i.name, "could not undo a half-created interface");
                }
                Err(e.into())
            }
        }
    }

    fn update(
        &self,
        md: &MetadataView<'_>,
        _key: &Key,
        old: &Value,
        new: &Value,
        metadata: Option<&Metadata>,
    ) -> std::result::Result<Option<Metadata>, KvError> {
        let a = model::<Interface>(old, "vpp interface")?;
        let b = model::<Interface>(new, "vpp interface")?;
        let idx = match metadata.and_then(|m| m.downcast_ref::<InterfaceMeta>()) {
            Some(m) => m.sw_if_index,
            None => sw_if_index(md, &b.name)?,
        };
        let api = self.api.get();
        if !b.phys_address.is_empty()
            && !a.phys_address.eq_ignore_ascii_case(&b.phys_address)
            && let Some(mac) = parse_mac(&b.phys_address)?
        {
            api.set_mac(idx, mac)?;
        }
        if b.mtu != 0 && a.mtu != b.mtu {
            api.set_mtu(idx, b.mtu)?;
        }
        if a.enabled != b.enabled {
            api.set_admin_up(idx, b.enabled)?;
        }
        Ok(None)
    }

    fn delete(
        &self,
        md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
        metadata: Option<&Metadata>,
    ) -> std::result::Result<(), KvError> {
        let i = model::<Interface>(value, "vpp interface")?;
        let idx = match metadata.and_then(|m| m.downcast_ref::<InterfaceMeta>()) {
            Some(m) => m.sw_if_index,
            None => sw_if_index(md, &i.name)?,
        };
        self.delete_object(&*self.api.get(), md, i, idx)?;
        Ok(())
    }

    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        correlate: &[(Key, Value)],
    ) -> std::result::Result<Option<Vec<Retrieved>>, KvError> {
        Ok(Some(interface_retrieve::retrieve(
            &*self.api.get(),
            correlate,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tap(name: &str) -> Interface {
        Interface {
            name: name.into(),
            r#type: Type::Tap as i32,
            enabled: true,
            ..Default::default()
        }
    }

    #[test]
    fn equivalence_ignores_what_vpp_picks_case_and_order() {
        let mut nb = tap("tap1");
        nb.phys_address = "02:AA:BB:CC:DD:EE".into();
        nb.ip_addresses = vec!["10.0.0.1/24".into(), "fd00::1/64".into()];
        let mut sb = nb.clone();
        sb.phys_address = "02:aa:bb:cc:dd:ee".into();
        sb.ip_addresses = vec!["fd00::1/64".into(), "10.0.0.1/24".into()];
        sb.mtu = 9000;
        sb.link = Some(Link::Tap(TapLink {
            version: 2,
            host_if_name: "tap0".into(),
            rx_ring_size: 256,
            tx_ring_size: 256,
            ..Default::default()
        }));
        assert!(equivalent_interfaces(&nb, &sb));
        sb.enabled = false;
        assert!(!equivalent_interfaces(&nb, &sb));
        sb.enabled = true;
        sb.ip_addresses.pop();
        assert!(!equivalent_interfaces(&nb, &sb));
    }

    #[test]
    fn validation_rejects_what_the_build_cannot_do() {
        let mut i = tap("tap1");
        assert!(validate_interface(&i).is_ok());
        i.set_dhcp_client = true;
        assert!(validate_interface(&i).is_err());
        let mut i = tap("");
        assert!(validate_interface(&i).is_err());
        i.name = "x".into();
        i.r#type = Type::GreTunnel as i32;
        assert!(validate_interface(&i).is_err());
        let mut i = tap("tap1");
        i.phys_address = "nope".into();
        assert!(validate_interface(&i).is_err());
        i.phys_address.clear();
        i.mtu = 9217;
        assert!(validate_interface(&i).is_err());
    }
}
