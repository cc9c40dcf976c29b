//! vpp-sim: a VPP simulator that speaks VPP's real binary API on a unix socket and enforces
//! VPP's own rules (index reuse, bridge-domain and L2 FIB quirks, tables before routes).
//!
//! It is test infrastructure and must stay faithful: anything VPP refuses, the simulator
//! refuses with the same retval; anything VPP silently accepts (stale FIB entries), the
//! simulator accepts too. [`state`] holds the dataplane model as plain data; [`cli`] renders
//! `show` commands in VPP's layout; [`handlers`] map each API message onto the model, per
//! release; [`server`] serves them on the socket ([`SimHandle`] for tests). It does not
//! forward packets.

pub mod api_json;
pub mod cli;
pub mod ctl;
pub mod handlers;
pub mod kernel_tap;
pub mod server;
pub mod state;
pub mod stats;

pub use server::{FailSpec, Handled, Options, SimError, SimHandle};
