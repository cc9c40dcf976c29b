//! Version-independent VPP types: what the [`super::VppApi`] trait takes and returns, with no
//! binapi type in sight (MACs, prefixes, interface, bridge-domain, FIB, route, table and
//! neighbour records).
//!
//! Plain data with parsing and formatting helpers. It deliberately knows nothing about
//! Ligato's models (the descriptors translate) nor about any VPP release's message layout.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// `~0`: VPP's "none" / "all" index.
pub const NONE: u32 = u32::MAX;

/// An Ethernet address. Parses any case, prints lowercase (as VPP does).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl FromStr for Mac {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for byte in &mut out {
            let p = parts
                .next()
                .ok_or_else(|| format!("{s:?} is not a mac address"))?;
            if p.len() != 2 {
                return Err(format!("{s:?} is not a mac address"));
            }
            *byte = u8::from_str_radix(p, 16).map_err(|_| format!("{s:?} is not a mac address"))?;
        }
        if parts.next().is_some() {
            return Err(format!("{s:?} is not a mac address"));
        }
        Ok(Mac(out))
    }
}

/// An address with a prefix length (`10.0.0.1/24`); the address keeps its host bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpNet {
    pub addr: IpAddr,
    pub len: u8,
}

impl IpNet {
    pub fn is_ipv6(&self) -> bool {
        self.addr.is_ipv6()
    }

    /// The network address (host bits cleared).
    pub fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(v4) => {
                let len = u32::from(self.len.min(32));
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                IpAddr::V4((u32::from(v4) & mask).into())
            }
            IpAddr::V6(v6) => {
                let len = u32::from(self.len.min(128));
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                IpAddr::V6((u128::from(v6) & mask).into())
            }
        }
    }

    /// The same prefix with host bits cleared.
    pub fn masked(&self) -> IpNet {
        IpNet {
            addr: self.network(),
            len: self.len,
        }
    }

    /// The full-length prefix of the address.
    pub fn host_len(&self) -> u8 {
        if self.is_ipv6() { 128 } else { 32 }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl FromStr for IpNet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, l) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} has no prefix length"))?;
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("{a:?} is not an ip address"))?;
        let len: u8 = l
            .parse()
            .map_err(|_| format!("{l:?} is not a prefix length"))?;
        let max = if addr.is_ipv6() { 128 } else { 32 };
        if len > max {
            return Err(format!("prefix length {len} exceeds {max}"));
        }
        Ok(IpNet { addr, len })
    }
}

/// `show_version`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionInfo {
    pub program: String,
    pub version: String,
    pub build_date: String,
}

/// One interface as `sw_interface_dump` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InterfaceDetails {
    pub sw_if_index: u32,
    pub sup_sw_if_index: u32,
    /// VPP's own name (`tap0`, `loop1`, `memif1/0`).
    pub internal_name: String,
    pub dev_type: String,
    /// Where the agent keeps the user's name.
    pub tag: String,
    pub mac: Mac,
    pub admin_up: bool,
    pub link_up: bool,
    pub link_mtu: u32,
    /// The L3 MTU.
    pub mtu: u32,
    /// Sub-interface id (for sub-interfaces).
    pub sub_id: u32,
}

/// Parameters of a TAP interface (v2 or v3 message, whichever the release has).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TapSpec {
    /// `None` lets VPP pick the lowest free id.
    pub id: Option<u32>,
    pub mac: Option<Mac>,
    pub host_if_name: String,
    pub rx_ring_size: u16,
    pub tx_ring_size: u16,
    pub gso: bool,
    pub tun: bool,
    pub tag: String,
}

/// One TAP as `sw_interface_tap_v2_dump` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TapDetails {
    pub sw_if_index: u32,
    pub id: u32,
    pub host_if_name: String,
    pub rx_ring_size: u16,
    pub tx_ring_size: u16,
    pub gso: bool,
    pub tun: bool,
}

/// memif mode (`memif_mode`): 0 ethernet, 1 ip, 2 punt/inject.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemifMode {
    #[default]
    Ethernet,
    Ip,
    PuntInject,
}

impl MemifMode {
    pub fn code(self) -> u32 {
        match self {
            MemifMode::Ethernet => 0,
            MemifMode::Ip => 1,
            MemifMode::PuntInject => 2,
        }
    }

    pub fn from_code(code: u32) -> Self {
        match code {
            1 => MemifMode::Ip,
            2 => MemifMode::PuntInject,
            _ => MemifMode::Ethernet,
        }
    }
}

/// Parameters of a memif interface.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemifSpec {
    pub socket_id: u32,
    pub id: u32,
    pub master: bool,
    pub mode: MemifMode,
    pub ring_size: u32,
    pub buffer_size: u16,
    pub rx_queues: u8,
    pub tx_queues: u8,
    pub secret: String,
    pub mac: Option<Mac>,
}

/// One memif as `memif_dump` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemifDetails {
    pub sw_if_index: u32,
    pub socket_id: u32,
    pub id: u32,
    pub master: bool,
    pub mode: MemifMode,
    pub ring_size: u32,
    pub buffer_size: u16,
}

/// One af_packet interface as `af_packet_dump` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AfPacketDetails {
    pub sw_if_index: u32,
    pub host_if_name: String,
}

/// A VXLAN tunnel (add/del parameters and dump record).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vxlan {
    /// Set in dumps; ignored on add/del.
    pub sw_if_index: u32,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub vni: u32,
    /// `~0` when not multicast.
    pub mcast_sw_if_index: u32,
    pub encap_vrf_id: u32,
}

/// A bridge domain's settings (add parameters and part of the dump record).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BridgeDomainSpec {
    pub bd_id: u32,
    pub flood: bool,
    pub uu_flood: bool,
    pub forward: bool,
    pub learn: bool,
    pub arp_term: bool,
    pub mac_age: u8,
    /// Where the agent keeps the BD's name.
    pub tag: String,
}

/// One bridge domain as `bridge_domain_dump` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BridgeDomainDetails {
    pub spec: BridgeDomainSpec,
    pub bvi_sw_if_index: Option<u32>,
    /// `(sw_if_index, split-horizon group)` of each member.
    pub members: Vec<(u32, u8)>,
}

/// An L2 FIB entry (add/del parameters and dump record).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct L2FibEntry {
    /// `~0` in a dump for an entry whose bridge domain was deleted.
    pub bd_id: u32,
    pub mac: Mac,
    pub sw_if_index: u32,
    pub static_mac: bool,
    pub filter_mac: bool,
    pub bvi_mac: bool,
}

/// An IP table (VRF).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpTable {
    pub table_id: u32,
    pub is_ipv6: bool,
    pub name: String,
}

/// What a route path does (`fib_path_type`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PathKind {
    #[default]
    Normal,
    Local,
    Drop,
    /// Any other `fib_path_type` code.
    Other(u32),
}

impl PathKind {
    pub fn code(self) -> u32 {
        match self {
            PathKind::Normal => 0,
            PathKind::Local => 1,
            PathKind::Drop => 2,
            PathKind::Other(c) => c,
        }
    }

    pub fn from_code(code: u32) -> Self {
        match code {
            0 => PathKind::Normal,
            1 => PathKind::Local,
            2 => PathKind::Drop,
            c => PathKind::Other(c),
        }
    }
}

/// One path of a route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutePath {
    pub kind: PathKind,
    /// `~0` for a recursive or lookup path.
    pub sw_if_index: u32,
    /// The table a recursive/lookup path resolves in.
    pub table_id: u32,
    /// `None` = no next hop (attached, or a lookup in `table_id`).
    pub next_hop: Option<IpAddr>,
    pub weight: u8,
    pub preference: u8,
}

/// A route: one prefix in one table with its paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub table_id: u32,
    pub prefix: IpNet,
    pub paths: Vec<RoutePath>,
}

/// An IP neighbour (ARP/ND entry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neighbor {
    pub sw_if_index: u32,
    pub ip: IpAddr,
    pub mac: Mac,
    pub is_static: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_parses_any_case_and_prints_lowercase() {
        let m: Mac = "62:89:C6:A3:6D:5C".parse().expect("mac");
        assert_eq!(m.to_string(), "62:89:c6:a3:6d:5c");
        assert!("62:89:c6".parse::<Mac>().is_err());
        assert!("62:89:c6:a3:6d:5c:00".parse::<Mac>().is_err());
        assert!("zz:89:c6:a3:6d:5c".parse::<Mac>().is_err());
        assert!(Mac::default().is_zero());
    }

    #[test]
    fn ipnet_keeps_host_bits_and_masks_on_request() {
        let n: IpNet = "10.0.0.5/24".parse().expect("net");
        assert_eq!(n.to_string(), "10.0.0.5/24");
        assert_eq!(n.masked().to_string(), "10.0.0.0/24");
        let v6: IpNet = "2001:DB8::1/32".parse().expect("net");
        assert_eq!(v6.masked().to_string(), "2001:db8::/32");
        assert_eq!(v6.host_len(), 128);
        assert!("10.0.0.1".parse::<IpNet>().is_err());
        assert!("10.0.0.1/33".parse::<IpNet>().is_err());
        let zero: IpNet = "1.2.3.4/0".parse().expect("net");
        assert_eq!(zero.network().to_string(), "0.0.0.0");
    }

    #[test]
    fn codes_round_trip() {
        for c in 0..5 {
            assert_eq!(PathKind::from_code(c).code(), c);
        }
        for c in 0..3 {
            assert_eq!(MemifMode::from_code(c).code(), c);
        }
    }
}
