//! The in-memory trace store: a tracing [`Layer`] that assembles every finished trace (a root
//! span with all its descendants) into a tree and keeps the trees of the last transactions,
//! found by the `txn_seq` of any span in them (`GET /scheduler/txn-trace?seq-num=N`).
//!
//! Spans are built up in their own extensions while open; a closing span hands its finished
//! node to its parent (the registry closes a parent only after all its children), and a
//! closing root is kept when its tree holds a `txn_seq`, otherwise dropped. The store is
//! bounded: the oldest trace goes when a new one would exceed the capacity.
//!
//! Deliberately not here: sampling, export (OTLP is [`super::otlp`]) and spans of other
//! crates (the layer is filtered to this workspace's targets by [`super::init`]).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// One span of a trace, with its children in start order.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SpanNode {
    pub name: String,
    /// The span's fields (`txn_seq`, `key`, `connector`, `msg`, ...), as recorded.
    pub fields: BTreeMap<String, serde_json::Value>,
    /// Start, in microseconds since the Unix epoch.
    pub start_us: u64,
    /// From creation to close, in microseconds.
    pub duration_us: u64,
    pub children: Vec<SpanNode>,
}

impl SpanNode {
    /// Every span of the tree, depth first (this one first).
    pub fn walk(&self) -> Vec<&SpanNode> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.walk());
        }
        out
    }

    /// The `txn_seq` values in the tree.
    pub fn txn_seqs(&self) -> Vec<u64> {
        self.walk()
            .into_iter()
            .filter_map(|n| n.fields.get("txn_seq").and_then(serde_json::Value::as_u64))
            .collect()
    }

    /// The tree as indented text: name, fields and duration per line (agentctl's view).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write_text(0, &mut out);
        out
    }

    fn write_text(&self, depth: usize, out: &mut String) {
        use std::fmt::Write;
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect();
        let _ = writeln!(
            out,
            "{:indent$}{} [{} µs] {}",
            "",
            self.name,
            self.duration_us,
            fields.join(" "),
            indent = depth * 2
        );
        for c in &self.children {
            c.write_text(depth + 1, out);
        }
    }
}

/// The last traces that hold a transaction; cheap to clone (shared with the layer).
#[derive(Debug, Clone)]
pub struct TraceStore {
    inner: Arc<Mutex<VecDeque<Arc<SpanNode>>>>,
    capacity: usize,
}

/// How many transaction traces the store keeps by default.
pub const DEFAULT_CAPACITY: usize = 100;

static GLOBAL: OnceLock<TraceStore> = OnceLock::new();

impl TraceStore {
    pub fn new(capacity: usize) -> Self {
        TraceStore {
            inner: Arc::new(Mutex::new(VecDeque::new())),
            capacity: capacity.max(1),
        }
    }

    /// The store of the process-wide subscriber, once [`super::init`] installed it (the REST
    /// route reads it; the subscriber is process-wide too).
    pub fn global() -> Option<&'static TraceStore> {
        GLOBAL.get()
    }

    /// Makes this store the one [`TraceStore::global`] returns (first call wins).
    pub fn set_global(&self) {
        let _ = GLOBAL.set(self.clone());
    }

    /// The trace holding transaction `seq`, newest first if several do.
    pub fn by_txn_seq(&self, seq: u64) -> Option<Arc<SpanNode>> {
        let traces = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        traces
            .iter()
            .rev()
            .find(|t| t.txn_seqs().contains(&seq))
            .cloned()
    }

    /// Every kept trace, oldest first.
    pub fn all(&self) -> Vec<Arc<SpanNode>> {
        let traces = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        traces.iter().cloned().collect()
    }

    fn keep(&self, root: SpanNode) {
        let mut traces = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if traces.len() >= self.capacity {
            traces.pop_front();
        }
        traces.push_back(Arc::new(root));
    }

    /// The layer that fills this store.
    pub fn layer(&self) -> TraceLayer {
        TraceLayer {
            store: self.clone(),
        }
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct TraceLayer {
    store: TraceStore,
}

/// At most this many spans are kept per trace (a full resync of a large configuration makes
/// one span per VPP request); further children are dropped and counted in the parent's
/// `dropped_spans` field.
pub const MAX_SPANS_PER_TRACE: usize = 5000;

/// A span being built, kept in its extensions.
struct Building {
    node: SpanNode,
    opened: Instant,
    /// Spans in `node`'s subtree, itself included.
    size: usize,
    /// Spans of children dropped over [`MAX_SPANS_PER_TRACE`].
    dropped: u64,
}

struct FieldVisitor<'a>(&'a mut BTreeMap<String, serde_json::Value>);

impl Visit for FieldVisitor<'_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), format!("{value:?}").into());
    }
}

fn unix_us(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl<S> Layer<S> for TraceLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = BTreeMap::new();
        attrs.record(&mut FieldVisitor(&mut fields));
        span.extensions_mut().insert(Building {
            node: SpanNode {
                name: attrs.metadata().name().to_owned(),
                fields,
                start_us: unix_us(SystemTime::now()),
                duration_us: 0,
                children: Vec::new(),
            },
            opened: Instant::now(),
            size: 1,
            dropped: 0,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        if let Some(b) = span.extensions_mut().get_mut::<Building>() {
            values.record(&mut FieldVisitor(&mut b.node.fields));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(b) = span.extensions_mut().remove::<Building>() else {
            return;
        };
        let mut node = b.node;
        node.duration_us = u64::try_from(b.opened.elapsed().as_micros()).unwrap_or(u64::MAX);
        node.children.sort_by_key(|c| c.start_us);
        if b.dropped > 0 {
            node.fields
                .insert("dropped_spans".to_owned(), b.dropped.into());
        }
        match span.parent() {
            Some(parent) => {
                if let Some(pb) = parent.extensions_mut().get_mut::<Building>() {
                    if pb.size + b.size > MAX_SPANS_PER_TRACE {
                        pb.dropped += b.size as u64 + b.dropped;
                    } else {
                        pb.size += b.size;
                        pb.node.children.push(node);
                    }
                }
            }
            None => {
                if !node.txn_seqs().is_empty() {
                    self.store.keep(node);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::info_span;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn a_trace_with_a_transaction_is_kept_as_a_tree_in_start_order() {
        let store = TraceStore::new(2);
        let sub = tracing_subscriber::registry().with(store.layer());
        tracing::subscriber::with_default(sub, || {
            let root = info_span!("connector_change", connector = "etcd");
            let watcher = info_span!(parent: &root, "watcher_change", key = "a");
            drop(root);
            {
                let txn = info_span!(parent: &watcher, "scheduler_txn", txn_seq = 7u64);
                let _e = txn.enter();
                let op = info_span!(
                    "descriptor_op",
                    op = "create",
                    error = tracing::field::Empty
                );
                op.record("error", "boom");
            }
            drop(watcher);
            // A trace without a transaction is not kept.
            drop(info_span!("connector_change", connector = "redis"));
        });
        let t = store.by_txn_seq(7).expect("trace of txn 7");
        let names: Vec<&str> = t.walk().iter().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "connector_change",
                "watcher_change",
                "scheduler_txn",
                "descriptor_op"
            ]
        );
        let op = t.walk()[3];
        assert_eq!(op.fields["error"], "boom");
        assert_eq!(op.fields["op"], "create");
        assert_eq!(store.all().len(), 1);
        assert!(store.by_txn_seq(8).is_none());
        assert!(
            t.to_text().contains("    scheduler_txn ["),
            "{}",
            t.to_text()
        );
    }

    #[test]
    fn a_huge_trace_is_capped_and_says_how_many_spans_it_dropped() {
        let store = TraceStore::new(1);
        let sub = tracing_subscriber::registry().with(store.layer());
        let extra = 7;
        tracing::subscriber::with_default(sub, || {
            let txn = info_span!("scheduler_txn", txn_seq = 1u64);
            let _e = txn.enter();
            for _ in 0..MAX_SPANS_PER_TRACE + extra {
                drop(info_span!("vpp_request"));
            }
        });
        let t = store.by_txn_seq(1).expect("trace");
        assert_eq!(t.walk().len(), MAX_SPANS_PER_TRACE);
        let dropped = t.fields["dropped_spans"].as_u64();
        assert_eq!(dropped, Some(extra as u64 + 1));
    }

    #[test]
    fn the_store_keeps_only_the_last_traces() {
        let store = TraceStore::new(2);
        let sub = tracing_subscriber::registry().with(store.layer());
        tracing::subscriber::with_default(sub, || {
            for seq in 0..3u64 {
                drop(info_span!("scheduler_txn", txn_seq = seq));
            }
        });
        assert!(store.by_txn_seq(0).is_none());
        assert!(store.by_txn_seq(1).is_some());
        assert!(store.by_txn_seq(2).is_some());
    }
}
