//! The Consul backend: the thin KV client in `client.rs`, keys with their leading `/` trimmed
//! as Ligato does (`transformKey`), and watches by blocking queries
//! (`GET /v1/kv/<prefix>?recurse&index=<last>&wait=<wait>`).
//!
//! A blocking query returns the whole prefix when it changed, without saying what changed or
//! what was deleted, so each answer is diffed against the watch's [`LastSeen`] cache: that
//! gives previous values and deletes, and makes repeated or spurious wake-ups harmless. The
//! revision is the `X-Consul-Index`; when it goes backwards (a Consul restart) the watch
//! starts over from index 0, as Consul's documentation says, and the diff keeps it exact.
//!
//! Deliberately not here: ACL management, sessions, and the status-check probe.

mod client;

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tracing::Instrument as _;

use crate::backend::{KvBackend, check_key};
use crate::cache::LastSeen;
use crate::closer::Closer;
use crate::error::{ConnectorError, Result, Store};
use crate::types::{Revision, Snapshot, WATCH_BUFFER, Watch, WatchEvent};
use client::KvClient;

pub use client::MAX_VALUE as CONSUL_MAX_VALUE;

/// Options of the Consul backend (`--consul-config`: address, token).
#[derive(Debug, Clone)]
pub struct ConsulOptions {
    /// `host:port` or an `http://` URL.
    pub address: String,
    /// ACL token, sent as `X-Consul-Token`.
    pub token: Option<String>,
    /// How long one request may take (a blocking query gets `wait` on top).
    pub request_timeout: Duration,
    /// How long a blocking query waits for a change before it is re-issued.
    pub wait: Duration,
    /// How long a watch waits between reconnect attempts.
    pub reconnect_interval: Duration,
}

impl ConsulOptions {
    /// Options for a Consul agent at `address`.
    pub fn new(address: impl Into<String>) -> Self {
        ConsulOptions {
            address: address.into(),
            token: None,
            request_timeout: Duration::from_secs(5),
            wait: Duration::from_secs(60),
            reconnect_interval: Duration::from_secs(1),
        }
    }
}

/// The Consul backend.
#[derive(Debug, Clone)]
pub struct ConsulBackend {
    client: KvClient,
    options: ConsulOptions,
    closer: Closer,
}

/// The store key: one leading `/` removed (Ligato's `transformKey`).
fn store_key(key: &str) -> &str {
    key.strip_prefix('/').unwrap_or(key)
}

/// Turns a listing into a snapshot with keys as the caller spells them: with the leading `/`
/// when the prefix had one.
fn to_snapshot(prefix: &str, index: u64, entries: Vec<client::Entry>) -> Snapshot {
    let slash = prefix.starts_with('/');
    Snapshot {
        revision: Revision(index),
        entries: entries
            .into_iter()
            .map(|e| {
                let key = if slash { format!("/{}", e.key) } else { e.key };
                (key, e.value)
            })
            .collect(),
    }
}

impl ConsulBackend {
    /// Makes the client and checks that the agent answers.
    pub async fn connect(options: ConsulOptions) -> Result<Self> {
        let client = KvClient::new(
            &options.address,
            options.token.clone(),
            options.request_timeout,
        )?;
        client
            .list("probe-consul-connection", None)
            .await
            .map_err(|e| match e {
                // A refusal (a wrong token) is not a connection problem and not retriable.
                ConnectorError::Rejected { .. } => e,
                other => ConnectorError::Connect {
                    store: Store::Consul,
                    endpoint: options.address.clone(),
                    source: Box::new(other),
                },
            })?;
        Ok(ConsulBackend {
            client,
            options,
            closer: Closer::new(),
        })
    }
}

impl KvBackend for ConsulBackend {
    fn store(&self) -> Store {
        Store::Consul
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        check_key(Store::Consul, key)?;
        self.closer.check(Store::Consul)?;
        self.client
            .get(store_key(key))
            .await
            .map_err(|e| rename_key(e, key))
    }

    async fn put(&self, key: &str, value: Bytes) -> Result<()> {
        check_key(Store::Consul, key)?;
        self.closer.check(Store::Consul)?;
        self.client
            .put(store_key(key), value)
            .await
            .map_err(|e| rename_key(e, key))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        check_key(Store::Consul, key)?;
        self.closer.check(Store::Consul)?;
        self.client
            .delete(store_key(key))
            .await
            .map_err(|e| rename_key(e, key))
    }

    async fn snapshot(&self, prefix: &str) -> Result<Snapshot> {
        self.closer.check(Store::Consul)?;
        let (index, entries) = self.client.list(store_key(prefix), None).await?;
        Ok(to_snapshot(prefix, index, entries))
    }

    async fn watch(&self, prefix: &str, from: Snapshot) -> Result<Watch> {
        self.closer.check(Store::Consul)?;
        let (tx, rx) = mpsc::channel(WATCH_BUFFER);
        let closer = self.closer.clone();
        let client = self.client.clone();
        let options = self.options.clone();
        let prefix = prefix.to_owned();
        let span = tracing::info_span!("watch", connector = "consul", prefix = %prefix);
        let task = tokio::spawn(
            async move {
                closer
                    .run_until_closed(consul_watch(client, options, prefix, from, tx))
                    .await;
            }
            .instrument(span),
        );
        Ok(Watch::new(rx, task))
    }

    async fn close(&self) -> Result<()> {
        self.closer.close();
        Ok(())
    }
}

async fn consul_watch(
    client: KvClient,
    options: ConsulOptions,
    prefix: String,
    from: Snapshot,
    tx: mpsc::Sender<WatchEvent>,
) {
    let mut seen = LastSeen::from_snapshot(from);
    let mut index = seen.revision().get();
    let mut broken = false;
    loop {
        match client
            .list(store_key(&prefix), Some((index, options.wait)))
            .await
        {
            Ok((new_index, entries)) => {
                let batch = seen.diff_to(to_snapshot(&prefix, new_index, entries));
                index = if new_index < index {
                    0
                } else {
                    new_index.max(1)
                };
                let event = if broken {
                    broken = false;
                    WatchEvent::Resynced(batch)
                } else if batch.changes.is_empty() {
                    continue;
                } else {
                    WatchEvent::Changes(batch)
                };
                if tx.send(event).await.is_err() {
                    return;
                }
            }
            Err(err) => {
                if !broken {
                    tracing::warn!(connector = "consul", error = %err, "consul watch lost the agent; it will resync after reconnecting");
                    broken = true;
                    if tx.send(WatchEvent::Problem(err)).await.is_err() {
                        return;
                    }
                }
                tokio::time::sleep(options.reconnect_interval).await;
            }
        }
    }
}

/// Errors name the key as the caller spelled it.
fn rename_key(err: ConnectorError, key: &str) -> ConnectorError {
    match err {
        ConnectorError::ValueTooLarge {
            store, size, limit, ..
        } => ConnectorError::ValueTooLarge {
            store,
            key: key.to_owned(),
            size,
            limit,
        },
        other => other,
    }
}
