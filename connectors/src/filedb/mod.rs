//! The fileDB backend: configuration kept in JSON/YAML files or directories of them
//! (Ligato's `{"data":[{"key":..,"value":{..}}]}` format), watched with notify + a debouncer.
//!
//! - The directory is watched, not the file, so an editor's write-to-temp + rename is seen.
//!   Files are read only with a `.json`, `.yaml` or `.yml` extension and a name not starting
//!   with `.`, so editors' temp and swap files are ignored.
//! - On every debounced event the paths are rescanned; a file whose bytes changed is parsed
//!   and the merged view (files in path order, a later file wins a duplicate key) is diffed
//!   with the previous one: a put only when the value changed, a delete for a vanished key.
//! - A file that does not parse is reported (`Problem` with its path and line) and its last
//!   good content stays in the view.
//! - Put and delete from the agent go only to `status_path` (never into the view); the status
//!   file is excluded from the configuration scan.
//! - Revisions count rescans of this backend instance; they are not kept across restarts.
//!
//! Deliberately not here: per-agent filtering (keys are full store keys, the watch prefix
//! filters) and writing to configuration files.

mod format;
mod scan;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use notify::RecursiveMode;
use tokio::sync::{Notify, broadcast};

use crate::backend::{KvBackend, check_key};
use crate::error::{ConnectorError, Result, Store};
use crate::hub::{BatchSender, spawn_local_watch};
use crate::types::{Revision, Snapshot, Watch};
use format::Format;

/// Options of the fileDB backend (`--filedb-config`).
#[derive(Debug, Clone)]
pub struct FileDbOptions {
    /// Files or directories to read.
    pub configuration_paths: Vec<PathBuf>,
    /// Where agent puts and deletes go (`.json` or `.yaml`); `None`: they are refused.
    pub status_path: Option<PathBuf>,
    /// How long file events settle before a rescan.
    pub debounce: Duration,
}

impl FileDbOptions {
    /// Options for these paths, without a status file.
    pub fn new(configuration_paths: impl IntoIterator<Item = impl Into<PathBuf>>) -> Self {
        FileDbOptions {
            configuration_paths: configuration_paths.into_iter().map(Into::into).collect(),
            status_path: None,
            debounce: Duration::from_millis(50),
        }
    }
}

/// One file's last read bytes and last good content.
#[derive(Debug, Default)]
struct FileState {
    bytes: Vec<u8>,
    good: BTreeMap<String, Bytes>,
}

#[derive(Debug, Default)]
struct State {
    files: BTreeMap<PathBuf, FileState>,
    view: BTreeMap<String, Bytes>,
    broken: BTreeMap<PathBuf, (Option<u64>, String)>,
    revision: u64,
}

/// The fileDB backend.
#[derive(Debug, Clone)]
pub struct FileDbBackend {
    inner: Arc<Inner>,
}

struct Inner {
    options: FileDbOptions,
    state: RwLock<State>,
    hub: Mutex<Option<BatchSender>>,
    status_lock: tokio::sync::Mutex<()>,
    watcher: Mutex<
        Option<
            notify_debouncer_full::Debouncer<
                notify::RecommendedWatcher,
                notify_debouncer_full::RecommendedCache,
            >,
        >,
    >,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    closed: AtomicBool,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileDbInner")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn io_err<'a>(
    op: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> ConnectorError + 'a {
    move |source| ConnectorError::Io {
        store: Store::FileDb,
        op,
        path: path.to_owned(),
        source,
    }
}

fn closed() -> ConnectorError {
    ConnectorError::Closed {
        store: Store::FileDb,
    }
}

impl FileDbBackend {
    /// Reads the configuration paths and starts watching them.
    pub async fn open(options: FileDbOptions) -> Result<Self> {
        let (hub, _) = broadcast::channel(1024);
        let inner = Arc::new(Inner {
            options,
            state: RwLock::new(State::default()),
            hub: Mutex::new(Some(hub)),
            status_lock: tokio::sync::Mutex::new(()),
            watcher: Mutex::new(None),
            task: Mutex::new(None),
            closed: AtomicBool::new(false),
        });
        let wake = Arc::new(Notify::new());
        let waker = wake.clone();
        let mut debouncer = notify_debouncer_full::new_debouncer(
            inner.options.debounce,
            None,
            move |_events: notify_debouncer_full::DebounceEventResult| waker.notify_one(),
        )
        .map_err(|e| ConnectorError::Io {
            store: Store::FileDb,
            op: "start watching",
            path: PathBuf::new(),
            source: std::io::Error::other(e),
        })?;
        for path in &inner.options.configuration_paths {
            let (target, mode) = if path.is_dir() || Format::of(path).is_none() {
                (path.clone(), RecursiveMode::Recursive)
            } else {
                let parent = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                (parent.to_path_buf(), RecursiveMode::NonRecursive)
            };
            debouncer
                .watch(&target, mode)
                .map_err(|e| ConnectorError::Io {
                    store: Store::FileDb,
                    op: "watch",
                    path: target.clone(),
                    source: std::io::Error::other(e),
                })?;
        }
        let scanner = inner.clone();
        tokio::task::spawn_blocking(move || scan::rescan(&scanner))
            .await
            .map_err(|e| ConnectorError::Io {
                store: Store::FileDb,
                op: "scan",
                path: PathBuf::new(),
                source: std::io::Error::other(e),
            })?;
        let weak = Arc::downgrade(&inner);
        let task = tokio::spawn(async move {
            loop {
                wake.notified().await;
                let Some(inner) = weak.upgrade() else { return };
                if tokio::task::spawn_blocking(move || scan::rescan(&inner))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
        if let Ok(mut w) = inner.watcher.lock() {
            *w = Some(debouncer);
        }
        if let Ok(mut t) = inner.task.lock() {
            *t = Some(task);
        }
        Ok(FileDbBackend { inner })
    }

    /// The files that currently fail to parse, with line and message.
    pub fn broken_files(&self) -> Vec<(PathBuf, Option<u64>, String)> {
        match self.inner.state.read() {
            Ok(s) => s
                .broken
                .iter()
                .map(|(p, (l, m))| (p.clone(), *l, m.clone()))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    fn check_open(&self) -> Result<()> {
        if self.inner.closed.load(Ordering::SeqCst) {
            Err(closed())
        } else {
            Ok(())
        }
    }

    fn read_snapshot(&self, prefix: &str) -> Result<Snapshot> {
        self.check_open()?;
        let state = self.inner.state.read().map_err(|_| closed())?;
        Ok(snapshot_of(&state, prefix))
    }

    async fn write_status(&self, key: &str, value: Option<Bytes>) -> Result<()> {
        self.check_open()?;
        let Some(path) = self.inner.options.status_path.clone() else {
            return Err(ConnectorError::Rejected {
                store: Store::FileDb,
                op: if value.is_some() { "put" } else { "delete" },
                key: key.to_owned(),
                reason: "no status-path is configured; fileDB configuration files are read-only"
                    .into(),
            });
        };
        let Some(format) = Format::of(&path) else {
            return Err(ConnectorError::BadFile {
                path,
                line: None,
                message: "the status file must end in .json or .yaml".into(),
            });
        };
        if let Some(v) = &value
            && let Err(e) = serde_json::from_slice::<serde_json::Value>(v)
        {
            return Err(ConnectorError::BadValue {
                store: Store::FileDb,
                key: key.to_owned(),
                reason: format!("fileDB files hold JSON values: {e}"),
            });
        }
        let _guard = self.inner.status_lock.lock().await;
        let key = key.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut entries = match std::fs::read(&path) {
                Ok(bytes) => {
                    format::parse(format, &bytes).map_err(|e| ConnectorError::BadFile {
                        path: path.clone(),
                        line: e.line,
                        message: e.message,
                    })?
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
                Err(e) => return Err(io_err("read", &path)(e)),
            };
            match value {
                Some(v) => entries.insert(key.clone(), v),
                None => entries.remove(&key),
            };
            let bytes =
                format::render(format, &entries).map_err(|reason| ConnectorError::BadValue {
                    store: Store::FileDb,
                    key: key.clone(),
                    reason,
                })?;
            let tmp = path.with_extension("tmp~");
            std::fs::write(&tmp, bytes).map_err(io_err("write", &tmp))?;
            std::fs::rename(&tmp, &path).map_err(io_err("rename onto", &path))
        })
        .await
        .map_err(|e| io_err("write", Path::new("status file"))(std::io::Error::other(e)))?
    }
}

fn snapshot_of(state: &State, prefix: &str) -> Snapshot {
    Snapshot {
        revision: Revision(state.revision),
        entries: state
            .view
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

impl KvBackend for FileDbBackend {
    fn store(&self) -> Store {
        Store::FileDb
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        check_key(Store::FileDb, key)?;
        self.check_open()?;
        let state = self.inner.state.read().map_err(|_| closed())?;
        Ok(state.view.get(key).cloned())
    }

    async fn put(&self, key: &str, value: Bytes) -> Result<()> {
        check_key(Store::FileDb, key)?;
        self.write_status(key, Some(value)).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        check_key(Store::FileDb, key)?;
        self.write_status(key, None).await
    }

    async fn snapshot(&self, prefix: &str) -> Result<Snapshot> {
        self.read_snapshot(prefix)
    }

    async fn watch(&self, prefix: &str, from: Snapshot) -> Result<Watch> {
        self.check_open()?;
        // Subscribe and read under the state lock, so no rescan falls in between.
        let (rx, current, problems) = {
            let state = self.inner.state.read().map_err(|_| closed())?;
            let rx = {
                let hub = self.inner.hub.lock().map_err(|_| closed())?;
                hub.as_ref().ok_or_else(closed)?.subscribe()
            };
            let problems: Vec<_> = state
                .broken
                .iter()
                .map(|(p, (l, m))| ConnectorError::BadFile {
                    path: p.clone(),
                    line: *l,
                    message: m.clone(),
                })
                .collect();
            (rx, snapshot_of(&state, prefix), problems)
        };
        let me = self.clone();
        let watch_prefix = prefix.to_owned();
        let resnapshot = move || {
            let r = me.read_snapshot(&watch_prefix);
            async move { r }
        };
        Ok(spawn_local_watch(
            Store::FileDb,
            prefix.to_owned(),
            from,
            current,
            rx,
            problems,
            resnapshot,
        ))
    }

    async fn close(&self) -> Result<()> {
        self.inner.closed.store(true, Ordering::SeqCst);
        if let Ok(mut w) = self.inner.watcher.lock() {
            w.take();
        }
        if let Ok(mut t) = self.inner.task.lock()
            && let Some(t) = t.take()
        {
            t.abort();
        }
        if let Ok(mut h) = self.inner.hub.lock() {
            h.take();
        }
        Ok(())
    }
}
