//! The VPP configuration layer of vpp-agent-rs: a version-independent [`VppApi`] trait with one
//! handler per VPP release ([`handler`]), [`connect`] to pick the handler that fits the VPP at
//! the other end of a binapi client, and the kvscheduler [`descriptors`] for VPP objects
//! (interfaces, bridge domains, L2 FIB, xconnects, VRF tables, routes, ARP entries).
//!
//! Register the descriptors with [`descriptors::register_all`] on a `kvscheduler::Scheduler`
//! that runs on its own OS thread. This crate deliberately has no actix and no reconnect loop:
//! the VPP actor owns the connection, calls [`connect`] and swaps the [`ApiHandle`].

pub mod api;
pub mod descriptors;
pub mod error;
pub mod handler;

pub use api::{ApiHandle, VppApi};
pub use error::{ErrorKind, VppError};
pub use handler::{HANDLERS, connect, select};
