//! The actor system of vpp-agent-rs: the only crate with actix handlers, and the binaries.
//!
//! Message flow (see ARCHITECTURE.md): [`connector::ConnectorActor`] (one per store, supervised)
//! → [`watcher::Watcher`] (label filter, decoding) → [`orchestrator::Orchestrator`] (merges
//! sources) → [`scheduler::SchedulerActor`] (the kvscheduler core on its own thread, driving
//! the descriptors). [`agent`] wires them; [`startup`] is the binary's command line.

pub mod agent;
pub mod agentctl;
pub mod client;
pub mod connector;
pub mod extension;
pub mod grpc;
pub mod linux_watch;
pub mod msg;
pub mod orchestrator;
pub mod rest;
pub mod runtime;
pub mod scheduler;
pub mod startup;
pub mod stats_pub;
pub mod status_pub;
pub mod stores;
pub mod trace;
pub mod vpp_conn;
pub mod watcher;
