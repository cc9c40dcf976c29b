//! The Redis watch task: subscribe to keyspace notifications, scan and diff, then reconcile
//! notified keys (batched `MGET`) against the watch's [`LastSeen`] cache until the
//! subscription breaks; then report once, back off and start over (the scan diff after a
//! reconnect is the `Resynced` event).
//!
//! Deliberately not here: the notification check and plain get/put/delete (see the parent).

use futures::{FutureExt, StreamExt};
use tokio::sync::mpsc;

use super::{RedisBackend, glob_escape, map_err, mget};
use crate::backend::KvBackend as _;
use crate::cache::LastSeen;
use crate::error::{ConnectorError, Store};
use crate::types::{ChangeBatch, WatchEvent};

/// How many notifications one reconciliation round reads at most.
const MAX_ROUND: usize = 512;

pub(super) struct Watcher {
    pub(super) backend: RedisBackend,
    pub(super) prefix: String,
    pub(super) seen: LastSeen,
    pub(super) tx: mpsc::Sender<WatchEvent>,
    pub(super) broken: bool,
}

enum Next {
    Stop,
    Reconnect(ConnectorError),
}

impl Watcher {
    pub(super) async fn run(&mut self) {
        loop {
            match self.session().await {
                Next::Stop => return,
                Next::Reconnect(err) => {
                    if !self.broken {
                        tracing::warn!(connector = "redis", error = %err, "redis watch lost its subscription; it will resync after reconnecting");
                        self.broken = true;
                        if self.tx.send(WatchEvent::Problem(err)).await.is_err() {
                            return;
                        }
                    }
                    tokio::time::sleep(self.backend.options.reconnect_interval).await;
                }
            }
        }
    }

    /// One subscription: subscribe, scan and diff, then reconcile notified keys until the
    /// subscription breaks.
    async fn session(&mut self) -> Next {
        let opts = self.backend.options.clone();
        let channel_prefix = format!("__keyspace@{}__:", opts.db);
        let pattern = format!("{channel_prefix}{}*", glob_escape(&self.prefix));
        let pubsub =
            match tokio::time::timeout(opts.dial_timeout, self.backend.client.get_async_pubsub())
                .await
            {
                Ok(Ok(p)) => p,
                Ok(Err(e)) => return Next::Reconnect(map_err("subscribe", &self.prefix, e)),
                Err(_) => {
                    return Next::Reconnect(ConnectorError::Timeout {
                        store: Store::Redis,
                        op: "subscribe",
                        key: self.prefix.clone(),
                        after: opts.dial_timeout,
                    });
                }
            };
        let mut pubsub = pubsub;
        if let Err(e) = pubsub.psubscribe(&pattern).await {
            return Next::Reconnect(map_err("subscribe", &self.prefix, e));
        }
        let (mut sink, mut stream) = pubsub.split();
        let mut health = tokio::time::interval(opts.health_check_interval);
        health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        health.tick().await;
        let snapshot = match self.backend.snapshot(&self.prefix).await {
            Ok(s) => s,
            Err(err) => return Next::Reconnect(err),
        };
        let batch = self.seen.diff_to(snapshot);
        // After a reconnect the (possibly empty) diff also says the store is back.
        let report = self.broken || !batch.changes.is_empty();
        self.broken = false;
        if report && self.tx.send(WatchEvent::Resynced(batch)).await.is_err() {
            return Next::Stop;
        }
        let mut conn = self.backend.conn.clone();
        loop {
            let next = tokio::select! {
                msg = stream.next() => msg,
                _ = health.tick() => {
                    // A silent partition leaves the subscription hanging; a PING finds it.
                    let after = self.backend.options.read_timeout;
                    match tokio::time::timeout(after, sink.ping::<redis::Value>()).await {
                        Ok(Ok(_)) => continue,
                        Ok(Err(e)) => return Next::Reconnect(map_err("ping", &self.prefix, e)),
                        Err(_) => {
                            return Next::Reconnect(ConnectorError::Timeout {
                                store: Store::Redis,
                                op: "health check of the watch on",
                                key: self.prefix.clone(),
                                after,
                            });
                        }
                    }
                }
            };
            let Some(first) = next else {
                return Next::Reconnect(ConnectorError::Disconnected {
                    store: Store::Redis,
                    op: "watch",
                    key: self.prefix.clone(),
                    source: "the subscription connection closed".into(),
                });
            };
            let mut keys = Vec::new();
            let mut ended = false;
            let push = |msg: redis::Msg, keys: &mut Vec<String>| {
                if let Some(key) = msg.get_channel_name().strip_prefix(&channel_prefix)
                    && !keys.iter().any(|k| k == key)
                {
                    keys.push(key.to_owned());
                }
            };
            push(first, &mut keys);
            while keys.len() < MAX_ROUND {
                match stream.next().now_or_never() {
                    Some(Some(msg)) => push(msg, &mut keys),
                    Some(None) => {
                        ended = true;
                        break;
                    }
                    None => break,
                }
            }
            let values = match mget(&mut conn, &keys).await {
                Ok(v) => v,
                Err(err) => return Next::Reconnect(err),
            };
            let revision = self.backend.next_revision();
            let changes: Vec<_> = values
                .into_iter()
                .filter_map(|(k, v)| self.seen.observe(&k, v, revision))
                .collect();
            if !changes.is_empty() {
                let batch = ChangeBatch { revision, changes };
                if self.tx.send(WatchEvent::Changes(batch)).await.is_err() {
                    return Next::Stop;
                }
            }
            if ended {
                return Next::Reconnect(ConnectorError::Disconnected {
                    store: Store::Redis,
                    op: "watch",
                    key: self.prefix.clone(),
                    source: "the subscription connection closed".into(),
                });
            }
        }
    }
}
