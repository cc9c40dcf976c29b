//! The VPP binary API value codec: how scalars, arrays, strings and nested types travel on the wire.
//!
//! Everything is packed and big-endian except `f64`, which VPP sends in host order (little-endian on x86).
//! Decoding reads from a bounds-checked [`Reader`] and never panics: every length comes from the input and is
//! checked against what is left before anything is allocated.
//! This module deliberately knows nothing about messages, headers, frames or sockets (see [`message`] and
//! [`frame`]); generated types implement [`Wire`] on top of the helpers here.

pub mod frame;
pub mod message;

use std::fmt;

/// Why a value could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The input ended before the value did.
    #[error("truncated input: needed {needed} more bytes, {remaining} left")]
    Truncated { needed: usize, remaining: usize },
    /// A fixed-size string field got more than `max` bytes (VPP keeps one byte for the NUL).
    #[error("string field {field} is {len} bytes, at most {max} fit")]
    StringTooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    /// A variable-length array has more elements than its count field can express.
    #[error("array field {field} has {len} elements, its count field holds at most {max}")]
    CountOverflow {
        field: &'static str,
        len: usize,
        max: u64,
    },
    /// An element of a variable-length array consumed no input, so the count cannot be trusted.
    #[error("array field {field} has zero-sized elements")]
    ZeroSizedElement { field: &'static str },
    /// A union member does not fit the union's storage.
    #[error("union member {member} is {len} bytes, the union holds {size}")]
    UnionOverflow {
        member: &'static str,
        len: usize,
        size: usize,
    },
}

/// A bounds-checked cursor over received bytes.
#[derive(Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("len", &self.buf.len())
            .field("pos", &self.pos)
            .finish()
    }
}

impl<'a> Reader<'a> {
    /// Reads `buf` from its start.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let remaining = self.remaining();
        if n > remaining {
            return Err(CodecError::Truncated {
                needed: n,
                remaining,
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Takes the next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Takes everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }
}

/// A value with a VPP wire encoding: scalars, arrays and every generated type and message body.
pub trait Wire: Sized {
    /// The exact number of bytes [`Wire::encode`] writes.
    fn wire_len(&self) -> usize;
    /// Appends the encoding to `out`; fails only on values the wire cannot express.
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError>;
    /// Reads one value; fails only when the input is too short.
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError>;
}

macro_rules! wire_int {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            fn wire_len(&self) -> usize {
                size_of::<$t>()
            }
            fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
                out.extend_from_slice(&self.to_be_bytes());
                Ok(())
            }
            fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
                Ok(<$t>::from_be_bytes(r.array()?))
            }
        }
    )*};
}
wire_int!(u8, i8, u16, i16, u32, i32, u64, i64);

impl Wire for bool {
    fn wire_len(&self) -> usize {
        1
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.push(u8::from(*self));
        Ok(())
    }
    /// VPP treats any non-zero byte as true.
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(r.array::<1>()?[0] != 0)
    }
}

/// `f64` travels in host order, which is little-endian on every platform VPP supports.
impl Wire for f64 {
    fn wire_len(&self) -> usize {
        8
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.to_le_bytes());
        Ok(())
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(f64::from_le_bytes(r.array()?))
    }
}

/// A fixed array: `N` elements back to back, no count on the wire.
impl<T: Wire, const N: usize> Wire for [T; N] {
    fn wire_len(&self) -> usize {
        self.iter().map(Wire::wire_len).sum()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        self.iter().try_for_each(|v| v.encode(out))
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let mut items = Vec::with_capacity(N.min(r.remaining()));
        for _ in 0..N {
            items.push(T::decode(r)?);
        }
        items.try_into().map_err(|_| CodecError::Truncated {
            needed: N,
            remaining: 0,
        })
    }
}

/// Length of a fixed string field of `size` bytes on the wire (always `size`).
pub fn fixed_string_len(size: usize) -> usize {
    size
}

/// Writes `s` NUL-padded to `size` bytes; at most `size - 1` bytes fit, as in VPP.
pub fn encode_fixed_string(
    out: &mut Vec<u8>,
    field: &'static str,
    s: &str,
    size: usize,
) -> Result<(), CodecError> {
    let max = size.saturating_sub(1);
    if s.len() > max {
        return Err(CodecError::StringTooLong {
            field,
            len: s.len(),
            max,
        });
    }
    out.extend_from_slice(s.as_bytes());
    out.resize(out.len() + size - s.len(), 0);
    Ok(())
}

/// Reads a fixed string field of `size` bytes up to its first NUL; invalid UTF-8 is replaced, never rejected.
pub fn decode_fixed_string(r: &mut Reader<'_>, size: usize) -> Result<String, CodecError> {
    let raw = r.take(size)?;
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    Ok(String::from_utf8_lossy(&raw[..end]).into_owned())
}

/// Wire length of a variable string: a u32 length and the bytes.
pub fn var_string_len(s: &str) -> usize {
    4 + s.len()
}

/// Writes a u32 big-endian byte length and the bytes, no NUL.
pub fn encode_var_string(
    out: &mut Vec<u8>,
    field: &'static str,
    s: &str,
) -> Result<(), CodecError> {
    let len = u32::try_from(s.len()).map_err(|_| CodecError::CountOverflow {
        field,
        len: s.len(),
        max: u64::from(u32::MAX),
    })?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Reads a u32-length-prefixed string; the length is checked against the remaining input first.
pub fn decode_var_string(r: &mut Reader<'_>) -> Result<String, CodecError> {
    let len = u32::decode(r)? as usize;
    let raw = r.take(len)?;
    Ok(String::from_utf8_lossy(raw).into_owned())
}

/// Converts a vector length into the value of its count field of type `C`.
pub fn vla_count<C: TryFrom<usize>>(
    field: &'static str,
    len: usize,
    max: u64,
) -> Result<C, CodecError> {
    C::try_from(len).map_err(|_| CodecError::CountOverflow { field, len, max })
}

/// Reads `count` elements of a variable-length array, never allocating more than the input can hold.
pub fn decode_vla<T: Wire>(
    r: &mut Reader<'_>,
    field: &'static str,
    count: usize,
) -> Result<Vec<T>, CodecError> {
    let mut items = Vec::with_capacity(count.min(r.remaining()));
    for _ in 0..count {
        let before = r.position();
        items.push(T::decode(r)?);
        if r.position() == before {
            return Err(CodecError::ZeroSizedElement { field });
        }
    }
    Ok(items)
}

/// Encodes a value into a fresh buffer (used by union constructors).
pub fn to_bytes<T: Wire>(v: &T) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(v.wire_len());
    v.encode(&mut out)?;
    Ok(out)
}

/// Places an encoded union member at offset 0 of a zero-filled `N`-byte union.
pub fn union_from<T: Wire, const N: usize>(
    member: &'static str,
    v: &T,
) -> Result<[u8; N], CodecError> {
    let bytes = to_bytes(v)?;
    if bytes.len() > N {
        return Err(CodecError::UnionOverflow {
            member,
            len: bytes.len(),
            size: N,
        });
    }
    let mut out = [0u8; N];
    out[..bytes.len()].copy_from_slice(&bytes);
    Ok(out)
}

/// Reads a union member from the union's bytes.
pub fn union_get<T: Wire>(bytes: &[u8]) -> Result<T, CodecError> {
    T::decode(&mut Reader::new(bytes))
}

#[cfg(test)]
mod tests;
