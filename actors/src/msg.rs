//! The actix envelopes of the messages actors exchange, and their reply types.
//!
//! | message | from → to | meaning |
//! |---|---|---|
//! | [`StoreResynced`] | connector → watcher | a full snapshot of the agent's prefix (after every (re)connect) |
//! | [`StoreChanged`] | connector → watcher | changes after the snapshot, with previous values |
//! | [`ConnectorStateChanged`] | connector → observers | connected, disconnected, backing off |
//! | [`SourceResynced`] | watcher → orchestrator | a source's whole share of the desired state, decoded |
//! | [`SourceChanged`] | watcher → orchestrator | decoded changes of one source |
//! | [`ApplyTxn`] | orchestrator, REST → scheduler | run a transaction, reply [`TxnReport`] |
//! | [`DryRunTxn`] | REST, orchestrator → scheduler | plan a transaction without executing it |
//! | [`ClientTxn`] | local client, gRPC → orchestrator | a client's change or resync of its own source, reply [`TxnReport`] |
//! | [`RunDueRetries`] | retry timer → scheduler | run retry transactions that are due |
//! | [`QueryStatus`] | anyone → scheduler | value status by key prefix |
//! | [`QueryHistory`], [`QueryTimeline`], [`QueryGraph`], [`QueryValueStatus`], [`QueryDump`], [`QueryDescriptors`] | REST → scheduler | read-only views of the core |
//! | [`SubscribeStatus`], [`StatusChanged`] | scheduler → status publisher | statuses touched by each transaction |
//! | [`WriteKeys`] | status publisher → connector | writes through the store connection |
//!
//! Every message carries the sender's tracing span (`span`), so one change is one trace across
//! mailboxes. The data inside is the `messages` and `kvscheduler` vocabulary; only the
//! envelopes are actix types.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use actix::Message;
use bytes::Bytes;
use kvscheduler::{
    BaseValueStatus, KvError, RecordedKVPair, RecordedNode, RecordedTxn, Txn, TxnReport,
};
use messages::{Key, Value};

/// Which northbound source a value came from: a store connector (`etcd`, `redis`, ...),
/// `grpc`, `local`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceId(Arc<str>);

impl SourceId {
    pub fn new(name: &str) -> Self {
        SourceId(name.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A full snapshot of the agent's prefix in one store (raw keys and bytes).
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct StoreResynced {
    pub source: SourceId,
    pub revision: u64,
    pub entries: Vec<(String, Bytes)>,
    pub span: tracing::Span,
}

/// One raw change of a store key: `value: None` is a delete.
#[derive(Debug, Clone)]
pub struct RawChange {
    pub key: String,
    pub value: Option<Bytes>,
    pub prev: Option<Bytes>,
}

/// Changes of a store after its snapshot, in store order.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct StoreChanged {
    pub source: SourceId,
    pub revision: u64,
    pub changes: Vec<RawChange>,
    pub span: tracing::Span,
}

/// The connection state of a connector, for status and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionState {
    Connecting,
    Connected,
    /// Lost or failed; `retry_in_ms` until the next attempt.
    Disconnected {
        error: String,
        retry_in_ms: u64,
    },
}

#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct ConnectorStateChanged {
    pub source: SourceId,
    pub state: ConnectionState,
}

/// A value that could not be decoded: stays out of the dataplane, visible in status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    pub key: Key,
    pub error: String,
}

/// A source's complete share of the desired state.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct SourceResynced {
    pub source: SourceId,
    pub values: Vec<(Key, Value)>,
    pub invalid: Vec<InvalidValue>,
    pub span: tracing::Span,
}

/// Decoded changes of one source (`None` deletes).
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct SourceChanged {
    pub source: SourceId,
    pub changes: Vec<(Key, Option<Value>)>,
    pub invalid: Vec<InvalidValue>,
    pub span: tracing::Span,
}

/// Run a transaction.
#[derive(Message, Debug)]
#[rtype(result = "Result<TxnReport, KvError>")]
pub struct ApplyTxn {
    pub txn: Txn,
    pub span: tracing::Span,
}

/// Plan a transaction without executing it.
#[derive(Message, Debug)]
#[rtype(result = "Result<TxnReport, KvError>")]
pub struct DryRunTxn {
    pub txn: Txn,
}

/// A northbound client's transaction on its own source (the local client, gRPC): merged by the
/// orchestrator like a store change and answered with the scheduler's report.
#[derive(Message, Debug)]
#[rtype(result = "Result<kvscheduler::TxnReport, kvscheduler::KvError>")]
pub struct ClientTxn {
    /// `local`, `grpc`, ...: the source owning these values (conflicts with other sources as
    /// for stores: the most recent change wins, logged and visible in status).
    pub source: SourceId,
    /// `true`: replace the source's whole share by the puts in `changes` (a resync of that
    /// source only); `false`: incremental puts and deletes, committed as one transaction.
    pub resync: bool,
    /// Key → `Some(value)` to put, `None` to delete.
    pub changes: Vec<(messages::Key, Option<messages::Value>)>,
    /// Plan only: nothing executed, the orchestrator's state unchanged, the report's
    /// `dry_run` is true and its `ops()` are the planned operations.
    pub dry_run: bool,
    pub span: tracing::Span,
}

/// Run retry transactions that are due; replies with their reports and the next due time.
#[derive(Message, Debug)]
#[rtype(result = "(Vec<TxnReport>, Option<SystemTime>)")]
pub struct RunDueRetries;

/// Value status of every non-derived value under a key prefix (all values with `""`).
#[derive(Message, Debug)]
#[rtype(result = "Result<Vec<BaseValueStatus>, KvError>")]
pub struct QueryStatus {
    pub key_prefix: String,
}

/// The transaction history: one recorded transaction (`seq_num`), or those started in
/// `[since, until]`, as records or in Ligato's text form.
#[derive(Message, Debug)]
#[rtype(result = "Result<History, KvError>")]
pub struct QueryHistory {
    pub seq_num: Option<u64>,
    pub since: Option<SystemTime>,
    pub until: Option<SystemTime>,
    pub text: bool,
}

/// The reply to [`QueryHistory`].
#[derive(Debug)]
pub enum History {
    One(Arc<RecordedTxn>),
    Many(Vec<Arc<RecordedTxn>>),
    Text(String),
}

/// Every recorded version of one key, oldest first.
#[derive(Message, Debug)]
#[rtype(result = "Vec<RecordedNode>")]
pub struct QueryTimeline {
    pub key: Key,
}

/// The current graph, as records or (with `dot`) as Graphviz text.
#[derive(Message, Debug)]
#[rtype(result = "Graph")]
pub struct QueryGraph {
    pub dot: bool,
}

/// The reply to [`QueryGraph`].
#[derive(Debug)]
pub enum Graph {
    Nodes(Vec<RecordedNode>),
    Dot(String),
}

/// The status of one top-level value with its derived values.
#[derive(Message, Debug)]
#[rtype(result = "BaseValueStatus")]
pub struct QueryValueStatus {
    pub key: Key,
}

/// Which values a [`QueryDump`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpView {
    /// The desired values (from the northbound sources).
    Nb,
    /// The values the scheduler believes are applied in the dataplane (Ligato's `SB` asks the
    /// descriptors to retrieve; here it is the same as `Cached`).
    Sb,
    /// The values the scheduler believes are applied.
    Cached,
}

/// The non-derived values under a key prefix, in one view.
#[derive(Message, Debug)]
#[rtype(result = "Result<Vec<RecordedKVPair>, KvError>")]
pub struct QueryDump {
    pub key_prefix: String,
    pub view: DumpView,
}

/// `(name, NB key prefix)` of every registered descriptor (the dump index).
#[derive(Message, Debug)]
#[rtype(result = "Vec<(String, Option<String>)>")]
pub struct QueryDescriptors;

/// Statuses of the values a transaction touched (scheduler → status publisher; best effort).
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct StatusChanged {
    pub statuses: Vec<kvscheduler::ValueStatus>,
}

/// Ask the scheduler to report status changes to `0`.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct SubscribeStatus(pub actix::Recipient<StatusChanged>);

/// Write (or with `None` delete) store keys through a connector's connection.
#[derive(Message, Debug)]
#[rtype(result = "Result<(), String>")]
pub struct WriteKeys {
    pub entries: Vec<(String, Option<Bytes>)>,
}
