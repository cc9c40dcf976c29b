//! The data that crosses the backend trait: [`Revision`], [`Snapshot`], [`Change`],
//! [`ChangeBatch`], [`WatchEvent`] and the [`Watch`] handle a consumer reads events from.
//!
//! Deliberately not here: decoding values into models (the layer above does that) and any
//! store-specific logic.

use std::collections::BTreeMap;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::ConnectorError;

/// A store revision: every committed change has one, and they only grow.
///
/// etcd: the store revision. Consul: the `X-Consul-Index`. Embedded: a counter persisted in
/// the database file. fileDB and Redis: a counter kept by the backend instance (see the
/// crate docs for what that means for "watch from a revision").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Revision(pub u64);

impl Revision {
    /// Before any change.
    pub const ZERO: Revision = Revision(0);

    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl std::fmt::Display for Revision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One key with its value, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Bytes,
}

/// The content of a prefix at one revision: what a resync is built from and what a watch
/// continues from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// The revision the content belongs to.
    pub revision: Revision,
    /// The keys under the prefix, sorted.
    pub entries: BTreeMap<String, Bytes>,
}

impl Snapshot {
    /// An empty snapshot at revision zero: watching from it replays the whole prefix as puts.
    pub fn empty() -> Self {
        Snapshot::default()
    }
}

/// One change of one key. A put has `value: Some`, a delete `value: None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub key: String,
    /// The new value; `None` for a delete.
    pub value: Option<Bytes>,
    /// The value before this change as the watch last delivered it; `None` if the key did not
    /// exist.
    pub prev: Option<Bytes>,
    /// The revision of the change.
    pub revision: Revision,
}

impl Change {
    /// True for a delete.
    pub fn is_delete(&self) -> bool {
        self.value.is_none()
    }
}

/// Changes delivered together, in order; `revision` is the highest revision in the batch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChangeBatch {
    pub revision: Revision,
    pub changes: Vec<Change>,
}

/// What a [`Watch`] delivers.
#[derive(Debug)]
pub enum WatchEvent {
    /// Live changes in store order.
    Changes(ChangeBatch),
    /// Changes computed by diffing a fresh snapshot against what the watch had delivered,
    /// after a gap: the start of a watch on a store that cannot replay history, a reconnect,
    /// an etcd compaction, or a lagging consumer. Intermediate values of a key are coalesced.
    /// After a reconnect it is sent even when empty, so the consumer knows the store is back.
    Resynced(ChangeBatch),
    /// The store is back after an [`WatchEvent::Problem`] and the watch replays the exact
    /// history from where it stopped (etcd only); the replay follows as `Changes`.
    Resumed { revision: Revision },
    /// Something needs attention; the watch goes on (a lost connection being retried, a broken
    /// fileDB file whose last good content stays). If the error is not retriable and the
    /// stream ends after it, the watch has failed.
    Problem(ConnectorError),
}

/// A running watch. Dropping it stops the watch task.
#[derive(Debug)]
pub struct Watch {
    rx: mpsc::Receiver<WatchEvent>,
    task: JoinHandle<()>,
}

impl Watch {
    /// Wraps the receiving end of a watch task's channel.
    pub(crate) fn new(rx: mpsc::Receiver<WatchEvent>, task: JoinHandle<()>) -> Self {
        Watch { rx, task }
    }

    /// The next event; `None` once the watch has ended (backend closed or a fatal problem).
    pub async fn next(&mut self) -> Option<WatchEvent> {
        self.rx.recv().await
    }
}

/// A watch is also a stream of events, for `select!`-style consumers.
impl futures::Stream for Watch {
    type Item = WatchEvent;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<WatchEvent>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How many events a watch buffers before its task waits for the consumer.
pub(crate) const WATCH_BUFFER: usize = 256;
