//! [`NamespaceWatcher`]: a thread that polls the namespaces the configuration refers to
//! (and every named namespace) and reports each one that appears or disappears as a
//! [`NamespaceEvent`]. Whoever runs the scheduler answers an event with a downstream resync,
//! whose retrieve makes the namespace key exist (or vanish), so the values waiting for it are
//! created (or withdrawn) without a restart.
//!
//! Polling, not inotify: PID references live in /proc, which inotify cannot watch. It does
//! not touch the scheduler itself and never enters a namespace.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use messages::Key;
use tokio::sync::mpsc;

use crate::ns::{NsRef, WatchedNamespaces};

/// A namespace appeared (`present`) or disappeared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespaceEvent {
    pub ns: NsRef,
    /// The key that stands for the namespace (`linux/namespace/...`).
    pub key: Key,
    pub present: bool,
}

/// The polling thread; dropping it stops the thread.
#[derive(Debug)]
pub struct NamespaceWatcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl NamespaceWatcher {
    /// Starts polling every `interval`. The first poll reports every namespace present.
    pub fn start(
        watched: WatchedNamespaces,
        interval: Duration,
    ) -> std::io::Result<(NamespaceWatcher, mpsc::UnboundedReceiver<NamespaceEvent>)> {
        let (tx, rx) = mpsc::unbounded_channel();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("linux-ns-watch".into())
            .spawn(move || run(&watched, interval, &flag, &tx))?;
        Ok((
            NamespaceWatcher {
                stop,
                thread: Some(thread),
            },
            rx,
        ))
    }
}

impl Drop for NamespaceWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            if t.join().is_err() {
                tracing::warn!("the namespace watcher thread panicked");
            }
        }
    }
}

fn run(
    watched: &WatchedNamespaces,
    interval: Duration,
    stop: &AtomicBool,
    tx: &mpsc::UnboundedSender<NamespaceEvent>,
) {
    let mut known: BTreeSet<NsRef> = BTreeSet::new();
    while !stop.load(Ordering::SeqCst) {
        let present: BTreeSet<NsRef> = watched
            .snapshot()
            .into_iter()
            .filter(NsRef::exists)
            .collect();
        let appeared = present.difference(&known).map(|ns| (ns, true));
        let vanished = known.difference(&present).map(|ns| (ns, false));
        for (ns, present) in appeared.chain(vanished) {
            let Some(key) = ns.key() else {
                continue;
            };
            let ev = NamespaceEvent {
                ns: ns.clone(),
                key,
                present,
            };
            if tx.send(ev).is_err() {
                return;
            }
        }
        known = present;
        std::thread::park_timeout(interval);
    }
}
