//! One worker thread per network namespace: the thread enters the namespace (`setns` on
//! itself, the only safe way since the namespace is a per-thread attribute), then opens its
//! netlink socket there, so every request it runs acts inside that namespace. Nothing else
//! that could open a socket runs between the two: a socket pins the namespace it was made in. Jobs arrive on
//! a channel and run one at a time on a current-thread tokio runtime owned by the thread.
//!
//! A worker that has been idle for a while closes its channel, finishes what is queued and
//! exits, so that it stops pinning a namespace that someone deleted. It never changes the
//! namespace of any other thread and never forks (no `NetworkNamespace::add`).

use std::fmt;
use std::fs::File;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use nix::sched::CloneFlags;
use rtnetlink::Handle;
use tokio::sync::mpsc;

use crate::error::LinuxError;
use crate::ns::{NsIdentity, NsRef};

/// A unit of work: builds the future to run with the namespace's netlink handle. The job
/// carries its own reply channel.
pub(crate) type Job = Box<dyn FnOnce(Handle) -> Pin<Box<dyn Future<Output = ()>>> + Send>;

/// The sending side of a running worker.
pub(crate) struct Worker {
    pub identity: NsIdentity,
    tx: mpsc::UnboundedSender<Job>,
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("identity", &self.identity)
            .field("closed", &self.tx.is_closed())
            .finish()
    }
}

impl Worker {
    /// Starts a worker in the namespace open at `file`; returns once it has entered the
    /// namespace and opened its socket, or with the reason it could not.
    pub fn spawn(
        ns: NsRef,
        file: File,
        identity: NsIdentity,
        idle: Duration,
    ) -> Result<Worker, LinuxError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let thread_ns = ns.clone();
        std::thread::Builder::new()
            .name("linux-netlink".into())
            .spawn(move || run(thread_ns, file, rx, ready_tx, idle))
            .map_err(|e| LinuxError::EnterNamespace {
                ns: ns.clone(),
                source: e,
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {
                tracing::debug!(namespace = %ns, "Started a netlink worker.");
                Ok(Worker { identity, tx })
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(LinuxError::WorkerGone { ns, op: "start" }),
        }
    }

    /// Queues a job; gives it back when the worker has stopped taking jobs.
    pub fn send(&self, job: Job) -> Result<(), Job> {
        self.tx.send(job).map_err(|e| e.0)
    }

    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

type Ready = std::sync::mpsc::SyncSender<Result<(), LinuxError>>;

/// Hands the start result to the caller. Nothing is logged from inside a namespace: a log
/// sink that opens a socket lazily (syslog, journald) would open it there and pin it.
fn report(ready: &Ready, r: Result<(), LinuxError>) {
    // The caller waits for this answer unless its own thread is gone; then nobody is left to
    // tell, and the worker simply exits.
    drop(ready.send(r));
}

fn run(ns: NsRef, file: File, mut rx: mpsc::UnboundedReceiver<Job>, ready: Ready, idle: Duration) {
    // The runtime first, while the thread is still in the agent's namespace: building it may
    // create tokio's process-wide signal socket pair, and a socket pins the namespace it was
    // created in for as long as it lives (for the whole process, in that case).
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            report(&ready, Err(LinuxError::EnterNamespace { ns, source: e }));
            return;
        }
    };
    if let Err(e) = nix::sched::setns(&file, CloneFlags::CLONE_NEWNET) {
        report(
            &ready,
            Err(LinuxError::EnterNamespace {
                ns,
                source: std::io::Error::from(e),
            }),
        );
        return;
    }
    // The thread itself now holds the namespace; the file is no longer needed. The netlink
    // socket opened below lives in it.
    drop(file);
    rt.block_on(async move {
        let (conn, handle, _) = match rtnetlink::new_connection() {
            Ok(c) => c,
            Err(e) => {
                report(&ready, Err(LinuxError::EnterNamespace { ns, source: e }));
                return;
            }
        };
        tokio::spawn(conn);
        report(&ready, Ok(()));
        loop {
            tokio::select! {
                job = rx.recv() => match job {
                    Some(job) => job(handle.clone()).await,
                    None => break,
                },
                () = tokio::time::sleep(idle) => break,
            }
        }
        // Stop taking jobs, then finish the ones already queued: a caller whose send raced
        // with the idle timeout still gets its answer.
        rx.close();
        while let Some(job) = rx.recv().await {
            job(handle.clone()).await;
        }
    });
}
