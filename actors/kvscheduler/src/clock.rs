//! The injectable clock ([`Clock`]) and the time formats the transaction records use:
//! RFC 3339 for JSON, Go's `time.Time.String()` and `time.Duration.String()` for the text log.
//!
//! It does not sleep or schedule anything: the caller asks the scheduler when the next retry is
//! due and calls back at that time.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Source of the current time. Tests inject [`ManualClock`] for determinism.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> SystemTime;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock {
    nanos: AtomicU64,
}

impl ManualClock {
    /// Starts at `unix_secs` seconds after the epoch.
    pub fn new(unix_secs: u64) -> Self {
        ManualClock {
            nanos: AtomicU64::new(unix_secs.saturating_mul(1_000_000_000)),
        }
    }

    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

/// Splits a time into (year, month, day, hour, minute, second, nanosecond) in UTC.
fn civil(t: SystemTime) -> (i64, u32, u32, u32, u32, u32, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_nanos(),
    )
}

/// Fractional seconds without trailing zeros, with the leading dot; empty when zero.
fn frac(nanos: u32) -> String {
    if nanos == 0 {
        return String::new();
    }
    let s = format!(".{nanos:09}");
    s.trim_end_matches('0').to_owned()
}

/// RFC 3339 with nanoseconds, as Go's `time.Time` marshals to JSON.
pub fn rfc3339(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s, n) = civil(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{}Z", frac(n))
}

/// Go's `time.Time.String()` for a UTC time: `2020-01-01 10:00:00.123 +0000 UTC`.
pub fn go_time(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s, n) = civil(t);
    format!(
        "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}{} +0000 UTC",
        frac(n)
    )
}

/// Go's `time.Duration.String()`: `0s`, `150µs`, `7.1ms`, `1.5s`, `2m3s`.
pub fn go_duration(d: Duration) -> String {
    let n = d.as_nanos();
    if n == 0 {
        return "0s".to_owned();
    }
    let unit = |v: u128, div: u128, suffix: &str| {
        let whole = v / div;
        let f = v % div;
        let digits = div.ilog10() as usize;
        let f = format!("{f:0digits$}");
        let f = f.trim_end_matches('0');
        if f.is_empty() {
            format!("{whole}{suffix}")
        } else {
            format!("{whole}.{f}{suffix}")
        }
    };
    if n < 1_000 {
        format!("{n}ns")
    } else if n < 1_000_000 {
        unit(n, 1_000, "µs")
    } else if n < 1_000_000_000 {
        unit(n, 1_000_000, "ms")
    } else {
        let secs = n / 1_000_000_000;
        let rest = n % 1_000_000_000;
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        let s = unit(s * 1_000_000_000 + rest, 1_000_000_000, "s");
        match (h, m) {
            (0, 0) => s,
            (0, m) => format!("{m}m{s}"),
            (h, m) => format!("{h}h{m}m{s}"),
        }
    }
}

/// Rounds to 100µs, as Ligato does for the `took` line.
pub fn round_100us(d: Duration) -> Duration {
    let step = 100_000u128;
    let n = (d.as_nanos() + step / 2) / step * step;
    Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let t = UNIX_EPOCH + Duration::from_millis(1_577_872_800_123);
        assert_eq!(rfc3339(t), "2020-01-01T10:00:00.123Z");
        assert_eq!(go_time(t), "2020-01-01 10:00:00.123 +0000 UTC");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(go_duration(Duration::from_micros(7100)), "7.1ms");
        assert_eq!(go_duration(Duration::from_micros(150)), "150µs");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_secs(123)), "2m3s");
        assert_eq!(go_duration(Duration::ZERO), "0s");
        assert_eq!(
            round_100us(Duration::from_micros(7_149)),
            Duration::from_micros(7_100)
        );
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(10);
        let a = c.now();
        assert_eq!(c.now(), a);
        c.advance(Duration::from_secs(1));
        assert_eq!(c.now(), a + Duration::from_secs(1));
    }
}
