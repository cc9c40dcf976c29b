//! KV store connectors: one backend trait ([`KvBackend`]) and five backends (etcd, Redis,
//! Consul, embedded redb, fileDB), as plain async code on tokio.
//!
//! # The guarantee: no change lost, none applied twice
//!
//! A consumer resyncs from [`KvBackend::snapshot`] and then follows [`KvBackend::watch`] from
//! that snapshot. Folding the watch's changes over the snapshot gives, after every event,
//! exactly the store's content of the prefix; every change carries the previous value the
//! consumer holds for that key, so a lost or doubled change shows up as a `prev` mismatch
//! ([`LastSeen::apply_checked`] checks it, and the compliance suite uses it).
//!
//! How each store honours it:
//!
//! | store | revision | previous value | gap (reconnect, compaction, lag) |
//! |---|---|---|---|
//! | etcd | store revision | `prev_kv`, else the watch's cache | replay history from the last revision + 1; if compacted, snapshot diff |
//! | Redis | counter of the backend instance | the watch's cache | subscribe first, then `SCAN` and diff |
//! | Consul | `X-Consul-Index` | the watch's cache | every blocking query answer is diffed |
//! | embedded | counter persisted in the file | read in the write transaction | snapshot diff |
//! | fileDB | counter of the backend instance | the previous merged view | snapshot diff |
//!
//! Stores without history coalesce intermediate values of a key (the final state is never
//! lost). A Redis or fileDB revision means nothing to another backend instance; resuming
//! after a restart goes through the consumer's view (a [`Snapshot`]), which the new watch
//! diffs against.
//!
//! etcd and Redis connect over TLS when their options ask for it (rustls with ring; files read
//! up front so errors name them, and a failed handshake is explained; see `tls.rs`).
//!
//! Deliberately not here: decoding values into models, the agent-wide resync policy, and actors
//! (the connector actor lives in `actors` and is generic over [`KvBackend`]).

mod backend;
mod cache;
mod closer;
pub mod consul;
pub mod embedded;
mod error;
pub mod etcd;
pub mod filedb;
mod hub;
pub mod redis;
#[cfg(feature = "testkit")]
pub mod testkit;
mod tls;
mod types;

pub use backend::{AnyBackend, BackendOptions, BatchOp, BatchWritten, KvBackend};
pub use cache::LastSeen;
pub use consul::{ConsulBackend, ConsulOptions};
pub use embedded::{EmbeddedBackend, EmbeddedOptions};
pub use error::{BoxError, ConnectorError, ErrorKind, Result, Store};
pub use etcd::{EtcdBackend, EtcdOptions};
pub use filedb::{FileDbBackend, FileDbOptions};
pub use redis::{RedisBackend, RedisOptions, RedisTlsOptions};
pub use types::{Change, ChangeBatch, KeyValue, Revision, Snapshot, Watch, WatchEvent};
