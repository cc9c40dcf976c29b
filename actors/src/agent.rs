//! Wiring: starts the actors of one agent in the current actix system and returns their
//! addresses. Supervision tree:
//!
//! ```text
//! System
//! ├── Supervisor ── ConnectorActor (one per store; restarted with back-off)
//! ├── Watcher ── Orchestrator ── RetryTimer
//! └── SyncArbiter(1) ── SchedulerActor (descriptors run here)
//! ```
//!
//! Deliberately not here: reading config files (see [`crate::startup`]) and signal handling
//! (the binary).

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use connectors::{AnyBackend, BackendOptions};
use kvscheduler::RetryPolicy;
use messages::{MicroserviceLabel, Registry};

use crate::connector::{Backoff, ConnectorActor, ConnectorConfig, Opener};
use crate::msg::{ConnectorStateChanged, SourceId, SubscribeStatus};
use crate::orchestrator::Orchestrator;
use crate::scheduler::{RetryTimer, SchedulerActor, SchedulerFactory};
use crate::status_pub::StatusPublisher;
use crate::watcher::Watcher;

/// What to start.
pub struct AgentSpec {
    pub label: MicroserviceLabel,
    pub registry: Arc<Registry>,
    /// One connector per store, by source name.
    pub stores: Vec<(SourceId, BackendOptions)>,
    pub scheduler: SchedulerFactory,
    /// Put on every transaction from the stores (Ligato's defaults: 1 s, 3 attempts, doubling).
    pub retry: Option<RetryPolicy>,
    pub backoff: Backoff,
    /// Who hears about connector state changes (status, metrics, tests).
    pub observers: Vec<Recipient<ConnectorStateChanged>>,
    /// Publish value status to the first store, flushing at most once per this period
    /// (Ligato: when `ENABLE_STATUS_PUBLISHING` is set).
    pub status_publishing: Option<Duration>,
}

impl std::fmt::Debug for AgentSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentSpec")
            .field("label", &self.label)
            .field(
                "stores",
                &self.stores.iter().map(|(s, _)| s).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// The running actors.
pub struct Agent {
    pub scheduler: Addr<SchedulerActor>,
    pub orchestrator: Addr<Orchestrator>,
    pub watcher: Addr<Watcher>,
    pub connectors: Vec<(SourceId, Addr<ConnectorActor<AnyBackend>>)>,
    pub retry_timer: Addr<RetryTimer>,
    /// The scheduler's counters, updated after each transaction (metrics, readiness).
    pub stats: tokio::sync::watch::Receiver<crate::scheduler::SchedulerStats>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&SourceId> = self.connectors.iter().map(|(s, _)| s).collect();
        f.debug_struct("Agent")
            .field("connectors", &names)
            .finish_non_exhaustive()
    }
}

impl Agent {
    /// Starts every actor; must run inside an actix system.
    pub fn start(spec: AgentSpec) -> Agent {
        let (scheduler, stats) = SchedulerActor::start_with_stats(spec.scheduler);
        let retry_timer = RetryTimer::new(scheduler.clone(), Duration::from_millis(100)).start();
        let orchestrator = Orchestrator::new(
            scheduler.clone().recipient(),
            scheduler.clone().recipient(),
            spec.retry,
        )
        .start();
        let watcher = Watcher::new(
            spec.label.clone(),
            spec.registry.clone(),
            orchestrator.clone().recipient(),
            orchestrator.clone().recipient(),
        )
        .start();
        let prefix = spec.label.agent_prefix();
        let label = spec.label.clone();
        let registry = spec.registry.clone();
        let connectors: Vec<(SourceId, Addr<ConnectorActor<AnyBackend>>)> = spec
            .stores
            .into_iter()
            .map(|(source, options)| {
                let open: Opener<AnyBackend> = Arc::new(move || {
                    let options = options.clone();
                    Box::pin(async move { AnyBackend::open(options).await })
                });
                let cfg = ConnectorConfig {
                    source: source.clone(),
                    prefix: prefix.clone(),
                    open,
                    resync_to: watcher.clone().recipient(),
                    changes_to: watcher.clone().recipient(),
                    observers: spec.observers.clone(),
                    backoff: spec.backoff,
                };
                let addr = Supervisor::start(move |_| ConnectorActor::new(cfg));
                (source, addr)
            })
            .collect();
        if let (Some(period), Some((_, first))) = (spec.status_publishing, connectors.first()) {
            let publisher =
                StatusPublisher::new(label, registry, first.clone().recipient(), period).start();
            scheduler.do_send(SubscribeStatus(publisher.recipient()));
        }
        Agent {
            scheduler,
            orchestrator,
            watcher,
            connectors,
            retry_timer,
            stats,
        }
    }
}
