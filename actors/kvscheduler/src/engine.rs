//! The planning engine: given the graph and a change of desired values, it works out and (unless
//! simulating) executes the operations, in dependency order, recording each one.
//!
//! Everything is iterative (an explicit work stack, an explicit post-order walk for cascading
//! deletes), so a 10,000-long dependency chain does not recurse 10,000 deep. Each step touches
//! only the value and its direct dependents through the graph's reverse indexes.
//!
//! It does not decide transaction policy (retry scheduling, revert, history, resync diffing);
//! `scheduler.rs` and `resync.rs` drive it.

use std::sync::Arc;

use messages::proto::ligato::kvscheduler::{TxnOperation, ValueState};
use messages::{Key, Value};

use crate::descriptor::{Descriptor, MetadataView, Origin, Registry};
use crate::error::KvError;
use crate::graph::{FxHashMap as HashMap, FxHashSet as HashSet, Graph, Node};
use crate::record::{ProtoWithName, RecordedTxnOp};
use crate::txn::FailedOp;

/// Why a value leaves the dataplane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reason {
    /// No longer desired.
    Remove,
    /// A dependency disappeared.
    Pending,
    /// The new value failed validation.
    Invalid,
    /// The change needs delete + create.
    Recreate,
}

/// The state of a value before an operation, for the record.
struct Prev {
    state: ValueState,
    value: Option<Value>,
    err: Option<String>,
}

/// One planning/execution run over the graph (one transaction, or its revert or dry-run).
pub(crate) struct Engine<'a> {
    pub graph: &'a mut Graph,
    reg: &'a Registry,
    /// Plan only: assume every dataplane operation succeeds, call none.
    simulate: bool,
    pub is_retry: bool,
    pub is_revert: bool,
    pub ops: Vec<RecordedTxnOp>,
    pub failed: Vec<FailedOp>,
    stack: Vec<Key>,
    /// Keys whose value the transaction input changed -> whether they had a value before.
    touched: HashMap<Key, bool>,
}

impl<'a> Engine<'a> {
    pub fn new(graph: &'a mut Graph, reg: &'a Registry, simulate: bool) -> Self {
        Engine {
            graph,
            reg,
            simulate,
            is_retry: false,
            is_revert: false,
            ops: Vec::new(),
            failed: Vec::new(),
            stack: Vec::new(),
            touched: HashMap::default(),
        }
    }

    fn desc(&self, key: &Key) -> Option<Arc<dyn Descriptor>> {
        let node = self.graph.nodes.get(key)?;
        self.reg.get(node.descriptor).cloned()
    }

    /// A northbound put (`Some`) or delete (`None`) of a top-level value, applied at once with
    /// everything it unblocks or brings down.
    pub fn input(&mut self, key: &Key, value: Option<Value>) {
        if self.stage(key, value) {
            self.stack.push(key.clone());
        }
        self.drain();
    }

    /// Sets a desired value without queueing it (see [`Engine::push`]).
    /// Returns false when the input changes nothing.
    pub fn stage(&mut self, key: &Key, value: Option<Value>) -> bool {
        let idx = match self.graph.nodes.get(key) {
            None if value.is_none() => return false,
            None => {
                let idx = self.reg.find(key);
                self.graph
                    .nodes
                    .insert(key.clone(), Node::new(idx, Origin::FromNb));
                idx
            }
            // OBTAINED values are never removed, and derived keys belong to their parent.
            Some(n) if n.origin == Origin::FromSb && value.is_none() => return false,
            Some(n) if n.is_derived() => return false,
            Some(n) => n.descriptor,
        };
        let desc = self.reg.get(idx).cloned();
        let Some(node) = self.graph.nodes.get_mut(key) else {
            return false;
        };
        let changed = match (&node.desired, &value) {
            (None, None) => false,
            (Some(a), Some(b)) => !desc
                .as_ref()
                .map_or(a.eq_value(&**b), |d| d.equivalent(key, a, b)),
            _ => true,
        };
        let failing = matches!(node.state, ValueState::Failed | ValueState::Retrying);
        if !changed && !failing && node.origin == Origin::FromNb {
            return false;
        }
        node.origin = Origin::FromNb;
        self.touched.insert(key.clone(), node.desired.is_some());
        self.assign_with(key, desc.as_ref(), value);
        true
    }

    /// Room for `additional` more staged keys (a large resync).
    pub fn reserve(&mut self, additional: usize) {
        self.touched.reserve(additional);
        self.stack.reserve(additional);
        self.ops.reserve(additional);
    }

    /// Queues a key for reconciliation (retries, resync).
    pub fn push(&mut self, key: &Key) {
        self.stack.push(key.clone());
    }

    /// Processes queued keys until nothing is left.
    pub fn drain(&mut self) {
        while let Some(k) = self.stack.pop() {
            self.reconcile(&k);
        }
    }

    /// Sets the desired value and recomputes validation and dependencies.
    pub fn assign(&mut self, key: &Key, value: Option<Value>) {
        let desc = self.desc(key);
        self.assign_with(key, desc.as_ref(), value);
    }

    fn assign_with(&mut self, key: &Key, desc: Option<&Arc<dyn Descriptor>>, value: Option<Value>) {
        let (invalid, deps) = match (&value, desc) {
            (Some(v), Some(d)) => match d.validate(key, v) {
                Ok(()) => (None, d.dependencies(key, v)),
                Err(KvError::InvalidValue { reason, fields }) => (
                    Some((format!("invalid value: {reason}"), fields)),
                    Vec::new(),
                ),
                Err(e) => (Some((e.to_string(), Vec::new())), Vec::new()),
            },
            _ => (None, Vec::new()),
        };
        self.graph.set_desired(key, value, invalid, deps);
    }

    fn prev(&self, key: &Key, value: Option<Value>) -> Prev {
        let node = self.graph.nodes.get(key);
        Prev {
            state: node.map_or(ValueState::Nonexistent, |n| n.state),
            value,
            err: node.and_then(|n| n.error.clone()),
        }
    }

    fn record(&mut self, key: &Key, op: TxnOperation, prev: Prev, noop: bool, recreate: bool) {
        let Some(n) = self.graph.nodes.get(key) else {
            return;
        };
        let new_value = match op {
            TxnOperation::Delete => None,
            _ => n.desired.clone(),
        };
        self.touched.remove(key);
        self.ops.push(RecordedTxnOp {
            operation: op,
            key: key.clone(),
            new_state: n.state,
            new_value: new_value.map(ProtoWithName),
            new_err: n.error.clone(),
            prev_state: prev.state,
            prev_value: prev.value.map(ProtoWithName),
            prev_err: prev.err,
            noop,
            is_derived: n.is_derived(),
            is_property: n.is_property,
            is_revert: self.is_revert,
            is_retry: self.is_retry,
            is_recreate: recreate,
        });
    }

    /// Brings one value to where its desired value and dependencies say it should be.
    fn reconcile(&mut self, key: &Key) {
        let Some(node) = self.graph.nodes.get(key) else {
            return;
        };
        if node.origin == Origin::FromSb {
            return;
        }
        let applied = node.applied.clone();
        let Some(desired) = node.desired.clone() else {
            if applied.is_some() {
                self.cascade(key, Reason::Remove);
            } else {
                self.drop_unapplied(key);
            }
            return;
        };
        if node.is_property {
            self.apply_property(key, desired);
            return;
        }
        if node.descriptor.is_none() {
            self.settle_noop(key, ValueState::Unimplemented);
            return;
        }
        if node.invalid.is_some() {
            if applied.is_some() {
                self.cascade(key, Reason::Invalid);
            } else {
                self.settle_noop(key, ValueState::Invalid);
            }
            return;
        }
        let deps_ok = node.deps.iter().all(|d| self.graph.satisfied(&d.target))
            || self.graph.cycle_ready(key);
        let desc = self.reg.get(node.descriptor).cloned();
        let Some(applied) = applied else {
            if deps_ok {
                if let Some(desc) = desc {
                    self.create_with(key, desc, desired, false);
                }
            } else {
                self.settle_noop(key, ValueState::Pending);
            }
            return;
        };
        if !deps_ok {
            self.cascade(key, Reason::Pending);
            return;
        }
        let Some(desc) = desc else {
            return;
        };
        if desc.equivalent(key, &applied, &desired) {
            let state = node.state;
            // Found as desired (a resync): silently CONFIGURED. Recovering from a
            // failure, a pending or a missing state is worth a record.
            let noteworthy = matches!(
                state,
                ValueState::Failed
                    | ValueState::Retrying
                    | ValueState::Invalid
                    | ValueState::Pending
                    | ValueState::Missing
            );
            if !noteworthy {
                self.set_state(key, ValueState::Configured, None);
            } else {
                let prev = self.prev(key, Some(applied));
                self.set_state(key, ValueState::Configured, None);
                let op = if state == ValueState::Pending {
                    TxnOperation::Create
                } else {
                    TxnOperation::Update
                };
                self.record(key, op, prev, true, false);
            }
            self.graph.set_available(key, true);
            self.refresh_derived(key);
            return;
        }
        let md = node.metadata.clone();
        if !desc.can_update() || desc.needs_recreate(key, &applied, &desired, md.as_ref()) {
            self.cascade(key, Reason::Recreate);
        } else {
            self.update(key, &desc, applied, desired);
        }
    }

    fn set_state(&mut self, key: &Key, state: ValueState, error: Option<String>) {
        if let Some(n) = self.graph.nodes.get_mut(key) {
            n.state = state;
            n.error = error;
        }
    }

    /// A state change without a dataplane operation (pending, invalid, unimplemented).
    fn settle_noop(&mut self, key: &Key, state: ValueState) {
        let Some(node) = self.graph.nodes.get(key) else {
            return;
        };
        let prev = self.prev(key, None);
        let error = match state {
            ValueState::Invalid => node.invalid.as_ref().map(|b| b.0.clone()),
            _ => None,
        };
        let had_value = self.touched.get(key).copied();
        let op = match had_value {
            Some(true) => TxnOperation::Update,
            _ => TxnOperation::Create,
        };
        if let Some(n) = self.graph.nodes.get_mut(key) {
            n.last_op = op;
        }
        self.set_state(key, state, error);
        if prev.state != state || had_value.is_some() {
            self.record(key, op, prev, true, false);
        }
    }

    /// Forgets a value that is not in the dataplane and no longer desired.
    fn drop_unapplied(&mut self, key: &Key) {
        let prev = self.prev(key, None);
        let touched = self.touched.contains_key(key);
        if prev.state != ValueState::Nonexistent || touched {
            self.set_state(key, ValueState::Removed, None);
            self.record(key, TxnOperation::Delete, prev, true, false);
        }
        self.graph.remove(key);
    }

    /// A derived value without a descriptor exists as soon as its parent does.
    fn apply_property(&mut self, key: &Key, value: Value) {
        let prev = self.prev(key, None);
        let was = self
            .graph
            .nodes
            .get_mut(key)
            .and_then(|n| n.applied.replace(value));
        let op = if was.is_some() {
            TxnOperation::Update
        } else {
            TxnOperation::Create
        };
        self.set_state(key, ValueState::Configured, None);
        if let Some(n) = self.graph.nodes.get_mut(key) {
            n.last_op = op;
        }
        self.sync_applied_deps(key);
        if was.is_none() {
            self.record(key, op, prev, false, false);
            self.graph.set_available(key, true);
            self.wake_dependents(key);
        }
    }

    fn fail(&mut self, key: &Key, desc: &Arc<dyn Descriptor>, op: TxnOperation, err: &KvError) {
        let retriable = desc.is_retriable(err);
        self.fail_with(key, op, err, retriable);
    }

    fn fail_with(&mut self, key: &Key, op: TxnOperation, err: &KvError, retriable: bool) {
        if let Some(n) = self.graph.nodes.get_mut(key) {
            n.state = ValueState::Failed;
            n.error = Some(err.to_string());
            n.last_op = op;
        }
        self.failed.push(FailedOp {
            key: key.clone(),
            error: err.to_string(),
            retriable,
        });
    }

    fn create(&mut self, key: &Key, recreate: bool) {
        let (Some(desc), Some(value)) = (
            self.desc(key),
            self.graph.nodes.get(key).and_then(|n| n.desired.clone()),
        ) else {
            return;
        };
        self.create_with(key, desc, value, recreate);
    }

    fn create_with(&mut self, key: &Key, desc: Arc<dyn Descriptor>, value: Value, recreate: bool) {
        let prev = self.prev(key, None);
        let res = if self.simulate {
            Ok(None)
        } else {
            let view = MetadataView {
                graph: self.graph,
                names: &self.reg.names,
            };
            desc.create(&view, key, &value)
        };
        match res {
            Ok(md) => {
                if let Some(n) = self.graph.nodes.get_mut(key) {
                    n.applied = Some(value);
                    n.metadata = md;
                    n.state = ValueState::Configured;
                    n.error = None;
                    n.last_op = TxnOperation::Create;
                }
                self.sync_applied_deps(key);
                self.graph.set_available(key, true);
                self.record(key, TxnOperation::Create, prev, false, recreate);
                self.wake_dependents(key);
                self.refresh_derived(key);
            }
            Err(e) => {
                self.fail(key, &desc, TxnOperation::Create, &e);
                self.record(key, TxnOperation::Create, prev, false, recreate);
            }
        }
    }

    fn update(&mut self, key: &Key, desc: &Arc<dyn Descriptor>, old: Value, new: Value) {
        let prev = self.prev(key, Some(old.clone()));
        let res = if self.simulate {
            Ok(None)
        } else {
            let md = self.graph.nodes.get(key).and_then(|n| n.metadata.clone());
            let view = MetadataView {
                graph: self.graph,
                names: &self.reg.names,
            };
            desc.update(&view, key, &old, &new, md.as_ref())
        };
        match res {
            Ok(md) => {
                if let Some(n) = self.graph.nodes.get_mut(key) {
                    n.applied = Some(new);
                    if md.is_some() {
                        n.metadata = md;
                    }
                    n.state = ValueState::Configured;
                    n.error = None;
                    n.last_op = TxnOperation::Update;
                }
                self.sync_applied_deps(key);
                self.record(key, TxnOperation::Update, prev, false, false);
                self.refresh_derived(key);
            }
            Err(e) => {
                self.fail(key, desc, TxnOperation::Update, &e);
                self.record(key, TxnOperation::Update, prev, false, false);
            }
        }
    }

    /// The applied value now has the desired value's dependencies.
    fn sync_applied_deps(&mut self, key: &Key) {
        self.graph.adopt_desired_deps(key);
    }

    /// Queues the pending values that `key` may have unblocked.
    fn wake_dependents(&mut self, key: &Key) {
        let woken: Vec<Key> = self
            .graph
            .dependents(key)
            .into_iter()
            .filter(|k| {
                self.graph.nodes.get(k).is_some_and(|n| {
                    n.applied.is_none() && n.desired.is_some() && n.state == ValueState::Pending
                })
            })
            .collect();
        self.stack.extend(woken.into_iter().rev());
    }

    /// Re-derives the values of an existing value: removes those no longer derived, adds or
    /// changes the others, and queues them all (processed before anything queued earlier).
    fn refresh_derived(&mut self, key: &Key) {
        let Some(node) = self.graph.nodes.get(key) else {
            return;
        };
        let (Some(applied), Some(desc)) = (node.applied.clone(), self.reg.get(node.descriptor))
        else {
            return;
        };
        let desc = desc.clone();
        let old = node.derived.clone();
        let new = desc.derived_values(key, &applied);
        if old.is_empty() && new.is_empty() {
            return;
        }
        let new_keys: HashSet<&Key> = new.iter().map(|(k, _)| k).collect();
        let mut queue = Vec::new();
        for o in old.iter().filter(|o| !new_keys.contains(o)) {
            if self.graph.nodes.get(o).and_then(|n| n.parent.as_ref()) == Some(key) {
                self.assign(o, None);
                queue.push(o.clone());
            }
        }
        let mut kept = Vec::with_capacity(new.len());
        for (k, v) in new {
            let claimable = match self.graph.nodes.get(&k) {
                None => {
                    let d = self.reg.find(&k);
                    let mut n = Node::new(d, Origin::FromNb);
                    n.is_property = d.is_none();
                    self.graph.nodes.insert(k.clone(), n);
                    true
                }
                Some(n) => {
                    n.parent.as_ref() == Some(key)
                        || (n.parent.is_none() && n.desired.is_none() && n.origin != Origin::FromSb)
                }
            };
            if !claimable {
                continue;
            }
            let dd = self
                .reg
                .find(&k)
                .and_then(|i| self.reg.descriptors.get(i).cloned());
            let same = self
                .graph
                .nodes
                .get(&k)
                .and_then(|n| n.desired.as_ref())
                .is_some_and(|d| {
                    dd.as_ref()
                        .map_or(d.eq_value(&*v), |dd| dd.equivalent(&k, d, &v))
                });
            if let Some(n) = self.graph.nodes.get_mut(&k) {
                n.parent = Some(key.clone());
                n.is_property = n.descriptor.is_none();
            }
            if !same {
                self.assign(&k, Some(v));
            }
            queue.push(k.clone());
            kept.push(k);
        }
        if let Some(n) = self.graph.nodes.get_mut(key) {
            n.derived = kept;
        }
        self.stack.extend(queue.into_iter().rev());
    }

    /// Takes `root` out of the dataplane, first taking out (recursively, dependents first)
    /// everything that would be stranded: its derived values and the values whose
    /// dependencies it alone satisfies. Values still desired become PENDING. With
    /// [`Reason::Recreate`], `root` is created again afterwards and its dependents come back
    /// as they are woken.
    pub fn cascade(&mut self, root: &Key, reason: Reason) {
        let order = self.doom_order(root);
        let doomed: HashSet<Key> = order.iter().cloned().collect();
        // A value whose removal failed is still in the dataplane: nothing it depends on may
        // go either (that would strand it), so those stay too, FAILED, and retry later.
        let mut blocked: HashMap<Key, bool> = HashMap::default();
        for k in &order {
            if let Some((c, retriable)) = self.blocked_by(k, &blocked) {
                self.keep(k, &c, retriable);
                blocked.insert(k.clone(), retriable);
                continue;
            }
            if let Some(retriable) = self.delete_one(k, (k == root).then_some(reason), &doomed) {
                blocked.insert(k.clone(), retriable);
            }
        }
        // What stayed is still there: values taken down earlier in this cascade only because
        // of it come back, and its derived values are restored.
        let stayed: Vec<Key> = order
            .iter()
            .filter(|k| blocked.contains_key(*k))
            .cloned()
            .collect();
        for k in stayed.iter().rev() {
            self.wake_dependents(k);
            let lost_derived = self.graph.nodes.get(k).is_some_and(|n| {
                n.derived
                    .iter()
                    .any(|c| self.graph.nodes.get(c).is_none_or(|c| c.applied.is_none()))
            });
            if lost_derived {
                self.refresh_derived(k);
            }
        }
        if reason == Reason::Recreate
            && self
                .graph
                .nodes
                .get(root)
                .is_some_and(|n| n.applied.is_none())
        {
            self.create(root, true);
        }
    }

    /// A value depending on (or derived from) `key` whose removal failed in this cascade.
    fn blocked_by(&self, key: &Key, blocked: &HashMap<Key, bool>) -> Option<(Key, bool)> {
        if blocked.is_empty() {
            return None;
        }
        let derived = self.graph.nodes.get(key).map(|n| n.derived.clone());
        derived
            .unwrap_or_default()
            .into_iter()
            .chain(self.graph.dependents(key))
            .find_map(|c| blocked.get(&c).map(|r| (c.clone(), *r)))
    }

    /// Leaves `key` in the dataplane because `blocker` could not be removed first.
    fn keep(&mut self, key: &Key, blocker: &Key, retriable: bool) {
        let applied = self.graph.nodes.get(key).and_then(|n| n.applied.clone());
        let prev = self.prev(key, applied);
        self.graph.set_available(key, true);
        let err = KvError::Dataplane {
            message: format!("not removed: {blocker} depends on it and could not be removed"),
            retriable,
        };
        self.fail_with(key, TxnOperation::Delete, &err, retriable);
        self.record(key, TxnOperation::Delete, prev, true, false);
    }

    /// Post-order of the values that must go with `root` (dependents before dependencies).
    fn doom_order(&mut self, root: &Key) -> Vec<Key> {
        let mut doomed: HashSet<Key> = HashSet::default();
        let mut order = Vec::new();
        let mut stack = vec![(root.clone(), false)];
        while let Some((k, exit)) = stack.pop() {
            if exit {
                order.push(k);
                continue;
            }
            if !doomed.insert(k.clone()) {
                continue;
            }
            self.graph.set_available(&k, false);
            stack.push((k.clone(), true));
            let mut kids: Vec<Key> = Vec::new();
            if let Some(n) = self.graph.nodes.get(&k) {
                kids.extend(
                    n.derived
                        .iter()
                        .filter(|c| !doomed.contains(*c))
                        .filter(|c| self.graph.nodes.get(c).is_some_and(|c| c.applied.is_some()))
                        .cloned(),
                );
            }
            for c in self.graph.dependents(&k) {
                if doomed.contains(&c) {
                    continue;
                }
                let stranded = self
                    .graph
                    .nodes
                    .get(&c)
                    .is_some_and(|n| n.applied.is_some() && n.origin != Origin::FromSb)
                    && self.graph.stranded(&c);
                if stranded {
                    kids.push(c);
                }
            }
            stack.extend(kids.into_iter().rev().map(|c| (c, false)));
        }
        order
    }

    /// Deletes one value of a cascade; on failure returns whether it is retriable.
    fn delete_one(
        &mut self,
        key: &Key,
        root_reason: Option<Reason>,
        doomed: &HashSet<Key>,
    ) -> Option<bool> {
        let node = self.graph.nodes.get(key)?;
        let applied = node.applied.clone()?;
        let desc = self.reg.get(node.descriptor).cloned();
        let parent_doomed = node.parent.as_ref().is_some_and(|p| doomed.contains(p));
        let not_desired = node.desired.is_none();
        let prev = self.prev(key, Some(applied.clone()));
        let res = match (&desc, self.simulate) {
            (Some(d), false) => {
                let md = node.metadata.clone();
                let view = MetadataView {
                    graph: self.graph,
                    names: &self.reg.names,
                };
                d.delete(&view, key, &applied, md.as_ref())
            }
            _ => Ok(()),
        };
        let recreate = root_reason == Some(Reason::Recreate);
        if let Err(e) = res {
            let retriable = desc.as_ref().is_some_and(|d| d.is_retriable(&e));
            self.fail_with(key, TxnOperation::Delete, &e, retriable);
            self.graph.set_available(key, true);
            self.record(key, TxnOperation::Delete, prev, false, recreate);
            return Some(retriable);
        }
        let (state, error) = match root_reason {
            Some(Reason::Remove) | Some(Reason::Recreate) => (ValueState::Removed, None),
            Some(Reason::Pending) => (ValueState::Pending, None),
            Some(Reason::Invalid) => (
                ValueState::Invalid,
                node.invalid.as_ref().map(|b| b.0.clone()),
            ),
            None if parent_doomed || not_desired => (ValueState::Removed, None),
            None => (ValueState::Pending, None),
        };
        let kids = match self.graph.nodes.get_mut(key) {
            Some(n) => {
                n.applied = None;
                n.metadata = None;
                n.last_op = TxnOperation::Delete;
                n.state = state;
                n.error = error;
                std::mem::take(&mut n.derived)
            }
            None => Vec::new(),
        };
        self.graph.set_applied_deps(key, Vec::new());
        self.record(key, TxnOperation::Delete, prev, false, recreate);
        // Taken down for what its old value needed: a changed desired value (whose update
        // failed earlier) may need something else, which may already be there.
        if state == ValueState::Pending && root_reason.is_none() {
            let ready = self
                .graph
                .nodes
                .get(key)
                .is_some_and(|n| n.deps.iter().all(|d| self.graph.satisfied(&d.target)));
            if ready {
                self.stack.push(key.clone());
            }
        }
        // Derived values that never reached the dataplane (pending, invalid) go with the parent.
        for c in kids {
            if self
                .graph
                .nodes
                .get(&c)
                .is_some_and(|n| n.applied.is_none())
            {
                self.drop_unapplied(&c);
            }
        }
        if state == ValueState::Removed && !recreate {
            self.graph.remove(key);
        }
        None
    }
}
