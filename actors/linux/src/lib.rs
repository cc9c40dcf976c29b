//! The Linux plugin (Ligato's `linux` module): a namespace-aware netlink layer and the
//! scheduler descriptors for Linux interfaces (VETH, TAP_TO_VPP, EXISTING), their addresses,
//! routes and ARP entries.
//!
//! - [`netlink::Netlink`]: typed netlink operations, each run by a worker thread that entered
//!   the target namespace before opening its socket.
//! - [`ns::NsRef`]: Ligato's namespace references (NSID, PID, FD, MICROSERVICE).
//! - [`descriptor`]: `linux-namespace`, `linux-interface-watcher`, `linux-interface`,
//!   `linux-interface-address`, `linux-route`, `linux-arp`.
//! - [`LinuxPlugin`]: builds and registers the descriptors; [`watcher::Watcher`] reports
//!   namespaces and host interfaces that appear later.
//!
//! No actix and no shelling out. The crate never creates or deletes namespaces: a missing
//! namespace is a missing dependency.
//!
//! Where it differs from Ligato, and why:
//! - A missing NSID namespace is not created (Ligato creates it): the value waits as PENDING
//!   on `linux/namespace/NSID/<name>` until the namespace exists.
//! - MICROSERVICE references resolve as named namespaces (no Docker lookup).
//! - Namespaces and host interfaces that appear are reported by [`watcher::Watcher`]; the
//!   scheduler's owner answers with a downstream resync (the scheduler has no SB
//!   notifications yet).
//! - VETH ends depend on each other as in Ligato; the scheduler creates such a cycle once
//!   all of it is desired.
//! - Linux host events answer with a downstream resync scoped to the Linux descriptors
//!   ([`descriptor::ALL`]), so VPP is not re-read.
//! - Not supported (INVALID or ignored): VRF_DEVICE, LOOPBACK and DUMMY interfaces, VRF
//!   masters, veth checksum offloading, link-local route keys.
//!
//! How the agent wires it (the scheduler's owner runs this; descriptor calls block on netlink,
//! so the scheduler must not run on an async executor thread):
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use kvscheduler::{Scheduler, SchedulerConfig, SystemClock, Txn};
//!
//! let plugin = linux::LinuxPlugin::new(linux::Netlink::default(), "vpp1");
//! let mut scheduler = Scheduler::new(SchedulerConfig::default(), Arc::new(SystemClock));
//! plugin.register(&mut scheduler, &config::LinuxIfPluginConfig::default())?;
//! let (_watcher, mut events) = plugin.watch(Duration::from_millis(500))?;
//! // ... commit NB transactions; then, whenever the watcher reports a change:
//! while let Some(_event) = events.blocking_recv() {
//!     scheduler.commit(Txn::downstream_resync().only_descriptors(linux::descriptor::ALL))?;
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod descriptor;
pub mod error;
pub mod index;
pub mod netlink;
pub mod ns;
mod plugin;
pub mod watcher;

pub use descriptor::interface::VppTapNames;
pub use error::{ErrorKind, LinuxError};
pub use index::{IfIndex, IfKind, LinuxIfMeta};
pub use netlink::types::{
    Address, IpNet, Link, LinkChange, LinkKind, Neighbour, NeighbourSpec, Route, RouteSpec, Scope,
};
pub use netlink::{Netlink, NetlinkConfig};
pub use ns::{NsRef, WatchedNamespaces};
pub use plugin::LinuxPlugin;
pub use watcher::{WatchEvent, Watched, Watcher};
