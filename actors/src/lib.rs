//! The actor system of vpp-agent-rs: the only crate with actix handlers (connectors, watcher,
//! orchestrator, scheduler, VPP and Linux handlers, REST and gRPC) and the `vpp-agent` binary.
//!
//! Today it holds the start-up code shared by the binaries ([`startup`]); the actors arrive
//! with the running-agent issue.

pub mod startup;
