//! The compatibility check: which generated release modules a connection's message table can serve, and the
//! deterministic choice among them (the release `show_version` names if it is compatible, else the newest
//! compatible one).
//!
//! A release is compatible only if every agent message it defines is in the table with the same CRC; the check
//! never hands out a release with a missing or mismatched message. It deliberately treats plugin messages
//! (memif, af_packet, vxlan) like core ones: a VPP with such a plugin disabled matches no release.

use crate::error::Error;
use crate::release::Release;
use crate::table::MessageTable;
use std::fmt;

/// Why a release does not fit a table: its first agent message (by name) that is missing or differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub release: &'static str,
    pub message: &'static str,
    /// The CRC the release expects.
    pub expected: &'static str,
    /// The CRC VPP has under that name, if any.
    pub found: Option<String>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.found {
            Some(crc) => write!(
                f,
                "{}: {} has crc {crc}, expected {}",
                self.release, self.message, self.expected
            ),
            None => write!(
                f,
                "{}: {}_{} is missing",
                self.release, self.message, self.expected
            ),
        }
    }
}

/// Checks one release against a table.
pub fn check(table: &MessageTable, release: &'static Release) -> Result<(), Mismatch> {
    for m in release.messages {
        if table.id(&m.name_crc()).is_none() {
            return Err(Mismatch {
                release: release.version,
                message: m.name,
                expected: m.crc,
                found: table.crc_of(m.name).map(str::to_string),
            });
        }
    }
    Ok(())
}

/// The result of checking every release, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub results: Vec<(&'static Release, Result<(), Mismatch>)>,
}

impl Report {
    /// Checks every release in `releases`.
    pub fn new(table: &MessageTable, releases: &[&'static Release]) -> Self {
        Report {
            results: releases.iter().map(|r| (*r, check(table, r))).collect(),
        }
    }

    /// The compatible releases, oldest first.
    pub fn compatible(&self) -> Vec<&'static Release> {
        self.results
            .iter()
            .filter(|(_, r)| r.is_ok())
            .map(|(rel, _)| *rel)
            .collect()
    }

    /// The release to use: the one whose version prefixes `show_version`'s (e.g. `23.06` for `23.06-rc0~1`)
    /// if it is compatible, otherwise the newest compatible release.
    pub fn choose(&self, show_version: Option<&str>) -> Result<&'static Release, Error> {
        let compatible = self.compatible();
        if let Some(v) = show_version {
            let named = compatible.iter().find(|r| {
                v.strip_prefix('v')
                    .unwrap_or(v)
                    .strip_prefix(r.version)
                    .is_some_and(|rest| {
                        rest.is_empty() || !rest.starts_with(|c: char| c.is_ascii_digit())
                    })
            });
            if let Some(r) = named {
                return Ok(r);
            }
        }
        compatible
            .last()
            .copied()
            .ok_or_else(|| Error::Incompatible {
                report: self.to_string(),
            })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .results
            .iter()
            .map(|(rel, r)| match r {
                Ok(()) => format!("{}: compatible", rel.version),
                Err(m) => m.to_string(),
            })
            .collect();
        f.write_str(&parts.join("; "))
    }
}

/// Checks every generated release and chooses one; the error lists each release's first mismatch.
pub fn choose_release(
    table: &MessageTable,
    show_version: Option<&str>,
) -> Result<&'static Release, Error> {
    Report::new(table, crate::RELEASES).choose(show_version)
}

#[cfg(test)]
mod tests;
