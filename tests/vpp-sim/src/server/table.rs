//! The message table one simulated release serves: ids assigned as VPP assigns them
//! (memclnt numbered from 1 in file order, so `sockclnt_create` is 15 and its reply 16, then
//! each module's block in turn, optionally shifted as another plugin load order would), the
//! entries listed in hash order as VPP's `sockclnt_create_reply` lists them, and a dense
//! id -> handler table for the main thread.
//!
//! Messages of the release that the simulator has no handler for keep their ids and get no
//! answer, like a VPP message whose handler is missing.

use binapi::release::Release;
use binapi::table::MessageTable;

use crate::handlers::{Answer, Entry, EventEncoder, registry_for};

/// A release's table with its handlers.
#[derive(Debug)]
pub struct SimTable {
    pub table: MessageTable,
    /// Handler per message id.
    pub dispatch: Vec<Option<Entry>>,
    /// `(id, name_crc)` in the order `sockclnt_create_reply` lists them.
    pub hash_order: Vec<(u16, String)>,
    pub registry_event: EventEncoder,
}

/// Why a table cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("vpp-sim has no handlers for release {0}")]
    UnknownRelease(String),
    #[error("cannot fail {0}: release {1} has no such message")]
    NoSuchMessage(String, String),
    #[error("cannot fail {0}: it has no retval (a dump or a reply without one)")]
    NoRetval(String),
}

/// FNV-1a, standing in for VPP's hash of the name: a fixed order unrelated to the ids.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl SimTable {
    /// The table of `release` with module blocks shifted by `id_offset`.
    pub fn build(release: &'static Release, id_offset: u16) -> Result<SimTable, TableError> {
        let registry = registry_for(release.version)
            .ok_or_else(|| TableError::UnknownRelease(release.version.to_owned()))?;
        let table = MessageTable::for_release(release, id_offset);
        let entries = table.entries();
        let max = entries
            .iter()
            .map(|(id, _)| usize::from(*id))
            .max()
            .unwrap_or(0);
        let mut dispatch = vec![None; max + 1];
        for (id, name) in &entries {
            if let Some(e) = registry.by_name_crc.get(name) {
                dispatch[usize::from(*id)] = Some(*e);
            }
        }
        let mut hash_order: Vec<(u16, String)> = entries
            .iter()
            .map(|(id, name)| (*id, (*name).to_owned()))
            .collect();
        hash_order.sort_by_key(|(_, name)| fnv(name));
        Ok(SimTable {
            table,
            dispatch,
            hash_order,
            registry_event: registry.interface_event,
        })
    }

    /// The handled message called `name` (without CRC), if this table has one.
    pub fn handled(&self, name: &str) -> Option<&Entry> {
        self.dispatch.iter().flatten().find(|e| e.name == name)
    }

    /// Checks that a `--fail` knob names a message of this release that has a retval.
    pub fn check_fail(&self, name: &str, version: &str) -> Result<(), TableError> {
        match self.handled(name) {
            None => Err(TableError::NoSuchMessage(
                name.to_owned(),
                version.to_owned(),
            )),
            Some(e) if e.answer != Answer::Reply => Err(TableError::NoRetval(name.to_owned())),
            Some(_) => Ok(()),
        }
    }

    /// Every handled `name_crc`.
    pub fn handled_names(&self) -> Vec<&str> {
        self.hash_order
            .iter()
            .filter(|(id, _)| {
                self.dispatch
                    .get(usize::from(*id))
                    .is_some_and(Option::is_some)
            })
            .map(|(_, n)| n.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_release_builds_with_vpp_numbering_and_agent_messages_handled() {
        for release in binapi::RELEASES {
            let t = SimTable::build(release, 0).expect("table");
            assert_eq!(t.table.id("sockclnt_create_455fb9c4"), Some(15));
            assert_eq!(t.table.id("sockclnt_create_reply_35166268"), Some(16));
            // not in id order
            let ids: Vec<u16> = t.hash_order.iter().map(|(id, _)| *id).collect();
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            assert_ne!(ids, sorted, "{}", release.version);
            // every agent request and dump of the release has a handler
            for m in release.messages {
                let needs_handler = matches!(
                    m.kind,
                    binapi::MessageKind::Request | binapi::MessageKind::Dump
                ) && m.shape == binapi::HeaderShape::Request;
                if needs_handler {
                    assert!(
                        t.handled(m.name).is_some(),
                        "{} {} has no handler",
                        release.version,
                        m.name
                    );
                }
            }
        }
    }
}
