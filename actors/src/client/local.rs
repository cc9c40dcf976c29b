//! The local client: in-process, through [`ClientTxn`] to the agent's orchestrator, where it
//! is a source of its own (`local` unless named otherwise). Its report is the scheduler's.

use std::future::Future;
use std::sync::Arc;

use actix::Addr;
use kvscheduler::TxnReport;
use messages::Registry;

use super::{Changes, Client, ClientError};
use crate::agent::Agent;
use crate::msg::{ClientTxn, SourceId};
use crate::orchestrator::Orchestrator;

/// See the module docs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LocalClient {
    orchestrator: Addr<Orchestrator>,
    registry: Arc<Registry>,
    source: SourceId,
}

impl LocalClient {
    /// A client of this agent, as source `local`, with the built-in models.
    pub fn new(agent: &Agent) -> Self {
        Self::with_orchestrator(agent.orchestrator.clone())
    }

    /// A client of an orchestrator, as source `local`, with the built-in models.
    pub fn with_orchestrator(orchestrator: Addr<Orchestrator>) -> Self {
        LocalClient {
            orchestrator,
            registry: Arc::new(Registry::builtin()),
            source: SourceId::new("local"),
        }
    }

    /// Uses another registry (extra models).
    pub fn registry_from(mut self, registry: Arc<Registry>) -> Self {
        self.registry = registry;
        self
    }

    /// Another source name, e.g. for two independent local clients.
    pub fn source(mut self, name: &str) -> Self {
        self.source = SourceId::new(name);
        self
    }
}

impl Client for LocalClient {
    /// The scheduler's report: sequence number, executed (or planned) operations, per-value
    /// errors in `failed`.
    type Report = TxnReport;

    fn registry(&self) -> &Registry {
        &self.registry
    }

    fn commit(
        &self,
        resync: bool,
        changes: Changes,
        dry_run: bool,
    ) -> impl Future<Output = Result<TxnReport, ClientError>> {
        let span = tracing::info_span!("local_client", resync, dry_run, values = changes.len());
        let send = self.orchestrator.send(ClientTxn {
            source: self.source.clone(),
            resync,
            changes,
            dry_run,
            span,
        });
        async move { Ok(send.await??) }
    }
}
