//! Go-compatible durations for config files: parse `2s`, `100ms`, `1m30s`, `1h` or an integer
//! meaning nanoseconds (as Ligato's mapstructure decoding does), and print them as Go's
//! `time.Duration.String()` does.
//!
//! It deliberately does not accept negative durations (Rust's `Duration` cannot hold them and no
//! Ligato setting means anything by one), floats without a unit, or a bare number in a string
//! (`"5"`: Go's `ParseDuration` rejects that too, "missing unit").

use std::fmt;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

const NANOS_PER: [(&str, u128); 9] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60 * 1_000_000_000),
    ("h", 3600 * 1_000_000_000),
    ("", 0),
];

/// Parses a Go duration string (`ParseDuration` syntax): a sequence of decimal numbers, each
/// with an optional fraction and a unit suffix (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`); `0` alone
/// is allowed. Returns a lowercase description of the problem on failure.
pub fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {text:?}");
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if let Some(after_dot) = rest.strip_prefix('.') {
            let frac_len = after_dot
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after_dot.len());
            frac_part = &after_dot[..frac_len];
            rest = &after_dot[frac_len..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(bad());
        }
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        if unit.is_empty() {
            return Err(format!("invalid duration {text:?}: missing unit"));
        }
        let per = NANOS_PER
            .iter()
            .find(|(name, _)| !name.is_empty() && *name == unit)
            .map(|(_, per)| *per)
            .ok_or_else(|| format!("invalid duration {text:?}: unknown unit {unit:?}"))?;
        let whole: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| bad())?
        };
        let mut nanos = whole.checked_mul(per).ok_or_else(bad)?;
        // The fraction is scaled digit by digit, as Go does, dropping what is below 1ns.
        let mut scale = per;
        for digit in frac_part.bytes() {
            scale /= 10;
            if scale == 0 {
                break;
            }
            nanos += u128::from(digit - b'0') * scale;
        }
        total = total.checked_add(nanos).ok_or_else(bad)?;
    }
    if negative && total > 0 {
        return Err(format!(
            "invalid duration {text:?}: negative durations are not allowed"
        ));
    }
    let total =
        u64::try_from(total).map_err(|_| format!("invalid duration {text:?}: too large"))?;
    Ok(Duration::from_nanos(total))
}

/// Formats a duration exactly as Go's `time.Duration.String()`: `0s`, `1ns`, `1.5µs`, `100ms`,
/// `2s`, `1m30s`, `24h0m0s`.
pub fn format_go_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    if nanos < 1_000_000_000 {
        let (unit, per) = if nanos < 1_000 {
            ("ns", 1)
        } else if nanos < 1_000_000 {
            ("\u{b5}s", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{}{unit}", with_fraction(nanos / per, nanos % per, per));
    }
    let secs = nanos / 1_000_000_000;
    let sub = nanos % 1_000_000_000;
    let seconds = with_fraction(secs % 60, sub, 1_000_000_000);
    let minutes = secs / 60 % 60;
    let hours = secs / 3600;
    if hours > 0 {
        format!("{hours}h{minutes}m{seconds}s")
    } else if minutes > 0 {
        format!("{minutes}m{seconds}s")
    } else {
        format!("{seconds}s")
    }
}

fn with_fraction(whole: u128, rest: u128, per: u128) -> String {
    if rest == 0 {
        return whole.to_string();
    }
    let width = per.ilog10() as usize;
    let digits = format!("{rest:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

struct GoDurationVisitor;

impl Visitor<'_> for GoDurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as \"2s\", \"100ms\", \"1m30s\" or an integer of nanoseconds")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Ok(Duration::from_nanos(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        u64::try_from(v).map(Duration::from_nanos).map_err(|_| {
            E::custom(format!(
                "invalid duration {v}: negative durations are not allowed"
            ))
        })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse_go_duration(v).map_err(E::custom)
    }
}

/// `#[serde(with = "crate::duration::go")]` for `Duration` fields.
pub mod go {
    use super::*;

    /// Serializes as a Go duration string.
    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_go_duration(*value))
    }

    /// Deserializes from a Go duration string or an integer of nanoseconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        deserializer.deserialize_any(GoDurationVisitor)
    }
}

/// `#[serde(with = "crate::duration::go_option")]` for `Option<Duration>` fields; YAML `null`
/// (or an absent field, with `#[serde(default)]`) is `None`.
pub mod go_option {
    use super::*;

    /// Serializes `Some` as a Go duration string and `None` as null.
    pub fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => serializer.serialize_str(&format_go_duration(*d)),
            None => serializer.serialize_none(),
        }
    }

    /// Deserializes null as `None`, anything else as [`super::go::deserialize`] does.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        struct OptVisitor;
        impl<'de> Visitor<'de> for OptVisitor {
            type Value = Option<Duration>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                GoDurationVisitor.expecting(f)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                go::deserialize(d).map(Some)
            }
        }
        deserializer.deserialize_option(OptVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn parses_go_syntax() {
        let cases = [
            ("0", Duration::ZERO),
            ("0s", Duration::ZERO),
            ("2s", ms(2000)),
            ("100ms", ms(100)),
            ("1m30s", ms(90_000)),
            ("1h", ms(3_600_000)),
            ("1.5s", ms(1500)),
            (".5s", ms(500)),
            ("1h2m3.004s", ms(3_723_004)),
            ("250us", Duration::from_micros(250)),
            ("250\u{b5}s", Duration::from_micros(250)),
            ("7ns", Duration::from_nanos(7)),
            ("+3s", ms(3000)),
            ("-0", Duration::ZERO),
            ("-0s", Duration::ZERO),
        ];
        for (text, want) in cases {
            assert_eq!(parse_go_duration(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn rejects_what_go_rejects() {
        for (text, needle) in [
            ("", "invalid duration"),
            ("5", "missing unit"),
            ("5x", "unknown unit \"x\""),
            ("s", "invalid duration"),
            ("-1s", "negative"),
            ("1.s.", "invalid duration"),
            ("abc", "invalid duration"),
            ("99999999999h", "too large"),
        ] {
            let err = parse_go_duration(text).expect_err(text);
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn formats_like_go() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_nanos(1), "1ns"),
            (Duration::from_nanos(1500), "1.5\u{b5}s"),
            (ms(100), "100ms"),
            (ms(250), "250ms"),
            (ms(1500), "1.5s"),
            (ms(2000), "2s"),
            (ms(90_000), "1m30s"),
            (ms(300_000), "5m0s"),
            (ms(86_400_000), "24h0m0s"),
        ];
        for (d, want) in cases {
            assert_eq!(format_go_duration(d), want);
            assert_eq!(parse_go_duration(want), Ok(d), "round trip {want}");
        }
    }
}
