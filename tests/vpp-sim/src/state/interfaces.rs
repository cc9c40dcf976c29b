//! Interfaces: the sw_if_index pool (LIFO reuse after `local0`), VPP's naming (`loop0`,
//! `tap0`, `memif0/0`, `host-eth0`, `vxlan_tunnel0`, `loop0.100`), admin and link state,
//! MAC, MTU, tags, addresses and table bindings, and what deleting an interface takes with it
//! (bridge membership, addresses, neighbours, cross-connects; not L2 FIB entries).

use std::net::IpAddr;

use super::{Mac, NONE, Retval, Vpp, VppResult};

/// What kind of device an interface is, with the parameters it was created with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfKind {
    Local,
    Loopback {
        instance: u32,
    },
    Tap {
        id: u32,
        host_if_name: String,
        tun: bool,
        rx_ring: u16,
        tx_ring: u16,
    },
    Memif {
        socket_id: u32,
        id: u32,
        master: bool,
        mode: u8,
        ring_size: u32,
        buffer_size: u16,
    },
    AfPacket {
        host_if_name: String,
    },
    Vxlan {
        instance: u32,
        src: IpAddr,
        dst: IpAddr,
        vni: u32,
        encap_vrf: u32,
        decap_next: u32,
    },
    Sub {
        parent: u32,
        sub_id: u32,
        outer_vlan: u16,
        inner_vlan: u16,
        flags: u32,
    },
}

/// The L2 mode of an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L2Mode {
    L3,
    Bridge { bd_id: u32, bvi: bool, shg: u8 },
    Xconnect { tx: u32 },
}

/// One interface as VPP keeps it.
#[derive(Debug, Clone)]
pub struct Interface {
    pub sw_if_index: u32,
    pub sup_sw_if_index: u32,
    pub name: String,
    pub dev_type: String,
    pub kind: IfKind,
    pub mac: Mac,
    pub admin_up: bool,
    pub link_up: bool,
    pub link_mtu: u16,
    /// L3, IP4, IP6, MPLS; 0 means "inherit L3".
    pub mtu: [u32; 4],
    pub tag: String,
    pub addresses: Vec<(IpAddr, u8)>,
    /// Table bound per address family: `[ip4, ip6]`.
    pub table: [u32; 2],
    pub l2: L2Mode,
    /// The interface whose addresses this one borrows (`sw_interface_set_unnumbered`).
    pub unnumbered: Option<u32>,
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
}

impl Interface {
    pub(crate) fn local0() -> Self {
        let mut i = Interface::new(0, "local0", "local", IfKind::Local, Mac::default());
        i.link_mtu = 0;
        i.mtu = [0; 4];
        i
    }

    fn new(sw_if_index: u32, name: &str, dev_type: &str, kind: IfKind, mac: Mac) -> Self {
        Interface {
            sw_if_index,
            sup_sw_if_index: sw_if_index,
            name: name.to_owned(),
            dev_type: dev_type.to_owned(),
            kind,
            mac,
            admin_up: false,
            link_up: false,
            link_mtu: 9000,
            mtu: [9000, 0, 0, 0],
            tag: String::new(),
            addresses: Vec::new(),
            table: [0, 0],
            l2: L2Mode::L3,
            unnumbered: None,
            rx_packets: 0,
            rx_bytes: 0,
            tx_packets: 0,
            tx_bytes: 0,
        }
    }

    /// The `if_status_flags` bits VPP reports: ADMIN_UP = 1, LINK_UP = 2.
    pub fn flags(&self) -> u32 {
        u32::from(self.admin_up) | (u32::from(self.link_up) << 1)
    }
}

/// A locally administered MAC that is stable for a given seed (VPP picks random ones; tests
/// want reproducible output).
fn pseudo_random_mac(prefix: [u8; 2], seed: u32) -> Mac {
    let s = seed.wrapping_mul(2654435761).to_be_bytes();
    Mac([prefix[0], prefix[1], s[0], s[1], s[2], s[3]])
}

impl Vpp {
    fn add_interface(&mut self, make: impl FnOnce(u32) -> Interface) -> u32 {
        let idx = self.alloc_sw_if_index();
        let iface = make(idx);
        self.if_changes.push((idx, iface.flags(), false));
        self.ifaces[idx as usize] = Some(iface);
        idx
    }

    /// `create_loopback`: the lowest free instance, `loop<n>`, MAC `de:ad:00:00:00:<n>` when
    /// none is given.
    pub fn create_loopback(&mut self, mac: Mac) -> VppResult<u32> {
        let instance = self.loop_ids.alloc().ok_or(Retval::INVALID_REGISTRATION)?;
        Ok(self.new_loopback(instance, mac))
    }

    /// `create_loopback_instance`: like `create_loopback`, or exactly `instance` when specified.
    pub fn create_loopback_instance(
        &mut self,
        mac: Mac,
        is_specified: bool,
        instance: u32,
    ) -> VppResult<u32> {
        if !is_specified {
            return self.create_loopback(mac);
        }
        if !self.loop_ids.take(instance) {
            return Err(Retval::INVALID_REGISTRATION);
        }
        Ok(self.new_loopback(instance, mac))
    }

    fn new_loopback(&mut self, instance: u32, mac: Mac) -> u32 {
        let mac = if mac.is_zero() {
            Mac([0xde, 0xad, 0, 0, 0, instance as u8])
        } else {
            mac
        };
        let name = format!("loop{instance}");
        self.add_interface(|idx| {
            Interface::new(idx, &name, "Loopback", IfKind::Loopback { instance }, mac)
        })
    }

    /// `delete_loopback`: -2 for an unknown index or one that is not a loopback.
    pub fn delete_loopback(&mut self, sw_if_index: u32) -> VppResult<()> {
        match self.interface(sw_if_index).map(|i| &i.kind) {
            Some(IfKind::Loopback { .. }) => self.delete_interface(sw_if_index),
            _ => Err(Retval::INVALID_SW_IF_INDEX),
        }
    }

    /// `tap_create_v2`/`_v3`: id `~0` picks the lowest free id (max 1024), a taken id is -71;
    /// the name is `tap<id>` (`tun<id>` in TUN mode), the dev type `virtio`.
    pub fn tap_create(
        &mut self,
        id: u32,
        mac: Option<Mac>,
        host_if_name: &str,
        tun: bool,
        rx_ring: u16,
        tx_ring: u16,
    ) -> VppResult<u32> {
        let id = if id == NONE {
            match self.tap_ids.alloc() {
                Some(id) if id < 1024 => id,
                Some(id) => {
                    self.tap_ids.release(id);
                    return Err(Retval::INVALID_REGISTRATION);
                }
                None => return Err(Retval::INVALID_REGISTRATION),
            }
        } else if !self.tap_ids.take(id) {
            return Err(Retval::INVALID_INTERFACE);
        } else {
            id
        };
        let name = if tun {
            format!("tun{id}")
        } else {
            format!("tap{id}")
        };
        let host = if host_if_name.is_empty() {
            name.clone()
        } else {
            host_if_name.to_owned()
        };
        let mac = mac.unwrap_or_else(|| pseudo_random_mac([0x02, 0xfe], id + 1));
        let kind = IfKind::Tap {
            id,
            host_if_name: host,
            tun,
            rx_ring,
            tx_ring,
        };
        Ok(self.add_interface(|idx| Interface::new(idx, &name, "virtio", kind, mac)))
    }

    /// `tap_delete_v2`: -2 unless the index is a tap.
    pub fn tap_delete(&mut self, sw_if_index: u32) -> VppResult<()> {
        match self.interface(sw_if_index).map(|i| &i.kind) {
            Some(IfKind::Tap { .. }) => self.delete_interface(sw_if_index),
            _ => Err(Retval::INVALID_SW_IF_INDEX),
        }
    }

    /// `memif_create`: name `memif<socket_id>/<id>`; the socket id must be registered (-6);
    /// the same (socket, id) twice is -71.
    #[allow(clippy::too_many_arguments)]
    pub fn memif_create(
        &mut self,
        socket_id: u32,
        id: u32,
        master: bool,
        mode: u8,
        ring_size: u32,
        buffer_size: u16,
        mac: Option<Mac>,
    ) -> VppResult<u32> {
        if !self.memif_sockets.contains_key(&socket_id) {
            return Err(Retval::NO_SUCH_ENTRY);
        }
        let taken = self.interfaces().any(|i| {
            matches!(i.kind, IfKind::Memif { socket_id: s, id: n, .. } if s == socket_id && n == id)
        });
        if taken {
            return Err(Retval::INVALID_INTERFACE);
        }
        let name = format!("memif{socket_id}/{id}");
        let mac =
            mac.unwrap_or_else(|| pseudo_random_mac([0x02, 0xfe], 0x10000 + socket_id * 4096 + id));
        let kind = IfKind::Memif {
            socket_id,
            id,
            master,
            mode,
            ring_size,
            buffer_size,
        };
        Ok(self.add_interface(|idx| Interface::new(idx, &name, "memif", kind, mac)))
    }

    /// `memif_delete`: -2 unless the index is a memif.
    pub fn memif_delete(&mut self, sw_if_index: u32) -> VppResult<()> {
        match self.interface(sw_if_index).map(|i| &i.kind) {
            Some(IfKind::Memif { .. }) => self.delete_interface(sw_if_index),
            _ => Err(Retval::INVALID_SW_IF_INDEX),
        }
    }

    /// `af_packet_create`: name `host-<host_if_name>`; the same host interface twice is -81.
    pub fn af_packet_create(&mut self, host_if_name: &str, mac: Option<Mac>) -> VppResult<u32> {
        if host_if_name.is_empty() {
            return Err(Retval::INVALID_ARGUMENT);
        }
        let name = format!("host-{host_if_name}");
        if self.interface_by_name(&name).is_some() {
            return Err(Retval::VALUE_EXIST);
        }
        let mac =
            mac.unwrap_or_else(|| pseudo_random_mac([0x02, 0xfe], 0x20000 + name.len() as u32));
        let kind = IfKind::AfPacket {
            host_if_name: host_if_name.to_owned(),
        };
        Ok(self.add_interface(|idx| Interface::new(idx, &name, "af_packet", kind, mac)))
    }

    /// `af_packet_delete`, by host interface name: -2 when there is none.
    pub fn af_packet_delete(&mut self, host_if_name: &str) -> VppResult<()> {
        let name = format!("host-{host_if_name}");
        let idx = self.interface_by_name(&name).map(|i| i.sw_if_index);
        match idx {
            Some(i) => self.delete_interface(i),
            None => Err(Retval::INVALID_SW_IF_INDEX),
        }
    }

    /// `vxlan_add_del_tunnel` (add) with instance `~0`: see [`Vpp::vxlan_add_instance`].
    pub fn vxlan_add(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        vni: u32,
        encap_vrf: u32,
        decap_next: u32,
    ) -> VppResult<u32> {
        self.vxlan_add_instance(NONE, src, dst, vni, encap_vrf, decap_next)
    }

    /// `vxlan_add_del_tunnel` (add): name `vxlan_tunnel<n>`, n the lowest free instance or
    /// the requested one (taken: -147); the same (src, dst, vni) is -81; the encap table must
    /// exist (-3).
    pub fn vxlan_add_instance(
        &mut self,
        instance: u32,
        src: IpAddr,
        dst: IpAddr,
        vni: u32,
        encap_vrf: u32,
        decap_next: u32,
    ) -> VppResult<u32> {
        let exists = self.interfaces().any(|i| {
            matches!(i.kind, IfKind::Vxlan { src: s, dst: d, vni: v, .. } if s == src && d == dst && v == vni)
        });
        if exists {
            return Err(Retval::VALUE_EXIST);
        }
        if !self.tables.contains_key(&(src.is_ipv6(), encap_vrf)) {
            return Err(Retval::NO_SUCH_FIB);
        }
        let instance = if instance == NONE {
            self.vxlan_ids.alloc().ok_or(Retval::INVALID_REGISTRATION)?
        } else if self.vxlan_ids.take(instance) {
            instance
        } else {
            return Err(Retval::INSTANCE_IN_USE);
        };
        let name = format!("vxlan_tunnel{instance}");
        let kind = IfKind::Vxlan {
            instance,
            src,
            dst,
            vni,
            encap_vrf,
            decap_next,
        };
        let idx =
            self.add_interface(|idx| Interface::new(idx, &name, "VXLAN", kind, Mac::default()));
        // A tunnel has no link of its own: it is up when admin up.
        Ok(idx)
    }

    /// `vxlan_add_del_tunnel` (delete): -6 when no such tunnel exists.
    pub fn vxlan_del(&mut self, src: IpAddr, dst: IpAddr, vni: u32) -> VppResult<u32> {
        let idx = self
            .interfaces()
            .find(|i| matches!(i.kind, IfKind::Vxlan { src: s, dst: d, vni: v, .. } if s == src && d == dst && v == vni))
            .map(|i| i.sw_if_index)
            .ok_or(Retval::NO_SUCH_ENTRY)?;
        self.delete_interface(idx)?;
        Ok(idx)
    }

    /// `create_subif` / `create_vlan_subif`: `<parent>.<sub_id>`; an existing sub id is -68.
    pub fn create_subif(
        &mut self,
        parent: u32,
        sub_id: u32,
        outer_vlan: u16,
        inner_vlan: u16,
        flags: u32,
    ) -> VppResult<u32> {
        let p = self.interface(parent).ok_or(Retval::INVALID_SW_IF_INDEX)?;
        if matches!(p.kind, IfKind::Sub { .. } | IfKind::Local) {
            return Err(Retval::INVALID_SW_IF_INDEX);
        }
        let name = format!("{}.{sub_id}", p.name);
        let (mac, dev_type) = (p.mac, p.dev_type.clone());
        let exists = self.interfaces().any(|i| {
            matches!(i.kind, IfKind::Sub { parent: pp, sub_id: s, .. } if pp == parent && s == sub_id)
        });
        if exists {
            return Err(Retval::SUBIF_ALREADY_EXISTS);
        }
        let kind = IfKind::Sub {
            parent,
            sub_id,
            outer_vlan,
            inner_vlan,
            flags,
        };
        Ok(self.add_interface(|idx| {
            let mut i = Interface::new(idx, &name, &dev_type, kind, mac);
            i.sup_sw_if_index = parent;
            i
        }))
    }

    /// `delete_subif`: -2 unless the index is a sub-interface.
    pub fn delete_subif(&mut self, sw_if_index: u32) -> VppResult<()> {
        match self.interface(sw_if_index).map(|i| &i.kind) {
            Some(IfKind::Sub { .. }) => self.delete_interface(sw_if_index),
            _ => Err(Retval::INVALID_SW_IF_INDEX),
        }
    }

    /// Removes an interface and what VPP's add/del callbacks take with it. L2 FIB entries that
    /// point at it stay ("Stale"); sub-interfaces of a deleted parent are deleted too.
    pub(crate) fn delete_interface(&mut self, sw_if_index: u32) -> VppResult<()> {
        if sw_if_index == 0 {
            return Err(Retval::INVALID_SW_IF_INDEX);
        }
        let children: Vec<u32> = self
            .interfaces()
            .filter(|i| matches!(i.kind, IfKind::Sub { parent, .. } if parent == sw_if_index))
            .map(|i| i.sw_if_index)
            .collect();
        for child in children {
            self.delete_interface(child)?;
        }
        let iface = self
            .interface(sw_if_index)
            .ok_or(Retval::INVALID_SW_IF_INDEX)?
            .clone();
        for af in [0usize, 1] {
            if iface.table[af] != 0 {
                self.unbind_table(af == 1, iface.table[af]);
            }
        }
        self.leave_l2(sw_if_index);
        self.neighbors.retain(|(idx, _), _| *idx != sw_if_index);
        self.xconnects
            .retain(|rx, tx| *rx != sw_if_index && *tx != sw_if_index);
        for other in self.ifaces.iter_mut().flatten() {
            if other.l2 == (L2Mode::Xconnect { tx: sw_if_index }) {
                other.l2 = L2Mode::L3;
            }
        }
        for other in self.ifaces.iter_mut().flatten() {
            if other.unnumbered == Some(sw_if_index) {
                other.unnumbered = None;
            }
        }
        match iface.kind {
            IfKind::Loopback { instance } => self.loop_ids.release(instance),
            IfKind::Tap { id, .. } => self.tap_ids.release(id),
            IfKind::Vxlan { instance, .. } => self.vxlan_ids.release(instance),
            _ => {}
        }
        self.if_changes.push((sw_if_index, iface.flags(), true));
        self.ifaces[sw_if_index as usize] = None;
        self.free_ifaces.push(sw_if_index);
        Ok(())
    }

    /// `sw_interface_set_flags`: only ADMIN_UP is honoured; the link follows admin state,
    /// except on local0 and on a memif, whose link comes up only when a peer connects (no
    /// peer ever connects to the simulator).
    pub fn set_flags(&mut self, sw_if_index: u32, flags: u32) -> VppResult<()> {
        let iface = self.interface_mut(sw_if_index)?;
        let before = iface.flags();
        iface.admin_up = flags & 1 != 0;
        iface.link_up =
            iface.admin_up && !matches!(iface.kind, IfKind::Local | IfKind::Memif { .. });
        let after = iface.flags();
        if after != before {
            self.if_changes.push((sw_if_index, after, false));
        }
        Ok(())
    }

    /// `sw_interface_set_mac_address`: -2 for an unknown index, -151 style refusal of local0.
    pub fn set_mac(&mut self, sw_if_index: u32, mac: Mac) -> VppResult<()> {
        let iface = self.interface_mut(sw_if_index)?;
        if matches!(iface.kind, IfKind::Local | IfKind::Vxlan { .. }) {
            return Err(Retval(-151));
        }
        iface.mac = mac;
        Ok(())
    }

    /// `sw_interface_set_mtu`: per-protocol MTUs; values above the link MTU are -7.
    pub fn set_mtu(&mut self, sw_if_index: u32, mtu: [u32; 4]) -> VppResult<()> {
        let iface = self.interface_mut(sw_if_index)?;
        if mtu.iter().any(|m| *m > u32::from(iface.link_mtu).max(9216)) {
            return Err(Retval::INVALID_VALUE);
        }
        iface.mtu = mtu;
        Ok(())
    }

    /// `hw_interface_set_mtu`: sets the link MTU (and the L3 MTU with it).
    pub fn set_link_mtu(&mut self, sw_if_index: u32, mtu: u16) -> VppResult<()> {
        let iface = self.interface_mut(sw_if_index)?;
        if matches!(iface.kind, IfKind::Local | IfKind::Sub { .. }) {
            return Err(Retval::INVALID_SW_IF_INDEX);
        }
        iface.link_mtu = mtu;
        iface.mtu[0] = u32::from(mtu);
        Ok(())
    }

    /// `sw_interface_tag_add_del`: the tag is where Ligato keeps its logical interface name.
    pub fn set_tag(&mut self, sw_if_index: u32, tag: &str, is_add: bool) -> VppResult<()> {
        let iface = self.interface_mut(sw_if_index)?;
        iface.tag = if is_add {
            tag.to_owned()
        } else {
            String::new()
        };
        Ok(())
    }

    /// `sw_interface_set_unnumbered`: `unnumbered` borrows the addresses of `sw_if_index`;
    /// both must exist (-2). Delete clears the borrowing.
    pub fn set_unnumbered(
        &mut self,
        sw_if_index: u32,
        unnumbered: u32,
        is_add: bool,
    ) -> VppResult<()> {
        self.interface(sw_if_index)
            .ok_or(Retval::INVALID_SW_IF_INDEX)?;
        let iface = self.interface_mut(unnumbered)?;
        iface.unnumbered = is_add.then_some(sw_if_index);
        Ok(())
    }

    /// `sw_interface_set_rx_mode`: only devices with rx queues (tap, memif, af_packet) take
    /// a mode; others have no queues and refuse with -71.
    pub fn set_rx_mode(&mut self, sw_if_index: u32) -> VppResult<()> {
        let iface = self
            .interface(sw_if_index)
            .ok_or(Retval::INVALID_SW_IF_INDEX)?;
        match iface.kind {
            IfKind::Tap { .. } | IfKind::Memif { .. } | IfKind::AfPacket { .. } => Ok(()),
            _ => Err(Retval::INVALID_INTERFACE),
        }
    }
}
