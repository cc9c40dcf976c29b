//! [`Scheduler`]: the public face of the core. It owns the descriptors, the graph, the
//! transaction counter, the retry queue and the history; it runs transactions (serialised and
//! numbered, since it takes `&mut self`), dry-runs, resyncs and due retries, and answers status,
//! history, timeline and graph queries.
//!
//! No threads, timers or IO: the caller (the scheduler actor) asks [`Scheduler::next_retry_due`]
//! and calls [`Scheduler::run_due_retries`] when that time comes, and chooses where the text log
//! goes through [`Scheduler::set_log_sink`].

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use messages::proto::ligato::kvscheduler::ValueState;
use messages::{Key, Value};

use crate::clock::Clock;
use crate::descriptor::{Descriptor, Origin, Registry};
use crate::engine::Engine;
use crate::error::KvError;
use crate::export;
use crate::graph::Graph;
use crate::history::{History, RecordedNode, TimelineEntry};
use crate::log;
use crate::record::{RecordedKVPair, RecordedTxn, RecordedTxnOp, ResyncType, TxnType};
use crate::resync;
use crate::status::{self, BaseValueStatus, ValueStatus};
use crate::txn::{FailedOp, RetryPolicy, SchedulerConfig, Txn, TxnKind, TxnReport};

/// Failed values waiting for their next attempt.
#[derive(Clone, Debug)]
struct RetryEntry {
    due: SystemTime,
    for_txn: u64,
    attempt: u32,
    policy: RetryPolicy,
    keys: Vec<Key>,
}

/// Receives the text log (header when a transaction starts, footer when it ends).
pub type LogSink = Box<dyn FnMut(&str) + Send>;

/// The outcome of running a transaction's operations.
struct Outcome {
    ops: Vec<RecordedTxnOp>,
    failed: Vec<FailedOp>,
    reverted: bool,
}

/// The scheduler core.
pub struct Scheduler {
    config: SchedulerConfig,
    clock: Arc<dyn Clock>,
    reg: Registry,
    graph: Graph,
    next_seq: u64,
    retries: Vec<RetryEntry>,
    history: History,
    log_sink: Option<LogSink>,
}

impl fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheduler")
            .field("descriptors", &self.reg)
            .field("values", &self.graph.nodes.len())
            .field("next_seq", &self.next_seq)
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    pub fn new(config: SchedulerConfig, clock: Arc<dyn Clock>) -> Self {
        Scheduler {
            config,
            clock,
            reg: Registry::default(),
            graph: Graph::default(),
            next_seq: 0,
            retries: Vec::new(),
            history: History::default(),
            log_sink: None,
        }
    }

    /// Registers a descriptor. The first registered descriptor whose selector matches a key
    /// handles it.
    pub fn register(&mut self, descriptor: Arc<dyn Descriptor>) -> Result<(), KvError> {
        self.reg.register(descriptor)
    }

    /// Names of the registered descriptors, in registration order.
    pub fn descriptors(&self) -> Vec<&str> {
        self.reg.names.iter().map(|n| &**n).collect()
    }

    /// `(name, NB key prefix)` of the registered descriptors, in registration order.
    pub fn descriptor_prefixes(&self) -> Vec<(&str, Option<&str>)> {
        self.reg
            .descriptors
            .iter()
            .map(|d| (d.name(), d.nb_key_prefix()))
            .collect()
    }

    /// Where the text log goes when `print_txn_summary` is enabled.
    pub fn set_log_sink(&mut self, sink: LogSink) {
        self.log_sink = Some(sink);
    }

    /// Formats (only when someone listens) and hands over one block of the text log.
    fn print(&mut self, render: impl FnOnce() -> String) {
        if self.config.print_txn_summary
            && let Some(sink) = self.log_sink.as_mut()
        {
            sink(&render());
        }
    }

    /// The sequence number the next transaction will get.
    pub fn next_seq_num(&self) -> u64 {
        self.next_seq
    }

    fn new_record(&self, seq: u64, txn: &Txn, start: SystemTime) -> RecordedTxn {
        let resync_type = match txn.kind {
            TxnKind::NbChange => ResyncType::NotResync,
            TxnKind::FullResync => ResyncType::FullResync,
            TxnKind::UpstreamResync => ResyncType::UpstreamResync,
            TxnKind::DownstreamResync => ResyncType::DownstreamResync,
        };
        RecordedTxn {
            pre_record: false,
            with_simulation: false,
            start,
            stop: start,
            seq_num: seq,
            txn_type: TxnType::NbTransaction,
            resync_type,
            description: txn.description.clone(),
            retry_for_txn: 0,
            retry_attempt: 0,
            values: txn
                .values
                .iter()
                .map(|(k, v)| RecordedKVPair::new(k.clone(), v.clone(), Origin::FromNb))
                .collect(),
            planned: Vec::new(),
            executed: Vec::new(),
        }
    }

    /// Plans and executes `txn`. Fails only when a resync cannot read the dataplane; failed
    /// operations are reported in the [`TxnReport`] (and retried or reverted as asked).
    pub fn commit(&mut self, txn: Txn) -> Result<TxnReport, KvError> {
        let start = self.clock.now();
        let seq = self.next_seq;
        let mut record = self.new_record(seq, &txn, start);
        if self.config.enable_txn_simulation {
            let mut scratch = self.graph.clone();
            let planned = run(&mut scratch, &self.reg, &txn, true)?;
            record.with_simulation = true;
            record.planned = planned.ops;
        }
        self.print(|| log::header(&record));
        // The number is taken even when the transaction cannot run (a failed retrieve).
        self.next_seq += 1;
        let out = run(&mut self.graph, &self.reg, &txn, false)?;
        record.executed = out.ops;
        record.stop = self.clock.now();
        if let (Some(policy), false) = (txn.retry, out.reverted) {
            self.schedule_retries(&out.failed, seq, 1, policy, record.stop);
        }
        Ok(self.finish(record, out.failed, out.reverted))
    }

    /// Plans `txn` without executing it or changing anything: the operations it would run,
    /// assuming every one succeeds. A resync still reads the dataplane. The plan runs on a copy
    /// of the graph (O(values)).
    pub fn dry_run(&self, txn: &Txn) -> Result<TxnReport, KvError> {
        let start = self.clock.now();
        let mut scratch = self.graph.clone();
        let out = run(&mut scratch, &self.reg, txn, true)?;
        let mut record = self.new_record(self.next_seq, txn, start);
        record.with_simulation = true;
        record.planned = out.ops;
        record.stop = self.clock.now();
        Ok(TxnReport {
            seq_num: record.seq_num,
            record: Arc::new(record),
            failed: Vec::new(),
            reverted: false,
            dry_run: true,
        })
    }

    fn finish(&mut self, record: RecordedTxn, failed: Vec<FailedOp>, reverted: bool) -> TxnReport {
        self.print(|| log::footer(&record));
        let record = Arc::new(record);
        if self.config.record_transaction_history {
            let now = record.stop;
            let new_keys = record
                .executed
                .len()
                .saturating_sub(self.history.timelines.len());
            self.history.timelines.reserve(new_keys);
            let mut seen = crate::graph::FxHashSet::default();
            seen.reserve(record.executed.len());
            let keys = record
                .executed
                .iter()
                .map(|o| &o.key)
                .filter(|k| seen.insert(*k));
            for k in keys {
                let snap = TimelineEntry::of(&self.graph, k, now, record.seq_num);
                self.history.update_timeline(k, now, snap);
            }
            self.history.push(record.clone());
            self.history
                .trim(now, self.config.transaction_history_age_limit);
        }
        TxnReport {
            seq_num: record.seq_num,
            record,
            failed,
            reverted,
            dry_run: false,
        }
    }

    fn schedule_retries(
        &mut self,
        failed: &[FailedOp],
        for_txn: u64,
        attempt: u32,
        policy: RetryPolicy,
        now: SystemTime,
    ) {
        if !policy.allows(attempt) {
            return;
        }
        let keys: Vec<Key> = failed
            .iter()
            .filter(|f| f.retriable)
            .map(|f| f.key.clone())
            .collect();
        if keys.is_empty() {
            return;
        }
        for k in &keys {
            if let Some(n) = self.graph.nodes.get_mut(k)
                && n.state == ValueState::Failed
            {
                n.state = ValueState::Retrying;
            }
        }
        let entry = RetryEntry {
            due: now + policy.delay(attempt),
            for_txn,
            attempt,
            policy,
            keys,
        };
        let pos = self.retries.partition_point(|e| e.due <= entry.due);
        self.retries.insert(pos, entry);
    }

    /// When the next retry transaction is due, if any.
    pub fn next_retry_due(&self) -> Option<SystemTime> {
        self.retries.first().map(|e| e.due)
    }

    /// Runs every retry transaction that is due by the clock, in due order.
    pub fn run_due_retries(&mut self) -> Vec<TxnReport> {
        let now = self.clock.now();
        let due = self.retries.partition_point(|e| e.due <= now);
        let entries: Vec<RetryEntry> = self.retries.drain(..due).collect();
        entries.into_iter().map(|e| self.retry(e)).collect()
    }

    fn retry(&mut self, entry: RetryEntry) -> TxnReport {
        let start = self.clock.now();
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut record = RecordedTxn {
            pre_record: false,
            with_simulation: false,
            start,
            stop: start,
            seq_num: seq,
            txn_type: TxnType::RetryFailedOps,
            resync_type: ResyncType::NotResync,
            description: String::new(),
            retry_for_txn: entry.for_txn,
            retry_attempt: u64::from(entry.attempt),
            values: entry
                .keys
                .iter()
                .map(|k| {
                    let v = self.graph.nodes.get(k).and_then(|n| n.desired.clone());
                    RecordedKVPair::new(k.clone(), v, Origin::FromNb)
                })
                .collect(),
            planned: Vec::new(),
            executed: Vec::new(),
        };
        self.print(|| log::header(&record));
        let mut engine = Engine::new(&mut self.graph, &self.reg, false);
        engine.is_retry = true;
        for k in entry.keys.iter().rev() {
            let failing = engine
                .graph
                .nodes
                .get(k)
                .is_some_and(|n| matches!(n.state, ValueState::Failed | ValueState::Retrying));
            if failing {
                engine.push(k);
            }
        }
        engine.drain();
        let (ops, failed) = (engine.ops, engine.failed);
        record.executed = ops;
        record.stop = self.clock.now();
        self.schedule_retries(
            &failed,
            entry.for_txn,
            entry.attempt + 1,
            entry.policy,
            record.stop,
        );
        for f in &failed {
            let retrying =
                self.graph.nodes.get(&f.key).map(|n| n.state) == Some(ValueState::Retrying);
            if !retrying && let Some(n) = self.graph.nodes.get_mut(&f.key) {
                n.state = ValueState::Failed;
            }
        }
        self.finish(record, failed, false)
    }

    /// Status of one top-level value with its derived values (NONEXISTENT when unknown).
    pub fn status(&self, key: &Key) -> BaseValueStatus {
        status::base_status(&self.graph, key)
    }

    /// The current status of every value a transaction touched, in operation order: what the
    /// actor publishes as status changes after a transaction.
    pub fn statuses_touched_by(&self, report: &TxnReport) -> Vec<ValueStatus> {
        let mut seen = crate::graph::FxHashSet::default();
        report
            .ops()
            .iter()
            .filter(|o| seen.insert(&o.key))
            .map(|o| status::value_status(&self.graph, &o.key))
            .collect()
    }

    /// Status of one value, derived or not.
    pub fn value_status(&self, key: &Key) -> ValueStatus {
        status::value_status(&self.graph, key)
    }

    /// Statuses of all top-level values under `prefix` (all with ""), sorted by key. Errors
    /// with "unknown key prefix" when no value and no descriptor's NB prefix matches.
    pub fn status_by_prefix(&self, prefix: &str) -> Result<Vec<BaseValueStatus>, KvError> {
        let found = status::by_prefix(&self.graph, prefix);
        let known = self.reg.descriptors.iter().any(|d| {
            d.nb_key_prefix()
                .is_some_and(|p| p.starts_with(prefix) || prefix.starts_with(p))
        });
        if found.is_empty() && !known && !prefix.is_empty() {
            return Err(KvError::UnknownKeyPrefix(prefix.to_owned()));
        }
        Ok(found)
    }

    /// The state of every top-level (non-derived) value, unordered: what
    /// [`Scheduler::status_by_prefix`] with an empty prefix reports, without sorting keys or
    /// building statuses (for gauges counted after every transaction).
    pub fn top_level_states(&self) -> impl Iterator<Item = ValueState> + '_ {
        self.graph
            .nodes
            .iter()
            .filter(|(_, n)| !n.is_derived())
            .map(|(_, n)| n.state)
    }

    /// The desired value of `key` (NB or derived), if any.
    pub fn desired(&self, key: &Key) -> Option<&Value> {
        self.graph.nodes.get(key)?.desired.as_ref()
    }

    /// The value of `key` the scheduler believes is applied in the dataplane, if any.
    pub fn applied(&self, key: &Key) -> Option<&Value> {
        self.graph.nodes.get(key)?.applied.as_ref()
    }

    /// Keys of the values the scheduler believes exist in the dataplane, sorted.
    pub fn applied_keys(&self) -> Vec<Key> {
        self.graph.nodes.sorted_keys(|_, n| n.applied.is_some())
    }

    /// Metadata of `key` as its descriptor produced it.
    pub fn metadata(&self, key: &Key) -> Option<&crate::descriptor::Metadata> {
        self.graph.nodes.get(key)?.metadata.as_ref()
    }

    /// Recorded transactions whose start lies in `[since, until]` (either bound optional).
    pub fn history(
        &self,
        since: Option<SystemTime>,
        until: Option<SystemTime>,
    ) -> Vec<Arc<RecordedTxn>> {
        self.history
            .txns
            .iter()
            .filter(|t| since.is_none_or(|s| t.start >= s) && until.is_none_or(|u| t.start <= u))
            .cloned()
            .collect()
    }

    /// One recorded transaction.
    pub fn txn(&self, seq_num: u64) -> Result<Arc<RecordedTxn>, KvError> {
        self.history
            .txns
            .iter()
            .find(|t| t.seq_num == seq_num)
            .cloned()
            .ok_or(KvError::TxnNotRecorded(seq_num))
    }

    /// The history in Ligato's text form.
    pub fn history_text(&self, since: Option<SystemTime>, until: Option<SystemTime>) -> String {
        let txns = self.history(since, until);
        log::history(txns.iter().map(|t| &**t))
    }

    /// Every recorded version of `key`, oldest first.
    pub fn timeline(&self, key: &Key) -> Vec<RecordedNode> {
        self.history
            .timelines
            .get(key)
            .map(|line| line.iter().map(|e| e.render(key, &self.reg)).collect())
            .unwrap_or_default()
    }

    /// The current graph as Ligato's `RecordedNode`s (sorted by key).
    pub fn graph_snapshot(&self) -> Vec<RecordedNode> {
        export::snapshot(
            &self.graph,
            &self.reg,
            self.clock.now(),
            self.next_seq.saturating_sub(1),
        )
    }

    /// The current graph as JSON.
    pub fn graph_json(&self) -> serde_json::Value {
        serde_json::to_value(self.graph_snapshot()).unwrap_or(serde_json::Value::Null)
    }

    /// The current graph as Graphviz dot.
    pub fn graph_dot(&self) -> String {
        export::dot(&self.graph_snapshot())
    }
}

/// Runs a transaction's operations on `graph` (a scratch copy when simulating).
fn run(graph: &mut Graph, reg: &Registry, txn: &Txn, simulate: bool) -> Result<Outcome, KvError> {
    // Only a downstream resync may be scoped: a full resync states the whole desired state.
    let only: &[String] = match txn.kind {
        TxnKind::DownstreamResync => &txn.only_descriptors,
        _ => &[],
    };
    let scope = resync::scope(reg, only);
    let snap = match txn.kind {
        TxnKind::FullResync | TxnKind::DownstreamResync => {
            Some(resync::retrieve(reg, graph, &scope)?)
        }
        _ => None,
    };
    let mut engine = Engine::new(graph, reg, simulate);
    let mut reverted = false;
    match txn.kind {
        TxnKind::NbChange => {
            let before: Vec<(Key, Option<Value>)> = txn
                .values
                .iter()
                .map(|(k, _)| {
                    let prev = engine.graph.nodes.get(k).and_then(|n| n.desired.clone());
                    (k.clone(), prev)
                })
                .collect();
            for (k, v) in &txn.values {
                engine.input(k, v.clone());
            }
            if txn.revert_on_failure && !engine.failed.is_empty() {
                reverted = true;
                engine.is_revert = true;
                for (k, v) in before.into_iter().rev() {
                    engine.input(&k, v);
                }
            }
        }
        TxnKind::FullResync | TxnKind::UpstreamResync => {
            resync::apply(&mut engine, reg, Some(&txn.values), snap, &scope);
        }
        TxnKind::DownstreamResync => resync::apply(&mut engine, reg, None, snap, &scope),
    }
    Ok(Outcome {
        ops: engine.ops,
        failed: engine.failed,
        reverted,
    })
}
