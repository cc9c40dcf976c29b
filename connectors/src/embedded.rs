//! The embedded store (the Bolt role, and the default when no other store is configured): a
//! single redb file inside the agent process, so the agent runs with no server at all.
//!
//! Writes go to one writer thread that applies every queued put/delete in one write
//! transaction and commits it with `Durability::Immediate` (fsync) before any of them is
//! acknowledged: group commit, so concurrent writers share an fsync and every acknowledged
//! write survives `kill -9`. Each change gets the next revision from a counter stored in the
//! same file, so revisions stay valid across restarts. Committed batches are published to the
//! watches through the crate's hub module.
//!
//! Deliberately not here: reading Go bbolt files (an import tool could use bbolt-rs) and the
//! `filter-duplicate-notifications` option (puts of an unchanged value are reported).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use redb::{Database, DatabaseError, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use tokio::sync::{broadcast, oneshot};

use crate::backend::{BatchOp, BatchWritten, KvBackend, check_key};
use crate::error::{ConnectorError, Result, Store};
use crate::hub::{BatchSender, HubMsg, spawn_local_watch};
use crate::types::{Change, ChangeBatch, Revision, Snapshot, Watch};

/// All keys live in one table named `root`, like Ligato's single Bolt bucket.
const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("root");
/// `revision` -> the last committed revision.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// How many queued writes one commit takes at most.
const MAX_GROUP: usize = 4096;

/// Options of the embedded store (`--bolt-config`: db-path, file-mode, lock-timeout).
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// The database file; created if missing.
    pub db_path: PathBuf,
    /// Unix permissions given to a newly created file (Ligato's sample: 0o660).
    pub file_mode: Option<u32>,
    /// How long to wait for another process to release the file; zero waits forever
    /// (Ligato's `lock-timeout: 0`).
    pub lock_timeout: Duration,
    /// How many committed batches a watch may lag behind before it resyncs by snapshot diff.
    pub notify_capacity: usize,
}

impl EmbeddedOptions {
    /// Options for a file, with Ligato's defaults otherwise.
    pub fn new(db_path: impl Into<PathBuf>) -> Self {
        EmbeddedOptions {
            db_path: db_path.into(),
            file_mode: Some(0o660),
            lock_timeout: Duration::ZERO,
            notify_capacity: 1024,
        }
    }
}

enum Op {
    Put(String, Bytes),
    Delete(String),
}

/// One write or a batch ([`KvBackend::write_batch`]): all ops of a request are committed in
/// one redb write transaction (with the other requests of its group); the reply is the
/// revision after that commit.
struct Request {
    ops: Vec<Op>,
    reply: oneshot::Sender<Result<Revision>>,
}

/// The embedded backend. Cheap to share behind an `Arc`; all methods take `&self`.
#[derive(Debug)]
pub struct EmbeddedBackend {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    db: Mutex<Option<Arc<Database>>>,
    writer: Mutex<Option<std::sync::mpsc::Sender<Request>>>,
    hub: Mutex<Option<BatchSender>>,
    closed: AtomicBool,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedInner")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn db_err(path: &Path) -> impl Fn(redb::Error) -> ConnectorError + '_ {
    move |e| ConnectorError::Database {
        path: path.to_owned(),
        source: Box::new(e),
    }
}

impl EmbeddedBackend {
    /// Opens (or creates) the database file, waiting up to `lock_timeout` for another process
    /// to release it.
    pub async fn open(options: EmbeddedOptions) -> Result<Self> {
        let path = options.db_path.clone();
        let capacity = options.notify_capacity.max(1);
        let db = tokio::task::spawn_blocking(move || open_db(&options))
            .await
            .map_err(|e| ConnectorError::Database {
                path: path.clone(),
                source: Box::new(e),
            })??;
        let db = Arc::new(db);
        let (hub, _) = broadcast::channel(capacity);
        let (tx, rx) = std::sync::mpsc::channel();
        let writer_db = db.clone();
        let writer_hub = hub.clone();
        let writer_path = path.clone();
        std::thread::Builder::new()
            .name("embedded-writer".into())
            .spawn(move || writer_loop(&writer_path, &writer_db, &writer_hub, &rx))
            .map_err(|source| ConnectorError::Io {
                store: Store::Embedded,
                op: "start writer thread for",
                path: path.clone(),
                source,
            })?;
        Ok(EmbeddedBackend {
            inner: Arc::new(Inner {
                path,
                db: Mutex::new(Some(db)),
                writer: Mutex::new(Some(tx)),
                hub: Mutex::new(Some(hub)),
                closed: AtomicBool::new(false),
            }),
        })
    }

    fn db(&self) -> Result<Arc<Database>> {
        let guard = self.inner.db.lock().map_err(|_| self.closed_err())?;
        guard.clone().ok_or_else(|| self.closed_err())
    }

    fn closed_err(&self) -> ConnectorError {
        ConnectorError::Closed {
            store: Store::Embedded,
        }
    }

    async fn write(&self, ops: Vec<Op>) -> Result<Revision> {
        let (reply, rx) = oneshot::channel();
        {
            let guard = self.inner.writer.lock().map_err(|_| self.closed_err())?;
            let writer = guard.as_ref().ok_or_else(|| self.closed_err())?;
            writer
                .send(Request { ops, reply })
                .map_err(|_| self.closed_err())?;
        }
        rx.await.map_err(|_| self.closed_err())?
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Database, &Path) -> Result<T> + Send + 'static,
    {
        let db = self.db()?;
        let path = self.inner.path.clone();
        tokio::task::spawn_blocking(move || f(&db, &path))
            .await
            .map_err(|e| ConnectorError::Database {
                path: self.inner.path.clone(),
                source: Box::new(e),
            })?
    }
}

fn open_db(options: &EmbeddedOptions) -> Result<Database> {
    let path = &options.db_path;
    let existed = path.exists();
    let started = Instant::now();
    let db = loop {
        match Database::create(path) {
            Ok(db) => break db,
            Err(DatabaseError::DatabaseAlreadyOpen) => {
                let waited = started.elapsed();
                if !options.lock_timeout.is_zero() && waited >= options.lock_timeout {
                    return Err(ConnectorError::Locked {
                        path: path.clone(),
                        waited,
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(db_err(path)(e.into())),
        }
    };
    if !existed && let Some(mode) = options.file_mode {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(
            |source| ConnectorError::Io {
                store: Store::Embedded,
                op: "set file mode of",
                path: path.clone(),
                source,
            },
        )?;
    }
    let txn = db.begin_write().map_err(|e| db_err(path)(e.into()))?;
    txn.open_table(KV).map_err(|e| db_err(path)(e.into()))?;
    txn.open_table(META).map_err(|e| db_err(path)(e.into()))?;
    txn.commit().map_err(|e| db_err(path)(e.into()))?;
    Ok(db)
}

fn writer_loop(
    path: &Path,
    db: &Database,
    hub: &BatchSender,
    rx: &std::sync::mpsc::Receiver<Request>,
) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(req) => group.push(req),
                Err(_) => break,
            }
        }
        let ops: Vec<&Op> = group.iter().flat_map(|r| &r.ops).collect();
        match commit_group(path, db, &ops) {
            Ok(batch) => {
                for req in group {
                    let _ = req.reply.send(Ok(batch.revision));
                }
                // No receivers is fine: nobody watches.
                let _ = hub.send(HubMsg::Batch(Arc::new(batch)));
            }
            Err(err) => {
                tracing::error!(error = %err, "embedded commit failed");
                let text = err.to_string();
                for req in group {
                    let _ = req.reply.send(Err(ConnectorError::Database {
                        path: path.to_owned(),
                        source: text.clone().into(),
                    }));
                }
            }
        }
    }
}

fn commit_group(path: &Path, db: &Database, ops: &[&Op]) -> Result<ChangeBatch> {
    let err = db_err(path);
    let mut txn = db.begin_write().map_err(|e| err(e.into()))?;
    txn.set_durability(Durability::Immediate)
        .map_err(|e| ConnectorError::Database {
            path: path.to_owned(),
            source: Box::new(e),
        })?;
    let mut changes = Vec::with_capacity(ops.len());
    let mut revision;
    {
        let mut meta = txn.open_table(META).map_err(|e| err(e.into()))?;
        revision = meta
            .get("revision")
            .map_err(|e| err(e.into()))?
            .map(|g| g.value())
            .unwrap_or(0);
        let mut table = txn.open_table(KV).map_err(|e| err(e.into()))?;
        for op in ops {
            revision += 1;
            let change = match op {
                Op::Put(key, value) => {
                    let prev = table
                        .insert(key.as_str(), value.as_ref())
                        .map_err(|e| err(e.into()))?
                        .map(|g| Bytes::copy_from_slice(g.value()));
                    Change {
                        key: key.clone(),
                        value: Some(value.clone()),
                        prev,
                        revision: Revision(revision),
                    }
                }
                Op::Delete(key) => {
                    let prev = table
                        .remove(key.as_str())
                        .map_err(|e| err(e.into()))?
                        .map(|g| Bytes::copy_from_slice(g.value()));
                    Change {
                        key: key.clone(),
                        value: None,
                        prev,
                        revision: Revision(revision),
                    }
                }
            };
            // A delete of a missing key changes nothing and is not reported.
            if change.value.is_some() || change.prev.is_some() {
                changes.push(change);
            }
        }
        meta.insert("revision", revision)
            .map_err(|e| err(e.into()))?;
    }
    txn.commit().map_err(|e| err(e.into()))?;
    Ok(ChangeBatch {
        revision: Revision(revision),
        changes,
    })
}

fn read_snapshot(db: &Database, path: &Path, prefix: &str) -> Result<Snapshot> {
    let err = db_err(path);
    let txn = db.begin_read().map_err(|e| err(e.into()))?;
    let meta = txn.open_table(META).map_err(|e| err(e.into()))?;
    let revision = meta
        .get("revision")
        .map_err(|e| err(e.into()))?
        .map(|g| g.value())
        .unwrap_or(0);
    let table = txn.open_table(KV).map_err(|e| err(e.into()))?;
    let mut entries = std::collections::BTreeMap::new();
    for item in table.range(prefix..).map_err(|e| err(e.into()))? {
        let (k, v) = item.map_err(|e| err(e.into()))?;
        let key = k.value();
        if !key.starts_with(prefix) {
            break;
        }
        entries.insert(key.to_owned(), Bytes::copy_from_slice(v.value()));
    }
    Ok(Snapshot {
        revision: Revision(revision),
        entries,
    })
}

impl KvBackend for EmbeddedBackend {
    fn store(&self) -> Store {
        Store::Embedded
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        check_key(Store::Embedded, key)?;
        let key = key.to_owned();
        self.read(move |db, path| {
            let err = db_err(path);
            let txn = db.begin_read().map_err(|e| err(e.into()))?;
            let table = txn.open_table(KV).map_err(|e| err(e.into()))?;
            let value = table.get(key.as_str()).map_err(|e| err(e.into()))?;
            Ok(value.map(|g| Bytes::copy_from_slice(g.value())))
        })
        .await
    }

    async fn put(&self, key: &str, value: Bytes) -> Result<()> {
        check_key(Store::Embedded, key)?;
        self.write(vec![Op::Put(key.to_owned(), value)]).await?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        check_key(Store::Embedded, key)?;
        self.write(vec![Op::Delete(key.to_owned())]).await?;
        Ok(())
    }

    async fn write_batch(&self, ops: Vec<BatchOp>) -> Result<BatchWritten> {
        let mut batch = Vec::with_capacity(ops.len());
        for op in ops {
            check_key(Store::Embedded, op.key())?;
            batch.push(match op {
                BatchOp::Put { key, value } => Op::Put(key, value),
                BatchOp::Delete { key } => Op::Delete(key),
            });
        }
        let revision = self.write(batch).await?;
        Ok(BatchWritten {
            revision: Some(revision),
            atomic: true,
        })
    }

    async fn snapshot(&self, prefix: &str) -> Result<Snapshot> {
        let prefix = prefix.to_owned();
        self.read(move |db, path| read_snapshot(db, path, &prefix))
            .await
    }

    async fn watch(&self, prefix: &str, from: Snapshot) -> Result<Watch> {
        let rx = {
            let guard = self.inner.hub.lock().map_err(|_| self.closed_err())?;
            guard.as_ref().ok_or_else(|| self.closed_err())?.subscribe()
        };
        let current = self.snapshot(prefix).await?;
        let db = self.db()?;
        let path = self.inner.path.clone();
        let watch_prefix = prefix.to_owned();
        let resnapshot = move || {
            let db = db.clone();
            let path = path.clone();
            let prefix = watch_prefix.clone();
            async move {
                tokio::task::spawn_blocking(move || read_snapshot(&db, &path, &prefix))
                    .await
                    .map_err(|e| ConnectorError::Database {
                        path: PathBuf::new(),
                        source: Box::new(e),
                    })?
            }
        };
        Ok(spawn_local_watch(
            Store::Embedded,
            prefix.to_owned(),
            from,
            current,
            rx,
            Vec::new(),
            resnapshot,
        ))
    }

    async fn close(&self) -> Result<()> {
        if self.inner.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        // Dropping the sender ends the writer thread after the queued writes; it drops its
        // database handle and hub sender, which ends the watches.
        if let Ok(mut w) = self.inner.writer.lock() {
            w.take();
        }
        if let Ok(mut h) = self.inner.hub.lock() {
            h.take();
        }
        if let Ok(mut d) = self.inner.db.lock() {
            d.take();
        }
        Ok(())
    }
}
