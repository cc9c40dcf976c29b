//! [`LastSeen`]: the per-watch cache of what a watch has delivered, per key. It gives the
//! previous value of a change on stores that do not report one, and turns a fresh snapshot
//! into the exact changes since the last delivered state (the resync-by-diff that makes
//! "no change lost, none applied twice" hold across gaps).
//!
//! Deliberately not here: any I/O. Consumers can use it too: [`LastSeen::apply_checked`]
//! verifies that each change's `prev` matches what was delivered before.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::types::{Change, ChangeBatch, Revision, Snapshot};

/// What a watch has delivered so far: the consumer's view of the prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LastSeen {
    entries: BTreeMap<String, Bytes>,
    revision: Revision,
}

impl LastSeen {
    /// Starts from a snapshot.
    pub fn from_snapshot(snapshot: Snapshot) -> Self {
        LastSeen {
            entries: snapshot.entries,
            revision: snapshot.revision,
        }
    }

    /// The revision of the last applied change or snapshot.
    pub fn revision(&self) -> Revision {
        self.revision
    }

    /// The current value of a key.
    pub fn get(&self, key: &str) -> Option<&Bytes> {
        self.entries.get(key)
    }

    /// The whole view.
    pub fn entries(&self) -> &BTreeMap<String, Bytes> {
        &self.entries
    }

    /// The view as a snapshot, e.g. to start a new watch after a restart.
    pub fn to_snapshot(&self) -> Snapshot {
        Snapshot {
            revision: self.revision,
            entries: self.entries.clone(),
        }
    }

    /// Records a key's new state and returns the change if it differs from what was seen.
    /// Used by stores that only tell "this key changed" (Redis, Consul, fileDB diffs).
    pub fn observe(
        &mut self,
        key: &str,
        value: Option<Bytes>,
        revision: Revision,
    ) -> Option<Change> {
        let prev = self.entries.get(key).cloned();
        if prev == value {
            return None;
        }
        match &value {
            Some(v) => self.entries.insert(key.to_owned(), v.clone()),
            None => self.entries.remove(key),
        };
        self.bump(revision);
        Some(Change {
            key: key.to_owned(),
            value,
            prev,
            revision,
        })
    }

    /// Records a change reported by the store itself (etcd, embedded), filling in `prev` from
    /// the cache when the store did not give one.
    pub fn record(&mut self, mut change: Change) -> Change {
        let cached = match &change.value {
            Some(v) => self.entries.insert(change.key.clone(), v.clone()),
            None => self.entries.remove(&change.key),
        };
        if change.prev.is_none() {
            change.prev = cached;
        }
        self.bump(change.revision);
        change
    }

    /// The changes that turn the cache into `snapshot`, applied to the cache, in key order.
    /// The cache takes the snapshot's revision (revisions of two fileDB or Redis backend
    /// instances are not comparable, so it is not a max).
    pub fn diff_to(&mut self, snapshot: Snapshot) -> ChangeBatch {
        let revision = snapshot.revision;
        let mut changes = Vec::new();
        for (key, prev) in &self.entries {
            if !snapshot.entries.contains_key(key) {
                changes.push(Change {
                    key: key.clone(),
                    value: None,
                    prev: Some(prev.clone()),
                    revision,
                });
            }
        }
        for (key, value) in &snapshot.entries {
            let prev = self.entries.get(key);
            if prev != Some(value) {
                changes.push(Change {
                    key: key.clone(),
                    value: Some(value.clone()),
                    prev: prev.cloned(),
                    revision,
                });
            }
        }
        changes.sort_by(|a, b| a.key.cmp(&b.key));
        self.entries = snapshot.entries;
        self.revision = revision;
        ChangeBatch { revision, changes }
    }

    /// Applies a delivered batch, checking that every change's `prev` is what was delivered
    /// before for that key: a lost change or a change applied twice shows up as a mismatch.
    pub fn apply_checked(&mut self, batch: &ChangeBatch) -> Result<(), String> {
        for change in &batch.changes {
            let current = self.entries.get(&change.key);
            if current != change.prev.as_ref() {
                return Err(format!(
                    "change of {} at revision {} has prev {:?} but the view holds {:?}",
                    change.key,
                    change.revision,
                    change.prev.as_ref().map(short),
                    current.map(short),
                ));
            }
            match &change.value {
                Some(v) => self.entries.insert(change.key.clone(), v.clone()),
                None => self.entries.remove(&change.key),
            };
        }
        self.bump(batch.revision);
        Ok(())
    }

    fn bump(&mut self, revision: Revision) {
        self.revision = self.revision.max(revision);
    }
}

fn short(b: &Bytes) -> String {
    let s = String::from_utf8_lossy(b);
    if s.len() > 40 {
        format!("{}…", &s[..s.floor_char_boundary(40)])
    } else {
        s.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(rev: u64, kv: &[(&str, &str)]) -> Snapshot {
        Snapshot {
            revision: Revision(rev),
            entries: kv
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Bytes::from((*v).to_owned())))
                .collect(),
        }
    }

    #[test]
    fn diff_gives_puts_deletes_and_prev_values() {
        let mut seen = LastSeen::from_snapshot(snap(1, &[("a", "1"), ("b", "1"), ("c", "1")]));
        let batch = seen.diff_to(snap(5, &[("a", "1"), ("b", "2"), ("d", "1")]));
        let got: Vec<_> = batch
            .changes
            .iter()
            .map(|c| (c.key.as_str(), c.value.clone(), c.prev.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("b", Some(Bytes::from("2")), Some(Bytes::from("1"))),
                ("c", None, Some(Bytes::from("1"))),
                ("d", Some(Bytes::from("1")), None),
            ]
        );
        assert_eq!(seen.revision(), Revision(5));
        assert!(
            seen.diff_to(snap(6, &[("a", "1"), ("b", "2"), ("d", "1")]))
                .changes
                .is_empty()
        );
    }

    #[test]
    fn observe_skips_unchanged_values() {
        let mut seen = LastSeen::default();
        assert!(
            seen.observe("a", Some(Bytes::from("1")), Revision(1))
                .is_some()
        );
        assert!(
            seen.observe("a", Some(Bytes::from("1")), Revision(2))
                .is_none()
        );
        let del = seen.observe("a", None, Revision(3)).expect("delete");
        assert_eq!(del.prev, Some(Bytes::from("1")));
        assert!(seen.observe("a", None, Revision(4)).is_none());
    }

    #[test]
    fn apply_checked_catches_a_doubled_change() {
        let mut view = LastSeen::default();
        let batch = ChangeBatch {
            revision: Revision(1),
            changes: vec![Change {
                key: "a".into(),
                value: Some(Bytes::from("1")),
                prev: None,
                revision: Revision(1),
            }],
        };
        view.apply_checked(&batch).expect("first apply");
        let err = view
            .apply_checked(&batch)
            .expect_err("second apply must fail");
        assert!(err.contains("change of a"), "{err}");
    }
}
