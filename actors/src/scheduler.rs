//! The scheduler actor: the kvscheduler core behind a mailbox, on its own thread
//! (`SyncArbiter` with one thread), because descriptor operations are synchronous and may
//! block on VPP or netlink.
//!
//! | accepts | replies |
//! |---|---|
//! | [`ApplyTxn`] | `Result<TxnReport, KvError>` |
//! | [`DryRunTxn`] | `Result<TxnReport, KvError>` (nothing executed) |
//! | [`RunDueRetries`] | reports of the retry transactions run, and the next due time |
//! | [`QueryStatus`] | value status under a key prefix |
//! | [`Shutdown`] | () after the transaction in hand; later transactions are refused |
//! | [`SubscribeStatus`] | (); afterwards [`StatusChanged`] goes to the subscriber after each transaction |
//! | [`QueryHistory`], [`QueryTimeline`], [`QueryGraph`], [`QueryValueStatus`], [`QueryDump`], [`QueryDescriptors`] | read-only views for REST |
//!
//! After each transaction it publishes [`SchedulerStats`] on a `tokio::sync::watch` channel,
//! so metrics and readiness are read without waiting behind a slow transaction.
//!
//! Transactions are serialised by the mailbox and numbered by the core. Deliberately not here:
//! any planning logic (all in `kvscheduler`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use actix::prelude::*;
use kvscheduler::{
    BaseValueStatus, KvError, Origin, RecordedKVPair, ResyncType, Scheduler, Txn, TxnKind,
    TxnReport, ValueState,
};
use tokio::sync::watch;
use tracing::info_span;

use crate::msg::{
    ApplyTxn, DryRunTxn, DumpView, Graph, History, QueryDescriptors, QueryDump, QueryGraph,
    QueryHistory, QueryStatus, QueryTimeline, QueryValueStatus, RunDueRetries, StatusChanged,
    SubscribeStatus,
};

/// Counters and gauges of the scheduler, published after each transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchedulerStats {
    /// Transactions run (NB, resyncs, retries; not dry-runs).
    pub transactions: u64,
    /// Executed operations by (operation, outcome `ok` or `error`).
    pub operations: BTreeMap<(&'static str, &'static str), u64>,
    /// Top-level values in state PENDING.
    pub pending_values: u64,
    /// Top-level values in state FAILED or RETRYING.
    pub failed_values: u64,
    /// True once a full resync transaction has been applied (readiness).
    pub resynced: bool,
}

/// Builds the core on the scheduler thread (descriptors registered).
pub type SchedulerFactory = Arc<dyn Fn() -> Scheduler + Send + Sync>;

/// See the module docs.
pub struct SchedulerActor {
    core: Scheduler,
    status_to: Option<Recipient<StatusChanged>>,
    stats: Arc<watch::Sender<SchedulerStats>>,
    /// Whether a full resync has run. Before it the desired state is empty, so a downstream
    /// resync (VPP reconnected, a Linux host event) would delete everything VPP holds, e.g.
    /// what the previous run of the agent configured; such a resync is skipped instead, as
    /// the first full resync reconciles the dataplane anyway.
    full_resynced: bool,
    /// Set by [`Shutdown`]: no transaction starts any more, so the process can exit without
    /// cutting one short.
    stopping: bool,
}

impl std::fmt::Debug for SchedulerActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchedulerActor").finish_non_exhaustive()
    }
}

impl SchedulerActor {
    /// Starts the actor on its own thread.
    pub fn start(factory: SchedulerFactory) -> Addr<SchedulerActor> {
        Self::start_with_stats(factory).0
    }

    /// Starts the actor; the receiver sees [`SchedulerStats`] after each transaction.
    pub fn start_with_stats(
        factory: SchedulerFactory,
    ) -> (Addr<SchedulerActor>, watch::Receiver<SchedulerStats>) {
        let (tx, rx) = watch::channel(SchedulerStats::default());
        let tx = Arc::new(tx);
        let addr = SyncArbiter::start(1, move || SchedulerActor {
            core: factory(),
            status_to: None,
            stats: tx.clone(),
            full_resynced: false,
            stopping: false,
        });
        (addr, rx)
    }
}

impl Actor for SchedulerActor {
    type Context = SyncContext<Self>;
}

impl Handler<ApplyTxn> for SchedulerActor {
    type Result = Result<TxnReport, KvError>;

    fn handle(&mut self, msg: ApplyTxn, _ctx: &mut SyncContext<Self>) -> Self::Result {
        let seq = self.core.next_seq_num();
        let span = info_span!(parent: &msg.span, "scheduler_txn", txn_seq = seq);
        let _enter = span.enter();
        if self.stopping {
            return Err(KvError::Dataplane {
                message: "the agent is stopping; the transaction was not run".to_owned(),
                retriable: true,
            });
        }
        if msg.txn.kind == TxnKind::DownstreamResync && !self.full_resynced {
            tracing::info!(
                description = %msg.txn.description,
                "Downstream resync skipped: the first full resync has not run yet and reconciles the dataplane itself."
            );
            // A dry run of an empty change: a report that nothing was executed.
            return self.core.dry_run(&Txn::nb().describe(msg.txn.description));
        }
        let full = msg.txn.kind == TxnKind::FullResync;
        let result = self.core.commit(msg.txn);
        if let Ok(report) = &result {
            self.full_resynced |= full;
            self.report_status(std::slice::from_ref(report));
            self.publish_stats(std::slice::from_ref(report));
        }
        result
    }
}

impl SchedulerActor {
    /// Status publishing is telemetry: best effort, never blocking a transaction.
    fn report_status(&self, reports: &[TxnReport]) {
        let Some(to) = &self.status_to else { return };
        let statuses: Vec<_> = reports
            .iter()
            .flat_map(|r| self.core.statuses_touched_by(r))
            .collect();
        if !statuses.is_empty() {
            to.do_send(StatusChanged { statuses });
        }
    }
}

impl SchedulerActor {
    /// Counts the reports' operations and recounts the value gauges (telemetry: a closed
    /// channel is ignored).
    fn publish_stats(&self, reports: &[TxnReport]) {
        if reports.is_empty() {
            return;
        }
        let (mut pending, mut failed) = (0, 0);
        for state in self.core.top_level_states() {
            match state {
                ValueState::Pending => pending += 1,
                ValueState::Failed | ValueState::Retrying => failed += 1,
                _ => {}
            }
        }
        self.stats.send_modify(|st| {
            for r in reports {
                st.transactions += 1;
                st.resynced |= r.record.resync_type == ResyncType::FullResync;
                for op in &r.record.executed {
                    let outcome = if op.new_err.is_none() { "ok" } else { "error" };
                    *st.operations
                        .entry((op.operation.as_str_name(), outcome))
                        .or_default() += 1;
                }
            }
            st.pending_values = pending;
            st.failed_values = failed;
        });
    }
}

impl Handler<QueryHistory> for SchedulerActor {
    type Result = Result<History, KvError>;

    fn handle(&mut self, q: QueryHistory, _ctx: &mut SyncContext<Self>) -> Self::Result {
        Ok(match (q.seq_num, q.text) {
            (Some(seq), false) => History::One(self.core.txn(seq)?),
            (Some(seq), true) => {
                let t = self.core.txn(seq)?;
                History::Text(self.core.history_text(Some(t.start), Some(t.start)))
            }
            (None, false) => History::Many(self.core.history(q.since, q.until)),
            (None, true) => History::Text(self.core.history_text(q.since, q.until)),
        })
    }
}

impl Handler<QueryTimeline> for SchedulerActor {
    type Result = MessageResult<QueryTimeline>;

    fn handle(&mut self, q: QueryTimeline, _ctx: &mut SyncContext<Self>) -> Self::Result {
        MessageResult(self.core.timeline(&q.key))
    }
}

impl Handler<QueryGraph> for SchedulerActor {
    type Result = MessageResult<QueryGraph>;

    fn handle(&mut self, q: QueryGraph, _ctx: &mut SyncContext<Self>) -> Self::Result {
        MessageResult(if q.dot {
            Graph::Dot(self.core.graph_dot())
        } else {
            Graph::Nodes(self.core.graph_snapshot())
        })
    }
}

impl Handler<QueryValueStatus> for SchedulerActor {
    type Result = MessageResult<QueryValueStatus>;

    fn handle(&mut self, q: QueryValueStatus, _ctx: &mut SyncContext<Self>) -> Self::Result {
        MessageResult(self.core.status(&q.key))
    }
}

impl Handler<QueryDump> for SchedulerActor {
    type Result = Result<Vec<RecordedKVPair>, KvError>;

    fn handle(&mut self, q: QueryDump, _ctx: &mut SyncContext<Self>) -> Self::Result {
        let statuses = self.core.status_by_prefix(&q.key_prefix)?;
        Ok(statuses
            .into_iter()
            .filter_map(|s| {
                let key = s.value.key;
                let (value, origin) = match q.view {
                    DumpView::Nb => (self.core.desired(&key)?, Origin::FromNb),
                    DumpView::Sb | DumpView::Cached => (self.core.applied(&key)?, Origin::FromNb),
                };
                Some(RecordedKVPair::new(key, Some(value.clone()), origin))
            })
            .collect())
    }
}

impl Handler<QueryDescriptors> for SchedulerActor {
    type Result = MessageResult<QueryDescriptors>;

    fn handle(&mut self, _: QueryDescriptors, _ctx: &mut SyncContext<Self>) -> Self::Result {
        MessageResult(
            self.core
                .descriptor_prefixes()
                .into_iter()
                .map(|(n, p)| (n.to_owned(), p.map(str::to_owned)))
                .collect(),
        )
    }
}

impl Handler<SubscribeStatus> for SchedulerActor {
    type Result = ();

    fn handle(&mut self, msg: SubscribeStatus, _ctx: &mut SyncContext<Self>) {
        self.status_to = Some(msg.0);
    }
}

impl Handler<DryRunTxn> for SchedulerActor {
    type Result = Result<TxnReport, KvError>;

    fn handle(&mut self, msg: DryRunTxn, _ctx: &mut SyncContext<Self>) -> Self::Result {
        self.core.dry_run(&msg.txn)
    }
}

impl Handler<RunDueRetries> for SchedulerActor {
    type Result = MessageResult<RunDueRetries>;

    fn handle(&mut self, _: RunDueRetries, _ctx: &mut SyncContext<Self>) -> Self::Result {
        if self.stopping {
            return MessageResult((Vec::new(), None));
        }
        // Retries due now get a trace of their own (root span), numbered by the first retry
        // transaction; the idle ticks in between make no span.
        let due = self
            .core
            .next_retry_due()
            .is_some_and(|d| d <= SystemTime::now());
        let span = if due {
            info_span!("scheduler_retry", txn_seq = self.core.next_seq_num())
        } else {
            tracing::Span::none()
        };
        let _enter = span.enter();
        let reports = self.core.run_due_retries();
        self.report_status(&reports);
        self.publish_stats(&reports);
        MessageResult((reports, self.core.next_retry_due()))
    }
}

impl Handler<QueryStatus> for SchedulerActor {
    type Result = Result<Vec<BaseValueStatus>, KvError>;

    fn handle(&mut self, msg: QueryStatus, _ctx: &mut SyncContext<Self>) -> Self::Result {
        self.core.status_by_prefix(&msg.key_prefix)
    }
}

/// Asks the scheduler to run due retries, on a fixed tick (cheap when none are due).
#[derive(Debug)]
pub struct RetryTimer {
    scheduler: Addr<SchedulerActor>,
    tick: Duration,
}

impl RetryTimer {
    pub fn new(scheduler: Addr<SchedulerActor>, tick: Duration) -> Self {
        RetryTimer { scheduler, tick }
    }
}

impl Actor for RetryTimer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(self.tick, |act, ctx| {
            let send = act.scheduler.send(RunDueRetries);
            // Wait for the answer before the next tick, so ticks never pile up.
            ctx.wait(send.into_actor(act).map(|res, _, _| {
                if let Err(e) = res {
                    tracing::error!(error = %e, "Scheduler mailbox closed; retries stopped.");
                }
            }));
        });
    }
}

/// When the next retry is due, relative to now (for tests and status).
pub fn due_in(due: Option<SystemTime>) -> Option<Duration> {
    due.map(|d| d.duration_since(SystemTime::now()).unwrap_or_default())
}

/// Stop running transactions. The reply comes after the transaction in hand (the mailbox is
/// sequential); every later transaction is refused, so nothing starts while the process exits.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct Shutdown;

impl Handler<Shutdown> for SchedulerActor {
    type Result = ();

    fn handle(&mut self, _: Shutdown, _ctx: &mut SyncContext<Self>) {
        self.stopping = true;
    }
}
