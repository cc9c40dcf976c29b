//! Opening a connection: the unix socket, the `sockclnt_create` handshake (msg id 15, the only id a client may
//! hard-code) and its reply (id 16) carrying the client index and the message table.
//!
//! It deliberately does not retry; [`super::connect_with_retry`] does, and the caller decides when to give up.

use super::Config;
use crate::codec::frame::{FrameCodec, FrameError, encode_frame};
use crate::codec::message::{Header, decode_payload, peek_msg_id};
use crate::error::Error;
use crate::messages::{SockclntCreate, SockclntCreateReply};
use crate::table::MessageTable;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio_util::codec::FramedRead;

/// The id VPP gives `sockclnt_create` in every release (memclnt is numbered first).
pub const SOCKCLNT_CREATE_ID: u16 = 15;
/// The id of `sockclnt_create_reply`.
pub const SOCKCLNT_CREATE_REPLY_ID: u16 = 16;
const HANDSHAKE_CONTEXT: u32 = 0x0000_c0de;

/// A socket after the handshake.
pub(crate) struct Opened {
    pub frames: FramedRead<OwnedReadHalf, FrameCodec>,
    pub writer: OwnedWriteHalf,
    pub table: MessageTable,
    pub client_index: u32,
}

fn handshake_err(reason: impl Into<String>) -> Error {
    Error::Handshake {
        reason: reason.into(),
    }
}

/// Connects to `config.socket` and runs the handshake within `config.connect_timeout`.
pub(crate) async fn open(config: &Config) -> Result<Opened, Error> {
    match tokio::time::timeout(config.connect_timeout, open_inner(config)).await {
        Ok(r) => r,
        Err(_) => Err(handshake_err(format!(
            "no sockclnt_create_reply within {:?}",
            config.connect_timeout
        ))),
    }
}

async fn open_inner(config: &Config) -> Result<Opened, Error> {
    let stream = UnixStream::connect(&config.socket)
        .await
        .map_err(|source| Error::Connect {
            path: config.socket.display().to_string(),
            source,
        })?;
    let (read, mut writer) = stream.into_split();
    let mut frames = FramedRead::new(read, FrameCodec::new(config.max_payload));
    let create = SockclntCreate {
        name: config.client_name.clone(),
    };
    let mut frame = Vec::new();
    let header = Header {
        client_index: 0,
        context: HANDSHAKE_CONTEXT,
    };
    encode_frame(&mut frame, SOCKCLNT_CREATE_ID, header, &create).map_err(|source| {
        Error::Encode {
            msg: "sockclnt_create",
            source,
        }
    })?;
    writer.write_all(&frame).await?;
    let payload = match frames.next().await {
        None => {
            return Err(handshake_err(
                "connection closed before sockclnt_create_reply",
            ));
        }
        Some(Err(FrameError::Io(e))) => return Err(Error::Io(e)),
        Some(Err(e)) => return Err(handshake_err(format!("bad frame: {e}"))),
        Some(Ok(p)) => p,
    };
    let id = peek_msg_id(&payload).map_err(|e| handshake_err(e.to_string()))?;
    if id != SOCKCLNT_CREATE_REPLY_ID {
        return Err(handshake_err(format!(
            "expected sockclnt_create_reply (id 16), got id {id}"
        )));
    }
    let (_, h, reply) =
        decode_payload::<SockclntCreateReply>(&payload).map_err(|source| Error::Decode {
            msg: "sockclnt_create_reply",
            source,
        })?;
    if h.context != HANDSHAKE_CONTEXT {
        return Err(handshake_err(format!(
            "sockclnt_create_reply has context {}, sent {HANDSHAKE_CONTEXT}",
            h.context
        )));
    }
    if reply.response != 0 {
        return Err(handshake_err(format!(
            "sockclnt_create refused with response {}",
            reply.response
        )));
    }
    let table = MessageTable::from_entries(
        reply
            .message_table
            .iter()
            .map(|e| (e.index, e.name.as_str())),
    );
    tracing::debug!(
        socket = %config.socket.display(),
        client_index = reply.index,
        messages = table.len(),
        "connected to vpp"
    );
    Ok(Opened {
        frames,
        writer,
        table,
        client_index: reply.index,
    })
}
