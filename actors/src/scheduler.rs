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
//! | [`SubscribeStatus`] | (); afterwards [`StatusChanged`] goes to the subscriber after each transaction |
//!
//! Transactions are serialised by the mailbox and numbered by the core. Deliberately not here:
//! any planning logic (all in `kvscheduler`).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use actix::prelude::*;
use kvscheduler::{BaseValueStatus, KvError, Scheduler, TxnReport};
use tracing::info_span;

use crate::msg::{ApplyTxn, DryRunTxn, QueryStatus, RunDueRetries, StatusChanged, SubscribeStatus};

/// Builds the core on the scheduler thread (descriptors registered).
pub type SchedulerFactory = Arc<dyn Fn() -> Scheduler + Send + Sync>;

/// See the module docs.
pub struct SchedulerActor {
    core: Scheduler,
    status_to: Option<Recipient<StatusChanged>>,
}

impl std::fmt::Debug for SchedulerActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchedulerActor").finish_non_exhaustive()
    }
}

impl SchedulerActor {
    /// Starts the actor on its own thread.
    pub fn start(factory: SchedulerFactory) -> Addr<SchedulerActor> {
        SyncArbiter::start(1, move || SchedulerActor {
            core: factory(),
            status_to: None,
        })
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
        let result = self.core.commit(msg.txn);
        if let Ok(report) = &result {
            self.report_status(std::slice::from_ref(report));
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
        let reports = self.core.run_due_retries();
        self.report_status(&reports);
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
