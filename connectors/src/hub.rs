//! The watch task shared by the in-process stores (embedded and fileDB): they publish every
//! committed batch on a `tokio::sync::broadcast` channel, and each watch filters it by prefix,
//! keeps its own [`LastSeen`] cache and recovers from lag by a snapshot diff.
//!
//! Deliberately not here: how batches are produced (each store's writer does that) and any
//! network reconnect logic.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc};
use tracing::Instrument as _;

use crate::cache::LastSeen;
use crate::error::{ConnectorError, Result, Store};
use crate::types::{ChangeBatch, Snapshot, WATCH_BUFFER, Watch, WatchEvent};

/// What an in-process store publishes.
#[derive(Debug, Clone)]
pub(crate) enum HubMsg {
    /// A committed batch.
    Batch(Arc<ChangeBatch>),
    /// A fileDB file that cannot be parsed; its last good content stays.
    BadFile {
        path: PathBuf,
        line: Option<u64>,
        message: String,
    },
}

/// The publishing side.
pub(crate) type BatchSender = broadcast::Sender<HubMsg>;

/// Starts a watch of `prefix` on an in-process store.
///
/// `rx` must be subscribed *before* `current` was read, so that every batch committed after
/// `current` reaches the watch; batches at or below `current.revision` are skipped.
pub(crate) fn spawn_local_watch<F, Fut>(
    store: Store,
    prefix: String,
    from: Snapshot,
    current: Snapshot,
    mut rx: broadcast::Receiver<HubMsg>,
    problems: Vec<ConnectorError>,
    resnapshot: F,
) -> Watch
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<Snapshot>> + Send,
{
    let (tx, out) = mpsc::channel(WATCH_BUFFER);
    let span = tracing::info_span!("watch", connector = store.name(), prefix = %prefix);
    let task = tokio::spawn(
        async move {
            for problem in problems {
                if tx.send(WatchEvent::Problem(problem)).await.is_err() {
                    return;
                }
            }
            let mut seen = LastSeen::from_snapshot(from);
            let mut floor = current.revision;
            let catch_up = seen.diff_to(current);
            if !catch_up.changes.is_empty()
                && tx.send(WatchEvent::Resynced(catch_up)).await.is_err()
            {
                return;
            }
            loop {
                match rx.recv().await {
                    Ok(HubMsg::BadFile {
                        path,
                        line,
                        message,
                    }) => {
                        let problem = ConnectorError::BadFile {
                            path,
                            line,
                            message,
                        };
                        if tx.send(WatchEvent::Problem(problem)).await.is_err() {
                            return;
                        }
                    }
                    Ok(HubMsg::Batch(batch)) => {
                        let changes: Vec<_> = batch
                            .changes
                            .iter()
                            .filter(|c| c.revision > floor && c.key.starts_with(&prefix))
                            .map(|c| seen.record(c.clone()))
                            .collect();
                        if changes.is_empty() {
                            continue;
                        }
                        let out = ChangeBatch {
                            revision: batch.revision,
                            changes,
                        };
                        if tx.send(WatchEvent::Changes(out)).await.is_err() {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(
                            missed,
                            prefix,
                            "watch lagged behind the store; resyncing by snapshot diff"
                        );
                        rx = rx.resubscribe();
                        match resnapshot().await {
                            Ok(snapshot) => {
                                floor = snapshot.revision;
                                let batch = seen.diff_to(snapshot);
                                if tx.send(WatchEvent::Resynced(batch)).await.is_err() {
                                    return;
                                }
                            }
                            Err(err) => {
                                let _ = tx.send(WatchEvent::Problem(err)).await;
                                return;
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
        .instrument(span),
    );
    Watch::new(out, task)
}
