//! The state one connection's tasks share: the message table, the writer queue and the calls waiting for an
//! answer, keyed by context; plus the reader and writer loops that move frames between them and the socket.
//!
//! The reader only routes raw payloads (by context, details until the `control_ping_reply`); callers decode.
//! Any frame-level violation or socket error closes the connection and fails every waiting call with the reason.
//! This module deliberately has no public API; [`super::Client`] wraps it.

use crate::codec::CodecError;
use crate::codec::frame::FrameCodec;
use crate::codec::message::{Header, Message};
use crate::error::Error;
use crate::fxhash::FxHashMap;
use crate::table::MessageTable;
use bytes::BytesMut;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio_util::codec::Decoder;

/// The answer a waiting call gets: one payload, or a dump's details payloads.
pub(crate) enum Answer {
    One(BytesMut),
    Many(Vec<BytesMut>),
}

/// A call waiting for its answer.
pub(crate) struct Slot {
    /// The request's name, for errors.
    pub msg: &'static str,
    /// Collect details until `control_ping_reply` instead of completing on the first message.
    pub dump: bool,
    pub items: Vec<BytesMut>,
    pub done: Waiter,
}

/// Who gets a call's answer: a single caller, or entry `index` of a batch.
pub(crate) enum Waiter {
    One(oneshot::Sender<Result<Answer, Error>>),
    Batch(
        usize,
        mpsc::UnboundedSender<(usize, Result<BytesMut, Error>)>,
    ),
}

impl Waiter {
    pub fn finish(self, answer: Result<Answer, Error>) {
        match self {
            Waiter::One(tx) => {
                let _ = tx.send(answer);
            }
            Waiter::Batch(index, tx) => {
                let one = answer.map(|a| match a {
                    Answer::One(p) => p,
                    Answer::Many(mut items) => items.pop().unwrap_or_default(),
                });
                let _ = tx.send((index, one));
            }
        }
    }
}

#[derive(Default)]
pub(crate) struct Pending {
    pub slots: FxHashMap<u32, Slot>,
    /// Why the connection closed, once it has.
    pub closed: Option<String>,
    /// Encoded frames not yet written; the writer takes them all at once.
    pub out: Vec<u8>,
    /// Event subscribers by message id; each returns false once its receiver is gone.
    pub subscribers: FxHashMap<u16, Vec<Subscriber>>,
}

/// Decodes one event payload and hands it on; false when nobody listens any more.
pub(crate) type Subscriber = Box<dyn FnMut(&[u8]) -> bool + Send>;

/// Why calls could not be sent.
pub(crate) enum SendError {
    Closed(String),
    Encode(CodecError),
}

/// What the client handle, the reader, the writer and the health task share.
pub(crate) struct Shared {
    pub table: MessageTable,
    pub client_index: u32,
    pub control_ping_reply: Option<u16>,
    pub pending: Mutex<Pending>,
    pub next_context: AtomicU32,
    /// Signalled when `Pending::out` has frames.
    pub out_ready: Notify,
    pub closed_tx: watch::Sender<Option<String>>,
}

impl Shared {
    /// A fresh context, never 0 (0 marks events).
    pub fn context(&self) -> u32 {
        loop {
            let c = self.next_context.fetch_add(1, Ordering::Relaxed);
            if c != 0 {
                return c;
            }
        }
    }

    /// The header of an outgoing request.
    pub fn header(&self, context: u32) -> Header {
        Header {
            client_index: self.client_index,
            context,
        }
    }

    /// Registers waiting calls and queues their frames, both or neither, under one lock; wakes the writer.
    pub fn send(
        &self,
        slots: impl IntoIterator<Item = (u32, Slot)>,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), CodecError>,
    ) -> Result<(), SendError> {
        {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(reason) = &p.closed {
                return Err(SendError::Closed(reason.clone()));
            }
            let mark = p.out.len();
            if let Err(e) = encode(&mut p.out) {
                p.out.truncate(mark);
                return Err(SendError::Encode(e));
            }
            p.slots.extend(slots);
        }
        self.out_ready.notify_one();
        Ok(())
    }

    /// Forgets a waiting call (after a timeout).
    pub fn forget(&self, context: u32) {
        // Runs from drop guards too: never panic, even on a poisoned lock.
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        p.slots.remove(&context);
    }

    /// Closes the connection: every waiting call fails with `reason`; later calls fail at once.
    pub fn close(&self, reason: &str) {
        let slots = {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if p.closed.is_some() {
                return;
            }
            p.closed = Some(reason.to_string());
            p.subscribers.clear();
            std::mem::take(&mut p.slots)
        };
        tracing::debug!(reason, "vpp connection closed");
        for (_, slot) in slots {
            slot.done.finish(Err(Error::Disconnected {
                msg: slot.msg,
                reason: reason.to_string(),
            }));
        }
        self.closed_tx.send_replace(Some(reason.to_string()));
    }

    pub fn closed_reason(&self) -> Option<String> {
        let p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        p.closed.clone()
    }

    /// Routes one received payload to its waiting call. An error means the peer broke the protocol.
    fn dispatch(&self, p: &mut Pending, payload: BytesMut) -> Result<(), String> {
        let id = u16::from_be_bytes([payload[0], payload[1]]);
        let Some(shape) = self.table.shape(id) else {
            tracing::debug!(msg_id = id, "dropping a message binapi does not know");
            return Ok(());
        };
        let Some(offset) = shape.context_offset() else {
            match p.subscribers.get_mut(&id) {
                Some(subs) => subs.retain_mut(|deliver| deliver(&payload)),
                None => tracing::debug!(msg_id = id, "dropping an event nobody subscribed to"),
            }
            return Ok(());
        };
        if payload.len() < offset + 4 {
            return Err(format!(
                "message id {id} is {} bytes, too short for its header",
                payload.len()
            ));
        }
        let context = u32::from_be_bytes([
            payload[offset],
            payload[offset + 1],
            payload[offset + 2],
            payload[offset + 3],
        ]);
        let Some(slot) = p.slots.get_mut(&context) else {
            tracing::debug!(msg_id = id, context, "dropping a reply nobody waits for");
            return Ok(());
        };
        if slot.dump && Some(id) != self.control_ping_reply {
            slot.items.push(payload);
            return Ok(());
        }
        if let Some(slot) = p.slots.remove(&context) {
            let answer = if slot.dump {
                Answer::Many(slot.items)
            } else {
                Answer::One(payload)
            };
            slot.done.finish(Ok(answer));
        }
        Ok(())
    }
}

/// Reads frames until the socket fails, the peer breaks the framing or closes, or the connection is closed
/// locally; then closes the connection. Every frame of one read is routed under one lock.
pub(crate) async fn read_loop(
    shared: std::sync::Arc<Shared>,
    mut socket: OwnedReadHalf,
    mut buf: BytesMut,
    mut codec: FrameCodec,
) {
    let mut closed = shared.closed_tx.subscribe();
    let reason = 'read: loop {
        {
            let mut p = shared.pending.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                match codec.decode(&mut buf) {
                    Ok(Some(payload)) => {
                        if let Err(reason) = shared.dispatch(&mut p, payload) {
                            break 'read format!("bad message from vpp: {reason}");
                        }
                    }
                    Ok(None) => break,
                    Err(e) => break 'read format!("bad frame from vpp: {e}"),
                }
            }
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(64 * 1024);
        }
        let read = tokio::select! {
            biased;
            _ = closed.wait_for(Option::is_some) => return,
            read = socket.read_buf(&mut buf) => read,
        };
        match read {
            Ok(0) => match codec.decode_eof(&mut buf) {
                Err(e) => break format!("bad frame from vpp: {e}"),
                Ok(_) => break "connection closed by vpp".to_string(),
            },
            Ok(_) => {}
            Err(e) => break format!("socket read failed: {e}"),
        }
    };
    shared.close(&reason);
}

/// Writes whatever frames are queued, in one write each time, until the connection closes.
pub(crate) async fn write_loop(shared: std::sync::Arc<Shared>, mut socket: OwnedWriteHalf) {
    let mut closed = shared.closed_tx.subscribe();
    let mut batch = Vec::with_capacity(64 * 1024);
    loop {
        tokio::select! {
            biased;
            _ = closed.wait_for(Option::is_some) => break,
            () = shared.out_ready.notified() => {}
        }
        // Let callers that are about to queue more frames do so first: one write instead of many.
        tokio::task::yield_now().await;
        {
            let mut p = shared.pending.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::swap(&mut p.out, &mut batch);
        }
        if batch.is_empty() {
            continue;
        }
        if let Err(e) = socket.write_all(&batch).await {
            shared.close(&format!("socket write failed: {e}"));
            return;
        }
        batch.clear();
    }
    let _ = socket.shutdown().await;
}

/// Decodes a single reply payload as `M`, checking its message id.
pub(crate) fn decode_as<M: Message>(
    table: &MessageTable,
    request: &'static str,
    expected_id: u16,
    payload: &[u8],
) -> Result<M, Error> {
    let (id, _, msg) =
        crate::codec::message::decode_payload::<M>(payload).map_err(|source| Error::Decode {
            msg: M::NAME,
            source,
        })?;
    if id != expected_id {
        return Err(Error::UnexpectedReply {
            msg: request,
            got: table.name(id).unwrap_or("an unknown message").to_string(),
        });
    }
    Ok(msg)
}
