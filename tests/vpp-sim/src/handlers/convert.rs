//! Conversions between the generated wire types and the dataplane model's types (MACs,
//! prefixes, FIB paths). Shared by every release, since these types did not change.
//!
//! It deliberately applies no VPP rule; handlers and the state model do.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use binapi::types::{
    AddressUnion, FibPath, FibPathNh, FibPathNhProto, FibPathType, MacAddress, Prefix as WirePrefix,
};

use crate::state::{Mac, Path, Prefix};

pub fn mac(m: MacAddress) -> Mac {
    Mac(m.0)
}

pub fn wire_mac(m: Mac) -> MacAddress {
    MacAddress(m.0)
}

/// `None` for the all-zero MAC (VPP then picks one).
pub fn opt_mac(m: MacAddress) -> Option<Mac> {
    (m.0 != [0; 6]).then_some(Mac(m.0))
}

pub fn prefix(p: &WirePrefix) -> Prefix {
    Prefix {
        addr: p.address.to_ip(),
        len: p.len,
    }
}

pub fn wire_prefix(p: Prefix) -> WirePrefix {
    WirePrefix::new(p.addr, p.len)
}

/// A path's next hop: the union read by the path's protocol; all-zero means none.
fn next_hop(proto: u32, un: &AddressUnion) -> Option<IpAddr> {
    let b = un.0;
    let ip = if proto == 1 {
        IpAddr::V6(Ipv6Addr::from(b))
    } else {
        IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    };
    (!ip.is_unspecified()).then_some(ip)
}

pub fn path(p: &FibPath) -> Path {
    Path {
        sw_if_index: p.sw_if_index,
        table_id: p.table_id,
        next_hop: next_hop(p.proto.0, &p.nh.address),
        weight: p.weight,
        preference: p.preference,
        path_type: p.type_.0,
        proto: p.proto.0,
    }
}

pub fn wire_path(p: &Path) -> FibPath {
    let mut un = [0u8; 16];
    match p.next_hop {
        Some(IpAddr::V4(a)) => un[..4].copy_from_slice(&a.octets()),
        Some(IpAddr::V6(a)) => un = a.octets(),
        None => {}
    }
    FibPath {
        sw_if_index: p.sw_if_index,
        table_id: p.table_id,
        weight: p.weight,
        preference: p.preference,
        type_: FibPathType(p.path_type),
        proto: FibPathNhProto(p.proto),
        nh: FibPathNh {
            address: AddressUnion(un),
            ..Default::default()
        },
        ..Default::default()
    }
}
