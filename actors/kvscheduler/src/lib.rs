//! The scheduler's pure planning core (Ligato's KVScheduler): values with dependencies and
//! derived values, applied to a dataplane in dependency order through [`Descriptor`]s, with
//! PENDING values, cascading deletes, update-or-recreate, retries with backoff, revert,
//! resyncs, dry-run, a transaction history, value status and graph export.
//!
//! Entry point: [`Scheduler`]. Register one [`Descriptor`] per object kind, then
//! [`Scheduler::commit`] [`Txn`]s (NB change, full/upstream/downstream resync), call
//! [`Scheduler::run_due_retries`] when [`Scheduler::next_retry_due`] says so, and use
//! [`Scheduler::dry_run`] for previews.
//!
//! No actix, no tokio, no IO, no threads: descriptor operations are synchronous calls, time
//! comes from an injected [`Clock`], and the text log goes to a caller-provided sink. The
//! actor that wraps this core lives in the `actors` crate.

mod clock;
mod descriptor;
mod engine;
mod error;
mod export;
mod graph;
mod history;
pub mod log;
mod record;
mod resync;
mod scheduler;
mod status;
mod txn;

pub use clock::{Clock, ManualClock, SystemClock, go_duration, go_time, rfc3339};
pub use descriptor::{
    DepTarget, Dependency, Descriptor, KeySelector, Metadata, MetadataView, Origin, Retrieved,
};
pub use error::{ErrorKind, KvError};
pub use history::{RecordedNode, RecordedTarget};
pub use messages::proto::ligato::kvscheduler::{TxnOperation, ValueState};
pub use record::{ProtoWithName, RecordedKVPair, RecordedTxn, RecordedTxnOp, ResyncType, TxnType};
pub use scheduler::{LogSink, Scheduler};
pub use status::{BaseValueStatus, ValueStatus};
pub use txn::{FailedOp, RetryPolicy, SchedulerConfig, Txn, TxnKind, TxnReport};
