//! The async VPP API client over the unix socket: typed requests, batches and dumps, many in flight on one
//! socket, matched to their answers by context, with timeouts, event subscriptions, a control_ping liveness
//! check, a clean disconnect and reconnection after VPP restarts.
//!
//! A [`Client`] is one connection. When it dies (VPP restarts, a garbage frame, a failed health check) every
//! waiting call fails with [`Error::Disconnected`] and [`Client::closed`] resolves; the owner then calls
//! [`Client::reconnect`] (or [`connect_with_retry`]), which reads a fresh message table, since ids change.
//! This module deliberately holds no reconnect loop of its own and no release choice (see [`crate::compat`]).

mod connect;
mod retry;
mod shared;

pub use connect::{SOCKCLNT_CREATE_ID, SOCKCLNT_CREATE_REPLY_ID};
pub use retry::{Backoff, connect_with_retry};

use crate::codec::frame::{DEFAULT_MAX_PAYLOAD, encode_frame};
use crate::codec::message::{Dump, Message, Request};
use crate::error::Error;
use crate::messages::{ControlPing, ControlPingReply, SockclntDelete, SockclntDeleteReply};
use crate::table::MessageTable;
use shared::{Answer, SendError, Shared, Slot, Waiter, decode_as};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::AbortHandle;

/// How to reach VPP and how patient to be.
#[derive(Debug, Clone)]
pub struct Config {
    /// The API socket, `/run/vpp/api.sock` by default.
    pub socket: PathBuf,
    /// The name VPP records for this client (at most 63 bytes).
    pub client_name: String,
    /// Socket connect plus handshake.
    pub connect_timeout: Duration,
    /// Each request or whole dump.
    pub request_timeout: Duration,
    /// Cap on a received payload; a longer frame closes the connection.
    pub max_payload: usize,
    /// Send a control_ping this often and close the connection if it is not answered within
    /// `health_timeout`; `None` disables the check.
    pub health_interval: Option<Duration>,
    pub health_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            socket: PathBuf::from("/run/vpp/api.sock"),
            client_name: "vpp-agent-rs".to_string(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            max_payload: DEFAULT_MAX_PAYLOAD,
            health_interval: Some(Duration::from_secs(1)),
            health_timeout: Duration::from_millis(500),
        }
    }
}

impl Config {
    /// The default configuration for another socket path.
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        Self {
            socket: socket.into(),
            ..Self::default()
        }
    }
}

struct Inner {
    shared: Arc<Shared>,
    config: Config,
    tasks: Vec<AbortHandle>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.close("client dropped");
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// One connection to VPP; cheap to clone, closed when the last clone is dropped.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("socket", &self.inner.config.socket)
            .field("client_index", &self.inner.shared.client_index)
            .field("messages", &self.inner.shared.table.len())
            .field("closed", &self.inner.shared.closed_reason())
            .finish()
    }
}

impl Client {
    /// Connects, reads the message table and starts the reader, writer and health tasks.
    pub async fn connect(config: Config) -> Result<Client, Error> {
        let opened = connect::open(&config).await?;
        let (closed_tx, _) = watch::channel(None);
        let shared = Arc::new(Shared {
            control_ping_reply: opened.table.id_of::<ControlPingReply>(),
            table: opened.table,
            client_index: opened.client_index,
            pending: Default::default(),
            next_context: AtomicU32::new(1),
            out_ready: Default::default(),
            closed_tx,
        });
        let mut tasks = vec![
            {
                let parts = opened.frames.into_parts();
                let read = shared::read_loop(shared.clone(), parts.io, parts.read_buf, parts.codec);
                tokio::spawn(read).abort_handle()
            },
            tokio::spawn(shared::write_loop(shared.clone(), opened.writer)).abort_handle(),
        ];
        if let Some(every) = config.health_interval {
            tasks.push(
                tokio::spawn(health_loop(shared.clone(), every, config.health_timeout))
                    .abort_handle(),
            );
        }
        Ok(Client {
            inner: Arc::new(Inner {
                shared,
                config,
                tasks,
            }),
        })
    }

    /// A new connection with the same configuration (after VPP restarted); this one is left as it is.
    pub async fn reconnect(&self) -> Result<Client, Error> {
        Client::connect(self.inner.config.clone()).await
    }

    /// The message table VPP sent for this connection.
    pub fn table(&self) -> &MessageTable {
        &self.inner.shared.table
    }

    /// The client index VPP assigned (`0x80000000 | registration`).
    pub fn client_index(&self) -> u32 {
        self.inner.shared.client_index
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Calls waiting for an answer right now.
    pub fn in_flight(&self) -> usize {
        let p = self
            .inner
            .shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        p.slots.len()
    }

    /// Why the connection closed, if it has.
    pub fn closed_reason(&self) -> Option<String> {
        self.inner.shared.closed_reason()
    }

    pub fn is_closed(&self) -> bool {
        self.closed_reason().is_some()
    }

    /// Resolves with the reason once the connection has closed.
    pub async fn closed(&self) -> String {
        let mut rx = self.inner.shared.closed_tx.subscribe();
        loop {
            if let Some(reason) = rx.borrow_and_update().clone() {
                return reason;
            }
            if rx.changed().await.is_err() {
                return "connection state dropped".to_string();
            }
        }
    }

    /// Closes the connection locally, failing waiting calls with `reason`.
    pub fn close(&self, reason: &str) {
        self.inner.shared.close(reason);
    }

    /// Delivers every event `E` VPP sends on this connection (e.g. `sw_interface_event` after
    /// `want_interface_events`) to the returned receiver, which holds up to `capacity` events; when it is full
    /// further events are dropped with a log line, so a slow reader never stalls replies. Subscribing does not
    /// ask VPP for the events: send the matching `want_*` request too.
    pub fn subscribe<E: Message>(&self, capacity: usize) -> Result<mpsc::Receiver<E>, Error> {
        let shared = &self.inner.shared;
        let id = id_of::<E>(&shared.table)?;
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let deliver = move |payload: &[u8]| match crate::codec::message::decode_payload::<E>(
            payload,
        ) {
            Ok((_, _, event)) => match tx.try_send(event) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(msg = E::NAME, "event receiver is full, dropping an event");
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            },
            Err(e) => {
                tracing::warn!(msg = E::NAME, error = %e, "dropping an event that does not decode");
                !tx.is_closed()
            }
        };
        let mut p = shared.pending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(reason) = &p.closed {
            return Err(Error::Disconnected {
                msg: E::NAME,
                reason: reason.clone(),
            });
        }
        p.subscribers.entry(id).or_default().push(Box::new(deliver));
        Ok(rx)
    }

    /// Sends `req` and waits for its reply; a non-zero `retval` is an [`Error::Retval`].
    pub async fn request<R: Request>(&self, req: &R) -> Result<R::Reply, Error> {
        request_on(&self.inner.shared, req, self.inner.config.request_timeout).await
    }

    /// [`Client::request`] with its own timeout instead of the configured one.
    pub async fn request_within<R: Request>(
        &self,
        req: &R,
        timeout: Duration,
    ) -> Result<R::Reply, Error> {
        request_on(&self.inner.shared, req, timeout).await
    }

    /// Sends all of `reqs` in one write, so they are in flight together, and waits for every reply under one
    /// deadline. The outer error concerns the whole batch (unknown message, closed connection, a value that
    /// cannot be encoded); each entry carries its own result (a `retval`, a timeout, a disconnect).
    pub async fn request_batch<R: Request>(
        &self,
        reqs: &[R],
    ) -> Result<Vec<Result<R::Reply, Error>>, Error> {
        let shared = &self.inner.shared;
        let id = id_of::<R>(&shared.table)?;
        let reply_id = id_of::<R::Reply>(&shared.table)?;
        let timeout = self.inner.config.request_timeout;
        let contexts: Vec<u32> = reqs.iter().map(|_| shared.context()).collect();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let slots = contexts.iter().enumerate().map(|(i, &c)| {
            let slot = Slot {
                msg: R::NAME,
                dump: false,
                items: Vec::new(),
                done: Waiter::Batch(i, tx.clone()),
            };
            (c, slot)
        });
        let sent = shared.send(slots, |out| {
            reqs.iter()
                .zip(&contexts)
                .try_for_each(|(r, &c)| encode_frame(out, id, shared.header(c), r))
        });
        drop(tx);
        sent.map_err(|e| send_error(R::NAME, e))?;
        let mut guard = ForgetOnDrop {
            shared,
            contexts: &contexts,
            armed: true,
        };
        let mut results: Vec<Option<Result<R::Reply, Error>>> = reqs.iter().map(|_| None).collect();
        let mut left = reqs.len();
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        while left > 0 {
            let first = tokio::select! {
                biased;
                item = rx.recv() => item,
                () = &mut deadline => None,
            };
            let Some(first) = first else { break };
            let mut item = Some(first);
            while let Some((i, answer)) = item {
                results[i] = Some(answer.and_then(|p| finish_reply::<R>(shared, reply_id, &p)));
                left -= 1;
                item = rx.try_recv().ok();
            }
        }
        // Unanswered entries are forgotten by the guard.
        guard.armed = left > 0;
        drop(guard);
        Ok(results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(Error::Timeout {
                        msg: R::NAME,
                        after: timeout,
                    })
                })
            })
            .collect())
    }

    /// Sends `req` and a control_ping with the same context, and collects the details until the ping's reply.
    pub async fn dump<D: Dump>(&self, req: &D) -> Result<Vec<D::Details>, Error> {
        let shared = &self.inner.shared;
        let table = &shared.table;
        let id = id_of::<D>(table)?;
        let details = id_of::<D::Details>(table)?;
        let ping = id_of::<ControlPing>(table)?;
        id_of::<ControlPingReply>(table)?;
        let context = shared.context();
        record_context(context);
        let header = shared.header(context);
        let encode = |out: &mut Vec<u8>| {
            encode_frame(out, id, header, req)?;
            encode_frame(out, ping, header, &ControlPing {})
        };
        let timeout = self.inner.config.request_timeout;
        let items = match call(shared, D::NAME, context, true, timeout, encode).await? {
            Answer::Many(items) => items,
            Answer::One(item) => vec![item],
        };
        items
            .iter()
            .map(|p| decode_as::<D::Details>(table, D::NAME, details, p))
            .collect::<Result<Vec<_>, _>>()
            .inspect_err(|e| close_on_protocol_error(shared, e))
    }

    /// One control_ping round trip: the liveness check.
    pub async fn ping(&self) -> Result<ControlPingReply, Error> {
        self.request(&ControlPing {}).await
    }

    /// Sends `sockclnt_delete`, waits for VPP's confirmation (`response == 1`) and closes the connection.
    pub async fn disconnect(&self) -> Result<(), Error> {
        let shared = &self.inner.shared;
        let req = SockclntDelete {
            index: shared.client_index,
        };
        let result =
            request_on::<SockclntDelete>(shared, &req, self.inner.config.request_timeout).await;
        shared.close("disconnected by the client");
        let reply: SockclntDeleteReply = result?;
        if reply.response != 1 {
            return Err(Error::retval(SockclntDelete::NAME, reply.response));
        }
        Ok(())
    }
}

fn id_of<M: Message>(table: &MessageTable) -> Result<u16, Error> {
    table.id_of::<M>().ok_or(Error::UnknownMessage {
        name_crc: M::NAME_CRC,
    })
}

fn send_error(msg: &'static str, e: SendError) -> Error {
    match e {
        SendError::Closed(reason) => Error::Disconnected { msg, reason },
        SendError::Encode(source) => Error::Encode { msg, source },
    }
}

fn close_on_protocol_error(shared: &Shared, e: &Error) {
    if matches!(e, Error::Decode { .. } | Error::UnexpectedReply { .. }) {
        shared.close(&format!("bad message from vpp: {e}"));
    }
}

async fn request_on<R: Request>(
    shared: &Shared,
    req: &R,
    timeout: Duration,
) -> Result<R::Reply, Error> {
    let table = &shared.table;
    let id = id_of::<R>(table)?;
    let reply_id = id_of::<R::Reply>(table)?;
    let context = shared.context();
    record_context(context);
    let header = shared.header(context);
    let encode = |out: &mut Vec<u8>| encode_frame(out, id, header, req);
    let payload = match call(shared, R::NAME, context, false, timeout, encode).await? {
        Answer::One(p) => p,
        Answer::Many(mut items) => items.pop().ok_or_else(|| Error::UnexpectedReply {
            msg: R::NAME,
            got: "nothing".to_string(),
        })?,
    };
    finish_reply::<R>(shared, reply_id, &payload)
}

/// Records a call's context into the current span's `context` field, when the caller's span
/// has one (the agent's `vpp_request` span); otherwise nothing happens.
fn record_context(context: u32) {
    tracing::Span::current().record("context", context);
}

/// Decodes a reply payload and turns a non-zero `retval` into an error.
fn finish_reply<R: Request>(
    shared: &Shared,
    reply_id: u16,
    payload: &[u8],
) -> Result<R::Reply, Error> {
    let reply = decode_as::<R::Reply>(&shared.table, R::NAME, reply_id, payload)
        .inspect_err(|e| close_on_protocol_error(shared, e))?;
    match reply.retval() {
        Some(rv) if rv != 0 => Err(Error::retval(R::NAME, rv)),
        _ => Ok(reply),
    }
}

/// Registers a waiting call, queues its frames and waits for the answer or the timeout.
async fn call(
    shared: &Shared,
    msg: &'static str,
    context: u32,
    dump: bool,
    timeout: Duration,
    encode: impl FnOnce(&mut Vec<u8>) -> Result<(), crate::codec::CodecError>,
) -> Result<Answer, Error> {
    let (done, answer) = oneshot::channel();
    let slot = Slot {
        msg,
        dump,
        items: Vec::new(),
        done: Waiter::One(done),
    };
    shared
        .send([(context, slot)], encode)
        .map_err(|e| send_error(msg, e))?;
    // Forgets the call on timeout and when the caller gives up (drops this future) before the answer.
    let mut guard = ForgetOnDrop {
        shared,
        contexts: std::slice::from_ref(&context),
        armed: true,
    };
    let result = match tokio::time::timeout(timeout, answer).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(_)) => Err(Error::Disconnected {
            msg,
            reason: "answer dropped".to_string(),
        }),
        Err(_) => {
            return Err(Error::Timeout {
                msg,
                after: timeout,
            });
        }
    };
    guard.armed = false;
    result
}

/// Removes waiting calls from the pending map when dropped while armed.
struct ForgetOnDrop<'a> {
    shared: &'a Shared,
    contexts: &'a [u32],
    armed: bool,
}

impl Drop for ForgetOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.contexts.iter().for_each(|&c| self.shared.forget(c));
        }
    }
}

async fn health_loop(shared: Arc<Shared>, every: Duration, timeout: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        if shared.closed_reason().is_some() {
            return;
        }
        if let Err(e) = request_on(&shared, &ControlPing {}, timeout).await {
            shared.close(&format!("health check failed: {e}"));
            return;
        }
    }
}
