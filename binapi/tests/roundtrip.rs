//! Codec round trips for every generated message of every release: defaults, and values decoded from
//! pseudo-random bytes (so every field carries non-zero data), must survive encode -> decode unchanged.
//!
//! Bytes decoded from noise are first normalised by one encode (a bool byte 7 becomes 1, text after a NUL is
//! dropped); after that, encode and decode must be exact inverses. Golden byte layouts live in `golden.rs`.

use binapi::codec::message::{Header, decode_payload, encode_payload};
use binapi::release::MessageVisitor;
use binapi::{Message, Reader};

/// xorshift64*, enough to make deterministic noise without a dependency.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Mostly zero bytes so that counts and lengths stay small enough to decode.
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                let v = self.next();
                if v.is_multiple_of(4) {
                    (v >> 8) as u8
                } else {
                    0
                }
            })
            .collect()
    }
}

fn encode<M: Message>(m: &M) -> Vec<u8> {
    let mut out = Vec::new();
    m.encode(&mut out)
        .unwrap_or_else(|e| panic!("{}: {e}", M::NAME));
    assert_eq!(out.len(), m.wire_len(), "{}: wire_len", M::NAME);
    out
}

fn decode<M: Message>(bytes: &[u8]) -> M {
    let mut r = Reader::new(bytes);
    let m = M::decode(&mut r).unwrap_or_else(|e| panic!("{}: {e}", M::NAME));
    assert_eq!(r.remaining(), 0, "{}: decode consumed everything", M::NAME);
    m
}

#[derive(Default)]
struct RoundTrip {
    messages: usize,
    noisy: usize,
    failures: Vec<&'static str>,
}

impl MessageVisitor for RoundTrip {
    fn visit<M: Message>(&mut self) {
        self.messages += 1;
        let d = M::default();
        assert_eq!(decode::<M>(&encode(&d)), d, "{}: default", M::NAME);

        let mut noise = Noise(0x9e37_79b9_7f4a_7c15 ^ M::NAME.len() as u64);
        let mut ok = 0;
        for _ in 0..200 {
            let raw = noise.bytes(2048);
            let Ok(first) = M::decode(&mut Reader::new(&raw)) else {
                continue;
            };
            let bytes = encode(&first);
            let second: M = decode(&bytes);
            assert_eq!(encode(&second), bytes, "{}: encode is stable", M::NAME);
            let third: M = decode(&encode(&second));
            assert_eq!(second, third, "{}: decode inverts encode", M::NAME);
            if second != d {
                ok += 1;
            }
        }
        if ok == 0 && bytes_of_default::<M>() > 0 {
            self.failures.push(M::NAME);
        }
        self.noisy += ok;

        let header = Header {
            client_index: 0x8000_0001,
            context: 77,
        };
        let mut payload = Vec::new();
        encode_payload(&mut payload, 321, header, &d).expect("payload");
        let (id, h, back) = decode_payload::<M>(&payload).expect("payload decodes");
        assert_eq!((id, back), (321, d), "{}: payload", M::NAME);
        assert_eq!(
            h.context != 0,
            M::SHAPE.context_offset().is_some(),
            "{}: context",
            M::NAME
        );
    }
}

fn bytes_of_default<M: Message>() -> usize {
    M::default().wire_len()
}

fn run(visit: fn(&mut RoundTrip), expected: usize) {
    let mut rt = RoundTrip::default();
    visit(&mut rt);
    assert_eq!(rt.messages, expected, "every agent message visited");
    assert!(
        rt.failures.is_empty(),
        "no non-default round trip for {:?}",
        rt.failures
    );
    assert!(rt.noisy > rt.messages, "noise produced non-default values");
}

#[test]
fn every_2101_message_round_trips() {
    run(
        binapi::vpp2101::visit_messages,
        binapi::vpp2101::MESSAGES.len(),
    );
}

#[test]
fn every_2306_message_round_trips() {
    run(
        binapi::vpp2306::visit_messages,
        binapi::vpp2306::MESSAGES.len(),
    );
}

#[test]
fn every_2506_message_round_trips() {
    run(
        binapi::vpp2506::visit_messages,
        binapi::vpp2506::MESSAGES.len(),
    );
}

#[test]
fn release_tables_list_the_agent_messages() {
    assert_eq!(binapi::vpp2101::MESSAGES.len(), 107);
    assert_eq!(binapi::vpp2306::MESSAGES.len(), 129);
    assert_eq!(binapi::vpp2506::MESSAGES.len(), 133);
    let total =
        |r: &binapi::release::Release| r.files.iter().map(|f| f.messages.len()).sum::<usize>();
    assert_eq!(total(&binapi::vpp2101::RELEASE), 269);
    assert_eq!(total(&binapi::vpp2306::RELEASE), 343);
    assert_eq!(total(&binapi::vpp2506::RELEASE), 353);
    assert_eq!(binapi::vpp2306::RELEASE.files[0].module, "memclnt");
}
