//! The in-memory graph of values: one [`Node`] per key the scheduler knows, plus the reverse
//! indexes that make "who depends on this key" cheap (exact keys, key prefixes and selectors).
//!
//! It does not decide anything: the planning engine (`engine.rs`) reads and mutates it. All
//! maps are ordered so that planning is deterministic.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

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
    /// Validation failure of the desired value: reason and fields (boxed: rare, and the
    /// node map stores nodes inline).
    pub invalid: Option<Box<(String, Vec<String>)>>,
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
            invalid: None,
            last_op: TxnOperation::Undefined,
            is_property: false,
        }
    }

    pub fn is_derived(&self) -> bool {
        self.parent.is_some()
    }
}

/// A fast non-cryptographic hasher (the Fx hash of rustc) for the key-indexed maps. Keys come
/// from the agent's own configuration, so hash flooding is not a concern here.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.write(&[i]);
    }

    fn finish(&self) -> u64 {
        // murmur3's fmix64: spreads the state into the low bits hashbrown indexes by.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;
pub(crate) type FxHashMap<K, V> = HashMap<K, V, FxBuild>;
pub(crate) type FxHashSet<K> = HashSet<K, FxBuild>;

/// The nodes, hashed by key. Walks are unordered; callers that need an order sort.
#[derive(Clone, Default)]
pub(crate) struct Nodes {
    map: FxHashMap<Key, Node>,
}

impl Nodes {
    pub fn get(&self, key: &Key) -> Option<&Node> {
        self.map.get(key)
    }

    pub fn get_mut(&mut self, key: &Key) -> Option<&mut Node> {
        self.map.get_mut(key)
    }

    pub fn insert(&mut self, key: Key, node: Node) {
        self.map.insert(key, node);
    }

    pub fn get_or_insert_with(&mut self, key: &Key, f: impl FnOnce() -> Node) -> &mut Node {
        self.map.entry(key.clone()).or_insert_with(f)
    }

    pub fn remove(&mut self, key: &Key) -> Option<Node> {
        self.map.remove(key)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Room for `additional` more nodes, so that a large resync does not rehash repeatedly.
    pub fn reserve(&mut self, additional: usize) {
        self.map.reserve(additional);
    }

    /// All nodes, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Node)> {
        self.map.iter()
    }

    /// The keys of the nodes passing `keep`, sorted.
    pub fn sorted_keys(&self, keep: impl Fn(&Key, &Node) -> bool) -> Vec<Key> {
        let mut out: Vec<Key> = self
            .map
            .iter()
            .filter(|(k, n)| keep(k, n))
            .map(|(k, _)| k.clone())
            .collect();
        out.sort_unstable();
        out
    }
}

/// The most values [`Graph::cycle_ready`] looks at.
pub(crate) const MAX_CYCLE: usize = 64;

/// Values plus reverse dependency indexes.
#[derive(Clone, Default)]
pub(crate) struct Graph {
    pub nodes: Nodes,
    /// Keys that exist in the dataplane and can satisfy dependencies.
    available: FxHashSet<Key>,
    /// The same keys sorted, for prefix ranges: kept only once an any-of dependency has been
    /// registered, so that graphs without any-of pay nothing for it.
    sorted_available: Option<BTreeSet<Key>>,
    /// target key -> values depending on exactly it.
    by_key: FxHashMap<Key, BTreeSet<Key>>,
    /// key prefix -> values with an any-of dependency on it.
    by_prefix: FxHashMap<Box<str>, BTreeSet<Key>>,
    /// prefix length -> number of registered prefixes of that length.
    prefix_lens: BTreeMap<usize, usize>,
    /// values with a selector-only any-of dependency (checked against every change).
    by_selector: BTreeSet<Key>,
}

impl Graph {
    pub fn set_available(&mut self, key: &Key, yes: bool) {
        if yes {
            if self.available.insert(key.clone())
                && let Some(sorted) = self.sorted_available.as_mut()
            {
                sorted.insert(key.clone());
            }
        } else if self.available.remove(key)
            && let Some(sorted) = self.sorted_available.as_mut()
        {
            sorted.remove(key);
        }
    }

    /// Available keys under `prefix` (sorted when the sorted set is kept).
    fn available_under<'a>(&'a self, prefix: &'a str) -> Box<dyn Iterator<Item = &'a Key> + 'a> {
        match &self.sorted_available {
            Some(sorted) => Box::new(
                sorted
                    .range::<str, _>((
                        std::ops::Bound::Included(prefix),
                        std::ops::Bound::Unbounded,
                    ))
                    .take_while(move |k| k.has_prefix(prefix)),
            ),
            None => Box::new(self.available.iter().filter(move |k| k.has_prefix(prefix))),
        }
    }

    /// Is `target` satisfied by an available key?
    pub fn satisfied(&self, target: &DepTarget) -> bool {
        match target {
            DepTarget::Key(k) => self.available.contains(k),
            DepTarget::AnyOf { prefixes, .. } if prefixes.is_empty() => {
                self.available.iter().any(|k| target.matches(k))
            }
            DepTarget::AnyOf { prefixes, .. } => prefixes
                .iter()
                .any(|p| self.available_under(p).any(|k| target.matches(k))),
        }
    }

    /// Available keys that satisfy `target`, sorted.
    pub fn matching(&self, target: &DepTarget) -> Vec<Key> {
        let mut out: Vec<Key> = match target {
            DepTarget::Key(k) => self.available.get(k).into_iter().cloned().collect(),
            DepTarget::AnyOf { prefixes, .. } if prefixes.is_empty() => self
                .available
                .iter()
                .filter(|k| target.matches(k))
                .cloned()
                .collect(),
            DepTarget::AnyOf { prefixes, .. } => prefixes
                .iter()
                .flat_map(|p| self.available_under(p))
                .filter(|k| target.matches(k))
                .cloned()
                .collect(),
        };
        out.sort_unstable();
        out.dedup();
        out
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

    /// Ligato's rule for dependency cycles (two veth ends, each needing the other): a value
    /// whose unsatisfied dependencies all lie on cycles through it is ready when every value
    /// of those cycles is desired and valid and has no other unsatisfied dependency. The
    /// strongly connected values are treated as one: the first is created, which unblocks
    /// the next. Only exact-key dependencies form cycles; the search gives up past
    /// [`MAX_CYCLE`] values (a long chain of PENDING values is not a cycle worth walking).
    pub fn cycle_ready(&self, key: &Key) -> bool {
        let mut members: Vec<&Key> = vec![key];
        let mut index: FxHashMap<&Key, usize> = FxHashMap::default();
        index.insert(key, 0);
        // The unsatisfied dependencies of each member, as member indexes.
        let mut edges: Vec<Vec<usize>> = Vec::new();
        let mut i = 0;
        while let Some(&k) = members.get(i) {
            let Some(n) = self.nodes.get(k) else {
                return false;
            };
            let creatable = n.desired.is_some()
                && n.invalid.is_none()
                && n.descriptor.is_some()
                && n.origin != Origin::FromSb;
            if !creatable {
                return false;
            }
            let mut out = Vec::new();
            for d in &n.deps {
                if self.satisfied(&d.target) {
                    continue;
                }
                let DepTarget::Key(t) = &d.target else {
                    return false;
                };
                let j = match index.get(t) {
                    Some(&j) => j,
                    None if members.len() >= MAX_CYCLE => return false,
                    None => {
                        index.insert(t, members.len());
                        members.push(t);
                        members.len() - 1
                    }
                };
                out.push(j);
            }
            edges.push(out);
            i += 1;
        }
        if members.len() < 2 {
            return false;
        }
        // Every member must lead back to `key`, or it is a dependency outside the cycle
        // that has to exist first.
        let mut back = vec![false; members.len()];
        back[0] = true;
        let mut changed = true;
        while changed {
            changed = false;
            for (j, out) in edges.iter().enumerate() {
                if !back[j] && out.iter().any(|&t| back[t]) {
                    back[j] = true;
                    changed = true;
                }
            }
        }
        back.iter().all(|b| *b)
    }

    /// Room for `additional` more values in the node map and the available set.
    pub fn reserve(&mut self, additional: usize) {
        self.nodes.reserve(additional);
        self.available.reserve(additional);
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
        let Some(n) = self.nodes.get_mut(key) else {
            return;
        };
        let old = std::mem::replace(&mut n.deps, deps);
        if old.is_empty() && n.deps.is_empty() {
            return;
        }
        let applied = n.applied_deps.clone();
        let new = n.deps.clone();
        for d in old.iter().chain(&applied) {
            self.unindex(key, d);
        }
        for d in new.iter().chain(&applied) {
            self.index(key, d);
        }
    }

    /// Sets the desired value of `key` with its validation result and dependencies.
    pub fn set_desired(
        &mut self,
        key: &Key,
        value: Option<messages::Value>,
        invalid: Option<(String, Vec<String>)>,
        deps: Vec<Dependency>,
    ) {
        let Some(n) = self.nodes.get_mut(key) else {
            return;
        };
        n.desired = value;
        n.invalid = invalid.map(Box::new);
        if n.deps.is_empty() && deps.is_empty() {
            return;
        }
        self.set_deps(key, deps);
    }

    /// The applied value now has the desired value's dependencies (after create or update).
    pub fn adopt_desired_deps(&mut self, key: &Key) {
        let Some(n) = self.nodes.get_mut(key) else {
            return;
        };
        if n.applied_deps.is_empty() {
            // The index holds deps ∪ applied_deps, which stays the same set.
            n.applied_deps = n.deps.clone();
            return;
        }
        let deps = n.deps.clone();
        self.set_applied_deps(key, deps);
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
                if self.sorted_available.is_none() {
                    self.sorted_available = Some(self.available.iter().cloned().collect());
                }
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
        assert!(g.missing_deps(&k("c")).is_empty());
        g.remove(&k("c"));
        assert!(g.dependents(&k("x/1")).is_empty());
        assert!(g.prefix_lens.is_empty());
    }

    fn desired(g: &mut Graph, key: &str, deps: &[&str]) {
        let mut n = Node::new(Some(0), Origin::FromNb);
        n.desired = Some(messages::value::value(messages::proto::Empty {}));
        g.nodes.insert(k(key), n);
        let deps = deps
            .iter()
            .map(|d| Dependency::on_key("needs", *d))
            .collect();
        g.set_deps(&k(key), deps);
    }

    #[test]
    fn a_cycle_is_ready_when_all_of_it_is_desired_and_nothing_else_is_missing() {
        let mut g = Graph::default();
        desired(&mut g, "a", &["b"]);
        assert!(!g.cycle_ready(&k("a")), "b is not desired");
        desired(&mut g, "b", &["a", "ns"]);
        assert!(!g.cycle_ready(&k("a")), "b also waits for ns");
        g.set_available(&k("ns"), true);
        assert!(g.cycle_ready(&k("a")));
        assert!(g.cycle_ready(&k("b")));
        // c needs the cycle but is not on it: it waits for a or b to exist.
        desired(&mut g, "c", &["a"]);
        assert!(!g.cycle_ready(&k("c")));
        // A three-value ring.
        desired(&mut g, "x", &["y"]);
        desired(&mut g, "y", &["z"]);
        desired(&mut g, "z", &["x"]);
        assert!(g.cycle_ready(&k("y")));
        if let Some(n) = g.nodes.get_mut(&k("z")) {
            n.invalid = Some(Box::new(("bad".into(), Vec::new())));
        }
        assert!(!g.cycle_ready(&k("y")), "an invalid member blocks the ring");
        assert!(!g.cycle_ready(&k("ns")), "no node");
    }

    #[test]
    fn a_long_pending_chain_is_not_walked_to_its_end() {
        let mut g = Graph::default();
        let n = MAX_CYCLE * 2;
        for i in 0..n {
            let next = format!("v{}", (i + 1) % n);
            desired(&mut g, &format!("v{i}"), &[&next]);
        }
        assert!(!g.cycle_ready(&k("v0")), "past the limit");
        let mut g = Graph::default();
        for i in 0..MAX_CYCLE {
            let next = format!("v{}", (i + 1) % MAX_CYCLE);
            desired(&mut g, &format!("v{i}"), &[&next]);
        }
        assert!(g.cycle_ready(&k("v0")), "within the limit");
    }
}
