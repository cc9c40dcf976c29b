//! The namespace-aware netlink layer: [`Netlink`] runs typed operations (veth pairs, moving
//! links between namespaces, name/MAC/MTU/admin state, addresses, routes, neighbours, and
//! dumps of each) in the namespace a [`NsRef`] names.
//!
//! Every namespace gets its own worker thread (`worker.rs`) that entered it before opening
//! its netlink socket; callers block until the worker answers (or a timeout passes), so the
//! API is synchronous like the scheduler's descriptors. A namespace that does not exist is
//! [`LinuxError::NamespaceNotFound`]; a namespace that was deleted and re-created under the
//! same name is noticed (its inode changed) and gets a fresh worker.
//!
//! This layer knows nothing about models, keys or the scheduler, and never shells out.

mod ops;
pub mod types;
mod worker;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rtnetlink::Handle;

use crate::error::LinuxError;
use crate::ns::NsRef;
use types::{Address, IpNet, Link, LinkChange, Neighbour, NeighbourSpec, Route, RouteSpec};
use worker::{Job, Worker};

/// Timing of the netlink layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetlinkConfig {
    /// A namespace's worker exits after this long without work (and stops pinning the
    /// namespace); the next operation starts a new one.
    pub idle: Duration,
    /// How long a caller waits for a worker's answer.
    pub timeout: Duration,
}

impl Default for NetlinkConfig {
    fn default() -> Self {
        NetlinkConfig {
            idle: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The netlink layer. Cheap to clone; clones share the workers.
#[derive(Clone)]
pub struct Netlink {
    inner: Arc<Inner>,
}

struct Inner {
    config: NetlinkConfig,
    workers: Mutex<HashMap<NsRef, Worker>>,
}

impl fmt::Debug for Netlink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let workers = self
            .inner
            .workers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Netlink")
            .field("config", &self.inner.config)
            .field("workers", &workers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Default for Netlink {
    fn default() -> Self {
        Netlink::new(NetlinkConfig::default())
    }
}

type BoxFut<T> = Pin<Box<dyn Future<Output = Result<T, LinuxError>>>>;

impl Netlink {
    pub fn new(config: NetlinkConfig) -> Self {
        Netlink {
            inner: Arc::new(Inner {
                config,
                workers: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn workers(&self) -> std::sync::MutexGuard<'_, HashMap<NsRef, Worker>> {
        self.inner
            .workers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `job` on the namespace's worker, starting (or replacing) it as needed.
    fn submit(&self, ns: &NsRef, mut job: Job) -> Result<(), LinuxError> {
        for _ in 0..3 {
            let (file, identity) = ns
                .open()?
                .ok_or_else(|| LinuxError::NamespaceNotFound { ns: ns.clone() })?;
            let mut workers = self.workers();
            let reusable = workers
                .get(ns)
                .is_some_and(|w| w.identity == identity && !w.is_closed());
            if !reusable {
                let w = Worker::spawn(ns.clone(), file, identity, self.inner.config.idle)?;
                workers.insert(ns.clone(), w);
            }
            let Some(w) = workers.get(ns) else {
                continue;
            };
            match w.send(job) {
                Ok(()) => return Ok(()),
                Err(back) => {
                    // The worker went idle between the check and the send.
                    workers.remove(ns);
                    job = back;
                }
            }
        }
        Err(LinuxError::WorkerGone {
            ns: ns.clone(),
            op: "submit",
        })
    }

    /// Runs `f` with a netlink handle inside namespace `ns` and waits for its result.
    fn call<T, F>(&self, ns: &NsRef, op: &'static str, f: F) -> Result<T, LinuxError>
    where
        T: Send + 'static,
        F: FnOnce(Handle, NsRef) -> BoxFut<T> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let job_ns = ns.clone();
        let job: Job = Box::new(move |h| {
            Box::pin(async move {
                let r = f(h, job_ns).await;
                // A caller that timed out no longer waits; its answer is dropped (and nothing
                // is logged here, inside the namespace, see `worker.rs`).
                drop(tx.send(r));
            })
        });
        self.submit(ns, job)?;
        let timeout = self.inner.config.timeout;
        match rx.recv_timeout(timeout) {
            Ok(r) => r,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(LinuxError::Timeout {
                ns: ns.clone(),
                op,
                after: timeout,
            }),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                Err(LinuxError::WorkerGone { ns: ns.clone(), op })
            }
        }
    }

    /// Runs a custom operation with a netlink handle inside namespace `ns` and waits for its
    /// result: for extensions that need a link kind or attribute this layer has no typed
    /// operation for. `op` names the operation in errors (timeouts, a stopped worker).
    pub fn run<T, F>(&self, ns: &NsRef, op: &'static str, f: F) -> Result<T, LinuxError>
    where
        T: Send + 'static,
        F: FnOnce(Handle, NsRef) -> Pin<Box<dyn Future<Output = Result<T, LinuxError>>>>
            + Send
            + 'static,
    {
        self.call(ns, op, f)
    }

    /// Stops the worker of `ns` (if any), so that the agent no longer pins the namespace.
    pub fn forget(&self, ns: &NsRef) {
        self.workers().remove(ns);
    }

    /// Stops every worker.
    pub fn forget_all(&self) {
        self.workers().clear();
    }

    /// Does the namespace exist right now?
    pub fn namespace_exists(&self, ns: &NsRef) -> bool {
        ns.exists()
    }

    /// All links of the namespace.
    pub fn links(&self, ns: &NsRef) -> Result<Vec<Link>, LinuxError> {
        self.call(ns, "dump links", |h, ns| {
            Box::pin(async move { ops::links(&h, &ns).await })
        })
    }

    /// One link by name.
    pub fn link(&self, ns: &NsRef, name: &str) -> Result<Option<Link>, LinuxError> {
        let name = name.to_owned();
        self.call(ns, "get link", move |h, ns| {
            Box::pin(async move { ops::link_by_name(&h, &ns, &name).await })
        })
    }

    /// Creates veth `name` in `ns` with its peer `peer` created directly in `peer_ns`.
    pub fn create_veth(
        &self,
        ns: &NsRef,
        name: &str,
        peer: &str,
        peer_ns: &NsRef,
    ) -> Result<(), LinuxError> {
        let (name, peer) = (name.to_owned(), peer.to_owned());
        let peer_file = if peer_ns == ns {
            None
        } else {
            let (file, _) = peer_ns
                .open()?
                .ok_or_else(|| LinuxError::NamespaceNotFound {
                    ns: peer_ns.clone(),
                })?;
            Some(file)
        };
        self.call(ns, "create veth", move |h, ns| {
            Box::pin(async move {
                let fd = peer_file.as_ref().map(AsRawFd::as_raw_fd);
                ops::create_veth(&h, &ns, &name, &peer, fd).await
            })
        })
    }

    /// Deletes link `name` (a veth takes its peer with it).
    pub fn delete_link(&self, ns: &NsRef, name: &str) -> Result<(), LinuxError> {
        let name = name.to_owned();
        self.call(ns, "delete link", move |h, ns| {
            Box::pin(async move { ops::delete_link(&h, &ns, &name).await })
        })
    }

    /// Moves link `name` from `ns` into namespace `to` (by file descriptor), keeping its
    /// name. Rename it first if the name is taken in `to`.
    pub fn move_link(&self, ns: &NsRef, name: &str, to: &NsRef) -> Result<(), LinuxError> {
        if ns == to {
            return Ok(());
        }
        let (file, _) = to
            .open()?
            .ok_or_else(|| LinuxError::NamespaceNotFound { ns: to.clone() })?;
        let name = name.to_owned();
        self.call(ns, "move link", move |h, ns| {
            Box::pin(async move { ops::move_link(&h, &ns, &name, file.as_raw_fd()).await })
        })
    }

    /// Renames and sets MAC, MTU, alias and admin state of link `name`.
    pub fn set_link(&self, ns: &NsRef, name: &str, change: LinkChange) -> Result<(), LinuxError> {
        let name = name.to_owned();
        self.call(ns, "set link", move |h, ns| {
            Box::pin(async move { ops::set_link(&h, &ns, &name, &change).await })
        })
    }

    /// All addresses of the namespace.
    pub fn addresses(&self, ns: &NsRef) -> Result<Vec<Address>, LinuxError> {
        self.call(ns, "dump addresses", |h, ns| {
            Box::pin(async move { ops::addresses(&h, &ns).await })
        })
    }

    pub fn add_address(&self, ns: &NsRef, interface: &str, net: IpNet) -> Result<(), LinuxError> {
        let name = interface.to_owned();
        self.call(ns, "add address", move |h, ns| {
            Box::pin(async move { ops::add_address(&h, &ns, &name, net).await })
        })
    }

    /// Deletes the address; `Ok(false)` when the interface does not have it.
    pub fn del_address(&self, ns: &NsRef, interface: &str, net: IpNet) -> Result<bool, LinuxError> {
        let name = interface.to_owned();
        self.call(ns, "delete address", move |h, ns| {
            Box::pin(async move { ops::del_address(&h, &ns, &name, net).await })
        })
    }

    /// The routes of the namespace's main table.
    pub fn routes(&self, ns: &NsRef) -> Result<Vec<Route>, LinuxError> {
        self.call(ns, "dump routes", |h, ns| {
            Box::pin(async move { ops::routes(&h, &ns).await })
        })
    }

    /// Adds or replaces a route.
    pub fn add_route(&self, ns: &NsRef, spec: RouteSpec) -> Result<(), LinuxError> {
        self.call(ns, "add route", move |h, ns| {
            Box::pin(async move { ops::add_route(&h, &ns, &spec).await })
        })
    }

    /// Deletes a route; `Ok(false)` when there is no such route.
    pub fn del_route(&self, ns: &NsRef, spec: RouteSpec) -> Result<bool, LinuxError> {
        self.call(ns, "delete route", move |h, ns| {
            Box::pin(async move { ops::del_route(&h, &ns, &spec).await })
        })
    }

    /// All neighbour entries of the namespace.
    pub fn neighbours(&self, ns: &NsRef) -> Result<Vec<Neighbour>, LinuxError> {
        self.call(ns, "dump neighbours", |h, ns| {
            Box::pin(async move { ops::neighbours(&h, &ns).await })
        })
    }

    /// Adds or replaces a permanent neighbour entry.
    pub fn add_neighbour(&self, ns: &NsRef, spec: NeighbourSpec) -> Result<(), LinuxError> {
        self.call(ns, "add neighbour", move |h, ns| {
            Box::pin(async move { ops::add_neighbour(&h, &ns, &spec).await })
        })
    }

    /// Deletes a neighbour entry; `Ok(false)` when there is none.
    pub fn del_neighbour(
        &self,
        ns: &NsRef,
        interface: &str,
        ip: IpAddr,
    ) -> Result<bool, LinuxError> {
        let name = interface.to_owned();
        self.call(ns, "delete neighbour", move |h, ns| {
            Box::pin(async move { ops::del_neighbour(&h, &ns, &name, ip).await })
        })
    }
}
