//! The in-memory graph of values: one [`Node`] per key the scheduler knows, plus the reverse
//! indexes that make "who depends on this key" cheap (exact keys, key prefixes and selectors).
//!
//! It does not decide anything: the planning engine (`engine.rs`) reads and mutates it. All
//! maps are ordered so that planning is deterministic.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use messages::proto::ligato::kvscheduler::{TxnOperation, ValueState};
use messages::{Key, Value};

use crate::descriptor::{DepTarget, Dependency, Metadata, Origin};

/// One value known to the scheduler: desired by NB, derived from another value, or obtained
/// from the dataplane.
#[derive(Clone)]
pub(crate) struct Node {
    /// Index into the registry; `None` for unimplemented values and properties.
    pub descriptor: Option<usize>,
    pub origin: Origin,
    /// The value this one is derived from.
    pub parent: Option<Key>,
    /// Derived values currently materialised (only while this value exists in the dataplane).
    pub derived: Vec<Key>,
    /// What NB (or the parent) wants; `None` means "remove".
    pub desired: Option<Value>,
    /// What the dataplane holds; `Some` means the value exists there.
    pub applied: Option<Value>,
    pub metadata: Option<Metadata>,
    /// Dependencies of the desired value (what creating or updating needs).
    pub deps: Vec<Dependency>,
    /// Dependencies of the applied value (what deleting others must not strand). Both lists
    /// are registered in the graph's reverse indexes.
    pub applied_deps: Vec<Dependency>,
    pub state: ValueState,
    pub error: Option<String>,
    pub retriable: bool,
    /// Validation failure of the desired value: reason and fields.
    pub invalid: Option<(String, Vec<String>)>,
    pub last_op: TxnOperation,
    /// A derived value without a descriptor: exists together with its parent.
    pub is_property: bool,
}

impl Node {
    pub fn new(descriptor: Option<usize>, origin: Origin) -> Self {
        Node {
            descriptor,
            origin,
            parent: None,
            derived: Vec::new(),
            desired: None,
            applied: None,
            metadata: None,
            deps: Vec::new(),
            applied_deps: Vec::new(),
            state: ValueState::Nonexistent,
            error: None,
            retriable: false,
            invalid: None,
            last_op: TxnOperation::Undefined,
            is_property: false,
        }
    }

    pub fn is_derived(&self) -> bool {
        self.parent.is_some()
    }
}

/// Values plus reverse dependency indexes.
#[derive(Clone, Default)]
pub(crate) struct Graph {
    pub nodes: BTreeMap<Key, Node>,
    /// Keys that exist in the dataplane and can satisfy dependencies.
    available: BTreeSet<Key>,
    /// target key -> values depending on exactly it.
    by_key: HashMap<Key, BTreeSet<Key>>,
    /// key prefix -> values with an any-of dependency on it.
    by_prefix: HashMap<Box<str>, BTreeSet<Key>>,
    /// prefix length -> number of registered prefixes of that length.
    prefix_lens: BTreeMap<usize, usize>,
    /// values with a selector-only any-of dependency (checked against every change).
    by_selector: BTreeSet<Key>,
}

impl Graph {
    pub fn set_available(&mut self, key: &Key, yes: bool) {
        if yes {
            self.available.insert(key.clone());
        } else {
            self.available.remove(key);
        }
    }

    /// Is `target` satisfied by an available key?
    pub fn satisfied(&self, target: &DepTarget) -> bool {
        match target {
            DepTarget::Key(k) => self.available.contains(k),
            DepTarget::AnyOf { prefixes, .. } if prefixes.is_empty() => {
                self.available.iter().any(|k| target.matches(k))
            }
            DepTarget::AnyOf { prefixes, .. } => prefixes.iter().any(|p| {
                self.available
                    .range::<str, _>((
                        std::ops::Bound::Included(p.as_str()),
                        std::ops::Bound::Unbounded,
                    ))
                    .take_while(|k| k.has_prefix(p))
                    .any(|k| target.matches(k))
            }),
        }
    }

    /// Available keys that satisfy `target`, sorted.
    pub fn matching(&self, target: &DepTarget) -> Vec<Key> {
        match target {
            DepTarget::Key(k) => self.available.get(k).into_iter().cloned().collect(),
            DepTarget::AnyOf { prefixes, .. } if prefixes.is_empty() => self
                .available
                .iter()
                .filter(|k| target.matches(k))
                .cloned()
                .collect(),
            DepTarget::AnyOf { prefixes, .. } => {
                let mut out: Vec<Key> = prefixes
                    .iter()
                    .flat_map(|p| {
                        self.available
                            .range::<str, _>((
                                std::ops::Bound::Included(p.as_str()),
                                std::ops::Bound::Unbounded,
                            ))
                            .take_while(move |k| k.has_prefix(p))
                    })
                    .filter(|k| target.matches(k))
                    .cloned()
                    .collect();
                out.sort();
                out.dedup();
                out
            }
        }
    }

    /// Labels of the node's dependencies that are not satisfied (empty: all satisfied).
    pub fn missing_deps(&self, key: &Key) -> Vec<String> {
        let Some(node) = self.nodes.get(key) else {
            return Vec::new();
        };
        node.deps
            .iter()
            .filter(|d| !self.satisfied(&d.target))
            .map(|d| d.label.clone())
            .collect()
    }

    pub fn deps_ok(&self, key: &Key) -> bool {
        self.nodes
            .get(key)
            .is_none_or(|n| n.deps.iter().all(|d| self.satisfied(&d.target)))
    }

    /// Would the applied value of `key` be stranded (a dependency of what is in the
    /// dataplane no longer satisfied)?
    pub fn stranded(&self, key: &Key) -> bool {
        self.nodes
            .get(key)
            .is_some_and(|n| n.applied_deps.iter().any(|d| !self.satisfied(&d.target)))
    }

    fn unindex_node(&mut self, key: &Key) {
        let Some(n) = self.nodes.get(key) else {
            return;
        };
        let all: Vec<Dependency> = n.deps.iter().chain(&n.applied_deps).cloned().collect();
        for d in &all {
            self.unindex(key, d);
        }
    }

    fn index_node(&mut self, key: &Key) {
        let Some(n) = self.nodes.get(key) else {
            return;
        };
        let all: Vec<Dependency> = n.deps.iter().chain(&n.applied_deps).cloned().collect();
        for d in &all {
            self.index(key, d);
        }
    }

    /// Replaces the dependencies of the desired value of `key`.
    pub fn set_deps(&mut self, key: &Key, deps: Vec<Dependency>) {
        self.unindex_node(key);
        if let Some(n) = self.nodes.get_mut(key) {
            n.deps = deps;
        }
        self.index_node(key);
    }

    /// Replaces the dependencies of the applied value of `key`.
    pub fn set_applied_deps(&mut self, key: &Key, deps: Vec<Dependency>) {
        self.unindex_node(key);
        if let Some(n) = self.nodes.get_mut(key) {
            n.applied_deps = deps;
        }
        self.index_node(key);
    }

    fn index(&mut self, key: &Key, d: &Dependency) {
        match &d.target {
            DepTarget::Key(t) => {
                self.by_key
                    .entry(t.clone())
                    .or_default()
                    .insert(key.clone());
            }
            DepTarget::AnyOf { prefixes, .. } if prefixes.is_empty() => {
                self.by_selector.insert(key.clone());
            }
            DepTarget::AnyOf { prefixes, .. } => {
                for p in prefixes {
                    let set = self.by_prefix.entry(p.as_str().into()).or_default();
                    if set.insert(key.clone()) {
                        *self.prefix_lens.entry(p.len()).or_default() += 1;
                    }
                }
            }
        }
    }

    fn unindex(&mut self, key: &Key, d: &Dependency) {
        match &d.target {
            DepTarget::Key(t) => {
                if let Some(set) = self.by_key.get_mut(t) {
                    set.remove(key);
                    if set.is_empty() {
                        self.by_key.remove(t);
                    }
                }
            }
            DepTarget::AnyOf { prefixes, .. } if prefixes.is_empty() => {
                self.by_selector.remove(key);
            }
            DepTarget::AnyOf { prefixes, .. } => {
                for p in prefixes {
                    if let Some(set) = self.by_prefix.get_mut(p.as_str()) {
                        if set.remove(key)
                            && let Some(c) = self.prefix_lens.get_mut(&p.len())
                        {
                            *c -= 1;
                            if *c == 0 {
                                self.prefix_lens.remove(&p.len());
                            }
                        }
                        if set.is_empty() {
                            self.by_prefix.remove(p.as_str());
                        }
                    }
                }
            }
        }
    }

    /// Values whose dependencies `key` may satisfy, sorted, without duplicates.
    pub fn dependents(&self, key: &Key) -> Vec<Key> {
        let mut out: BTreeSet<Key> = BTreeSet::new();
        if let Some(set) = self.by_key.get(key) {
            out.extend(set.iter().cloned());
        }
        let s = key.as_str();
        for &len in self.prefix_lens.keys() {
            if len > s.len() {
                break;
            }
            if let Some(set) = s.get(..len).and_then(|p| self.by_prefix.get(p)) {
                out.extend(set.iter().cloned());
            }
        }
        for k in &self.by_selector {
            let matches = self.nodes.get(k).is_some_and(|n| {
                n.deps
                    .iter()
                    .chain(&n.applied_deps)
                    .any(|d| d.target.matches(key))
            });
            if matches {
                out.insert(k.clone());
            }
        }
        out.into_iter().collect()
    }

    /// Drops a node and its index entries.
    pub fn remove(&mut self, key: &Key) -> Option<Node> {
        self.unindex_node(key);
        self.available.remove(key);
        self.nodes.remove(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Key {
        Key::from(s)
    }

    #[test]
    fn reverse_indexes() {
        let mut g = Graph::default();
        for key in ["a", "b", "c"] {
            g.nodes.insert(k(key), Node::new(None, Origin::FromNb));
        }
        g.set_deps(&k("b"), vec![Dependency::on_key("needs-a", "a")]);
        g.set_deps(&k("c"), vec![Dependency::any_of_prefix("any-x", "x/")]);
        assert_eq!(g.dependents(&k("a")), vec![k("b")]);
        assert_eq!(g.dependents(&k("x/1")), vec![k("c")]);
        assert!(g.dependents(&k("y/1")).is_empty());
        assert_eq!(g.missing_deps(&k("c")), vec!["any-x".to_owned()]);
        g.set_available(&k("x/1"), true);
        assert!(g.deps_ok(&k("c")));
        g.remove(&k("c"));
        assert!(g.dependents(&k("x/1")).is_empty());
        assert!(g.prefix_lens.is_empty());
    }
}
