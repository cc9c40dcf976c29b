//! The server side of the socket protocol, for VPP simulators and test peers: accept a client's
//! `sockclnt_create`, answer with a message table, then read requests and write replies with the same codec
//! and generated messages the client uses.
//!
//! It deliberately implements no VPP behaviour (no handler decides anything here); a simulator builds that on
//! top: read an [`Incoming`], [`Incoming::decode`] it by its name, and [`ServerConn::send`] the answer.

use crate::codec::frame::{FrameCodec, FrameError, encode_frame};
use crate::codec::message::{Header, HeaderShape, Message, decode_header, decode_payload};
use crate::error::Error;
use crate::messages::{SockclntCreate, SockclntCreateReply};
use crate::table::MessageTable;
use crate::transport::{SOCKCLNT_CREATE_ID, SOCKCLNT_CREATE_REPLY_ID};
use crate::types::MessageTableEntry;
use bytes::BytesMut;
use futures::StreamExt;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio_util::codec::FramedRead;

/// The client handle VPP gives a socket registration: bit 31 plus the pool index.
pub fn client_handle(registration: u32) -> u32 {
    0x8000_0000 | registration
}

/// One received request.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub msg_id: u16,
    /// The `name_crc` registered under `msg_id` in this connection's table, if any.
    pub name_crc: Option<String>,
    pub payload: BytesMut,
}

impl Incoming {
    /// Whether this is message `M` (by `name_crc`).
    pub fn is<M: Message>(&self) -> bool {
        self.name_crc.as_deref() == Some(M::NAME_CRC)
    }

    /// Decodes the payload as `M`.
    pub fn decode<M: Message>(&self) -> Result<(Header, M), Error> {
        decode_payload::<M>(&self.payload)
            .map(|(_, h, m)| (h, m))
            .map_err(|source| Error::Decode {
                msg: M::NAME,
                source,
            })
    }

    /// The header fields, read by the request shape most client messages have.
    pub fn header(&self) -> Result<Header, Error> {
        decode_header(&self.payload, HeaderShape::Request)
            .map(|(_, h)| h)
            .map_err(|source| Error::Decode {
                msg: "request header",
                source,
            })
    }
}

/// A server's end of one client connection, after the handshake.
#[derive(Debug)]
pub struct ServerConn {
    frames: FramedRead<OwnedReadHalf, FrameCodec>,
    writer: OwnedWriteHalf,
    table: Arc<MessageTable>,
    client_index: u32,
    out: Vec<u8>,
}

impl ServerConn {
    /// Waits for `sockclnt_create` (id 15) and answers with `table` (id 16), handing out `client_index`.
    pub async fn accept(
        stream: UnixStream,
        table: Arc<MessageTable>,
        client_index: u32,
    ) -> Result<ServerConn, Error> {
        let (read, writer) = stream.into_split();
        let mut conn = ServerConn {
            frames: FramedRead::new(read, FrameCodec::default()),
            writer,
            table,
            client_index,
            out: Vec::new(),
        };
        let first = conn.recv().await?.ok_or_else(|| Error::Handshake {
            reason: "client left before sockclnt_create".into(),
        })?;
        if first.msg_id != SOCKCLNT_CREATE_ID {
            return Err(Error::Handshake {
                reason: format!("expected sockclnt_create (id 15), got id {}", first.msg_id),
            });
        }
        let (h, _create): (Header, SockclntCreate) = first.decode()?;
        let reply = SockclntCreateReply {
            response: 0,
            index: client_index,
            message_table: conn
                .table
                .entries()
                .into_iter()
                .map(|(index, name)| MessageTableEntry {
                    index,
                    name: name.to_string(),
                })
                .collect(),
        };
        conn.send_with_id(SOCKCLNT_CREATE_REPLY_ID, h.context, &reply)
            .await?;
        Ok(conn)
    }

    pub fn table(&self) -> &MessageTable {
        &self.table
    }

    pub fn client_index(&self) -> u32 {
        self.client_index
    }

    /// The next request; `None` when the client closed the socket cleanly.
    pub async fn recv(&mut self) -> Result<Option<Incoming>, Error> {
        match self.frames.next().await {
            None => Ok(None),
            Some(Err(FrameError::Io(e))) => Err(Error::Io(e)),
            Some(Err(e)) => Err(Error::Frame(e)),
            Some(Ok(payload)) => {
                let msg_id = u16::from_be_bytes([payload[0], payload[1]]);
                Ok(Some(Incoming {
                    msg_id,
                    name_crc: self.table.name(msg_id).map(str::to_string),
                    payload,
                }))
            }
        }
    }

    /// Queues `msg` (id from the table) with `context`; call [`ServerConn::flush`] to send queued frames.
    pub fn queue<M: Message>(&mut self, context: u32, msg: &M) -> Result<(), Error> {
        let id = self.table.id_of::<M>().ok_or(Error::UnknownMessage {
            name_crc: M::NAME_CRC,
        })?;
        self.queue_with_id(id, context, msg)
    }

    fn queue_with_id<M: Message>(&mut self, id: u16, context: u32, msg: &M) -> Result<(), Error> {
        // Events carry the client's index; replies echo only the context.
        let client_index = match M::SHAPE {
            HeaderShape::Event => self.client_index,
            _ => 0,
        };
        let header = Header {
            client_index,
            context,
        };
        encode_frame(&mut self.out, id, header, msg).map_err(|source| Error::Encode {
            msg: M::NAME,
            source,
        })
    }

    async fn send_with_id<M: Message>(
        &mut self,
        id: u16,
        context: u32,
        msg: &M,
    ) -> Result<(), Error> {
        self.queue_with_id(id, context, msg)?;
        self.flush().await
    }

    /// Sends `msg` now.
    pub async fn send<M: Message>(&mut self, context: u32, msg: &M) -> Result<(), Error> {
        self.queue(context, msg)?;
        self.flush().await
    }

    /// Writes every queued frame.
    pub async fn flush(&mut self) -> Result<(), Error> {
        if !self.out.is_empty() {
            self.writer.write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    /// Writes raw bytes (for fault injection: garbage, truncated frames).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.flush().await?;
        self.writer.write_all(bytes).await?;
        Ok(())
    }
}
