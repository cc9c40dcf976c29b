//! The etcd watch task: a prefix watch with `prev_kv` from the last delivered revision + 1.
//!
//! - A broken stream is re-created from the same revision after `reconnect_interval`: etcd
//!   replays the history, so nothing is lost or doubled; a `Resumed` event marks the replay.
//! - A compacted start revision (etcd cancels the watch with `compact_revision` set) is
//!   recovered by a fresh snapshot diffed against the watch's [`LastSeen`] cache (`Resynced`),
//!   then the watch continues from the snapshot's revision + 1.
//!
//! Deliberately not here: the status-check probe and the agent-wide resync policy.

use std::time::Duration;

use bytes::Bytes;
use etcd_client::{Client, EventType, WatchOptions};
use tokio::sync::mpsc;
use tracing::Instrument as _;

use super::{MAX_MESSAGE, map_err, prefix_end, read_snapshot};
use crate::cache::LastSeen;
use crate::closer::Closer;
use crate::error::{ConnectorError, Store};
use crate::types::{Change, ChangeBatch, Revision, Snapshot, WATCH_BUFFER, Watch, WatchEvent};

/// Starts the watch task.
pub(super) fn spawn(
    closer: Closer,
    client: Client,
    prefix: String,
    from: Snapshot,
    op_timeout: Duration,
    reconnect: Duration,
) -> Watch {
    let (tx, rx) = mpsc::channel(WATCH_BUFFER);
    let span = tracing::info_span!("watch", connector = "etcd", prefix = %prefix);
    let task = tokio::spawn(
        async move {
            let mut w = Watcher {
                client,
                prefix,
                seen: LastSeen::from_snapshot(from),
                tx,
                op_timeout,
                reconnect,
                broken: false,
            };
            closer.run_until_closed(w.run()).await;
        }
        .instrument(span),
    );
    Watch::new(rx, task)
}

struct Watcher {
    client: Client,
    prefix: String,
    seen: LastSeen,
    tx: mpsc::Sender<WatchEvent>,
    op_timeout: Duration,
    reconnect: Duration,
    /// A problem was reported and the store has not come back yet.
    broken: bool,
}

/// Whether the consumer is still there.
type Alive = bool;

impl Watcher {
    fn next_revision(&self) -> i64 {
        i64::try_from(self.seen.revision().get()).unwrap_or(i64::MAX - 1) + 1
    }

    async fn run(&mut self) {
        loop {
            let alive = self.watch_once().await;
            if !alive {
                return;
            }
            // Back off only while the store is down; after a compaction resync, go on at once.
            if self.broken {
                tokio::time::sleep(self.reconnect).await;
            }
        }
    }

    async fn problem(&mut self, err: ConnectorError) -> Alive {
        if self.broken {
            tracing::debug!(connector = "etcd", error = %err, "etcd watch still down");
            return true;
        }
        tracing::warn!(connector = "etcd", error = %err, "etcd watch lost its stream; it will reconnect");
        self.broken = true;
        self.tx.send(WatchEvent::Problem(err)).await.is_ok()
    }

    /// One watch stream until it breaks; returns whether the consumer is still there.
    async fn watch_once(&mut self) -> Alive {
        let start = self.next_revision();
        let opts = WatchOptions::new()
            .with_range(prefix_end(self.prefix.as_bytes()))
            .with_prev_key()
            .with_start_revision(start);
        let mut watch_client = self
            .client
            .watch_client()
            .max_decoding_message_size(MAX_MESSAGE);
        let mut stream = match watch_client.watch(self.prefix.clone(), Some(opts)).await {
            Ok(s) => s,
            Err(e) => return self.problem(map_err("watch", &self.prefix, e)).await,
        };
        loop {
            let resp = match stream.message().await {
                Ok(Some(resp)) => resp,
                Ok(None) => {
                    let err = ConnectorError::Disconnected {
                        store: Store::Etcd,
                        op: "watch",
                        key: self.prefix.clone(),
                        source: "the watch stream ended".into(),
                    };
                    return self.problem(err).await;
                }
                Err(e) => return self.problem(map_err("watch", &self.prefix, e)).await,
            };
            if resp.compact_revision() > 0 {
                tracing::info!(
                    connector = "etcd",
                    compacted = resp.compact_revision(),
                    start,
                    "etcd history compacted past the watch; resyncing by snapshot diff"
                );
                return self.resync().await;
            }
            if resp.canceled() {
                let err = ConnectorError::Rejected {
                    store: Store::Etcd,
                    op: "watch",
                    key: self.prefix.clone(),
                    reason: format!("watch canceled: {}", resp.cancel_reason()),
                };
                return self.problem(err).await;
            }
            if resp.created() && self.broken {
                self.broken = false;
                let revision = self.seen.revision();
                if self
                    .tx
                    .send(WatchEvent::Resumed { revision })
                    .await
                    .is_err()
                {
                    return false;
                }
            }
            if resp.events().is_empty() {
                continue;
            }
            let mut changes = Vec::with_capacity(resp.events().len());
            for ev in resp.events() {
                let Some(kv) = ev.kv() else { continue };
                let value = match ev.event_type() {
                    EventType::Put => Some(Bytes::copy_from_slice(kv.value())),
                    EventType::Delete => None,
                };
                let change = Change {
                    key: String::from_utf8_lossy(kv.key()).into_owned(),
                    value,
                    prev: ev.prev_kv().map(|p| Bytes::copy_from_slice(p.value())),
                    revision: Revision(u64::try_from(kv.mod_revision()).unwrap_or(0)),
                };
                changes.push(self.seen.record(change));
            }
            let batch = ChangeBatch {
                revision: self.seen.revision(),
                changes,
            };
            if self.tx.send(WatchEvent::Changes(batch)).await.is_err() {
                return false;
            }
        }
    }

    async fn resync(&mut self) -> Alive {
        match read_snapshot(&self.client, &self.prefix, self.op_timeout).await {
            Ok(snapshot) => {
                self.broken = false;
                let batch = self.seen.diff_to(snapshot);
                self.tx.send(WatchEvent::Resynced(batch)).await.is_ok()
            }
            Err(err) => self.problem(err).await,
        }
    }
}
