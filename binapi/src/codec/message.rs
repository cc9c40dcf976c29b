//! Messages on top of the value codec: the [`Message`] trait every generated message implements, the header
//! shapes VPP puts in front of a message body, and encoding or decoding one whole payload.
//!
//! A payload is `u16 _vl_msg_id`, then the leading header fields its shape defines (`client_index`, `context`),
//! then the body. Generated structs hold only the body; the header travels in [`Header`].
//! This module deliberately does not frame payloads (see [`super::frame`]) and does not know message ids:
//! ids come from a connection's message table.

use super::{CodecError, Reader, Wire};
use std::fmt::Debug;

/// What a message is for, from the `.api.json` services (GoVPP calls the header shape "type" instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A request answered by one reply.
    Request,
    /// A request answered by a stream of details (a `*_dump`).
    Dump,
    /// The single answer to a request.
    Reply,
    /// One element of a dump's answer.
    Details,
    /// A message VPP sends on its own, without a request.
    Event,
    /// Anything the services do not name.
    Other,
}

/// The leading fields of a payload after `_vl_msg_id`, found by GoVPP's rule (the names of fields 2 and 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderShape {
    /// `u32 client_index, u32 context`.
    Request,
    /// `u32 context`.
    Reply,
    /// `u32 client_index`, no context.
    Event,
    /// Nothing beyond the message id.
    Other,
}

impl HeaderShape {
    /// Bytes of the payload taken by `_vl_msg_id` and the header fields.
    pub const fn len(self) -> usize {
        match self {
            HeaderShape::Request => 10,
            HeaderShape::Reply | HeaderShape::Event => 6,
            HeaderShape::Other => 2,
        }
    }

    /// Whether the shape has no header fields at all.
    pub const fn is_empty(self) -> bool {
        matches!(self, HeaderShape::Other)
    }

    /// Where the context sits in the payload, if the shape has one.
    pub const fn context_offset(self) -> Option<usize> {
        match self {
            HeaderShape::Request => Some(6),
            HeaderShape::Reply => Some(2),
            HeaderShape::Event | HeaderShape::Other => None,
        }
    }
}

/// The header field values of one payload; fields its shape lacks are 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Header {
    pub client_index: u32,
    pub context: u32,
}

/// A VPP API message: a generated struct holding the body, with its name, CRC, kind and header shape.
pub trait Message: Wire + Default + Clone + Debug + PartialEq + Send + Sync + 'static {
    /// The message name, e.g. `create_loopback`.
    const NAME: &'static str;
    /// The CRC as 8 lowercase hex digits without `0x`, copied from the `.api.json`.
    const CRC: &'static str;
    /// `NAME_CRC`, the key of VPP's message table, e.g. `create_loopback_42bb5d22`.
    const NAME_CRC: &'static str;
    const KIND: MessageKind;
    const SHAPE: HeaderShape;

    /// The `retval` field of replies that have one.
    fn retval(&self) -> Option<i32> {
        None
    }
}

/// A request whose answer is one reply message.
pub trait Request: Message {
    type Reply: Message;
}

/// A dump whose answer is a stream of details, closed by a `control_ping_reply`.
pub trait Dump: Message {
    type Details: Message;
}

/// Payload length of `msg` with its header.
pub fn payload_len<M: Message>(msg: &M) -> usize {
    M::SHAPE.len() + msg.wire_len()
}

/// Appends `msg_id`, the header fields of `M`'s shape and the body.
pub fn encode_payload<M: Message>(
    out: &mut Vec<u8>,
    msg_id: u16,
    header: Header,
    msg: &M,
) -> Result<(), CodecError> {
    out.extend_from_slice(&msg_id.to_be_bytes());
    match M::SHAPE {
        HeaderShape::Request => {
            out.extend_from_slice(&header.client_index.to_be_bytes());
            out.extend_from_slice(&header.context.to_be_bytes());
        }
        HeaderShape::Reply => out.extend_from_slice(&header.context.to_be_bytes()),
        HeaderShape::Event => out.extend_from_slice(&header.client_index.to_be_bytes()),
        HeaderShape::Other => {}
    }
    msg.encode(out)
}

/// Reads the message id of a payload.
pub fn peek_msg_id(payload: &[u8]) -> Result<u16, CodecError> {
    u16::decode(&mut Reader::new(payload))
}

/// Reads the header fields of a payload of the given shape.
pub fn decode_header(payload: &[u8], shape: HeaderShape) -> Result<(u16, Header), CodecError> {
    let mut r = Reader::new(payload);
    let id = u16::decode(&mut r)?;
    let mut header = Header::default();
    match shape {
        HeaderShape::Request => {
            header.client_index = u32::decode(&mut r)?;
            header.context = u32::decode(&mut r)?;
        }
        HeaderShape::Reply => header.context = u32::decode(&mut r)?,
        HeaderShape::Event => header.client_index = u32::decode(&mut r)?,
        HeaderShape::Other => {}
    }
    Ok((id, header))
}

/// Decodes a whole payload as `M`, returning its id and header too. Trailing bytes are ignored, as VPP does.
pub fn decode_payload<M: Message>(payload: &[u8]) -> Result<(u16, Header, M), CodecError> {
    let (id, header) = decode_header(payload, M::SHAPE)?;
    let mut r = Reader::new(payload);
    r.take(M::SHAPE.len())?;
    let msg = M::decode(&mut r)?;
    Ok((id, header, msg))
}
