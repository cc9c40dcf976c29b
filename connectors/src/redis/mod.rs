//! The Redis backend on the `redis` crate: values are plain strings (`SET`/`GET`/`DEL`), a
//! snapshot is a `SCAN MATCH <prefix>*` plus `MGET`, and a watch listens to keyspace
//! notifications (`PSUBSCRIBE __keyspace@<db>__:<prefix>*`).
//!
//! Redis has no revisions and its notifications carry no value and are lost while
//! disconnected, so the watch works by reconciliation: every notified key is re-read (`MGET`,
//! batched) and compared with the watch's [`LastSeen`] cache, which gives the previous value
//! and drops notifications that change nothing. It subscribes *before* scanning, so a change
//! racing the scan is either in the scan or notified after it. After a reconnect it scans
//! again and emits the exact diff (`Resynced`). Revisions are a counter of this backend
//! instance: they order its events but mean nothing to another instance.
//!
//! TLS (`rediss://`, mutual TLS, skip-verify) is set up in `tls.rs`.
//!
//! Deliberately not here: sentinel and cluster clients, and setting `notify-keyspace-events`
//! on the server (the watch checks it and says what to set).

mod tls;
mod watch;

pub use tls::RedisTlsOptions;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, IntoConnectionInfo, RedisError};
use tokio::sync::mpsc;
use tracing::Instrument as _;

use crate::backend::{KvBackend, check_key};
use crate::cache::LastSeen;
use crate::closer::Closer;
use crate::error::{ConnectorError, Result, Store};
use crate::types::{Revision, Snapshot, WATCH_BUFFER, Watch};

/// How many keys one `MGET` reads.
const MGET_CHUNK: usize = 500;

/// Options of the Redis backend (`--redis-config`, node client).
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// `host:port`.
    pub endpoint: String,
    /// The database number.
    pub db: i64,
    pub username: Option<String>,
    pub password: Option<String>,
    /// TLS to the node; `None`: plain TCP.
    pub tls: Option<RedisTlsOptions>,
    /// How long connecting may take (Ligato default 5s).
    pub dial_timeout: Duration,
    /// How long one command may take (Ligato default 3s).
    pub read_timeout: Duration,
    /// How long a watch waits between reconnect attempts.
    pub reconnect_interval: Duration,
    /// How often a watch PINGs its subscription connection, to find a silent partition.
    pub health_check_interval: Duration,
}

impl RedisOptions {
    /// Options for a node at `host:port` with Ligato's defaults.
    pub fn new(endpoint: impl Into<String>) -> Self {
        RedisOptions {
            endpoint: endpoint.into(),
            db: 0,
            username: None,
            password: None,
            tls: None,
            dial_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(3),
            reconnect_interval: Duration::from_secs(1),
            health_check_interval: Duration::from_secs(10),
        }
    }
}

/// The Redis backend.
#[derive(Clone)]
pub struct RedisBackend {
    /// Boxed: with TLS built in the client is large.
    client: Arc<redis::Client>,
    conn: ConnectionManager,
    options: RedisOptions,
    revision: Arc<AtomicU64>,
    closer: Closer,
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend")
            .field("endpoint", &self.options.endpoint)
            .field("db", &self.options.db)
            .finish_non_exhaustive()
    }
}

fn map_err(op: &'static str, key: &str, e: RedisError) -> ConnectorError {
    if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal() {
        ConnectorError::Disconnected {
            store: Store::Redis,
            op,
            key: key.to_owned(),
            source: Box::new(e),
        }
    } else {
        ConnectorError::Rejected {
            store: Store::Redis,
            op,
            key: key.to_owned(),
            reason: e.to_string(),
        }
    }
}

/// Escapes glob characters so a key prefix matches literally in `SCAN MATCH`/`PSUBSCRIBE`.
pub(crate) fn glob_escape(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 4);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether a `notify-keyspace-events` value enables what the watch needs: keyspace events
/// (`K`) for string commands and generic commands (`$` and `g`, both in `A`).
pub fn notifications_enabled(flags: &str) -> bool {
    flags.contains('K') && (flags.contains('A') || (flags.contains('$') && flags.contains('g')))
}

impl RedisBackend {
    /// Connects to the node.
    pub async fn connect(options: RedisOptions) -> Result<Self> {
        let tls = options
            .tls
            .as_ref()
            .map(RedisTlsOptions::material)
            .transpose()?;
        let connect_err = |source: RedisError| match map_err("connect", &options.endpoint, source) {
            // A refusal (a wrong password) is not a connection problem and not retriable.
            rejected @ ConnectorError::Rejected { .. } => rejected,
            other => ConnectorError::Connect {
                store: Store::Redis,
                endpoint: options.endpoint.clone(),
                source: Box::new(other),
            },
        };
        let info = tls::url(&options.endpoint, tls.as_ref())
            .into_connection_info()
            .map_err(connect_err)?;
        let mut settings = info.redis_settings().clone().set_db(options.db);
        if let Some(user) = &options.username {
            settings = settings.set_username(user);
        }
        if let Some(password) = &options.password {
            settings = settings.set_password(password);
        }
        let info = info.set_redis_settings(settings);
        let client = tls::client(info, tls.as_ref()).map_err(connect_err)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.dial_timeout))
            .set_response_timeout(Some(options.read_timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = match client.get_connection_manager_with_config(config).await {
            Ok(conn) => conn,
            Err(e) => {
                if let Some(tls) = &tls
                    && let Some(why) =
                        tls::diagnose(&options.endpoint, tls, options.dial_timeout).await
                {
                    return Err(why);
                }
                return Err(connect_err(e));
            }
        };
        Ok(RedisBackend {
            client: Arc::new(client),
            conn,
            options,
            revision: Arc::new(AtomicU64::new(0)),
            closer: Closer::new(),
        })
    }

    /// Reads `CONFIG GET notify-keyspace-events` and fails with the exact setting to make when
    /// the watch cannot work. A server that forbids `CONFIG` is trusted, with a warning.
    pub async fn check_notifications(&self) -> Result<()> {
        let mut conn = self.conn.clone();
        let reply: std::result::Result<Vec<String>, RedisError> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("notify-keyspace-events")
            .query_async(&mut conn)
            .await;
        match reply {
            Ok(pair) => {
                let current = pair.get(1).cloned().unwrap_or_default();
                if notifications_enabled(&current) {
                    Ok(())
                } else {
                    Err(ConnectorError::NotificationsOff {
                        endpoint: self.options.endpoint.clone(),
                        current,
                    })
                }
            }
            Err(e) if e.is_io_error() || e.is_connection_dropped() || e.is_timeout() => {
                Err(map_err("config get", "notify-keyspace-events", e))
            }
            Err(e) => {
                tracing::warn!(
                    connector = "redis",
                    error = %e,
                    "cannot read notify-keyspace-events; make sure it is set to KA"
                );
                Ok(())
            }
        }
    }

    fn next_revision(&self) -> Revision {
        Revision(self.revision.fetch_add(1, Ordering::SeqCst) + 1)
    }
}

async fn scan_prefix(conn: &mut ConnectionManager, prefix: &str) -> Result<Vec<String>> {
    let pattern = format!("{}*", glob_escape(prefix));
    let mut cursor: u64 = 0;
    let mut keys = Vec::new();
    loop {
        let (next, page): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .map_err(|e| map_err("scan", prefix, e))?;
        keys.extend(page);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    keys.sort();
    keys.dedup();
    Ok(keys)
}

async fn mget(
    conn: &mut ConnectionManager,
    keys: &[String],
) -> Result<Vec<(String, Option<Bytes>)>> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(MGET_CHUNK) {
        let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
            .arg(chunk)
            .query_async(conn)
            .await
            .map_err(|e| map_err("mget", &chunk[0], e))?;
        out.extend(
            chunk
                .iter()
                .cloned()
                .zip(values.into_iter().map(|v| v.map(Bytes::from))),
        );
    }
    Ok(out)
}

impl KvBackend for RedisBackend {
    fn store(&self) -> Store {
        Store::Redis
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        check_key(Store::Redis, key)?;
        self.closer.check(Store::Redis)?;
        let mut conn = self.conn.clone();
        let value: Option<Vec<u8>> = conn.get(key).await.map_err(|e| map_err("get", key, e))?;
        Ok(value.map(Bytes::from))
    }

    async fn put(&self, key: &str, value: Bytes) -> Result<()> {
        check_key(Store::Redis, key)?;
        self.closer.check(Store::Redis)?;
        let mut conn = self.conn.clone();
        let () = conn
            .set(key, value.as_ref())
            .await
            .map_err(|e| map_err("put", key, e))?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        check_key(Store::Redis, key)?;
        self.closer.check(Store::Redis)?;
        let mut conn = self.conn.clone();
        let _: i64 = conn.del(key).await.map_err(|e| map_err("delete", key, e))?;
        Ok(())
    }

    /// `MULTI` ... `EXEC`: atomic; Redis has no revision to report. The watch still sees one
    /// keyspace notification per key.
    async fn write_batch(&self, ops: Vec<crate::backend::BatchOp>) -> Result<crate::BatchWritten> {
        use crate::backend::BatchOp;
        self.closer.check(Store::Redis)?;
        let first = ops.first().map(|o| o.key().to_owned()).unwrap_or_default();
        let mut pipe = redis::pipe();
        pipe.atomic();
        for op in &ops {
            check_key(Store::Redis, op.key())?;
            match op {
                BatchOp::Put { key, value } => pipe.set(key, value.as_ref()).ignore(),
                BatchOp::Delete { key } => pipe.del(key).ignore(),
            };
        }
        let mut conn = self.conn.clone();
        let () = pipe
            .query_async(&mut conn)
            .await
            .map_err(|e| map_err("txn", &first, e))?;
        Ok(crate::BatchWritten {
            revision: None,
            atomic: true,
        })
    }

    async fn snapshot(&self, prefix: &str) -> Result<Snapshot> {
        self.closer.check(Store::Redis)?;
        let mut conn = self.conn.clone();
        let revision = self.next_revision();
        let keys = scan_prefix(&mut conn, prefix).await?;
        let entries = mget(&mut conn, &keys)
            .await?
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        Ok(Snapshot { revision, entries })
    }

    async fn watch(&self, prefix: &str, from: Snapshot) -> Result<Watch> {
        self.closer.check(Store::Redis)?;
        self.check_notifications().await?;
        let (tx, rx) = mpsc::channel(WATCH_BUFFER);
        let mut watcher = watch::Watcher {
            backend: self.clone(),
            prefix: prefix.to_owned(),
            seen: LastSeen::from_snapshot(from),
            tx,
            broken: false,
        };
        let closer = self.closer.clone();
        let span = tracing::info_span!("watch", connector = "redis", prefix = %prefix);
        let task = tokio::spawn(
            async move { closer.run_until_closed(watcher.run()).await }.instrument(span),
        );
        Ok(Watch::new(rx, task))
    }

    async fn close(&self) -> Result<()> {
        self.closer.close();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_flags() {
        assert!(notifications_enabled("KA"));
        assert!(notifications_enabled("AKE"));
        assert!(notifications_enabled("K$g"));
        assert!(!notifications_enabled(""));
        assert!(!notifications_enabled("EA"));
        assert!(!notifications_enabled("K$"));
    }

    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(glob_escape("/a*b?[c]\\"), "/a\\*b\\?\\[c\\]\\\\");
    }
}
