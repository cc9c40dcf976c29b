//! Resync planning: read the dataplane through the descriptors' `retrieve`, fold what was
//! found into the graph (drift, missing values, OBTAINED values), then queue the difference
//! between desired and actual state for the engine.
//!
//! It executes nothing itself: the engine performs the queued changes in dependency order.

use crate::graph::{FxHashMap as HashMap, FxHashSet as HashSet};

use messages::proto::ligato::kvscheduler::ValueState;
use messages::{Key, Value};

use crate::descriptor::{MetadataView, Origin, Registry, Retrieved};
use crate::engine::Engine;
use crate::error::KvError;
use crate::graph::{Graph, Node};

/// What the dataplane holds, and which descriptors could tell.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub values: Vec<Retrieved>,
    pub retrievable: HashSet<usize>,
}

/// The descriptors a resync covers: those named in `only` (all when empty).
pub(crate) fn scope(reg: &Registry, only: &[String]) -> HashSet<usize> {
    (0..reg.descriptors.len())
        .filter(|&i| {
            only.is_empty()
                || only
                    .iter()
                    .any(|n| reg.names.get(i).is_some_and(|m| **m == **n))
        })
        .collect()
}

/// Asks every descriptor in `scope` for its part of the dataplane.
pub(crate) fn retrieve(
    reg: &Registry,
    graph: &Graph,
    scope: &HashSet<usize>,
) -> Result<Snapshot, KvError> {
    let mut snap = Snapshot::default();
    for (i, d) in reg.descriptors.iter().enumerate() {
        if !scope.contains(&i) {
            continue;
        }
        let correlate: Vec<(Key, Value)> = graph
            .nodes
            .sorted_keys(|_, n| n.descriptor == Some(i) && n.desired.is_some())
            .into_iter()
            .filter_map(|k| {
                let v = graph.nodes.get(&k)?.desired.clone()?;
                Some((k, v))
            })
            .collect();
        let view = MetadataView {
            graph,
            names: &reg.names,
        };
        let found = d
            .retrieve(&view, &correlate)
            .map_err(|e| KvError::Retrieve {
                descriptor: d.name().to_owned(),
                source: Box::new(e),
            })?;
        if let Some(found) = found {
            snap.retrievable.insert(i);
            snap.values.extend(found);
        }
    }
    Ok(snap)
}

/// Folds the dataplane state into the graph: `applied` becomes what was found.
fn fold(engine: &mut Engine<'_>, reg: &Registry, snap: Snapshot) {
    let graph = &mut *engine.graph;
    let mut seen: HashSet<Key> =
        HashSet::with_capacity_and_hasher(snap.values.len(), Default::default());
    let mut applied: Vec<Key> = Vec::with_capacity(snap.values.len());
    for mut r in snap.values {
        seen.insert(r.key.clone());
        if r.origin == Origin::Unknown {
            // Ligato's rule: a value of a descriptor with a NB key prefix is the agent's to
            // manage; anything else is only obtained.
            let nb = reg
                .get(reg.find(&r.key))
                .is_some_and(|d| d.nb_key_prefix().is_some());
            r.origin = if nb { Origin::FromNb } else { Origin::FromSb };
        }
        let node = graph
            .nodes
            .get_or_insert_with(&r.key, || Node::new(reg.find(&r.key), r.origin));
        node.applied = Some(r.value);
        node.metadata = r.metadata;
        if r.origin == Origin::FromSb && node.desired.is_none() {
            node.origin = Origin::FromSb;
            node.state = ValueState::Obtained;
        }
        graph.set_available(&r.key, true);
        applied.push(r.key);
    }
    for k in applied {
        let deps = graph
            .nodes
            .get(&k)
            .and_then(|n| Some((reg.get(n.descriptor)?, n.applied.clone()?)))
            .map(|(d, v)| d.dependencies(&k, &v))
            .unwrap_or_default();
        graph.set_applied_deps(&k, deps);
    }
    let vanished: Vec<Key> = graph.nodes.sorted_keys(|k, n| {
        n.applied.is_some()
            && n.descriptor.is_some_and(|d| snap.retrievable.contains(&d))
            && !seen.contains(k)
    });
    for k in vanished {
        let obtained_or_unwanted = graph
            .nodes
            .get(&k)
            .is_some_and(|n| n.origin == Origin::FromSb || n.desired.is_none());
        if obtained_or_unwanted {
            graph.remove(&k);
        } else if let Some(n) = graph.nodes.get_mut(&k) {
            n.applied = None;
            n.metadata = None;
            n.state = ValueState::Missing;
            graph.set_available(&k, false);
            graph.set_applied_deps(&k, Vec::new());
        }
    }
    link_derived(graph, reg, &snap.retrievable);
}

/// Links retrieved values to the parents that derive them, and assumes that derived values
/// whose descriptor cannot retrieve exist together with a parent the graph did not know.
fn link_derived(graph: &mut Graph, reg: &Registry, retrievable: &HashSet<usize>) {
    let mut stack: Vec<Key> = graph
        .nodes
        .sorted_keys(|_, n| n.applied.is_some() && n.descriptor.is_some() && n.parent.is_none());
    stack.reverse();
    while let Some(parent) = stack.pop() {
        let Some(node) = graph.nodes.get(&parent) else {
            continue;
        };
        let (Some(applied), Some(desc)) = (node.applied.clone(), reg.get(node.descriptor)) else {
            continue;
        };
        let derived = desc.derived_values(&parent, &applied);
        if derived.is_empty() {
            continue;
        }
        let mut linked = node.derived.clone();
        for (k, v) in derived {
            let d = reg.find(&k);
            match graph.nodes.get_mut(&k) {
                Some(n)
                    if n.parent.is_none() && n.desired.is_none() && n.origin != Origin::FromSb =>
                {
                    n.parent = Some(parent.clone());
                    n.desired = Some(v);
                }
                Some(_) => continue,
                None if d.is_none_or(|d| !retrievable.contains(&d)) => {
                    let mut n = Node::new(d, Origin::FromNb);
                    n.parent = Some(parent.clone());
                    n.is_property = d.is_none();
                    n.desired = Some(v.clone());
                    n.applied = Some(v);
                    n.state = ValueState::Configured;
                    graph.nodes.insert(k.clone(), n);
                    graph.set_available(&k, true);
                }
                None => continue,
            }
            if let Some(dd) = reg.get(d) {
                let deps = graph
                    .nodes
                    .get(&k)
                    .and_then(|n| n.desired.clone())
                    .map(|v| dd.dependencies(&k, &v))
                    .unwrap_or_default();
                graph.set_deps(&k, deps.clone());
                graph.set_applied_deps(&k, deps);
            }
            if !linked.contains(&k) {
                linked.push(k.clone());
            }
            stack.push(k);
        }
        if let Some(n) = graph.nodes.get_mut(&parent) {
            n.derived = linked;
        }
    }
}

/// Queues a resync: with `desired`, NB's complete state replaces the current one; with
/// `snap`, the dataplane state is folded in first. Removals run first (in key order), then
/// the desired values in the order given. Without `desired`, only the values of the
/// descriptors in `scope` are queued, and the PENDING ones anywhere (what was found may be
/// what they wait for).
pub(crate) fn apply(
    engine: &mut Engine<'_>,
    reg: &Registry,
    desired: Option<&[(Key, Option<Value>)]>,
    snap: Option<Snapshot>,
    scope: &HashSet<usize>,
) {
    let in_scope = |n: &Node| n.descriptor.is_some_and(|d| scope.contains(&d));
    if let Some(snap) = snap {
        fold(engine, reg, snap);
    }
    let mut puts: Vec<Key> = Vec::new();
    if let Some(desired) = desired {
        let new = desired.len().saturating_sub(engine.graph.nodes.len());
        engine.graph.reserve(new);
        engine.reserve(desired.len());
        let wanted: HashMap<&Key, &Option<Value>> = desired.iter().map(|(k, v)| (k, v)).collect();
        let unwanted: Vec<Key> = engine.graph.nodes.sorted_keys(|k, n| {
            n.parent.is_none() && n.origin != Origin::FromSb && !wanted.contains_key(k)
        });
        for k in &unwanted {
            engine.stage(k, None);
        }
        // In the order given (a repeated key keeps its first position and its last value):
        // deterministic for the caller without sorting 100,000 keys.
        let mut seen: HashSet<&Key> = HashSet::default();
        for (k, _) in desired {
            if !seen.insert(k) {
                continue;
            }
            let v = wanted.get(k).and_then(|v| (*v).clone());
            engine.stage(k, v);
            puts.push(k.clone());
        }
    } else {
        puts = engine.graph.nodes.sorted_keys(|_, n| {
            n.parent.is_none()
                && n.origin != Origin::FromSb
                && n.desired.is_some()
                && (in_scope(n) || n.state == ValueState::Pending)
        });
    }
    let scoped = desired.is_none();
    let removals: Vec<Key> = engine.graph.nodes.sorted_keys(|_, n| {
        n.parent.is_none()
            && n.origin != Origin::FromSb
            && n.desired.is_none()
            && (!scoped || in_scope(n))
    });
    for k in puts.iter().rev() {
        engine.push(k);
    }
    for k in removals.iter().rev() {
        engine.push(k);
    }
    engine.drain();
}
