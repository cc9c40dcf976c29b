//! The state one connection's tasks share: the message table, the writer queue and the calls waiting for an
//! answer, keyed by context; plus the reader and writer loops that move frames between them and the socket.
//!
//! The reader only routes raw payloads (by context, details until the `control_ping_reply`); callers decode.
//! Any frame-level violation or socket error closes the connection and fails every waiting call with the reason.
//! This module deliberately has no public API; [`super::Client`] wraps it.

use crate::codec::frame::{FrameCodec, FrameError};
use crate::codec::message::{Header, Message};
use crate::error::Error;
use crate::table::MessageTable;
use bytes::BytesMut;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::io::AsyncWriteExt;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::codec::FramedRead;

/// The answer a waiting call gets: one payload, or a dump's details payloads.
pub(crate) type Answer = Result<Vec<BytesMut>, Error>;

/// A call waiting for its answer.
pub(crate) struct Slot {
    /// The request's name, for errors.
    pub msg: &'static str,
    /// Collect details until `control_ping_reply` instead of completing on the first message.
    pub dump: bool,
    pub items: Vec<BytesMut>,
    pub done: oneshot::Sender<Answer>,
}

#[derive(Default)]
pub(crate) struct Pending {
    pub slots: HashMap<u32, Slot>,
    /// Why the connection closed, once it has.
    pub closed: Option<String>,
}

/// What the client handle, the reader, the writer and the health task share.
pub(crate) struct Shared {
    pub table: MessageTable,
    pub client_index: u32,
    pub control_ping_reply: Option<u16>,
    pub pending: Mutex<Pending>,
    pub next_context: AtomicU32,
    pub writer: mpsc::Sender<Vec<u8>>,
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

    /// Registers a waiting call; fails if the connection is already closed.
    pub fn register(&self, context: u32, slot: Slot) -> Result<(), Error> {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(reason) = &p.closed {
            return Err(Error::Disconnected {
                msg: slot.msg,
                reason: reason.clone(),
            });
        }
        p.slots.insert(context, slot);
        Ok(())
    }

    /// Forgets a waiting call (after a timeout).
    pub fn forget(&self, context: u32) {
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
            std::mem::take(&mut p.slots)
        };
        tracing::debug!(reason, "vpp connection closed");
        for (_, slot) in slots {
            let _ = slot.done.send(Err(Error::Disconnected {
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
    fn dispatch(&self, payload: BytesMut) -> Result<(), String> {
        let id = u16::from_be_bytes([payload[0], payload[1]]);
        let Some(shape) = self.table.shape(id) else {
            tracing::debug!(msg_id = id, "dropping a message binapi does not know");
            return Ok(());
        };
        let Some(offset) = shape.context_offset() else {
            tracing::debug!(msg_id = id, "dropping an event nobody subscribed to");
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
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let Some(slot) = p.slots.get_mut(&context) else {
            tracing::debug!(msg_id = id, context, "dropping a reply nobody waits for");
            return Ok(());
        };
        if slot.dump && Some(id) != self.control_ping_reply {
            slot.items.push(payload);
            return Ok(());
        }
        if let Some(mut slot) = p.slots.remove(&context) {
            if !slot.dump {
                slot.items.push(payload);
            }
            let _ = slot.done.send(Ok(slot.items));
        }
        Ok(())
    }
}

/// Reads frames until the socket fails, the peer breaks the framing or closes, or the connection is closed
/// locally; then closes the connection.
pub(crate) async fn read_loop(
    shared: std::sync::Arc<Shared>,
    mut frames: FramedRead<OwnedReadHalf, FrameCodec>,
) {
    let mut closed = shared.closed_tx.subscribe();
    let reason = loop {
        let frame = tokio::select! {
            biased;
            _ = closed.wait_for(Option::is_some) => return,
            frame = frames.next() => frame,
        };
        match frame {
            None => break "connection closed by vpp".to_string(),
            Some(Err(FrameError::Io(e))) => break format!("socket read failed: {e}"),
            Some(Err(e)) => break format!("bad frame from vpp: {e}"),
            Some(Ok(payload)) => {
                if let Err(reason) = shared.dispatch(payload) {
                    break format!("bad message from vpp: {reason}");
                }
            }
        }
    };
    shared.close(&reason);
}

/// Writes queued frames, batching whatever is queued into one write, until the connection closes.
pub(crate) async fn write_loop(
    shared: std::sync::Arc<Shared>,
    mut queue: mpsc::Receiver<Vec<u8>>,
    mut socket: OwnedWriteHalf,
) {
    let mut closed = shared.closed_tx.subscribe();
    let mut batch = Vec::with_capacity(64 * 1024);
    loop {
        let first = tokio::select! {
            biased;
            _ = closed.wait_for(Option::is_some) => break,
            first = queue.recv() => first,
        };
        let Some(first) = first else { break };
        batch.clear();
        batch.extend_from_slice(&first);
        while batch.len() < 256 * 1024 {
            match queue.try_recv() {
                Ok(more) => batch.extend_from_slice(&more),
                Err(_) => break,
            }
        }
        if let Err(e) = socket.write_all(&batch).await {
            shared.close(&format!("socket write failed: {e}"));
            return;
        }
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
