//! The simulated dataplane: interfaces, bridge domains, the L2 FIB, cross-connects, IP tables,
//! routes and neighbours, with VPP's semantics and return codes (from VPP 23.06's sources:
//! `interface_api.c`, `l2_bd.c`, `l2_fib.c`, `ip_api.c`, `fib_api.c`, `ip_neighbor.c`).
//!
//! Plain data and synchronous methods, one call per API request, exactly like VPP's single
//! main thread. Nothing here knows about sockets or message encodings.

mod alloc;
mod interfaces;
mod ip;
mod l2;
mod memif;
#[cfg(test)]
mod tests;

pub use interfaces::{IfKind, Interface, L2Mode};
pub use ip::RouteSource;
pub use ip::{IpTable, Neighbor, Path, Prefix, Route};
pub use l2::{BdFlags, BridgeDomain, FibEntry};
pub use memif::DEFAULT_MEMIF_SOCKET;

use std::collections::BTreeMap;
use std::fmt;

/// A VPP API return value (`vnet/error.h`). 0 is success.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Retval(pub i32);

impl Retval {
    pub const OK: Retval = Retval(0);
    pub const UNSPECIFIED: Retval = Retval(-1);
    pub const INVALID_SW_IF_INDEX: Retval = Retval(-2);
    pub const NO_SUCH_FIB: Retval = Retval(-3);
    pub const NO_SUCH_ENTRY: Retval = Retval(-6);
    pub const INVALID_VALUE: Retval = Retval(-7);
    pub const INVALID_REGISTRATION: Retval = Retval(-31);
    pub const NO_PATHS_IN_ROUTE: Retval = Retval(-52);
    pub const NO_MATCHING_INTERFACE: Retval = Retval(-54);
    pub const ADDRESS_NOT_FOUND_FOR_INTERFACE: Retval = Retval(-60);
    pub const INVALID_VLAN: Retval = Retval(-55);
    pub const VLAN_ALREADY_EXISTS: Retval = Retval(-56);
    pub const SUBIF_ALREADY_EXISTS: Retval = Retval(-68);
    pub const INVALID_INTERFACE: Retval = Retval(-71);
    pub const INVALID_ARGUMENT: Retval = Retval(-73);
    pub const UNEXPECTED_INTF_STATE: Retval = Retval(-74);
    pub const VALUE_EXIST: Retval = Retval(-81);
    pub const SAME_SRC_DST: Retval = Retval(-82);
    pub const ADDRESS_IN_USE: Retval = Retval(-105);
    pub const ADDRESS_FOUND_FOR_INTERFACE: Retval = Retval(-114);
    pub const BD_ALREADY_EXISTS: Retval = Retval(-119);
    pub const BD_IN_USE: Retval = Retval(-120);
    pub const BD_NOT_MODIFIABLE: Retval = Retval(-121);
    pub const BD_ID_EXCEED_MAX: Retval = Retval(-122);
    pub const UNSUPPORTED: Retval = Retval(-126);
    pub const INSTANCE_IN_USE: Retval = Retval(-147);
    pub const BD_ALREADY_HAS_BVI: Retval = Retval(-152);
}

impl fmt::Display for Retval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Result of a state operation: the value VPP puts in the reply, or the failing retval.
pub type VppResult<T> = Result<T, Retval>;

/// `~0` as VPP uses it for "none" / "all".
pub const NONE: u32 = u32::MAX;

/// An Ethernet address.
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

impl std::str::FromStr for Mac {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for byte in &mut out {
            let p = parts.next().ok_or(())?;
            if p.len() != 2 {
                return Err(());
            }
            *byte = u8::from_str_radix(p, 16).map_err(|_| ())?;
        }
        if parts.next().is_some() {
            return Err(());
        }
        Ok(Mac(out))
    }
}

/// The whole simulated VPP.
#[derive(Debug, Clone)]
pub struct Vpp {
    /// The interface pool; `None` marks a free slot.
    pub(crate) ifaces: Vec<Option<Interface>>,
    /// Freed sw_if_indexes, reused last-in first-out as VPP's pool does.
    pub(crate) free_ifaces: Vec<u32>,
    /// bd_id -> bridge domain; bd 0 is VPP's reserved placeholder.
    pub(crate) bds: BTreeMap<u32, BridgeDomain>,
    /// bd_index -> bd_id for live BDs (indices are the lowest free bit, so they are reused).
    pub(crate) bd_index_used: Vec<bool>,
    /// L2 FIB keyed by (mac, bd_index), as VPP keys it; never cleaned on interface or BD delete.
    pub(crate) fib: BTreeMap<(Mac, u32), FibEntry>,
    /// rx sw_if_index -> tx sw_if_index.
    pub(crate) xconnects: BTreeMap<u32, u32>,
    pub(crate) tables: BTreeMap<(bool, u32), IpTable>,
    pub(crate) routes: BTreeMap<(bool, u32, Prefix), Route>,
    pub(crate) neighbors: BTreeMap<(u32, std::net::IpAddr), Neighbor>,
    /// Loopback instances (`loop<n>`), tap ids (`tap<n>`), vxlan instances.
    pub(crate) loop_ids: alloc::IdPool,
    pub(crate) tap_ids: alloc::IdPool,
    pub(crate) vxlan_ids: alloc::IdPool,
    /// Interface changes not yet reported as `sw_interface_event`s: (sw_if_index, flags,
    /// deleted), in order.
    pub(crate) if_changes: Vec<(u32, u32, bool)>,
    /// memif socket id -> socket file name; id 0 is the default socket.
    pub(crate) memif_sockets: BTreeMap<u32, String>,
    /// The VPP release this instance pretends to be (`show version`).
    pub version: String,
}

impl Default for Vpp {
    fn default() -> Self {
        Vpp::new("23.06")
    }
}

impl Vpp {
    /// A freshly started VPP: `local0`, bridge domain 0 and both default IP tables.
    pub fn new(version: &str) -> Self {
        let mut vpp = Vpp {
            ifaces: Vec::new(),
            free_ifaces: Vec::new(),
            bds: BTreeMap::new(),
            bd_index_used: vec![true],
            fib: BTreeMap::new(),
            xconnects: BTreeMap::new(),
            tables: BTreeMap::new(),
            routes: BTreeMap::new(),
            neighbors: BTreeMap::new(),
            loop_ids: alloc::IdPool::new(16384),
            tap_ids: alloc::IdPool::new(u32::MAX),
            vxlan_ids: alloc::IdPool::new(u32::MAX),
            if_changes: Vec::new(),
            memif_sockets: BTreeMap::from([(0, DEFAULT_MEMIF_SOCKET.to_owned())]),
            version: version.to_owned(),
        };
        vpp.ifaces.push(Some(Interface::local0()));
        vpp.bds.insert(0, BridgeDomain::placeholder());
        for ip6 in [false, true] {
            let name = if ip6 { "ipv6-VRF:0" } else { "ipv4-VRF:0" };
            vpp.tables.insert(
                (ip6, 0),
                IpTable {
                    name: name.to_owned(),
                    api_owned: false,
                    bound: 0,
                },
            );
        }
        vpp
    }

    /// Takes a sw_if_index from the pool (LIFO reuse, else grow).
    pub(crate) fn alloc_sw_if_index(&mut self) -> u32 {
        if let Some(i) = self.free_ifaces.pop() {
            return i;
        }
        self.ifaces.push(None);
        (self.ifaces.len() - 1) as u32
    }

    /// Drains the interface changes (created, admin state changed, deleted) since the last
    /// call: (sw_if_index, flags, deleted).
    pub fn take_interface_changes(&mut self) -> Vec<(u32, u32, bool)> {
        std::mem::take(&mut self.if_changes)
    }

    pub fn interface(&self, sw_if_index: u32) -> Option<&Interface> {
        self.ifaces
            .get(sw_if_index as usize)
            .and_then(Option::as_ref)
    }

    pub(crate) fn interface_mut(&mut self, sw_if_index: u32) -> VppResult<&mut Interface> {
        self.ifaces
            .get_mut(sw_if_index as usize)
            .and_then(Option::as_mut)
            .ok_or(Retval::INVALID_SW_IF_INDEX)
    }

    /// Live interfaces in ascending index order, as `sw_interface_dump` returns them.
    pub fn interfaces(&self) -> impl Iterator<Item = &Interface> {
        self.ifaces.iter().flatten()
    }

    pub fn interface_by_name(&self, name: &str) -> Option<&Interface> {
        self.interfaces().find(|i| i.name == name)
    }

    /// The name VPP prints for an index: the interface name, `Stale` for a dead index.
    pub fn name_or_stale(&self, sw_if_index: u32) -> String {
        if sw_if_index == NONE {
            return "N/A".to_owned();
        }
        self.interface(sw_if_index)
            .map(|i| i.name.clone())
            .unwrap_or_else(|| "Stale".to_owned())
    }
}
