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
//!
//! ```
//! use std::sync::Arc;
//! use kvscheduler::{
//!     Dependency, Descriptor, KvError, ManualClock, Metadata, MetadataView, Scheduler,
//!     SchedulerConfig, Txn, ValueState,
//! };
//! use messages::{Key, Value, proto::Empty, value::value};
//!
//! /// Values under `demo/`; `demo/child` needs `demo/parent`.
//! struct Demo;
//!
//! impl Descriptor for Demo {
//!     fn name(&self) -> &str { "demo" }
//!     fn key_selector(&self, key: &Key) -> bool { key.has_prefix("demo/") }
//!     fn dependencies(&self, key: &Key, _: &Value) -> Vec<Dependency> {
//!         if key.as_str() == "demo/child" {
//!             vec![Dependency::on_key("parent-exists", "demo/parent")]
//!         } else {
//!             Vec::new()
//!         }
//!     }
//!     fn create(&self, _: &MetadataView<'_>, _: &Key, _: &Value)
//!         -> Result<Option<Metadata>, KvError> { Ok(None) }
//!     fn delete(&self, _: &MetadataView<'_>, _: &Key, _: &Value, _: Option<&Metadata>)
//!         -> Result<(), KvError> { Ok(()) }
//! }
//!
//! let mut s = Scheduler::new(SchedulerConfig::default(), Arc::new(ManualClock::new(0)));
//! s.register(Arc::new(Demo))?;
//! let child = Key::from("demo/child");
//!
//! // Preview without executing, then run: the child waits for its parent.
//! let preview = s.dry_run(&Txn::nb().put("demo/child", value(Empty {})))?;
//! assert_eq!(preview.brief(), ["CREATE demo/child [NOOP IS-PENDING]"]);
//! s.commit(Txn::nb().put("demo/child", value(Empty {})))?;
//! assert_eq!(s.value_status(&child).state, ValueState::Pending);
//! assert_eq!(s.value_status(&child).details, ["parent-exists"]);
//!
//! let r = s.commit(Txn::nb().put("demo/parent", value(Empty {})))?;
//! assert_eq!(r.brief(), ["CREATE demo/parent", "CREATE demo/child [WAS-PENDING]"]);
//!
//! // Removing the parent takes the child down first; it stays desired, PENDING.
//! let r = s.commit(Txn::nb().delete("demo/parent"))?;
//! assert_eq!(r.brief(), ["DELETE demo/child [IS-PENDING]", "DELETE demo/parent"]);
//! assert_eq!(s.history(None, None).len(), 3);
//! # Ok::<(), KvError>(())
//! ```

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
