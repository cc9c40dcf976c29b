//! The etcd v3 backend on `etcd-client`: get/put/delete with an operation timeout, snapshots
//! read page by page at one revision, and watches with `prev_kv` from the snapshot's
//! revision + 1 that reconnect by themselves (see `watch.rs`).
//!
//! TLS (server verification, mutual TLS, skipping verification) is set up in `tls.rs`.
//!
//! Deliberately not here: leases and sessions, and the status-check probe that triggers an
//! agent-wide resync (the layer above decides that from the watch's events).

mod tls;
mod watch;

use std::time::Duration;

use bytes::Bytes;
use etcd_client::{Client, ConnectOptions, GetOptions};

use crate::backend::{KvBackend, check_key};
use crate::closer::Closer;
use crate::error::{ConnectorError, Result, Store};
use crate::types::{Revision, Snapshot, Watch};

/// How many keys one snapshot page reads.
const PAGE: i64 = 1000;
/// The largest reply the client decodes (tonic's default is 4 MiB; a page or a watch
/// response with a few large values is bigger).
pub(crate) const MAX_MESSAGE: usize = 256 << 20;

/// A KV client that accepts replies up to [`MAX_MESSAGE`].
pub(crate) fn kv_client(client: &Client) -> etcd_client::KvClient {
    client.kv_client().max_decoding_message_size(MAX_MESSAGE)
}

/// Options of the etcd backend (`--etcd-config`).
#[derive(Debug, Clone)]
pub struct EtcdOptions {
    /// `host:port` or URLs.
    pub endpoints: Vec<String>,
    /// How long connecting may take (Ligato default 1s).
    pub dial_timeout: Duration,
    /// How long one operation may take (Ligato default 3s).
    pub operation_timeout: Duration,
    /// Plain HTTP/2 even when TLS files are set (Ligato's `insecure-transport`).
    pub insecure_transport: bool,
    /// Accept any server certificate (Ligato's `insecure-skip-tls-verify`); only with TLS on.
    pub insecure_skip_tls_verify: bool,
    /// TLS files: a client certificate and key (mutual TLS) and the CA that signed the
    /// server's certificate; any of them set turns TLS on (see `tls.rs`).
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    pub ca_file: Option<String>,
    /// User name and password for etcd auth.
    pub credentials: Option<(String, String)>,
    /// Compact the history to the current revision this often; `None` never.
    pub auto_compact: Option<Duration>,
    /// How long a watch waits between reconnect attempts (Ligato default 2s).
    pub reconnect_interval: Duration,
    /// Start even when etcd is down; operations fail until it comes up.
    pub allow_delayed_start: bool,
}

impl EtcdOptions {
    /// Options for these endpoints with Ligato's defaults.
    pub fn new(endpoints: impl IntoIterator<Item = impl Into<String>>) -> Self {
        EtcdOptions {
            endpoints: endpoints.into_iter().map(Into::into).collect(),
            dial_timeout: Duration::from_secs(1),
            operation_timeout: Duration::from_secs(3),
            insecure_transport: true,
            insecure_skip_tls_verify: false,
            cert_file: None,
            key_file: None,
            ca_file: None,
            credentials: None,
            auto_compact: None,
            reconnect_interval: Duration::from_secs(2),
            allow_delayed_start: false,
        }
    }
}

/// The etcd backend.
#[derive(Clone)]
pub struct EtcdBackend {
    client: Client,
    options: EtcdOptions,
    compactor: Option<std::sync::Arc<tokio::task::AbortHandle>>,
    closer: Closer,
}

impl std::fmt::Debug for EtcdBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdBackend")
            .field("endpoints", &self.options.endpoints)
            .finish_non_exhaustive()
    }
}

impl EtcdBackend {
    /// Connects; without `allow_delayed_start` it also checks that etcd answers within
    /// `dial_timeout`.
    pub async fn connect(options: EtcdOptions) -> Result<Self> {
        let tls = tls::material(&options)?;
        let endpoint = options.endpoints.join(",");
        if let Some(tls) = &tls
            && !options.allow_delayed_start
        {
            tls::check(&options, tls).await?;
        }
        let mut connect = ConnectOptions::new()
            .with_connect_timeout(options.dial_timeout)
            .with_keep_alive(tls::KEEP_ALIVE.0, tls::KEEP_ALIVE.1)
            .with_keep_alive_while_idle(true);
        if let Some((user, password)) = &options.credentials {
            connect = connect.with_user(user.clone(), password.clone());
        }
        let connecting = tls::client(&options, tls.as_ref(), connect);
        let client = match tokio::time::timeout(options.dial_timeout, connecting).await {
            Ok(Ok(client)) => client,
            // Refused (bad credentials): not a connection problem, not retriable.
            Ok(Err(e)) => return Err(tls::connect_error(endpoint, e)),
            Err(_) => {
                return Err(ConnectorError::Connect {
                    store: Store::Etcd,
                    endpoint,
                    source: format!("no answer within {:?}", options.dial_timeout).into(),
                });
            }
        };
        let mut backend = EtcdBackend {
            client,
            options,
            compactor: None,
            closer: Closer::new(),
        };
        if !backend.options.allow_delayed_start {
            let mut kv = kv_client(&backend.client);
            let probe = kv.get("/probe-etcd-connection", None);
            match tokio::time::timeout(backend.options.dial_timeout, probe).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    // Refused (bad credentials): not a connection problem, not retriable.
                    return Err(tls::connect_error(endpoint, e));
                }
                Err(_) => {
                    return Err(ConnectorError::Connect {
                        store: Store::Etcd,
                        endpoint,
                        source: format!("no answer within {:?}", backend.options.dial_timeout)
                            .into(),
                    });
                }
            }
        }
        if let Some(every) = backend.options.auto_compact {
            if every < Duration::from_secs(3600) {
                tracing::warn!(
                    ?every,
                    "etcd auto-compact below 60 minutes may cancel watches"
                );
            }
            let task = tokio::spawn(auto_compact(backend.client.clone(), every));
            backend.compactor = Some(std::sync::Arc::new(task.abort_handle()));
        }
        Ok(backend)
    }

    /// The underlying client, for tests that compact or inspect etcd directly.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn timed<T, F>(&self, op: &'static str, key: &str, fut: F) -> Result<T>
    where
        F: Future<Output = std::result::Result<T, etcd_client::Error>>,
    {
        match tokio::time::timeout(self.options.operation_timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(map_err(op, key, e)),
            Err(_) => Err(ConnectorError::Timeout {
                store: Store::Etcd,
                op,
                key: key.to_owned(),
                after: self.options.operation_timeout,
            }),
        }
    }
}

/// Maps a client error by its gRPC code, never by its text.
pub(crate) fn map_err(op: &'static str, key: &str, e: etcd_client::Error) -> ConnectorError {
    use etcd_client::Error as E;
    use tonic::Code;
    let key = key.to_owned();
    match &e {
        E::GRpcStatus(status)
            if matches!(
                status.code(),
                Code::Unavailable
                    | Code::DeadlineExceeded
                    | Code::Cancelled
                    | Code::Unknown
                    | Code::Aborted
            ) =>
        {
            ConnectorError::Disconnected {
                store: Store::Etcd,
                op,
                key,
                source: Box::new(e),
            }
        }
        E::GRpcStatus(status) => ConnectorError::Rejected {
            store: Store::Etcd,
            op,
            key,
            reason: format!("{:?}: {}", status.code(), status.message()),
        },
        E::TransportError(_) | E::IoError(_) | E::WatchError(_) => ConnectorError::Disconnected {
            store: Store::Etcd,
            op,
            key,
            source: Box::new(e),
        },
        _ => ConnectorError::Protocol {
            store: Store::Etcd,
            op,
            key,
            detail: e.to_string(),
        },
    }
}

/// The end of the key range that holds every key starting with `prefix`.
pub(crate) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

async fn auto_compact(mut client: Client, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        let rev = match client.get("/probe-etcd-connection", None).await {
            Ok(resp) => resp.header().map(|h| h.revision()).unwrap_or(0),
            Err(e) => {
                tracing::warn!(error = %e, "etcd auto-compact could not read the revision");
                continue;
            }
        };
        if rev > 0
            && let Err(e) = client.compact(rev, None).await
        {
            tracing::warn!(error = %e, rev, "etcd auto-compact failed");
        }
    }
}

/// Reads a prefix page by page, all pages at the revision of the first.
pub(crate) async fn read_snapshot(
    client: &Client,
    prefix: &str,
    timeout: Duration,
) -> Result<Snapshot> {
    let mut kv = kv_client(client);
    let end = prefix_end(prefix.as_bytes());
    let mut start = prefix.as_bytes().to_vec();
    let mut revision = 0i64;
    let mut entries = std::collections::BTreeMap::new();
    loop {
        let mut opts = GetOptions::new().with_range(end.clone()).with_limit(PAGE);
        if revision > 0 {
            opts = opts.with_revision(revision);
        }
        let resp = match tokio::time::timeout(timeout, kv.get(start.clone(), Some(opts))).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(map_err("snapshot", prefix, e)),
            Err(_) => {
                return Err(ConnectorError::Timeout {
                    store: Store::Etcd,
                    op: "snapshot",
                    key: prefix.to_owned(),
                    after: timeout,
                });
            }
        };
        if revision == 0 {
            revision = resp.header().map(|h| h.revision()).unwrap_or(0);
        }
        for kv in resp.kvs() {
            let key = String::from_utf8_lossy(kv.key()).into_owned();
            entries.insert(key, Bytes::copy_from_slice(kv.value()));
        }
        match resp.kvs().last() {
            Some(last) if resp.more() => {
                start = last.key().to_vec();
                start.push(0);
            }
            _ => break,
        }
    }
    Ok(Snapshot {
        revision: Revision(u64::try_from(revision).unwrap_or(0)),
        entries,
    })
}

impl KvBackend for EtcdBackend {
    fn store(&self) -> Store {
        Store::Etcd
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        check_key(Store::Etcd, key)?;
        self.closer.check(Store::Etcd)?;
        let mut kv = kv_client(&self.client);
        let resp = self.timed("get", key, kv.get(key, None)).await?;
        Ok(resp
            .kvs()
            .first()
            .map(|kv| Bytes::copy_from_slice(kv.value())))
    }

    async fn put(&self, key: &str, value: Bytes) -> Result<()> {
        check_key(Store::Etcd, key)?;
        self.closer.check(Store::Etcd)?;
        let mut kv = kv_client(&self.client);
        self.timed("put", key, kv.put(key, value.to_vec(), None))
            .await?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        check_key(Store::Etcd, key)?;
        self.closer.check(Store::Etcd)?;
        let mut kv = kv_client(&self.client);
        self.timed("delete", key, kv.delete(key, None)).await?;
        Ok(())
    }

    /// One etcd `Txn` (no compare, all ops in `success`): atomic, one revision.
    async fn write_batch(&self, ops: Vec<crate::backend::BatchOp>) -> Result<crate::BatchWritten> {
        use crate::backend::BatchOp;
        use etcd_client::{Txn, TxnOp};
        self.closer.check(Store::Etcd)?;
        let first = ops.first().map(|o| o.key().to_owned()).unwrap_or_default();
        let mut txn_ops = Vec::with_capacity(ops.len());
        for op in ops {
            check_key(Store::Etcd, op.key())?;
            txn_ops.push(match op {
                BatchOp::Put { key, value } => TxnOp::put(key, value.to_vec(), None),
                BatchOp::Delete { key } => TxnOp::delete(key, None),
            });
        }
        let mut kv = kv_client(&self.client);
        let resp = self
            .timed("txn", &first, kv.txn(Txn::new().and_then(txn_ops)))
            .await?;
        let revision = resp
            .header()
            .and_then(|h| u64::try_from(h.revision()).ok())
            .map(crate::Revision);
        Ok(crate::BatchWritten {
            revision,
            atomic: true,
        })
    }

    async fn snapshot(&self, prefix: &str) -> Result<Snapshot> {
        self.closer.check(Store::Etcd)?;
        read_snapshot(&self.client, prefix, self.options.operation_timeout).await
    }

    async fn watch(&self, prefix: &str, from: Snapshot) -> Result<Watch> {
        self.closer.check(Store::Etcd)?;
        Ok(watch::spawn(
            self.closer.clone(),
            self.client.clone(),
            prefix.to_owned(),
            from,
            self.options.operation_timeout,
            self.options.reconnect_interval,
        ))
    }

    async fn close(&self) -> Result<()> {
        self.closer.close();
        if let Some(c) = &self.compactor {
            c.abort();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_end_covers_exactly_the_prefix() {
        assert_eq!(prefix_end(b"/vnf-agent/"), b"/vnf-agent0".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"\xff\xff"), vec![0]);
        assert_eq!(prefix_end(b""), vec![0]);
    }
}
