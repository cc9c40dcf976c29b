//! [`Closer`]: the "this backend is closed" signal the network backends (etcd, Redis, Consul)
//! share with their watch tasks, so `close()` ends every watch and later calls fail with
//! `Closed`.
//!
//! Deliberately not here: closing connections (the client libraries drop them with the last
//! handle) and the in-process stores, which end their watches by closing their hub.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::watch;

use crate::error::{ConnectorError, Result, Store};

/// A cloneable close flag.
#[derive(Debug, Clone)]
pub(crate) struct Closer {
    tx: Arc<watch::Sender<bool>>,
}

impl Closer {
    pub(crate) fn new() -> Self {
        Closer {
            tx: Arc::new(watch::channel(false).0),
        }
    }

    /// Marks the backend closed; idempotent.
    pub(crate) fn close(&self) {
        self.tx.send_replace(true);
    }

    /// `Err(Closed)` once closed.
    pub(crate) fn check(&self, store: Store) -> Result<()> {
        if *self.tx.borrow() {
            Err(ConnectorError::Closed { store })
        } else {
            Ok(())
        }
    }

    /// Runs `task` until it ends or the backend is closed.
    pub(crate) async fn run_until_closed(&self, task: impl Future<Output = ()>) {
        let mut rx = self.tx.subscribe();
        tokio::select! {
            _ = rx.wait_for(|closed| *closed) => {}
            () = task => {}
        }
    }
}
