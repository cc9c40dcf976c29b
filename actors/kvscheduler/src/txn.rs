//! What callers hand the scheduler: a [`Txn`] (kind, values, options such as retry and revert)
//! and what they get back: a [`TxnReport`]. Also the scheduler's [`SchedulerConfig`].
//!
//! Plain data only; the scheduler (`scheduler.rs`) interprets it.

use std::sync::Arc;
use std::time::Duration;

use messages::{Key, Value};

use crate::record::RecordedTxn;

/// The kinds of transaction the scheduler runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnKind {
    /// Northbound change: put/delete of some values.
    NbChange,
    /// NB gives the complete desired state; the dataplane is retrieved and only the difference
    /// is applied.
    FullResync,
    /// NB gives the complete desired state; the dataplane is not re-read (the graph is trusted).
    UpstreamResync,
    /// NB unchanged; the dataplane is re-read and drift repaired.
    DownstreamResync,
}

/// Retry of failed operations: first after `period`, at most `max_count` attempts (0: no
/// limit), each further delay doubled when `backoff`. Ligato's defaults: 1 s, 3, doubling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub period: Duration,
    pub max_count: u32,
    pub backoff: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            period: Duration::from_secs(1),
            max_count: 3,
            backoff: true,
        }
    }
}

impl RetryPolicy {
    /// Delay before retry attempt `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        if !self.backoff {
            return self.period;
        }
        let shift = attempt.saturating_sub(1).min(30);
        self.period.saturating_mul(1u32 << shift)
    }

    /// May attempt `attempt` (1-based) still run?
    pub fn allows(&self, attempt: u32) -> bool {
        self.max_count == 0 || attempt <= self.max_count
    }
}

/// A transaction to run.
#[derive(Clone, Debug)]
pub struct Txn {
    pub kind: TxnKind,
    /// For NB changes: the changed values in order (`None` deletes). For full and upstream
    /// resync: the complete desired state. Ignored by downstream resync.
    pub values: Vec<(Key, Option<Value>)>,
    pub retry: Option<RetryPolicy>,
    /// Undo the whole transaction when an operation fails.
    pub revert_on_failure: bool,
    pub description: String,
    /// Downstream resync only: read and reconcile just the values of these descriptors (by
    /// name); empty means all. Values elsewhere that the scoped ones unblock still follow.
    pub only_descriptors: Vec<String>,
}

impl Txn {
    fn with_kind(kind: TxnKind) -> Self {
        Txn {
            kind,
            values: Vec::new(),
            retry: None,
            revert_on_failure: false,
            description: String::new(),
            only_descriptors: Vec::new(),
        }
    }

    /// An empty northbound change; add values with [`Txn::put`] and [`Txn::delete`].
    pub fn nb() -> Self {
        Txn::with_kind(TxnKind::NbChange)
    }

    pub fn full_resync(values: impl IntoIterator<Item = (Key, Value)>) -> Self {
        let mut t = Txn::with_kind(TxnKind::FullResync);
        t.values = values.into_iter().map(|(k, v)| (k, Some(v))).collect();
        t
    }

    pub fn upstream_resync(values: impl IntoIterator<Item = (Key, Value)>) -> Self {
        let mut t = Txn::with_kind(TxnKind::UpstreamResync);
        t.values = values.into_iter().map(|(k, v)| (k, Some(v))).collect();
        t
    }

    pub fn downstream_resync() -> Self {
        Txn::with_kind(TxnKind::DownstreamResync)
    }

    pub fn put(mut self, key: impl Into<Key>, value: Value) -> Self {
        self.values.push((key.into(), Some(value)));
        self
    }

    pub fn delete(mut self, key: impl Into<Key>) -> Self {
        self.values.push((key.into(), None));
        self
    }

    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    pub fn revert_on_failure(mut self) -> Self {
        self.revert_on_failure = true;
        self
    }

    /// Scopes a downstream resync to the values of some descriptors (see
    /// [`Txn::only_descriptors`]): a Linux host event need not re-read VPP.
    pub fn only_descriptors<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.only_descriptors = names.into_iter().map(Into::into).collect();
        self
    }

    pub fn describe(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }
}

/// A failed operation of a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedOp {
    pub key: Key,
    pub error: String,
    pub retriable: bool,
}

/// The outcome of a transaction (or of its dry-run): the record and the failures.
#[derive(Clone, Debug)]
pub struct TxnReport {
    pub seq_num: u64,
    pub record: Arc<RecordedTxn>,
    pub failed: Vec<FailedOp>,
    /// True when the failure triggered a revert of the transaction.
    pub reverted: bool,
    /// True for a dry-run: nothing was executed and nothing changed.
    pub dry_run: bool,
}

impl TxnReport {
    /// The operations, planned (dry-run) or executed.
    pub fn ops(&self) -> &[crate::record::RecordedTxnOp] {
        if self.dry_run {
            &self.record.planned
        } else {
            &self.record.executed
        }
    }

    /// `OPERATION key [FLAGS]` per operation, for tests and previews.
    pub fn brief(&self) -> Vec<String> {
        self.ops().iter().map(|o| o.brief()).collect()
    }

    pub fn is_ok(&self) -> bool {
        self.failed.is_empty()
    }
}

/// The scheduler's settings (Ligato's `kvscheduler.conf`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// Keep transactions and value timelines in memory.
    pub record_transaction_history: bool,
    /// Drop recorded transactions and timeline entries older than this.
    pub transaction_history_age_limit: Duration,
    /// Plan every transaction before executing it and record the planned operations. The plan
    /// runs on a copy of the graph, so this costs O(values) per transaction.
    pub enable_txn_simulation: bool,
    /// Hand the text summary of each transaction to the log sink.
    pub print_txn_summary: bool,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            record_transaction_history: true,
            transaction_history_age_limit: Duration::from_secs(24 * 3600),
            enable_txn_simulation: false,
            print_txn_summary: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ligato_retry_defaults() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1), Duration::from_secs(1));
        assert_eq!(p.delay(2), Duration::from_secs(2));
        assert_eq!(p.delay(3), Duration::from_secs(4));
        assert!(p.allows(3));
        assert!(!p.allows(4));
        let flat = RetryPolicy {
            backoff: false,
            max_count: 0,
            ..p
        };
        assert_eq!(flat.delay(5), Duration::from_secs(1));
        assert!(flat.allows(1000));
    }
}
