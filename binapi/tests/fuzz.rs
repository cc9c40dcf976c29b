//! Property tests over the decoders: arbitrary bytes through the frame decoder and through every generated
//! message decoder of every release never panic, never hang, and never allocate beyond what the input holds.
//!
//! It deliberately does not check decoded values (round trips are in `roundtrip.rs`); only that hostile input
//! is survived.

use binapi::codec::frame::{FRAME_HEADER_LEN, FrameCodec};
use binapi::codec::message::decode_payload;
use binapi::release::MessageVisitor;
use binapi::{Message, vpp2101, vpp2306, vpp2506};
use bytes::BytesMut;
use proptest::prelude::*;
use tokio_util::codec::Decoder;

const MAX_PAYLOAD: usize = 64 * 1024;

struct DecodeAll<'a> {
    bytes: &'a [u8],
    decoded: usize,
}

impl MessageVisitor for DecodeAll<'_> {
    fn visit<M: Message>(&mut self) {
        if let Ok((_, _, m)) = decode_payload::<M>(self.bytes) {
            // Whatever decoded must fit in what was read: nothing is invented.
            assert!(m.wire_len() <= self.bytes.len() * 2 + 64, "{}", M::NAME);
            self.decoded += 1;
        }
    }
}

fn decode_everything(bytes: &[u8]) -> usize {
    let mut v = DecodeAll { bytes, decoded: 0 };
    vpp2101::visit_messages(&mut v);
    vpp2306::visit_messages(&mut v);
    vpp2506::visit_messages(&mut v);
    v.decoded
}

/// Bytes that look like VPP payloads: a message id, small counts, and stretches of zeros and 0xff.
fn payload_like() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![4 => Just(0u8), 1 => Just(0xffu8), 2 => any::<u8>()],
        0..2048,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn message_decoders_survive_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        decode_everything(&bytes);
    }

    #[test]
    fn message_decoders_survive_payload_like_bytes(bytes in payload_like()) {
        decode_everything(&bytes);
    }

    #[test]
    fn frame_decoder_survives_any_stream(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..600), 0..8)) {
        let mut codec = FrameCodec::new(MAX_PAYLOAD);
        let mut buf = BytesMut::new();
        let mut fed = 0;
        'outer: for chunk in &chunks {
            buf.extend_from_slice(chunk);
            fed += chunk.len();
            loop {
                match codec.decode(&mut buf) {
                    Ok(Some(frame)) => {
                        prop_assert!(frame.len() >= 2 && frame.len() <= MAX_PAYLOAD);
                        decode_everything(&frame);
                    }
                    Ok(None) => break,
                    Err(_) => break 'outer,
                }
                prop_assert!(buf.capacity() <= 2 * (FRAME_HEADER_LEN + MAX_PAYLOAD) + fed);
            }
        }
        let _ = codec.decode_eof(&mut buf);
    }
}

#[test]
fn valid_frames_survive_being_split_anywhere() {
    let mut stream = Vec::new();
    for n in 0..20u8 {
        binapi::codec::frame::put_frame_header(&mut stream, 3);
        stream.extend_from_slice(&[0, 15, n]);
    }
    for split in 0..stream.len() {
        let mut codec = FrameCodec::default();
        let mut buf = BytesMut::from(&stream[..split]);
        let mut frames = Vec::new();
        while let Ok(Some(f)) = codec.decode(&mut buf) {
            frames.push(f);
        }
        buf.extend_from_slice(&stream[split..]);
        while let Ok(Some(f)) = codec.decode(&mut buf) {
            frames.push(f);
        }
        assert_eq!(frames.len(), 20, "split at {split}");
        assert_eq!(frames[19].as_ref(), &[0, 15, 19]);
    }
}

#[test]
fn noise_rarely_decodes_but_never_panics() {
    let mut x: u64 = 0x243f_6a88_85a3_08d3;
    let mut decoded = 0;
    for _ in 0..2_000 {
        let len = (x % 400) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        decoded += decode_everything(&bytes);
    }
    assert!(
        decoded > 0,
        "fixed-size messages decode from long enough noise"
    );
}
