//! Conversions between the generated address types and `std::net` (`Address` <-> `IpAddr`, `Prefix`,
//! `MacAddress` <-> `[u8; 6]`), written by hand on top of the shared generated types.
//!
//! It deliberately does no validation beyond what the wire can express (a prefix length above 32 or 128 is
//! passed through, as VPP receives it).

use crate::types::{
    Address, AddressFamily, AddressUnion, Ip4Address, Ip6Address, MacAddress, Prefix,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

impl From<Ipv4Addr> for Address {
    fn from(ip: Ipv4Addr) -> Self {
        let mut un = [0u8; 16];
        un[..4].copy_from_slice(&ip.octets());
        Address {
            af: AddressFamily::ADDRESS_IP4,
            un: AddressUnion(un),
        }
    }
}

impl From<Ipv6Addr> for Address {
    fn from(ip: Ipv6Addr) -> Self {
        Address {
            af: AddressFamily::ADDRESS_IP6,
            un: AddressUnion(ip.octets()),
        }
    }
}

impl From<IpAddr> for Address {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => v4.into(),
            IpAddr::V6(v6) => v6.into(),
        }
    }
}

impl Address {
    /// The address as `std::net`; an unknown address family reads the union as IPv6.
    pub fn to_ip(&self) -> IpAddr {
        let b = self.un.0;
        if self.af == AddressFamily::ADDRESS_IP4 {
            IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
        } else {
            IpAddr::V6(Ipv6Addr::from(b))
        }
    }
}

impl Prefix {
    /// A prefix of `len` bits on `ip`.
    pub fn new(ip: IpAddr, len: u8) -> Self {
        Prefix {
            address: ip.into(),
            len,
        }
    }
}

impl From<Ipv4Addr> for Ip4Address {
    fn from(ip: Ipv4Addr) -> Self {
        Ip4Address(ip.octets())
    }
}

impl From<Ipv6Addr> for Ip6Address {
    fn from(ip: Ipv6Addr) -> Self {
        Ip6Address(ip.octets())
    }
}

impl From<[u8; 6]> for MacAddress {
    fn from(mac: [u8; 6]) -> Self {
        MacAddress(mac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_convert_both_ways() {
        let v4: IpAddr = "10.1.2.3".parse().expect("ip");
        let a = Address::from(v4);
        assert_eq!(a.af, AddressFamily::ADDRESS_IP4);
        assert_eq!(&a.un.0[..5], &[10, 1, 2, 3, 0]);
        assert_eq!(a.to_ip(), v4);
        let v6: IpAddr = "fd00::1".parse().expect("ip");
        assert_eq!(Address::from(v6).to_ip(), v6);
        assert_eq!(Prefix::new(v6, 64).len, 64);
    }
}
