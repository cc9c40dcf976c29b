//! What the scheduler remembers: recent transactions ([`RecordedTxn`]) and per-key timelines
//! of [`RecordedNode`]s, both trimmed by age; and the node snapshot shape used by the graph
//! export.
//!
//! It does not decide what to record; the scheduler hands it finished transactions.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use messages::Key;
use serde::{Serialize, Serializer};

use crate::clock::rfc3339;
use crate::descriptor::{DepTarget, Registry};
use crate::graph::{FxHashMap, Graph};
use crate::record::{ProtoWithName, RecordedTxn};
use messages::Value;
use messages::proto::ligato::kvscheduler::ValueState;

fn ser_time<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*t))
}

fn ser_opt_time<S: Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&rfc3339(*t)),
        None => s.serialize_str("0001-01-01T00:00:00Z"),
    }
}

/// An edge of the graph: `depends-on` (with the dependency label) or `derives`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RecordedTarget {
    #[serde(rename = "Relation")]
    pub relation: &'static str,
    #[serde(rename = "Label")]
    pub label: String,
    /// The exact key, or the any-of prefixes joined with `|`.
    #[serde(rename = "ExpectedKey")]
    pub expected_key: String,
    #[serde(rename = "MatchingKeys")]
    pub matching_keys: Vec<Key>,
}

/// A value as it was during `[since, until)` (Ligato's `RecordedNode`).
#[derive(Clone, Debug, Serialize)]
pub struct RecordedNode {
    #[serde(rename = "Since", serialize_with = "ser_time")]
    pub since: SystemTime,
    #[serde(rename = "Until", serialize_with = "ser_opt_time")]
    pub until: Option<SystemTime>,
    #[serde(rename = "Key")]
    pub key: Key,
    #[serde(rename = "Label")]
    pub label: String,
    #[serde(rename = "Value")]
    pub value: Option<ProtoWithName>,
    /// `value-state`, `descriptor`, `derived`, `error`, `last-update` (txn seq).
    #[serde(rename = "Flags")]
    pub flags: BTreeMap<&'static str, String>,
    #[serde(rename = "MetadataFields")]
    pub metadata_fields: BTreeMap<String, Vec<String>>,
    #[serde(rename = "Targets")]
    pub targets: Vec<RecordedTarget>,
    #[serde(rename = "TargetUpdateOnly")]
    pub target_update_only: bool,
}

/// Snapshot of one node, or `None` when the key is unknown.
pub(crate) fn snapshot_node(
    graph: &Graph,
    reg: &Registry,
    key: &Key,
    since: SystemTime,
    seq: u64,
) -> Option<RecordedNode> {
    let n = graph.nodes.get(key)?;
    let desc = reg.get(n.descriptor);
    let mut flags = BTreeMap::new();
    flags.insert("value-state", n.state.as_str_name().to_owned());
    flags.insert("last-update", seq.to_string());
    if let Some(name) = reg.name(n.descriptor) {
        flags.insert("descriptor", name.to_owned());
    }
    if let Some(p) = &n.parent {
        flags.insert("derived", p.to_string());
    }
    if let Some(e) = &n.error {
        flags.insert("error", e.clone());
    }
    if n.applied.is_none() && n.origin != crate::descriptor::Origin::FromSb {
        flags.insert("unavailable", String::new());
    }
    let mut targets: Vec<RecordedTarget> = n
        .deps
        .iter()
        .map(|d| RecordedTarget {
            relation: "depends-on",
            label: d.label.clone(),
            expected_key: match &d.target {
                DepTarget::Key(k) => k.to_string(),
                DepTarget::AnyOf { prefixes, .. } => prefixes.join("|"),
            },
            matching_keys: graph.matching(&d.target),
        })
        .collect();
    targets.extend(n.derived.iter().map(|c| RecordedTarget {
        relation: "derives",
        label: c.to_string(),
        expected_key: c.to_string(),
        matching_keys: vec![c.clone()],
    }));
    Some(RecordedNode {
        since,
        until: None,
        key: key.clone(),
        label: desc.map_or_else(|| key.to_string(), |d| d.key_label(key)),
        value: n
            .desired
            .clone()
            .or_else(|| n.applied.clone())
            .map(ProtoWithName),
        flags,
        metadata_fields: BTreeMap::new(),
        targets,
        target_update_only: false,
    })
}

/// One version of a value in its timeline: compact, rendered into a [`RecordedNode`] only
/// when asked for.
#[derive(Debug, Clone)]
pub(crate) struct TimelineEntry {
    pub since: SystemTime,
    pub until: Option<SystemTime>,
    pub seq: u64,
    pub state: ValueState,
    pub value: Option<Value>,
    pub error: Option<String>,
    pub descriptor: Option<usize>,
    pub parent: Option<Key>,
}

impl TimelineEntry {
    pub fn of(graph: &Graph, key: &Key, since: SystemTime, seq: u64) -> Option<Self> {
        let n = graph.nodes.get(key)?;
        Some(TimelineEntry {
            since,
            until: None,
            seq,
            state: n.state,
            value: n.desired.clone().or_else(|| n.applied.clone()),
            error: n.error.clone(),
            descriptor: n.descriptor,
            parent: n.parent.clone(),
        })
    }

    /// Ligato's shape; a timeline carries no edges (the graph snapshot has them).
    pub fn render(&self, key: &Key, reg: &Registry) -> RecordedNode {
        let mut flags = BTreeMap::new();
        flags.insert("value-state", self.state.as_str_name().to_owned());
        flags.insert("last-update", self.seq.to_string());
        if let Some(name) = reg.name(self.descriptor) {
            flags.insert("descriptor", name.to_owned());
        }
        if let Some(p) = &self.parent {
            flags.insert("derived", p.to_string());
        }
        if let Some(e) = &self.error {
            flags.insert("error", e.clone());
        }
        RecordedNode {
            since: self.since,
            until: self.until,
            key: key.clone(),
            label: reg
                .get(self.descriptor)
                .map_or_else(|| key.to_string(), |d| d.key_label(key)),
            value: self.value.clone().map(ProtoWithName),
            flags,
            metadata_fields: BTreeMap::new(),
            targets: Vec::new(),
            target_update_only: false,
        }
    }
}

/// Recent transactions and per-key timelines.
#[derive(Debug, Default)]
pub(crate) struct History {
    pub txns: VecDeque<Arc<RecordedTxn>>,
    pub timelines: FxHashMap<Key, Vec<TimelineEntry>>,
    last_sweep: Option<SystemTime>,
}

impl History {
    pub fn push(&mut self, txn: Arc<RecordedTxn>) {
        self.txns.push_back(txn);
    }

    /// Closes the key's current timeline entry and opens `next` (when the key still exists).
    pub fn update_timeline(&mut self, key: &Key, now: SystemTime, next: Option<TimelineEntry>) {
        let line = self.timelines.entry(key.clone()).or_default();
        if let Some(last) = line.last_mut()
            && last.until.is_none()
        {
            last.until = Some(now);
        }
        line.extend(next);
    }

    /// Drops transactions and closed timeline entries older than `limit`.
    pub fn trim(&mut self, now: SystemTime, limit: Duration) {
        let Some(cutoff) = now.checked_sub(limit) else {
            return;
        };
        while self.txns.front().is_some_and(|t| t.stop < cutoff) {
            self.txns.pop_front();
        }
        // Timelines are swept at most ten times per age limit: O(values) amortised.
        let due = self
            .last_sweep
            .is_none_or(|t| now.duration_since(t).unwrap_or_default() >= limit / 10);
        if !due {
            return;
        }
        self.last_sweep = Some(now);
        self.timelines.retain(|_, line| {
            line.retain(|n| n.until.is_none_or(|u| u >= cutoff));
            !line.is_empty()
        });
    }
}
