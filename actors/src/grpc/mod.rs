//! Ligato's gRPC `ligato.configurator.ConfiguratorService` (tonic), a northbound source of
//! the orchestrator named `grpc`, and its client for agentctl.
//!
//! | rpc | does |
//! |---|---|
//! | Get | the NB config: the scheduler's desired values (every source), as a `Config` |
//! | Update | [`ClientTxn`] puts on the `grpc` source (`full_resync`: replaces its whole share) |
//! | Delete | [`ClientTxn`] deletes of the keys of the given values |
//! | Dump | the values the scheduler believes applied (its SB view), as a `Config` |
//! | Notify | interface notifications (VPP's interface state, Linux interfaces) from index `idx` on, filtered (see [`notify`]) |
//!
//! Update and Delete answer with the transaction's outcome in extension fields (numbers from
//! 100; Ligato's responses are empty): `txn_seq`, a result per requested value, the operations.
//! A failed transaction is the status `ABORTED` naming the failed keys, with the encoded
//! response as the status details. Bad input is `INVALID_ARGUMENT` naming the field, and
//! changes nothing; so is a request carrying fields this agent does not know (a model we do
//! not implement, from a client built with Ligato's full `.proto` files; see [`codec`]).
//! Request metadata `x-dry-run: true` plans without applying (`dry_run` set, `ops` the planned
//! operations, `txn_seq` 0).
//!
//! The service's code is generated in this crate's build.rs from the `messages` crate's
//! `configurator.proto`, with the messages as `messages`' prost types; [`proto`] puts both
//! under one path for clients.
//!
//! `wait_done`: the reply waits until no requested value is PENDING (re-checked after every
//! transaction), or until the client's deadline (`grpc-timeout`), as in Ligato.
//!
//! Deliberately not here: netalloc's `Config` field.

pub mod client;
pub mod codec;
pub mod convert;
pub mod notify;
pub mod service;

use std::sync::Arc;

use actix::prelude::*;
use messages::Registry;

use crate::msg::{ClientTxn, QueryDump, QueryValueStatus};
use crate::scheduler::SchedulerStats;

/// The generated service and client with the configurator messages, under one path:
/// `actors::grpc::proto::configurator_service_client::ConfiguratorServiceClient`,
/// `actors::grpc::proto::{Config, UpdateRequest, ...}`.
#[allow(missing_debug_implementations, clippy::all)]
pub mod proto {
    pub use messages::proto::ligato::configurator::*;
    pub use messages::proto::ligato::linux::ConfigData as LinuxConfigData;
    pub use messages::proto::ligato::vpp::ConfigData as VppConfigData;

    include!(concat!(env!("OUT_DIR"), "/ligato.configurator.rs"));
}

/// The source name of values set over gRPC (and `PUT /configuration`, as in Ligato).
pub const SOURCE: &str = "grpc";

/// The request metadata key asking for a dry run.
pub const DRY_RUN_HEADER: &str = "x-dry-run";

/// What the service needs; cheap to clone.
#[derive(Clone)]
pub struct GrpcState {
    pub orchestrator: Recipient<ClientTxn>,
    pub scheduler: Recipient<QueryDump>,
    /// Value status, for `wait_done`.
    pub status: Recipient<QueryValueStatus>,
    /// Changes after each transaction: `wait_done` and the notification feed wake on it.
    pub stats: tokio::sync::watch::Receiver<SchedulerStats>,
    pub registry: Arc<Registry>,
    pub notifications: Arc<notify::Notifications>,
    /// VPP, for interface notifications from VPP's own state (absent: from the scheduler).
    pub vpp: Option<vpp::ApiHandle>,
}

impl std::fmt::Debug for GrpcState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcState").finish_non_exhaustive()
    }
}

/// Where the server listens, as bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    Tcp(std::net::SocketAddr),
    Unix(std::path::PathBuf),
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bound::Tcp(a) => write!(f, "{a}"),
            Bound::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

type ServeFuture = std::pin::Pin<Box<dyn Future<Output = Result<(), tonic::transport::Error>>>>;

/// Binds the listener (TCP `host:port`, port 0 picks one; or a unix socket) and returns the
/// server future with the bound address; the caller spawns the future in the actix system.
pub async fn bind(
    cfg: &config::GrpcConfig,
    state: GrpcState,
) -> anyhow::Result<(ServeFuture, Bound)> {
    use config::GrpcNetwork;
    use tonic::transport::Server;

    let mut svc = proto::configurator_service_server::ConfiguratorServiceServer::new(
        service::Configurator::new(state),
    );
    if cfg.max_msg_size > 0 {
        let n = usize::try_from(cfg.max_msg_size).unwrap_or(usize::MAX);
        svc = svc
            .max_decoding_message_size(n)
            .max_encoding_message_size(n);
    }
    let mut builder = Server::builder();
    if cfg.max_concurrent_streams > 0 {
        builder = builder.max_concurrent_streams(Some(cfg.max_concurrent_streams));
    }
    if !cfg.insecure_transport && !cfg.cert_file.is_empty() {
        builder = builder.tls_config(tls_config(cfg)?)?;
    }
    let router = builder.add_service(svc);
    match cfg.network {
        GrpcNetwork::Unix | GrpcNetwork::Unixpacket => {
            let path = std::path::PathBuf::from(&cfg.endpoint);
            if cfg.force_socket_removal && path.exists() {
                std::fs::remove_file(&path)
                    .map_err(|e| anyhow::anyhow!("remove socket {}: {e}", path.display()))?;
            }
            let listener = tokio::net::UnixListener::bind(&path)
                .map_err(|e| anyhow::anyhow!("bind unix socket {}: {e}", path.display()))?;
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = cfg.permission.mode();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                    .map_err(|e| anyhow::anyhow!("chmod {}: {e}", path.display()))?;
            }
            let incoming = futures::stream::unfold(listener, |l| async move {
                let next = l.accept().await.map(|(s, _)| s);
                Some((next, l))
            });
            Ok((
                Box::pin(router.serve_with_incoming(incoming)),
                Bound::Unix(path),
            ))
        }
        GrpcNetwork::Tcp | GrpcNetwork::Tcp4 | GrpcNetwork::Tcp6 => {
            let listener = tokio::net::TcpListener::bind(&cfg.endpoint)
                .await
                .map_err(|e| anyhow::anyhow!("bind {}: {e}", cfg.endpoint))?;
            let addr = listener.local_addr()?;
            // No Nagle: a small response would otherwise wait for the client's delayed ACK
            // (about 40 ms per call).
            let incoming =
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
            Ok((
                Box::pin(router.serve_with_incoming(incoming)),
                Bound::Tcp(addr),
            ))
        }
    }
}

fn tls_config(cfg: &config::GrpcConfig) -> anyhow::Result<tonic::transport::ServerTlsConfig> {
    use tonic::transport::{Certificate, Identity, ServerTlsConfig};
    let read =
        |path: &str| std::fs::read(path).map_err(|e| anyhow::anyhow!("read tls file {path}: {e}"));
    let identity = Identity::from_pem(read(&cfg.cert_file)?, read(&cfg.key_file)?);
    let mut tls = ServerTlsConfig::new().identity(identity);
    if !cfg.ca_files.is_empty() {
        let mut pem = Vec::new();
        for f in &cfg.ca_files {
            pem.extend(read(f)?);
            pem.push(b'\n');
        }
        tls = tls.client_ca_root(Certificate::from_pem(pem));
    }
    Ok(tls)
}

/// [`start`] with the actors of `agent`.
pub fn start_for(
    cfg: &config::GrpcConfig,
    agent: &crate::agent::Agent,
    registry: Arc<Registry>,
    vpp: Option<vpp::ApiHandle>,
) {
    let state = GrpcState {
        orchestrator: agent.orchestrator.clone().recipient(),
        scheduler: agent.scheduler.clone().recipient(),
        status: agent.scheduler.clone().recipient(),
        stats: agent.stats.clone(),
        registry,
        notifications: Arc::new(notify::Notifications::default()),
        vpp,
    };
    start(cfg.clone(), state);
}

/// Starts the server and the interface-notification feed in the current actix system. A
/// server that cannot start is logged as an error and the agent runs on without it, as the
/// REST server.
pub fn start(cfg: config::GrpcConfig, state: GrpcState) {
    notify::spawn_interface_feed(
        state.scheduler.clone(),
        state.stats.clone(),
        state.notifications.clone(),
        state.vpp.clone(),
    );
    actix_rt::spawn(async move {
        match bind(&cfg, state).await {
            Ok((server, addr)) => {
                tracing::info!(%addr, "gRPC server listening.");
                if let Err(e) = server.await {
                    tracing::error!(error = %e, "gRPC server stopped.");
                }
            }
            Err(e) => {
                tracing::error!(endpoint = %cfg.endpoint, error = %e, "gRPC server not started.");
            }
        }
    });
}
