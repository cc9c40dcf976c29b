//! The connector actor: one per configured KV store, generic over the backend, run under an
//! actix `Supervisor`.
//!
//! | accepts | emits |
//! |---|---|
//! | (stream) [`connectors::WatchEvent`] from its own watch | [`StoreResynced`], [`StoreChanged`] to the watcher; [`ConnectorStateChanged`] to observers |
//! | [`WriteKeys`] | writes through the connection (status publishing); an error while disconnected |
//!
//! Life cycle: `started` connects (after the back-off delay when restarting), takes a
//! snapshot of the agent prefix, sends it as a resync (awaiting the watcher, so nothing
//! overtakes it), then follows the watch from that snapshot, forwarding each batch in order
//! with `ctx.wait` (no interleaving, back-pressure on the store). Any failure to connect and
//! the end of the watch stream stop the actor with `ctx.stop()`; the supervisor restarts it,
//! `restarting` doubles the back-off (actix does not supervise panics: this code never
//! unwraps). Transient store trouble the watch recovers from by itself is only reported.
//!
//! Deliberately not here: decoding (the watcher) and merging sources (the orchestrator).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use connectors::{KvBackend, Snapshot, Watch, WatchEvent};
use tracing::{Instrument, debug, info, info_span, warn};

use crate::msg::{
    ConnectionState, ConnectorStateChanged, RawChange, SourceId, StoreChanged, StoreResynced,
    WriteKeys,
};

/// Opens a backend; called again on every (re)connect.
pub type Opener<B> =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = connectors::Result<B>> + Send>> + Send + Sync>;

/// Exponential back-off between reconnect attempts.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(10),
        }
    }
}

impl Backoff {
    /// Delay before attempt number `failures` (0: none).
    pub fn delay(&self, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let shift = (failures - 1).min(16);
        self.initial.saturating_mul(1 << shift).min(self.max)
    }
}

/// Immutable configuration of a connector actor.
pub struct ConnectorConfig<B> {
    pub source: SourceId,
    /// The agent prefix, `/vnf-agent/<label>/`.
    pub prefix: String,
    pub open: Opener<B>,
    pub resync_to: Recipient<StoreResynced>,
    pub changes_to: Recipient<StoreChanged>,
    pub observers: Vec<Recipient<ConnectorStateChanged>>,
    pub backoff: Backoff,
}

impl<B> std::fmt::Debug for ConnectorConfig<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorConfig")
            .field("source", &self.source)
            .field("prefix", &self.prefix)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

/// The connection, as one state rather than flags.
enum Conn<B> {
    Disconnected,
    Connecting,
    /// Holding the backend keeps the store connection (or the embedded database file) open
    /// for as long as the actor is connected.
    Connected(#[allow(dead_code)] Arc<B>),
}

/// See the module docs.
pub struct ConnectorActor<B: KvBackend> {
    cfg: ConnectorConfig<B>,
    conn: Conn<B>,
    /// Consecutive failed (re)connects; drives the back-off, reset once connected.
    failures: u32,
    /// Restarts by the supervisor, for tests and status.
    pub restarts: u32,
}

impl<B: KvBackend> std::fmt::Debug for ConnectorActor<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorActor")
            .field("source", &self.cfg.source)
            .field("failures", &self.failures)
            .finish_non_exhaustive()
    }
}

impl<B: KvBackend> ConnectorActor<B> {
    pub fn new(cfg: ConnectorConfig<B>) -> Self {
        ConnectorActor {
            cfg,
            conn: Conn::Disconnected,
            failures: 0,
            restarts: 0,
        }
    }

    fn notify(&self, state: ConnectionState) {
        for o in &self.cfg.observers {
            // Status is best-effort telemetry: a closed observer must not stop the connector.
            o.do_send(ConnectorStateChanged {
                source: self.cfg.source.clone(),
                state: state.clone(),
            });
        }
    }

    fn fail(&mut self, error: String, ctx: &mut Context<Self>) {
        self.failures += 1;
        let retry = self.cfg.backoff.delay(self.failures);
        warn!(connector = %self.cfg.source, %error, retry_in_ms = retry.as_millis() as u64,
            "Connector failed; the supervisor restarts it after the back-off.");
        self.notify(ConnectionState::Disconnected {
            error,
            retry_in_ms: retry.as_millis() as u64,
        });
        self.conn = Conn::Disconnected;
        ctx.stop();
    }

    fn connect(&mut self, ctx: &mut Context<Self>) {
        self.conn = Conn::Connecting;
        self.notify(ConnectionState::Connecting);
        let open = self.cfg.open.clone();
        let prefix = self.cfg.prefix.clone();
        let span = info_span!("connector_resync", connector = %self.cfg.source);
        let fut = async move {
            let backend = open().await?;
            let snapshot = backend.snapshot(&prefix).await?;
            let watch = backend.watch(&prefix, snapshot.clone()).await?;
            Ok::<_, connectors::ConnectorError>((Arc::new(backend), snapshot, watch))
        }
        .instrument(span.clone());
        ctx.wait(fut.into_actor(self).then(move |res, act, ctx| {
            let ready: Pin<Box<dyn ActorFuture<Self, Output = ()>>> = match res {
                Ok((backend, snapshot, watch)) => {
                    act.conn = Conn::Connected(backend);
                    Box::pin(act.deliver_snapshot(snapshot, watch, span))
                }
                Err(e) => {
                    act.fail(e.to_string(), ctx);
                    Box::pin(actix::fut::ready(()))
                }
            };
            ready
        }));
    }

    /// Sends the snapshot to the watcher, waits for it to be taken, then starts the watch.
    fn deliver_snapshot(
        &mut self,
        snapshot: Snapshot,
        watch: Watch,
        span: tracing::Span,
    ) -> impl ActorFuture<Self, Output = ()> + use<B> {
        let msg = StoreResynced {
            source: self.cfg.source.clone(),
            revision: snapshot.revision.get(),
            entries: snapshot.entries.into_iter().collect(),
            span,
        };
        info!(connector = %self.cfg.source, keys = msg.entries.len(), revision = msg.revision,
            "Connected; resyncing from a snapshot.");
        let send = self.cfg.resync_to.send(msg);
        send.into_actor(self).map(move |res, act, ctx| match res {
            Ok(()) => {
                act.failures = 0;
                act.notify(ConnectionState::Connected);
                let stream = futures::stream::unfold(watch, |mut w| async move {
                    w.next().await.map(|e| (e, w))
                });
                ctx.add_stream(stream);
            }
            Err(e) => act.fail(format!("watcher did not take the resync: {e}"), ctx),
        })
    }
}

impl<B: KvBackend> Actor for ConnectorActor<B> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let delay = self.cfg.backoff.delay(self.failures);
        if delay.is_zero() {
            self.connect(ctx);
        } else {
            ctx.run_later(delay, |act, ctx| act.connect(ctx));
        }
    }
}

impl<B: KvBackend> Supervised for ConnectorActor<B> {
    fn restarting(&mut self, _ctx: &mut Context<Self>) {
        // The struct is reused: reset the connection, keep the failure count for back-off.
        self.restarts += 1;
        self.conn = Conn::Disconnected;
    }
}

impl<B: KvBackend> StreamHandler<WatchEvent> for ConnectorActor<B> {
    fn handle(&mut self, event: WatchEvent, ctx: &mut Context<Self>) {
        let batch = match event {
            WatchEvent::Changes(b) | WatchEvent::Resynced(b) => b,
            WatchEvent::Resumed { revision } => {
                info!(connector = %self.cfg.source, %revision, "Store is back; replaying its history.");
                self.notify(ConnectionState::Connected);
                return;
            }
            WatchEvent::Problem(e) => {
                warn!(connector = %self.cfg.source, error = %e, "Store trouble; the watch retries.");
                self.notify(ConnectionState::Disconnected {
                    error: e.to_string(),
                    retry_in_ms: 0,
                });
                return;
            }
        };
        if matches!(self.conn, Conn::Connected(_)) {
            self.notify(ConnectionState::Connected);
        }
        if batch.changes.is_empty() {
            return;
        }
        // The root of the change's trace: one store event, followed through every actor.
        let span = info_span!("connector_change", connector = %self.cfg.source,
            revision = batch.revision.get(), key = tracing::field::Empty);
        if let [only] = batch.changes.as_slice() {
            let key = only.key.strip_prefix(&self.cfg.prefix).unwrap_or(&only.key);
            span.record("key", key);
        }
        debug!(parent: &span, changes = batch.changes.len(), "Forwarding store changes.");
        let msg = StoreChanged {
            source: self.cfg.source.clone(),
            revision: batch.revision.get(),
            changes: batch
                .changes
                .into_iter()
                .map(|c| RawChange {
                    key: c.key,
                    value: c.value,
                    prev: c.prev,
                })
                .collect(),
            span,
        };
        let send = self.cfg.changes_to.send(msg);
        ctx.wait(send.into_actor(self).map(|res, act, ctx| {
            if let Err(e) = res {
                act.fail(format!("watcher did not take a change: {e}"), ctx);
            }
        }));
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        self.fail("the watch ended".to_owned(), ctx);
    }
}

impl<B: KvBackend> Handler<WriteKeys> for ConnectorActor<B> {
    type Result = ResponseFuture<Result<(), String>>;

    fn handle(&mut self, msg: WriteKeys, _ctx: &mut Context<Self>) -> Self::Result {
        let Conn::Connected(backend) = &self.conn else {
            let source = self.cfg.source.clone();
            return Box::pin(async move { Err(format!("{source} is not connected")) });
        };
        let backend = backend.clone();
        Box::pin(async move {
            for (key, value) in msg.entries {
                let res = match value {
                    Some(v) => backend.put(&key, v).await,
                    None => backend.delete(&key).await,
                };
                res.map_err(|e| format!("{key}: {e}"))?;
            }
            Ok(())
        })
    }
}
