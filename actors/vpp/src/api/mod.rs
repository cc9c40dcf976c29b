//! [`VppApi`]: the one version-independent view of VPP that the descriptors call, and
//! [`ApiHandle`], the swappable reference to the handler in use (replaced after a reconnect).
//!
//! The trait is synchronous and object-safe: the scheduler runs on its own OS thread and calls
//! descriptors synchronously, so a handler over the async binapi client blocks on its runtime
//! (see [`crate::handler`]). The trait deliberately exposes no binapi type: adding a VPP
//! release never changes it.

mod types;

pub use types::*;

use std::sync::{Arc, RwLock};

use crate::error::Result;

/// Everything the descriptors need from VPP, independent of the release.
///
/// Indices are `sw_if_index` values; `~0` ([`NONE`]) means "none" where VPP says so.
pub trait VppApi: Send + Sync {
    /// The release this handler speaks (`23.06`), or a name for a test double.
    fn release(&self) -> &'static str;

    // --- vpe / vlib -----------------------------------------------------------------------
    fn show_version(&self) -> Result<VersionInfo>;
    /// Runs a CLI command and returns its text; a CLI failure is a retval error.
    fn cli_inband(&self, cmd: &str) -> Result<String>;

    // --- interfaces: create and delete per type ---------------------------------------------
    fn create_loopback(&self, mac: Option<Mac>) -> Result<u32>;
    fn delete_loopback(&self, sw_if_index: u32) -> Result<()>;
    /// `tap_create_v3` where the release has it, else `tap_create_v2`.
    fn create_tap(&self, tap: &TapSpec) -> Result<u32>;
    fn delete_tap(&self, sw_if_index: u32) -> Result<()>;
    /// Registers a memif socket file under `socket_id`.
    fn add_memif_socket(&self, socket_id: u32, filename: &str) -> Result<()>;
    fn delete_memif_socket(&self, socket_id: u32) -> Result<()>;
    fn create_memif(&self, memif: &MemifSpec) -> Result<u32>;
    fn delete_memif(&self, sw_if_index: u32) -> Result<()>;
    fn create_af_packet(&self, host_if_name: &str, mac: Option<Mac>) -> Result<u32>;
    fn delete_af_packet(&self, host_if_name: &str) -> Result<()>;
    fn add_vxlan(&self, vxlan: &Vxlan) -> Result<u32>;
    fn delete_vxlan(&self, vxlan: &Vxlan) -> Result<()>;
    /// A VLAN sub-interface of `parent` (`create_subif`).
    fn create_subif(&self, parent: u32, sub_id: u32, outer_vlan: u16) -> Result<u32>;
    fn delete_subif(&self, sw_if_index: u32) -> Result<()>;

    // --- interfaces: settings ---------------------------------------------------------------
    /// Sets the tag; an empty tag removes it.
    fn set_tag(&self, sw_if_index: u32, tag: &str) -> Result<()>;
    fn set_admin_up(&self, sw_if_index: u32, up: bool) -> Result<()>;
    fn set_mac(&self, sw_if_index: u32, mac: Mac) -> Result<()>;
    /// Sets the link MTU (`hw_interface_set_mtu`, as Ligato does; the L3 MTU follows).
    fn set_mtu(&self, sw_if_index: u32, mtu: u32) -> Result<()>;
    fn add_del_address(&self, sw_if_index: u32, addr: IpNet, is_add: bool) -> Result<()>;
    /// Binds the interface to table `vrf` for one address family.
    fn set_table(&self, sw_if_index: u32, is_ipv6: bool, vrf: u32) -> Result<()>;

    // --- interfaces: dumps ------------------------------------------------------------------
    fn dump_interfaces(&self) -> Result<Vec<InterfaceDetails>>;
    /// One interface (`sw_interface_dump` filtered by index), `None` when VPP has no such index.
    fn dump_interface(&self, sw_if_index: u32) -> Result<Option<InterfaceDetails>>;
    fn dump_addresses(&self, sw_if_index: u32, is_ipv6: bool) -> Result<Vec<IpNet>>;
    fn dump_taps(&self) -> Result<Vec<TapDetails>>;
    fn dump_memifs(&self) -> Result<Vec<MemifDetails>>;
    fn dump_af_packets(&self) -> Result<Vec<AfPacketDetails>>;
    fn dump_vxlans(&self) -> Result<Vec<Vxlan>>;

    // --- L2 ---------------------------------------------------------------------------------
    /// Creates the BD (`_v2` where the release has it); returns the bd_id VPP confirms.
    fn add_bridge_domain(&self, bd: &BridgeDomainSpec) -> Result<u32>;
    fn delete_bridge_domain(&self, bd_id: u32) -> Result<()>;
    fn dump_bridge_domains(&self) -> Result<Vec<BridgeDomainDetails>>;
    /// Puts the interface into (or with `enable = false` out of) a BD.
    fn set_l2_bridge(
        &self,
        sw_if_index: u32,
        bd_id: u32,
        bvi: bool,
        shg: u8,
        enable: bool,
    ) -> Result<()>;
    fn add_del_l2fib(&self, entry: &L2FibEntry, is_add: bool) -> Result<()>;
    fn dump_l2fib(&self) -> Result<Vec<L2FibEntry>>;
    fn set_xconnect(&self, rx_sw_if_index: u32, tx_sw_if_index: u32, enable: bool) -> Result<()>;
    /// `(rx, tx)` pairs.
    fn dump_xconnects(&self) -> Result<Vec<(u32, u32)>>;

    // --- L3 ---------------------------------------------------------------------------------
    fn add_del_ip_table(&self, table: &IpTable, is_add: bool) -> Result<()>;
    fn dump_ip_tables(&self) -> Result<Vec<IpTable>>;
    /// Adds or removes the route's paths (multipath semantics: other paths of the prefix stay).
    fn add_del_route(&self, route: &Route, is_add: bool) -> Result<()>;
    fn dump_routes(&self, table_id: u32, is_ipv6: bool) -> Result<Vec<Route>>;
    fn add_del_neighbor(&self, neighbor: &Neighbor, is_add: bool) -> Result<()>;
    fn dump_neighbors(&self, is_ipv6: bool) -> Result<Vec<Neighbor>>;
}

/// The handler in use, shared by all descriptors; the owner swaps it after a reconnect and
/// then runs a downstream resync.
#[derive(Clone)]
pub struct ApiHandle(Arc<RwLock<Arc<dyn VppApi>>>);

impl std::fmt::Debug for ApiHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ApiHandle")
            .field(&self.get().release())
            .finish()
    }
}

impl ApiHandle {
    pub fn new(api: Arc<dyn VppApi>) -> Self {
        ApiHandle(Arc::new(RwLock::new(api)))
    }

    /// The current handler.
    pub fn get(&self) -> Arc<dyn VppApi> {
        match self.0.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Swaps in a new handler (after a reconnect, possibly to another release).
    pub fn replace(&self, api: Arc<dyn VppApi>) {
        match self.0.write() {
            Ok(mut g) => *g = api,
            Err(poisoned) => *poisoned.into_inner() = api,
        }
    }
}
