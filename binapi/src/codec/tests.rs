//! Unit tests of the value codec: byte order, strings, arrays and the bounds checks.
//!
//! Generated types are tested in `tests/roundtrip.rs`; this file only covers the hand-written helpers.

use super::*;

fn enc<T: Wire>(v: &T) -> Vec<u8> {
    let mut out = Vec::new();
    v.encode(&mut out).expect("encodes");
    assert_eq!(out.len(), v.wire_len());
    out
}

#[test]
fn integers_are_big_endian() {
    assert_eq!(enc(&0x0102u16), [1, 2]);
    assert_eq!(enc(&0x0102_0304u32), [1, 2, 3, 4]);
    assert_eq!(enc(&-2i32), [0xff, 0xff, 0xff, 0xfe]);
    assert_eq!(enc(&0x0102_0304_0506_0708u64), [1, 2, 3, 4, 5, 6, 7, 8]);
    let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xfe]);
    assert_eq!(i32::decode(&mut r), Ok(-2));
}

#[test]
fn f64_is_little_endian() {
    assert_eq!(enc(&1.0f64), 1.0f64.to_le_bytes());
    let mut r = Reader::new(&[0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
    assert_eq!(f64::decode(&mut r), Ok(1.0));
}

#[test]
fn bool_decodes_any_nonzero_as_true() {
    assert_eq!(bool::decode(&mut Reader::new(&[7])), Ok(true));
    assert_eq!(bool::decode(&mut Reader::new(&[0])), Ok(false));
    assert_eq!(enc(&true), [1]);
}

#[test]
fn fixed_string_is_nul_padded_and_bounded() {
    let mut out = Vec::new();
    encode_fixed_string(&mut out, "name", "ab", 4).expect("fits");
    assert_eq!(out, b"ab\0\0");
    let err = encode_fixed_string(&mut out, "name", "abcd", 4);
    assert_eq!(
        err,
        Err(CodecError::StringTooLong {
            field: "name",
            len: 4,
            max: 3
        })
    );
    let mut r = Reader::new(b"ab\0zz");
    assert_eq!(decode_fixed_string(&mut r, 5).as_deref(), Ok("ab"));
    assert_eq!(r.remaining(), 0);
}

#[test]
fn var_string_has_u32_length_and_no_nul() {
    let mut out = Vec::new();
    encode_var_string(&mut out, "cmd", "show").expect("fits");
    assert_eq!(out, b"\0\0\0\x04show");
    assert_eq!(var_string_len("show"), out.len());
    assert_eq!(
        decode_var_string(&mut Reader::new(&out)).as_deref(),
        Ok("show")
    );
}

#[test]
fn var_string_length_is_bounded_by_input() {
    let r = decode_var_string(&mut Reader::new(b"\xff\xff\xff\xffab"));
    assert_eq!(
        r,
        Err(CodecError::Truncated {
            needed: 0xffff_ffff,
            remaining: 2
        })
    );
}

#[test]
fn vla_count_is_bounded_by_input() {
    let mut r = Reader::new(&[0, 0, 0, 1, 0, 0]);
    let r = decode_vla::<u32>(&mut r, "xs", 1_000_000_000);
    assert!(matches!(r, Err(CodecError::Truncated { .. })));
}

#[test]
fn vla_count_overflow_is_an_error() {
    let r = vla_count::<u8>("paths", 300, u64::from(u8::MAX));
    assert_eq!(
        r,
        Err(CodecError::CountOverflow {
            field: "paths",
            len: 300,
            max: 255
        })
    );
}

#[test]
fn fixed_arrays_round_trip() {
    let v = [1u32, 2, 3, 4];
    let bytes = enc(&v);
    assert_eq!(bytes.len(), 16);
    assert_eq!(<[u32; 4]>::decode(&mut Reader::new(&bytes)), Ok(v));
    assert!(<[u32; 4]>::decode(&mut Reader::new(&bytes[..15])).is_err());
}

#[test]
fn union_member_sits_at_offset_zero() {
    let u: [u8; 16] = union_from("ip4", &[10u8, 0, 0, 1]).expect("fits");
    assert_eq!(&u[..4], &[10, 0, 0, 1]);
    assert!(u[4..].iter().all(|&b| b == 0));
    assert_eq!(union_get::<[u8; 4]>(&u), Ok([10, 0, 0, 1]));
    let too_big: Result<[u8; 2], _> = union_from("x", &7u32);
    assert!(matches!(too_big, Err(CodecError::UnionOverflow { .. })));
}
