//! The VPP configuration layer of vpp-agent-rs: a version-independent [`VppApi`] trait with one
//! handler per VPP release ([`handler`]), [`connect`] to pick the handler that fits the VPP at
//! the other end of a binapi client, and the kvscheduler [`descriptors`] for VPP objects
//! (interfaces, bridge domains, L2 FIB, xconnects, VRF tables, routes, ARP entries), and
//! [`stats::StatsReader`] for interface counters from VPP's stats segment.
//!
//! Wiring, as the VPP actor does it:
//!
//! ```text
//! let client = binapi::Client::connect(config).await?;          // on the tokio runtime
//! let api = vpp::connect(client, runtime_handle.clone()).await?; // compatibility check + handler
//! let handle = vpp::ApiHandle::new(api);
//! vpp::descriptors::register_all(&mut scheduler, &handle)?;     // the scheduler's own OS thread
//! // VPP restarted: reconnect, then
//! handle.replace(vpp::connect(new_client, runtime_handle).await?);
//! scheduler.commit(kvscheduler::Txn::downstream_resync())?;      // everything configured again
//! ```
//!
//! Handlers block on the runtime, so descriptor calls must come from a thread outside it (they
//! refuse with [`ErrorKind::Runtime`] otherwise). This crate deliberately has no actix and no
//! reconnect loop: the VPP actor owns the connection, retries [`connect`] (its error names the
//! version VPP reports and each release's first mismatching message) and swaps the
//! [`ApiHandle`].

pub mod api;
pub mod descriptors;
pub mod error;
pub mod handler;
pub mod stats;

pub use api::{ApiHandle, VppApi};
pub use error::{ErrorKind, VppError};
pub use handler::{HANDLERS, connect, select};
