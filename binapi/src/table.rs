//! A connection's message table: `name_crc` <-> message id, as VPP sends it in `sockclnt_create_reply`, or as a
//! server builds it for one release with ids assigned the way VPP assigns them.
//!
//! Ids are per connection: never cache them across reconnects. This module deliberately knows nothing about
//! sockets; the client reads the table in its handshake and a server writes it in its reply.

use crate::codec::message::{HeaderShape, Message};
use crate::fxhash::FxHashMap;
use crate::release::{Release, shape_of};

/// `name_crc` <-> id, plus the header shape of every id whose message binapi knows.
#[derive(Debug, Clone, Default)]
pub struct MessageTable {
    by_name: FxHashMap<String, u16>,
    by_id: FxHashMap<u16, String>,
    /// message name (without CRC) -> CRC, to explain mismatches.
    crc_by_name: FxHashMap<String, String>,
    shapes: FxHashMap<u16, HeaderShape>,
}

/// Splits `name_crc` into name and CRC (the CRC is the last 8 characters after an underscore).
pub fn split_name_crc(name_crc: &str) -> Option<(&str, &str)> {
    let (name, crc) = name_crc.rsplit_once('_')?;
    (crc.len() == 8 && crc.bytes().all(|b| b.is_ascii_hexdigit())).then_some((name, crc))
}

impl MessageTable {
    /// A table from `(id, name_crc)` entries; names are cut at the first NUL, later duplicates of an id win.
    pub fn from_entries<I, S>(entries: I) -> Self
    where
        I: IntoIterator<Item = (u16, S)>,
        S: AsRef<str>,
    {
        let mut t = MessageTable::default();
        for (id, name) in entries {
            let name = name.as_ref();
            let name = name.split('\0').next().unwrap_or(name).to_string();
            if let Some((plain, crc)) = split_name_crc(&name) {
                t.crc_by_name.insert(plain.to_string(), crc.to_string());
            }
            if let Some(shape) = shape_of(&name) {
                t.shapes.insert(id, shape);
            }
            t.by_name.insert(name.clone(), id);
            t.by_id.insert(id, name);
        }
        t
    }

    /// The table VPP would build for `release`: memclnt numbered from 1 in file order (so `sockclnt_create` is
    /// 15 and its reply 16), then every other file in order, each taking the next block of ids.
    /// `offset` shifts the non-memclnt blocks, as a different plugin load order would.
    pub fn for_release(release: &Release, offset: u16) -> Self {
        let mut next: u16 = 1;
        let mut entries = Vec::new();
        for (i, file) in release.files.iter().enumerate() {
            if i == 1 {
                next = next.saturating_add(offset);
            }
            for m in file.messages {
                entries.push((next, *m));
                next = next.saturating_add(1);
            }
        }
        Self::from_entries(entries)
    }

    /// The id of `name_crc`.
    pub fn id(&self, name_crc: &str) -> Option<u16> {
        self.by_name.get(name_crc).copied()
    }

    /// The id of message type `M`.
    pub fn id_of<M: Message>(&self) -> Option<u16> {
        self.id(M::NAME_CRC)
    }

    /// The `name_crc` registered under `id`.
    pub fn name(&self, id: u16) -> Option<&str> {
        self.by_id.get(&id).map(String::as_str)
    }

    /// The CRC this table has for message `name`, whatever it is.
    pub fn crc_of(&self, name: &str) -> Option<&str> {
        self.crc_by_name.get(name).map(String::as_str)
    }

    /// The header shape of a known message id.
    pub fn shape(&self, id: u16) -> Option<HeaderShape> {
        self.shapes.get(&id).copied()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Every `(id, name_crc)`, sorted by id.
    pub fn entries(&self) -> Vec<(u16, &str)> {
        let mut v: Vec<(u16, &str)> = self.by_id.iter().map(|(id, n)| (*id, n.as_str())).collect();
        v.sort_unstable();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vpp_numbering_puts_sockclnt_create_at_15() {
        for release in crate::RELEASES {
            let t = MessageTable::for_release(release, 0);
            assert_eq!(
                t.id("sockclnt_create_455fb9c4"),
                Some(15),
                "{}",
                release.version
            );
            assert_eq!(t.id("sockclnt_create_reply_35166268"), Some(16));
            let shifted = MessageTable::for_release(release, 100);
            assert_eq!(shifted.id("sockclnt_create_455fb9c4"), Some(15));
            let name = "show_version_51077d14";
            assert_eq!(shifted.id(name).map(|i| i - 100), t.id(name));
        }
    }

    #[test]
    fn names_are_cut_at_nul_and_split() {
        let t = MessageTable::from_entries([(7u16, "control_ping_51077d14\0\0junk")]);
        assert_eq!(t.id("control_ping_51077d14"), Some(7));
        assert_eq!(t.crc_of("control_ping"), Some("51077d14"));
        assert_eq!(t.shape(7), Some(HeaderShape::Request));
        assert_eq!(split_name_crc("bad_name"), None);
    }
}
