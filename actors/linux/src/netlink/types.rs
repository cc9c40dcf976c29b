//! Plain data that crosses the netlink layer's API: [`IpNet`] (an address with its prefix
//! length), what dumps return ([`Link`], [`Address`], [`Route`], [`Neighbour`]) and what
//! changes ask for ([`LinkChange`], [`RouteSpec`], [`NeighbourSpec`]).
//!
//! No netlink types leak out of the layer: these are what descriptors and tests see. Nothing
//! here does IO.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IP address with a prefix length: `10.0.0.1/24` (an interface address) or
/// `10.0.0.0/24` (a network).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpNet {
    pub fn new(addr: IpAddr, prefix: u8) -> Option<IpNet> {
        (prefix <= max_prefix(addr)).then_some(IpNet { addr, prefix })
    }

    /// The network address (host bits cleared).
    pub fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V6((u128::from(a) & mask).into())
            }
        }
    }

    /// Is `ip` inside this network?
    pub fn contains(&self, ip: IpAddr) -> bool {
        if ip.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        IpNet {
            addr: ip,
            prefix: self.prefix,
        }
        .network()
            == self.network()
    }

    /// The same network with host bits cleared (`10.0.0.1/24` -> `10.0.0.0/24`).
    pub fn trunc(&self) -> IpNet {
        IpNet {
            addr: self.network(),
            prefix: self.prefix,
        }
    }

    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Why a string is not an [`IpNet`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpNetParseError(pub &'static str);

impl fmt::Display for IpNetParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl FromStr for IpNet {
    type Err = IpNetParseError;

    /// `addr/len`; a bare address is a host route (`/32` or `/128`).
    fn from_str(s: &str) -> Result<IpNet, IpNetParseError> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| IpNetParseError("not an IP address"))?;
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .map_err(|_| IpNetParseError("the prefix length is not a number"))?,
            None => max_prefix(addr),
        };
        IpNet::new(addr, prefix).ok_or(IpNetParseError("the prefix length is too long"))
    }
}

/// The kind of a link, as far as the plugin cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkKind {
    Veth,
    Tun,
    Loopback,
    /// Any other `IFLA_INFO_KIND` (`bridge`, `dummy`, ...), or none.
    Other(String),
}

/// One link as a dump reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub kind: LinkKind,
    pub mac: Option<[u8; 6]>,
    pub mtu: u32,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    pub alias: Option<String>,
}

/// One interface address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub index: u32,
    pub net: IpNet,
}

/// Route scope, in the kernel's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Scope {
    #[default]
    Universe,
    Site,
    Link,
    Host,
    Other(u8),
}

/// One route of the main table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub dst: IpNet,
    pub gateway: Option<IpAddr>,
    pub oif: Option<u32>,
    pub metric: u32,
    pub scope: Scope,
    /// Who added it (`RTPROT_*`): [`PROTO_STATIC`] for routes added through this layer.
    pub protocol: u8,
}

/// `RTPROT_STATIC`: the protocol of every route this layer adds (`ip route add` gives
/// `RTPROT_BOOT`, the kernel's connected routes `RTPROT_KERNEL`).
pub const PROTO_STATIC: u8 = 4;

/// A route to add or delete in the main table, through an interface named in the namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    pub dst: IpNet,
    pub gateway: Option<IpAddr>,
    pub interface: String,
    pub metric: u32,
    pub scope: Scope,
}

impl RouteSpec {
    /// The metric the kernel stores: IPv6 turns 0 into 1024 (`IP6_RT_PRIO_USER`).
    pub fn kernel_metric(&self) -> u32 {
        kernel_metric(&self.dst, self.metric)
    }
}

/// The metric the kernel stores for a route to `dst` asked with `metric`.
pub fn kernel_metric(dst: &IpNet, metric: u32) -> u32 {
    if metric == 0 && !dst.is_ipv4() {
        1024
    } else {
        metric
    }
}

/// One neighbour (ARP or NDP) entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neighbour {
    pub index: u32,
    pub ip: IpAddr,
    pub mac: Option<[u8; 6]>,
    pub permanent: bool,
}

/// A permanent neighbour entry to add or delete on an interface named in the namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeighbourSpec {
    pub interface: String,
    pub ip: IpAddr,
    pub mac: [u8; 6],
}

/// Changes to one link; `None` leaves the attribute alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkChange {
    pub name: Option<String>,
    pub mac: Option<[u8; 6]>,
    pub mtu: Option<u32>,
    pub up: Option<bool>,
    pub alias: Option<String>,
}

/// Parses `aa:bb:cc:dd:ee:ff` (either case, `-` also accepted).
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = s.split([':', '-']);
    for b in &mut out {
        let p = parts.next()?;
        if p.len() != 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// Formats a MAC the way Ligato prints it: lower-case, colon separated.
pub fn format_mac(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipnet_parsing_and_containment() {
        let a: IpNet = "10.0.0.1/24".parse().unwrap();
        assert_eq!(a.network().to_string(), "10.0.0.0");
        assert!(a.contains("10.0.0.254".parse().unwrap()));
        assert!(!a.contains("10.0.1.1".parse().unwrap()));
        assert!(!a.contains("::1".parse().unwrap()));
        assert_eq!(a.trunc().to_string(), "10.0.0.0/24");
        let h: IpNet = "10.0.0.9".parse().unwrap();
        assert_eq!(h.prefix, 32);
        let v6: IpNet = "fd00::1/64".parse().unwrap();
        assert_eq!(v6.network().to_string(), "fd00::");
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("192.168.1.1".parse().unwrap()));
        assert!("10.0.0.1/33".parse::<IpNet>().is_err());
        assert!("10.0.0/24".parse::<IpNet>().is_err());
    }

    #[test]
    fn mac_round_trip() {
        let m = parse_mac("02:AB:cd:00:00:01").unwrap();
        assert_eq!(format_mac(&m), "02:ab:cd:00:00:01");
        assert!(parse_mac("02:ab:cd:00:00").is_none());
        assert!(parse_mac("02:ab:cd:00:00:01:02").is_none());
    }
}
