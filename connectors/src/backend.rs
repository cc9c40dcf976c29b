//! The backend trait [`KvBackend`] and [`AnyBackend`], the enum that dispatches to the five
//! backends from one [`BackendOptions`].
//!
//! Why a trait with `impl Future + Send` methods *and* an enum, rather than `dyn KvBackend`:
//! async methods are not object-safe without boxing every future (`async-trait`), and the set
//! of backends is closed (five stores, chosen by config). So code that is written once for all
//! stores (the compliance suite, the benchmark, a generic connector actor) is generic over
//! `B: KvBackend`, and the agent, which picks the store at run time, holds an [`AnyBackend`],
//! which implements the same trait by a `match`. Adding a store means adding a variant, and
//! the compiler lists every place to update.
//!
//! Deliberately not here: the semantics of each store (see the backend modules) and any
//! decoding of values.

use std::future::Future;

use bytes::Bytes;

use crate::consul::{ConsulBackend, ConsulOptions};
use crate::embedded::{EmbeddedBackend, EmbeddedOptions};
use crate::error::{ConnectorError, Result, Store};
use crate::etcd::{EtcdBackend, EtcdOptions};
use crate::filedb::{FileDbBackend, FileDbOptions};
use crate::redis::{RedisBackend, RedisOptions};
use crate::types::{KeyValue, Revision, Snapshot, Watch};

/// One KV store. Keys are full store keys (`/vnf-agent/<label>/...`), values are bytes.
///
/// The contract every backend honours ("no change lost, none applied twice"):
/// - [`KvBackend::snapshot`] returns the content of a prefix at one revision.
/// - [`KvBackend::watch`] from a snapshot delivers events such that, folding them over the
///   snapshot in order, the consumer's view equals the store's content of the prefix after
///   each event, and every change's `prev` equals the value the consumer holds for that key
///   just before it (so a lost or doubled change is detectable, see
///   [`crate::LastSeen::apply_checked`]).
/// - After a gap (reconnect, etcd compaction, a lagging consumer) the watch recovers by itself,
///   with a `Resynced` batch that is the exact diff between what it delivered and a fresh
///   snapshot; etcd replays history instead when the history is still there.
/// - Per key, changes arrive in commit order. Stores without history (Redis, Consul, fileDB,
///   and embedded catch-up) may coalesce intermediate values of a key, never its final state.
pub trait KvBackend: Send + Sync + 'static {
    /// Which store this is.
    fn store(&self) -> Store;

    /// The value of one key.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Bytes>>> + Send;

    /// All keys under a prefix, sorted by key.
    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<KeyValue>>> + Send {
        async move {
            let snapshot = self.snapshot(prefix).await?;
            Ok(snapshot
                .entries
                .into_iter()
                .map(|(key, value)| KeyValue { key, value })
                .collect())
        }
    }

    /// Writes one key. When this returns `Ok`, the write is committed.
    fn put(&self, key: &str, value: Bytes) -> impl Future<Output = Result<()>> + Send;

    /// Deletes one key (no error if it does not exist).
    fn delete(&self, key: &str) -> impl Future<Output = Result<()>> + Send;

    /// Writes several keys, as one store transaction where the store has them
    /// ([`BatchWritten::atomic`]): etcd (one `Txn`, at most etcd's `--max-txn-ops`, 128 by
    /// default, and no key twice), Redis (`MULTI`/`EXEC`) and embedded (one redb write
    /// transaction) are atomic; Consul and fileDB use this default, the writes one after the
    /// other, so a failure part way leaves the earlier writes done.
    fn write_batch(&self, ops: Vec<BatchOp>) -> impl Future<Output = Result<BatchWritten>> + Send {
        async move {
            for op in ops {
                match op {
                    BatchOp::Put { key, value } => self.put(&key, value).await?,
                    BatchOp::Delete { key } => self.delete(&key).await?,
                }
            }
            Ok(BatchWritten {
                revision: None,
                atomic: false,
            })
        }
    }

    /// The content of a prefix at one revision.
    fn snapshot(&self, prefix: &str) -> impl Future<Output = Result<Snapshot>> + Send;

    /// Watches a prefix for the changes after `from` (usually the snapshot the consumer just
    /// resynced from; [`Snapshot::empty`] replays the prefix as puts).
    fn watch(&self, prefix: &str, from: Snapshot) -> impl Future<Output = Result<Watch>> + Send;

    /// Closes the backend; watches end and later calls fail with `Closed`.
    fn close(&self) -> impl Future<Output = Result<()>> + Send;
}

/// One write of a [`KvBackend::write_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOp {
    Put {
        key: String,
        value: Bytes,
    },
    /// No error if the key does not exist.
    Delete {
        key: String,
    },
}

impl BatchOp {
    /// The store key written.
    pub fn key(&self) -> &str {
        match self {
            BatchOp::Put { key, .. } | BatchOp::Delete { key } => key,
        }
    }
}

/// What the store says about a committed [`KvBackend::write_batch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchWritten {
    /// The revision of the commit, where the store reports one: etcd's revision of the
    /// transaction, embedded's revision after the commit that took the batch; `None` for Redis,
    /// Consul and fileDB.
    pub revision: Option<Revision>,
    /// True when the batch was one store transaction (all or nothing).
    pub atomic: bool,
}

/// Rejects keys no store can hold.
pub(crate) fn check_key(store: Store, key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(ConnectorError::BadKey {
            store,
            key: key.to_owned(),
            reason: "the key is empty",
        });
    }
    if key.contains('\0') {
        return Err(ConnectorError::BadKey {
            store,
            key: key.to_owned(),
            reason: "the key contains a NUL character",
        });
    }
    Ok(())
}

/// Which store to open, with its options.
#[derive(Debug, Clone)]
pub enum BackendOptions {
    Etcd(EtcdOptions),
    Redis(RedisOptions),
    Consul(ConsulOptions),
    Embedded(EmbeddedOptions),
    FileDb(FileDbOptions),
}

/// A backend chosen at run time.
#[derive(Debug)]
pub enum AnyBackend {
    /// Boxed: the etcd client is large.
    Etcd(Box<EtcdBackend>),
    Redis(RedisBackend),
    Consul(ConsulBackend),
    Embedded(EmbeddedBackend),
    FileDb(FileDbBackend),
}

impl AnyBackend {
    /// Opens the store the options name.
    pub async fn open(options: BackendOptions) -> Result<Self> {
        Ok(match options {
            BackendOptions::Etcd(o) => AnyBackend::Etcd(Box::new(EtcdBackend::connect(o).await?)),
            BackendOptions::Redis(o) => AnyBackend::Redis(RedisBackend::connect(o).await?),
            BackendOptions::Consul(o) => AnyBackend::Consul(ConsulBackend::connect(o).await?),
            BackendOptions::Embedded(o) => AnyBackend::Embedded(EmbeddedBackend::open(o).await?),
            BackendOptions::FileDb(o) => AnyBackend::FileDb(FileDbBackend::open(o).await?),
        })
    }
}

macro_rules! dispatch {
    ($self:ident, $b:ident => $call:expr) => {
        match $self {
            AnyBackend::Etcd($b) => $call,
            AnyBackend::Redis($b) => $call,
            AnyBackend::Consul($b) => $call,
            AnyBackend::Embedded($b) => $call,
            AnyBackend::FileDb($b) => $call,
        }
    };
}

impl KvBackend for AnyBackend {
    fn store(&self) -> Store {
        dispatch!(self, b => b.store())
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        dispatch!(self, b => b.get(key).await)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<KeyValue>> {
        dispatch!(self, b => b.list(prefix).await)
    }

    async fn put(&self, key: &str, value: Bytes) -> Result<()> {
        dispatch!(self, b => b.put(key, value).await)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        dispatch!(self, b => b.delete(key).await)
    }

    async fn write_batch(&self, ops: Vec<BatchOp>) -> Result<BatchWritten> {
        dispatch!(self, b => b.write_batch(ops).await)
    }

    async fn snapshot(&self, prefix: &str) -> Result<Snapshot> {
        dispatch!(self, b => b.snapshot(prefix).await)
    }

    async fn watch(&self, prefix: &str, from: Snapshot) -> Result<Watch> {
        dispatch!(self, b => b.watch(prefix, from).await)
    }

    async fn close(&self) -> Result<()> {
        dispatch!(self, b => b.close().await)
    }
}
