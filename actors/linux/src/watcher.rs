//! [`Watcher`]: a thread that polls what the Linux plugin observes but does not configure,
//! and reports every change as a [`WatchEvent`]:
//! - the namespaces the configuration refers to, and every named namespace
//!   (`linux/namespace/...`, `linux/microservice/...`);
//! - the links of the agent's own namespace (`linux/interface/host-name/<name>`).
//!
//! Whoever runs the scheduler answers an event with a downstream resync, whose retrieve makes
//! the key exist (or vanish), so values waiting for a namespace or a host interface are
//! created (or withdrawn) without a restart.
//!
//! Polling, not inotify: PID references live in /proc, which inotify cannot watch. It does
//! not touch the scheduler itself and never enters a namespace (links are read through the
//! netlink layer).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use messages::Key;
use tokio::sync::mpsc;

use crate::descriptor::host_name_key;
use crate::netlink::Netlink;
use crate::ns::{NsRef, WatchedNamespaces};

/// What a [`WatchEvent`] is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Watched {
    Namespace(NsRef),
    /// A link of the default namespace, by kernel name.
    HostInterface(String),
}

impl Watched {
    /// The key that stands for it in the scheduler.
    pub fn key(&self) -> Option<Key> {
        match self {
            Watched::Namespace(ns) => ns.key(),
            Watched::HostInterface(name) => Some(host_name_key(name)),
        }
    }
}

/// Something appeared (`present`) or disappeared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchEvent {
    pub what: Watched,
    pub key: Key,
    pub present: bool,
}

/// The polling thread; dropping it stops the thread.
#[derive(Debug)]
pub struct Watcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Starts polling every `interval`. The first poll reports everything present.
    pub fn start(
        namespaces: WatchedNamespaces,
        netlink: Netlink,
        interval: Duration,
    ) -> std::io::Result<(Watcher, mpsc::UnboundedReceiver<WatchEvent>)> {
        let (tx, rx) = mpsc::unbounded_channel();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("linux-watch".into())
            .spawn(move || run(&namespaces, &netlink, interval, &flag, &tx))?;
        Ok((
            Watcher {
                stop,
                thread: Some(thread),
            },
            rx,
        ))
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            if t.join().is_err() {
                tracing::warn!("The Linux watcher thread panicked.");
            }
        }
    }
}

/// Everything observed right now. A failed link dump keeps the links seen last time, so a
/// transient netlink error is not reported as every link vanishing.
fn observe(
    namespaces: &WatchedNamespaces,
    netlink: &Netlink,
    known: &BTreeSet<Watched>,
) -> BTreeSet<Watched> {
    let mut now: BTreeSet<Watched> = namespaces
        .snapshot()
        .into_iter()
        .filter(NsRef::exists)
        .map(Watched::Namespace)
        .collect();
    match netlink.links(&NsRef::Default) {
        Ok(links) => now.extend(links.into_iter().map(|l| Watched::HostInterface(l.name))),
        Err(e) => {
            tracing::warn!(error = %e, "Cannot list the links of the default namespace.");
            now.extend(
                known
                    .iter()
                    .filter(|w| matches!(w, Watched::HostInterface(_)))
                    .cloned(),
            );
        }
    }
    now
}

fn run(
    namespaces: &WatchedNamespaces,
    netlink: &Netlink,
    interval: Duration,
    stop: &AtomicBool,
    tx: &mpsc::UnboundedSender<WatchEvent>,
) {
    let mut known: BTreeSet<Watched> = BTreeSet::new();
    while !stop.load(Ordering::SeqCst) {
        let now = observe(namespaces, netlink, &known);
        let appeared = now.difference(&known).map(|w| (w, true));
        let vanished = known.difference(&now).map(|w| (w, false));
        for (what, present) in appeared.chain(vanished) {
            let Some(key) = what.key() else {
                continue;
            };
            let ev = WatchEvent {
                what: what.clone(),
                key,
                present,
            };
            if tx.send(ev).is_err() {
                return;
            }
        }
        known = now;
        std::thread::park_timeout(interval);
    }
}
