//! The orchestrator: merges the desired state of every northbound source into one and turns
//! it into scheduler transactions.
//!
//! | accepts | emits |
//! |---|---|
//! | [`SourceResynced`], [`SourceChanged`] | [`ApplyTxn`] to the scheduler |
//! | [`ClientTxn`] (local client, gRPC) | [`ApplyTxn`], or [`DryRunTxn`] for a dry run; replies the report |
//! | [`QueryInvalid`] | the values that did not decode, with their errors |
//!
//! Each source owns its values. A source's resync replaces that source's share only, and the
//! scheduler gets a full resync of the merged state. A key set by two sources goes to the
//! most recent change (a conflict, logged with both sources). Undecodable values are kept
//! aside with their error: the value the key had before stays applied, nothing is lost.
//! Handlers are atomic, so transactions reach the scheduler in the order changes arrived;
//! each waits for its transaction report (`send().await`), never fire-and-forget.
//!
//! Client transactions ([`ClientTxn`]) follow the same merge rules as the stores' messages;
//! a dry run merges into a copy of the sources, so nothing of the orchestrator changes.

use std::collections::BTreeMap;

use actix::prelude::*;
use kvscheduler::{KvError, RetryPolicy, Txn, TxnReport};
use messages::{Key, Value};
use tracing::{error, info_span, warn};

use crate::msg::{
    ApplyTxn, ClientTxn, DryRunTxn, InvalidValue, SourceChanged, SourceId, SourceResynced,
};

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

/// Every source's values and the arrival counter: what a merge reads and changes. A dry run
/// works on a clone.
#[derive(Clone, Default)]
struct Shares {
    sources: BTreeMap<SourceId, BTreeMap<Key, Entry>>,
    stamp: u64,
}

impl Shares {
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

    /// Replaces `source`'s share by `values`; returns the full resync of the merged state.
    fn resync(&mut self, source: &SourceId, values: Vec<(Key, Value)>) -> Txn {
        let old = self.sources.remove(source).unwrap_or_default();
        let mut share = BTreeMap::new();
        for (key, value) in values {
            let stamp = match old.get(&key) {
                Some(e) if e.value.eq_value(&*value) => e.stamp,
                _ => self.next_stamp(),
            };
            share.insert(key, Entry { value, stamp });
        }
        self.sources.insert(source.clone(), share);
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
        Txn::full_resync(merged).describe(format!("resync of {source}"))
    }

    /// Applies `source`'s puts and deletes; returns the change of the merged state (possibly
    /// empty).
    fn change(&mut self, source: &SourceId, changes: Vec<(Key, Option<Value>)>) -> Txn {
        let mut txn = Txn::nb().describe(format!("change from {source}"));
        for (key, value) in changes {
            let before = self.winner(&key).map(|(s, e)| (s.clone(), e.value.clone()));
            match value {
                Some(value) => {
                    if let Some((other, v)) = &before
                        && other != source
                        && !v.eq_value(&*value)
                    {
                        warn!(key = %key, winner = %source, loser = %other,
                            "Two sources set one key; the most recent change wins.");
                    }
                    let stamp = self.next_stamp();
                    self.sources
                        .entry(source.clone())
                        .or_default()
                        .insert(key.clone(), Entry { value, stamp });
                }
                None => {
                    if let Some(m) = self.sources.get_mut(source) {
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
        txn
    }
}

/// See the module docs.
pub struct Orchestrator {
    scheduler: Recipient<ApplyTxn>,
    dry_run: Recipient<DryRunTxn>,
    retry: Option<RetryPolicy>,
    shares: Shares,
    invalid: BTreeMap<Key, (SourceId, String)>,
}

impl std::fmt::Debug for Orchestrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orchestrator")
            .field("sources", &self.shares.sources.len())
            .finish_non_exhaustive()
    }
}

impl Orchestrator {
    /// `scheduler` runs transactions, `dry_run` plans them (client dry runs); `retry`: the
    /// retry policy put on every transaction (Ligato applies its defaults to datasync changes
    /// and resyncs).
    pub fn new(
        scheduler: Recipient<ApplyTxn>,
        dry_run: Recipient<DryRunTxn>,
        retry: Option<RetryPolicy>,
    ) -> Self {
        Orchestrator {
            scheduler,
            dry_run,
            retry,
            shares: Shares::default(),
            invalid: BTreeMap::new(),
        }
    }

    fn record_invalid(&mut self, source: &SourceId, invalid: Vec<InvalidValue>) {
        for i in invalid {
            warn!(key = %i.key, connector = %source, error = %i.error,
                "Rejected a value that does not decode; the previous value stays applied.");
            self.invalid.insert(i.key, (source.clone(), i.error));
        }
    }

    fn with_retry(&self, txn: Txn) -> Txn {
        match self.retry {
            Some(p) => txn.with_retry(p),
            None => txn,
        }
    }

    fn submit(&mut self, txn: Txn, span: tracing::Span) -> AtomicResponse<Self, ()> {
        let txn = self.with_retry(txn);
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
        self.invalid.retain(|_, (s, _)| *s != msg.source);
        self.record_invalid(&msg.source, msg.invalid);
        let txn = self.shares.resync(&msg.source, msg.values);
        self.submit(txn, span)
    }
}

impl Handler<SourceChanged> for Orchestrator {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, msg: SourceChanged, _ctx: &mut Context<Self>) -> Self::Result {
        let span = info_span!(parent: &msg.span, "orchestrator_change", connector = %msg.source);
        self.record_invalid(&msg.source, msg.invalid);
        for (key, _) in &msg.changes {
            self.invalid.remove(key);
        }
        let txn = self.shares.change(&msg.source, msg.changes);
        if txn.values.is_empty() {
            return AtomicResponse::new(Box::pin(actix::fut::ready(())));
        }
        self.submit(txn, span)
    }
}

impl Handler<ClientTxn> for Orchestrator {
    type Result = AtomicResponse<Self, Result<TxnReport, KvError>>;

    /// Unlike a store change, a client change with no effect on the merged state still runs
    /// (an empty transaction), so the client always gets a report with a sequence number.
    fn handle(&mut self, msg: ClientTxn, _ctx: &mut Context<Self>) -> Self::Result {
        let span = info_span!(parent: &msg.span, "orchestrator_client_txn",
            connector = %msg.source, resync = msg.resync, dry_run = msg.dry_run);
        let txn = if msg.dry_run {
            let mut copy = self.shares.clone();
            client_txn(&mut copy, &msg.source, msg.resync, msg.changes)
        } else {
            if msg.resync {
                self.invalid.retain(|_, (s, _)| *s != msg.source);
            } else {
                for (key, _) in &msg.changes {
                    self.invalid.remove(key);
                }
            }
            client_txn(&mut self.shares, &msg.source, msg.resync, msg.changes)
        };
        let txn = self.with_retry(txn);
        let reply = if msg.dry_run {
            let send = self.dry_run.send(DryRunTxn { txn });
            Box::pin(async move { send.await.map_err(mailbox_closed)? })
                as std::pin::Pin<Box<dyn Future<Output = _>>>
        } else {
            let send = self.scheduler.send(ApplyTxn { txn, span });
            Box::pin(async move { send.await.map_err(mailbox_closed)? })
        };
        AtomicResponse::new(Box::pin(reply.into_actor(self)))
    }
}

/// The client's puts (a resync keeps only the puts) or its changes, merged into `shares`.
fn client_txn(
    shares: &mut Shares,
    source: &SourceId,
    resync: bool,
    changes: Vec<(Key, Option<Value>)>,
) -> Txn {
    if resync {
        let values = changes
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        shares.resync(source, values)
    } else {
        shares.change(source, changes)
    }
}

fn mailbox_closed(e: MailboxError) -> KvError {
    KvError::Dataplane {
        message: format!("the scheduler's mailbox is closed ({e}); the transaction was not run"),
        retriable: true,
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

/// One key that more than one source sets: who set it, and whose value is applied (the most
/// recent change). `values_differ` is false when the sources agree (no real conflict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedKey {
    pub key: Key,
    pub applied_from: SourceId,
    pub sources: Vec<SourceId>,
    pub values_differ: bool,
}

/// The keys set by more than one source (`GET /orchestrator/conflicts`).
#[derive(Message, Debug)]
#[rtype(result = "Vec<SharedKey>")]
pub struct QueryShared;

impl Handler<QueryShared> for Orchestrator {
    type Result = MessageResult<QueryShared>;

    fn handle(&mut self, _: QueryShared, _ctx: &mut Context<Self>) -> Self::Result {
        let mut holders: BTreeMap<&Key, Vec<(&SourceId, &Entry)>> = BTreeMap::new();
        for (source, share) in &self.shares.sources {
            for (key, entry) in share {
                holders.entry(key).or_default().push((source, entry));
            }
        }
        let shared = holders
            .into_iter()
            .filter(|(_, h)| h.len() > 1)
            .filter_map(|(key, h)| {
                let (winner, won) = h.iter().max_by_key(|(_, e)| e.stamp)?;
                Some(SharedKey {
                    key: key.clone(),
                    applied_from: (*winner).clone(),
                    sources: h.iter().map(|(s, _)| (*s).clone()).collect(),
                    values_differ: h.iter().any(|(_, e)| !e.value.eq_value(&*won.value)),
                })
            })
            .collect();
        MessageResult(shared)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use kvscheduler::{
        Descriptor, Metadata, MetadataView, Scheduler, SchedulerConfig, SystemClock,
    };
    use messages::proto::vpp_interfaces::Interface;

    use super::*;
    use crate::msg::QueryStatus;
    use crate::scheduler::SchedulerActor;

    /// Records `create name mtu` / `delete name mtu` for every value.
    struct Recorder(Arc<Mutex<Vec<String>>>);

    impl Recorder {
        fn note(&self, op: &str, value: &Value) {
            let i = messages::value::downcast::<Interface>(&**value)
                .cloned()
                .unwrap_or_default();
            self.0
                .lock()
                .expect("lock")
                .push(format!("{op} {} {}", i.name, i.mtu));
        }
    }

    impl Descriptor for Recorder {
        fn name(&self) -> &str {
            "recorder"
        }
        fn key_selector(&self, key: &Key) -> bool {
            key.has_prefix("config/")
        }
        fn create(
            &self,
            _: &MetadataView<'_>,
            _: &Key,
            v: &Value,
        ) -> Result<Option<Metadata>, KvError> {
            self.note("create", v);
            Ok(None)
        }
        fn delete(
            &self,
            _: &MetadataView<'_>,
            _: &Key,
            v: &Value,
            _: Option<&Metadata>,
        ) -> Result<(), KvError> {
            self.note("delete", v);
            Ok(())
        }
    }

    struct Fixture {
        orch: Addr<Orchestrator>,
        scheduler: Addr<SchedulerActor>,
        log: Arc<Mutex<Vec<String>>>,
    }

    fn start() -> Fixture {
        let log = Arc::new(Mutex::new(Vec::new()));
        let recorder = Arc::new(Recorder(log.clone()));
        let scheduler = SchedulerActor::start(Arc::new(move || {
            let mut s = Scheduler::new(SchedulerConfig::default(), Arc::new(SystemClock));
            s.register(recorder.clone()).expect("register");
            s
        }));
        let orch = Orchestrator::new(
            scheduler.clone().recipient(),
            scheduler.clone().recipient(),
            None,
        )
        .start();
        Fixture {
            orch,
            scheduler,
            log,
        }
    }

    fn key(name: &str) -> Key {
        Key::from(format!("config/vpp/v2/interfaces/{name}"))
    }

    fn iface(name: &str, mtu: u32) -> (Key, Option<Value>) {
        let v = Interface {
            name: name.to_owned(),
            mtu,
            ..Default::default()
        };
        (key(name), Some(messages::value::value(v)))
    }

    impl Fixture {
        async fn client(
            &self,
            source: &str,
            resync: bool,
            dry_run: bool,
            changes: Vec<(Key, Option<Value>)>,
        ) -> TxnReport {
            let msg = ClientTxn {
                source: SourceId::new(source),
                resync,
                changes,
                dry_run,
                span: tracing::Span::none(),
            };
            self.orch.send(msg).await.expect("mailbox").expect("report")
        }

        async fn store_change(&self, changes: Vec<(Key, Option<Value>)>) {
            let msg = SourceChanged {
                source: SourceId::new("etcd"),
                changes,
                invalid: Vec::new(),
                span: tracing::Span::none(),
            };
            self.orch.send(msg).await.expect("mailbox");
        }

        fn take_log(&self) -> Vec<String> {
            std::mem::take(&mut *self.log.lock().expect("lock"))
        }

        async fn keys(&self) -> Vec<String> {
            let q = QueryStatus {
                key_prefix: String::new(),
            };
            let statuses = self
                .scheduler
                .send(q)
                .await
                .expect("mailbox")
                .unwrap_or_default();
            statuses
                .into_iter()
                .map(|s| s.value.key.to_string())
                .collect()
        }
    }

    #[actix_rt::test]
    async fn a_client_change_is_one_transaction_with_its_report() {
        let f = start();
        let r = f
            .client("local", false, false, vec![iface("a", 1), iface("b", 1)])
            .await;
        assert!(!r.dry_run);
        assert!(r.is_ok());
        assert_eq!(r.ops().len(), 2, "{:?}", r.brief());
        assert_eq!(f.take_log(), ["create a 1", "create b 1"]);
        let r2 = f
            .client("local", false, false, vec![(key("a"), None)])
            .await;
        assert!(r2.seq_num > r.seq_num);
        assert_eq!(f.take_log(), ["delete a 1"]);
        // No effect on the merged state: still a (empty) transaction with a report.
        let r3 = f.client("local", false, false, vec![iface("b", 1)]).await;
        assert!(r3.seq_num > r2.seq_num);
        assert!(r3.ops().is_empty(), "{:?}", r3.brief());
    }

    #[actix_rt::test]
    async fn keys_of_two_sources_are_reported_with_the_applied_one() {
        let f = start();
        f.store_change(vec![iface("a", 1), iface("same", 1), iface("s", 1)])
            .await;
        f.client("local", false, false, vec![iface("a", 2), iface("same", 1)])
            .await;
        let shared = f.orch.send(QueryShared).await.expect("mailbox");
        let brief: Vec<(String, String, bool)> = shared
            .iter()
            .map(|s| {
                (
                    s.key.to_string(),
                    s.applied_from.to_string(),
                    s.values_differ,
                )
            })
            .collect();
        assert_eq!(
            brief,
            [
                (key("a").to_string(), "local".to_owned(), true),
                (key("same").to_string(), "local".to_owned(), false),
            ]
        );
        assert_eq!(
            shared[0].sources,
            [SourceId::new("etcd"), SourceId::new("local")]
        );
        // The store changes it again: the store's value is applied now.
        f.store_change(vec![iface("a", 3)]).await;
        let shared = f.orch.send(QueryShared).await.expect("mailbox");
        assert_eq!(shared[0].applied_from, SourceId::new("etcd"));
    }

    #[actix_rt::test]
    async fn a_client_resync_replaces_its_share_only() {
        let f = start();
        f.store_change(vec![iface("s", 1)]).await;
        f.client("local", false, false, vec![iface("a", 1), iface("b", 1)])
            .await;
        f.take_log();
        let r = f
            .client("local", true, false, vec![iface("b", 1), iface("c", 1)])
            .await;
        assert!(r.is_ok());
        let mut log = f.take_log();
        log.sort();
        assert_eq!(log, ["create c 1", "delete a 1"]);
        let mut keys = f.keys().await;
        keys.sort();
        assert_eq!(
            keys,
            [
                key("b").to_string(),
                key("c").to_string(),
                key("s").to_string()
            ]
        );
        // An empty resync removes the client's values, never the store's.
        f.client("local", true, false, Vec::new()).await;
        assert_eq!(f.keys().await, [key("s").to_string()]);
    }

    #[actix_rt::test]
    async fn a_dry_run_changes_nothing() {
        let f = start();
        f.client("local", false, false, vec![iface("a", 1)]).await;
        f.take_log();
        let plan = f
            .client("local", false, true, vec![iface("b", 1), (key("a"), None)])
            .await;
        assert!(plan.dry_run);
        let mut planned = plan.brief();
        planned.sort();
        assert_eq!(planned.len(), 2, "{planned:?}");
        assert!(
            planned[0].starts_with("CREATE ") && planned[0].contains("/b"),
            "{planned:?}"
        );
        assert!(
            planned[1].starts_with("DELETE ") && planned[1].contains("/a"),
            "{planned:?}"
        );
        assert!(f.take_log().is_empty());
        assert_eq!(f.keys().await, [key("a").to_string()]);
        let resync_plan = f.client("local", true, true, Vec::new()).await;
        assert!(resync_plan.dry_run);
        assert_eq!(f.keys().await, [key("a").to_string()]);
        // The orchestrator's state is unchanged too: the same change now runs in full.
        let r = f
            .client("local", false, false, vec![iface("b", 1), (key("a"), None)])
            .await;
        assert_eq!(r.ops().len(), 2, "{:?}", r.brief());
        let mut log = f.take_log();
        log.sort();
        assert_eq!(log, ["create b 1", "delete a 1"]);
    }

    #[actix_rt::test]
    async fn a_conflict_between_a_store_and_the_client_goes_to_the_most_recent() {
        let f = start();
        f.store_change(vec![iface("x", 1)]).await;
        f.client("local", false, false, vec![iface("x", 2)]).await;
        assert_eq!(f.take_log(), ["create x 1", "delete x 1", "create x 2"]);
        f.store_change(vec![iface("x", 3)]).await;
        assert_eq!(f.take_log(), ["delete x 2", "create x 3"]);
        // The client withdrawing its value leaves the store's value applied.
        f.client("local", false, false, vec![(key("x"), None)])
            .await;
        assert!(f.take_log().is_empty());
        f.client("local", false, false, vec![iface("x", 4)]).await;
        f.client("local", false, false, vec![(key("x"), None)])
            .await;
        assert_eq!(
            f.take_log(),
            ["delete x 3", "create x 4", "delete x 4", "create x 3"]
        );
    }
}
