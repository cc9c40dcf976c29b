//! The orchestrator: merges the desired state of every northbound source into one and turns
//! it into scheduler transactions.
//!
//! | accepts | emits |
//! |---|---|
//! | [`SourceResynced`], [`SourceChanged`] | [`ApplyTxn`] to the scheduler |
//! | [`QueryInvalid`] | the values that did not decode, with their errors |
//!
//! Each source owns its values. A source's resync replaces that source's share only, and the
//! scheduler gets a full resync of the merged state. A key set by two sources goes to the
//! most recent change (a conflict, logged with both sources). Undecodable values are kept
//! aside with their error: the value the key had before stays applied, nothing is lost.
//! Handlers are atomic, so transactions reach the scheduler in the order changes arrived;
//! each waits for its transaction report (`send().await`), never fire-and-forget.

use std::collections::BTreeMap;

use actix::prelude::*;
use kvscheduler::{RetryPolicy, Txn};
use messages::{Key, Value};
use tracing::{error, info_span, warn};

use crate::msg::{ApplyTxn, InvalidValue, SourceChanged, SourceId, SourceResynced};

#[derive(Clone)]
struct Entry {
    value: Value,
    /// Order of arrival across all sources; the highest wins a conflict.
    stamp: u64,
}

/// The values that did not decode, by key: (source, error).
#[derive(Message, Debug)]
#[rtype(result = "Vec<(Key, SourceId, String)>")]
pub struct QueryInvalid;

/// See the module docs.
pub struct Orchestrator {
    scheduler: Recipient<ApplyTxn>,
    retry: Option<RetryPolicy>,
    sources: BTreeMap<SourceId, BTreeMap<Key, Entry>>,
    invalid: BTreeMap<Key, (SourceId, String)>,
    stamp: u64,
}

impl std::fmt::Debug for Orchestrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orchestrator")
            .field("sources", &self.sources.len())
            .finish_non_exhaustive()
    }
}

impl Orchestrator {
    /// `retry`: the retry policy put on every transaction (Ligato applies its defaults to
    /// datasync changes and resyncs).
    pub fn new(scheduler: Recipient<ApplyTxn>, retry: Option<RetryPolicy>) -> Self {
        Orchestrator {
            scheduler,
            retry,
            sources: BTreeMap::new(),
            invalid: BTreeMap::new(),
            stamp: 0,
        }
    }

    fn next_stamp(&mut self) -> u64 {
        self.stamp += 1;
        self.stamp
    }

    /// The winning value of a key across sources.
    fn winner(&self, key: &Key) -> Option<(&SourceId, &Entry)> {
        self.sources
            .iter()
            .filter_map(|(s, m)| m.get(key).map(|e| (s, e)))
            .max_by_key(|(_, e)| e.stamp)
    }

    fn record_invalid(&mut self, source: &SourceId, invalid: Vec<InvalidValue>) {
        for i in invalid {
            warn!(key = %i.key, connector = %source, error = %i.error,
                "Rejected a value that does not decode; the previous value stays applied.");
            self.invalid.insert(i.key, (source.clone(), i.error));
        }
    }

    fn submit(&mut self, mut txn: Txn, span: tracing::Span) -> AtomicResponse<Self, ()> {
        if let Some(p) = self.retry {
            txn = txn.with_retry(p);
        }
        let send = self.scheduler.send(ApplyTxn { txn, span });
        AtomicResponse::new(Box::pin(send.into_actor(self).map(|res, _, _| match res {
            Ok(Ok(_report)) => {}
            Ok(Err(e)) => error!(error = %e, "Transaction failed."),
            Err(e) => error!(error = %e, "Scheduler mailbox closed; a transaction was not run."),
        })))
    }
}

impl Actor for Orchestrator {
    type Context = Context<Self>;
}

impl Handler<SourceResynced> for Orchestrator {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, msg: SourceResynced, _ctx: &mut Context<Self>) -> Self::Result {
        let span = info_span!(parent: &msg.span, "orchestrator_resync", connector = %msg.source);
        let old = self.sources.remove(&msg.source).unwrap_or_default();
        let mut share = BTreeMap::new();
        for (key, value) in msg.values {
            let stamp = match old.get(&key) {
                Some(e) if e.value.eq_value(&*value) => e.stamp,
                _ => self.next_stamp(),
            };
            share.insert(key, Entry { value, stamp });
        }
        self.invalid.retain(|_, (s, _)| *s != msg.source);
        self.record_invalid(&msg.source, msg.invalid);
        self.sources.insert(msg.source.clone(), share);
        let keys: Vec<Key> = self
            .sources
            .values()
            .flat_map(|m| m.keys().cloned())
            .collect();
        let mut merged = BTreeMap::new();
        for key in keys {
            if let Some((_, e)) = self.winner(&key) {
                merged.insert(key, e.value.clone());
            }
        }
        let txn = Txn::full_resync(merged).describe(format!("resync of {}", msg.source));
        self.submit(txn, span)
    }
}

impl Handler<SourceChanged> for Orchestrator {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, msg: SourceChanged, _ctx: &mut Context<Self>) -> Self::Result {
        let span = info_span!(parent: &msg.span, "orchestrator_change", connector = %msg.source);
        self.record_invalid(&msg.source, msg.invalid);
        let mut txn = Txn::nb().describe(format!("change from {}", msg.source));
        for (key, value) in msg.changes {
            self.invalid.remove(&key);
            let before = self.winner(&key).map(|(s, e)| (s.clone(), e.value.clone()));
            match value {
                Some(value) => {
                    if let Some((other, v)) = &before
                        && *other != msg.source
                        && !v.eq_value(&*value)
                    {
                        warn!(key = %key, winner = %msg.source, loser = %other,
                            "Two sources set one key; the most recent change wins.");
                    }
                    let stamp = self.next_stamp();
                    self.sources
                        .entry(msg.source.clone())
                        .or_default()
                        .insert(key.clone(), Entry { value, stamp });
                }
                None => {
                    if let Some(m) = self.sources.get_mut(&msg.source) {
                        m.remove(&key);
                    }
                }
            }
            let after = self.winner(&key).map(|(_, e)| e.value.clone());
            match (before.map(|(_, v)| v), after) {
                (Some(b), Some(a)) if b.eq_value(&*a) => {}
                (None, None) => {}
                (_, Some(a)) => txn = txn.put(key, a),
                (Some(_), None) => txn = txn.delete(key),
            }
        }
        if txn.values.is_empty() {
            return AtomicResponse::new(Box::pin(actix::fut::ready(())));
        }
        self.submit(txn, span)
    }
}

impl Handler<QueryInvalid> for Orchestrator {
    type Result = MessageResult<QueryInvalid>;

    fn handle(&mut self, _: QueryInvalid, _ctx: &mut Context<Self>) -> Self::Result {
        MessageResult(
            self.invalid
                .iter()
                .map(|(k, (s, e))| (k.clone(), s.clone(), e.clone()))
                .collect(),
        )
    }
}
