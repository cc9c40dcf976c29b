//! VPP's socket framing: a 16-byte header (`u64 q`, `u32 data_len` big-endian, `u32 gc_mark`) before each payload.
//!
//! On receive only `data_len` counts; `q` and `gc_mark` may hold garbage (VPP copies an in-memory header verbatim).
//! On send both are 0. [`FrameCodec`] plugs into `tokio_util::codec` and caps the payload length, so a garbage
//! length is an error and never an allocation. This module deliberately does not look inside payloads.

use super::CodecError;
use super::message::{Header, Message, encode_payload, payload_len};
use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// Size of the frame header.
pub const FRAME_HEADER_LEN: usize = 16;
/// Default cap on a payload; VPP enforces none, ours protects memory (the largest real message is ~120 KB).
pub const DEFAULT_MAX_PAYLOAD: usize = 16 * 1024 * 1024;
/// The smallest payload that makes sense: the `u16` message id.
pub const MIN_PAYLOAD: usize = 2;

/// A frame-level protocol violation.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("frame payload of {len} bytes exceeds the limit of {max}")]
    TooLarge { len: usize, max: usize },
    #[error("frame payload of {len} bytes is shorter than a message id")]
    TooShort { len: usize },
    #[error("connection closed inside a frame with {buffered} bytes buffered")]
    Truncated { buffered: usize },
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes the 16-byte header for a payload of `len` bytes.
pub fn put_frame_header(out: &mut Vec<u8>, len: u32) {
    out.extend_from_slice(&[0u8; 8]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&[0u8; 4]);
}

/// Appends one complete frame (header and payload) carrying `msg`.
pub fn encode_frame<M: Message>(
    out: &mut Vec<u8>,
    msg_id: u16,
    header: Header,
    msg: &M,
) -> Result<(), CodecError> {
    let len = payload_len(msg);
    let len32 = u32::try_from(len).map_err(|_| CodecError::CountOverflow {
        field: "data_len",
        len,
        max: u64::from(u32::MAX),
    })?;
    out.reserve(FRAME_HEADER_LEN + len);
    put_frame_header(out, len32);
    encode_payload(out, msg_id, header, msg)
}

/// Splits a byte stream into payloads and frames raw payloads.
#[derive(Debug, Clone, Copy)]
pub struct FrameCodec {
    max_payload: usize,
}

impl FrameCodec {
    /// A codec that rejects payloads longer than `max_payload`.
    pub fn new(max_payload: usize) -> Self {
        Self { max_payload }
    }
}

impl Default for FrameCodec {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_PAYLOAD)
    }
}

impl Decoder for FrameCodec {
    type Item = BytesMut;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        if src.len() < FRAME_HEADER_LEN {
            return Ok(None);
        }
        let mut len_bytes = [0u8; 4];
        len_bytes.copy_from_slice(&src[8..12]);
        let len = u32::from_be_bytes(len_bytes) as usize;
        if len > self.max_payload {
            return Err(FrameError::TooLarge {
                len,
                max: self.max_payload,
            });
        }
        if len < MIN_PAYLOAD {
            return Err(FrameError::TooShort { len });
        }
        if src.len() < FRAME_HEADER_LEN + len {
            src.reserve(FRAME_HEADER_LEN + len - src.len());
            return Ok(None);
        }
        src.advance(FRAME_HEADER_LEN);
        Ok(Some(src.split_to(len)))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => Err(FrameError::Truncated {
                buffered: src.len(),
            }),
        }
    }
}

/// Frames a raw payload.
impl Encoder<&[u8]> for FrameCodec {
    type Error = FrameError;

    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), FrameError> {
        if payload.len() > self.max_payload {
            return Err(FrameError::TooLarge {
                len: payload.len(),
                max: self.max_payload,
            });
        }
        dst.reserve(FRAME_HEADER_LEN + payload.len());
        dst.put_bytes(0, 8);
        dst.put_u32(payload.len() as u32);
        dst.put_u32(0);
        dst.put_slice(payload);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_garbage_outside_the_length_is_ignored() {
        let mut src = BytesMut::new();
        src.put_u64(0xdead_beef_cafe_f00d);
        src.put_u32(3);
        src.put_u32(7);
        src.put_slice(&[0, 15, 9]);
        let frame = FrameCodec::default().decode(&mut src).expect("valid");
        assert_eq!(frame.as_deref(), Some(&[0u8, 15, 9][..]));
        assert!(src.is_empty());
    }

    #[test]
    fn partial_frames_wait_for_more_bytes() {
        let mut codec = FrameCodec::default();
        let mut src = BytesMut::from(&[0u8; 12][..]);
        assert!(codec.decode(&mut src).expect("partial").is_none());
        src.put_u32(0);
        src[11] = 4;
        src.put_slice(&[1, 2]);
        assert!(codec.decode(&mut src).expect("partial").is_none());
        src.put_slice(&[3, 4]);
        let frame = codec.decode(&mut src).expect("complete");
        assert_eq!(frame.as_deref(), Some(&[1u8, 2, 3, 4][..]));
    }

    #[test]
    fn oversized_length_is_an_error_not_an_allocation() {
        let mut src = BytesMut::from(&[0u8; 16][..]);
        src[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        let err = FrameCodec::new(1024).decode(&mut src);
        assert!(matches!(err, Err(FrameError::TooLarge { .. })));
        assert!(src.capacity() < 1 << 20);
    }

    #[test]
    fn eof_inside_a_frame_is_truncated() {
        let mut src = BytesMut::from(&[0u8; 10][..]);
        let err = FrameCodec::default().decode_eof(&mut src);
        assert!(matches!(err, Err(FrameError::Truncated { buffered: 10 })));
        let mut empty = BytesMut::new();
        assert!(
            FrameCodec::default()
                .decode_eof(&mut empty)
                .expect("clean eof")
                .is_none()
        );
    }

    #[test]
    fn encoder_writes_zero_header_fields() {
        let mut dst = BytesMut::new();
        FrameCodec::default()
            .encode(&[0, 15][..], &mut dst)
            .expect("small");
        assert_eq!(
            &dst[..],
            &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 15]
        );
    }
}
