//! The extension point: a [`Descriptor`] tells the scheduler everything about one kind of
//! value (which keys it owns, how to validate, what it depends on, what it derives, and how to
//! create, update, delete and retrieve it in the dataplane). A new object kind is one descriptor
//! plus one [`crate::Scheduler::register`] call.
//!
//! The pure methods (selection, validation, dependencies, derived values, equivalence,
//! recreate decisions) are called while planning, also in dry-run. The dataplane methods
//! (`create`, `update`, `delete`) are only called when a transaction executes; `retrieve` is a
//! read and is also called for a dry-run resync. This module does not order anything.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use messages::{Key, Value};

use crate::error::KvError;
use crate::graph::Graph;

/// Per-value metadata produced by `create`/`update` (for example a `sw_if_index`), readable by
/// other descriptors through [`MetadataView`].
pub type Metadata = Arc<dyn Any + Send + Sync>;

/// A predicate over keys, for "any of" dependencies.
pub type KeySelector = Arc<dyn Fn(&Key) -> bool + Send + Sync>;

/// What a dependency points at.
#[derive(Clone)]
pub enum DepTarget {
    /// Exactly this key must exist in the dataplane.
    Key(Key),
    /// At least one existing key must match: it starts with one of `prefixes` (any key when
    /// empty) and passes `selector` (when set).
    AnyOf {
        prefixes: Vec<String>,
        selector: Option<KeySelector>,
    },
}

impl DepTarget {
    /// Does `key` satisfy this target?
    pub fn matches(&self, key: &Key) -> bool {
        match self {
            DepTarget::Key(k) => k == key,
            DepTarget::AnyOf { prefixes, selector } => {
                (prefixes.is_empty() || prefixes.iter().any(|p| key.has_prefix(p)))
                    && selector.as_ref().is_none_or(|s| s(key))
            }
        }
    }
}

impl fmt::Debug for DepTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DepTarget::Key(k) => write!(f, "{k}"),
            DepTarget::AnyOf { prefixes, selector } => write!(
                f,
                "any-of {prefixes:?}{}",
                if selector.is_some() {
                    " + selector"
                } else {
                    ""
                }
            ),
        }
    }
}

/// One dependency of a value, labelled as Ligato labels them (`interface-exists`).
#[derive(Clone, Debug)]
pub struct Dependency {
    pub label: String,
    pub target: DepTarget,
}

impl Dependency {
    /// Depends on exactly `key`.
    pub fn on_key(label: impl Into<String>, key: impl Into<Key>) -> Self {
        Dependency {
            label: label.into(),
            target: DepTarget::Key(key.into()),
        }
    }

    /// Depends on any existing key under `prefix`.
    pub fn any_of_prefix(label: impl Into<String>, prefix: impl Into<String>) -> Self {
        Dependency {
            label: label.into(),
            target: DepTarget::AnyOf {
                prefixes: vec![prefix.into()],
                selector: None,
            },
        }
    }

    /// Depends on any existing key matching `prefixes` (all keys when empty) and `selector`.
    pub fn any_of(
        label: impl Into<String>,
        prefixes: Vec<String>,
        selector: Option<KeySelector>,
    ) -> Self {
        Dependency {
            label: label.into(),
            target: DepTarget::AnyOf { prefixes, selector },
        }
    }
}

/// Where a value came from (Ligato's `ValueOrigin`: 0 unknown, 1 from-NB, 2 from-SB).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Origin {
    #[default]
    Unknown = 0,
    /// Configured by the agent (northbound).
    FromNb = 1,
    /// Found in the dataplane and not the agent's (for example `local0`): OBTAINED.
    FromSb = 2,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Unknown => "unknown",
            Origin::FromNb => "from-NB",
            Origin::FromSb => "from-SB",
        }
    }
}

/// One value read back from the dataplane by `retrieve`.
#[derive(Clone)]
pub struct Retrieved {
    pub key: Key,
    pub value: Value,
    pub metadata: Option<Metadata>,
    /// `FromSb` marks values the agent must never remove; `FromNb`/`Unknown` values that are
    /// not desired are removed by a full resync.
    pub origin: Origin,
}

impl fmt::Debug for Retrieved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retrieved")
            .field("key", &self.key)
            .field("value", &self.value)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// Read access to the metadata other descriptors produced (the per-descriptor metadata maps).
#[derive(Clone, Copy)]
pub struct MetadataView<'a> {
    pub(crate) graph: &'a Graph,
    pub(crate) names: &'a [Arc<str>],
}

impl fmt::Debug for MetadataView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MetadataView")
    }
}

impl<'a> MetadataView<'a> {
    /// The metadata of `key`, when its value exists and is handled by descriptor `descriptor`.
    pub fn get(&self, descriptor: &str, key: &Key) -> Option<&'a Metadata> {
        let node = self.graph.nodes.get(key)?;
        let idx = node.descriptor?;
        if self.names.get(idx).map(|n| &**n) != Some(descriptor) {
            return None;
        }
        node.metadata.as_ref()
    }

    /// The value of `key` as applied in the dataplane, when it exists there.
    pub fn applied(&self, key: &Key) -> Option<&'a Value> {
        self.graph.nodes.get(key)?.applied.as_ref()
    }

    /// The desired value of `key` (what NB or its parent wants), applied or not: for the
    /// values of a dependency cycle, which are created one after the other.
    pub fn desired(&self, key: &Key) -> Option<&'a Value> {
        self.graph.nodes.get(key)?.desired.as_ref()
    }

    /// The metadata of `key` downcast to `T`.
    pub fn get_as<T: Any>(&self, descriptor: &str, key: &Key) -> Option<&'a T> {
        self.get(descriptor, key)?.downcast_ref::<T>()
    }

    /// Every (key, metadata) pair of one descriptor, sorted by key.
    pub fn all(&self, descriptor: &str) -> Vec<(&'a Key, &'a Metadata)> {
        let Some(idx) = self.names.iter().position(|n| &**n == descriptor) else {
            return Vec::new();
        };
        let mut out: Vec<(&'a Key, &'a Metadata)> = self
            .graph
            .nodes
            .iter()
            .filter(|(_, n)| n.descriptor == Some(idx))
            .filter_map(|(k, n)| n.metadata.as_ref().map(|m| (k, m)))
            .collect();
        out.sort_unstable_by(|a, b| a.0.cmp(b.0));
        out
    }
}

/// Describes one kind of value to the scheduler. Only `name`, `key_selector`, `create` and
/// `delete` are required; the rest default to Ligato's defaults.
pub trait Descriptor: Send + Sync {
    /// Unique name, for example `vpp-interface`.
    fn name(&self) -> &str;

    /// Does this descriptor handle `key`?
    fn key_selector(&self, key: &Key) -> bool;

    /// The NB key prefix, for descriptors of NB-configured values.
    fn nb_key_prefix(&self) -> Option<&str> {
        None
    }

    /// A short label for the key (by default the key without the NB prefix).
    fn key_label(&self, key: &Key) -> String {
        match self.nb_key_prefix() {
            Some(p) => key
                .as_str()
                .strip_prefix(p)
                .unwrap_or(key.as_str())
                .to_owned(),
            None => key.to_string(),
        }
    }

    /// Rejects a value with [`KvError::InvalidValue`]; it becomes INVALID.
    fn validate(&self, _key: &Key, _value: &Value) -> Result<(), KvError> {
        Ok(())
    }

    /// Value equivalence (MAC case, default fields); proto equality by default.
    fn equivalent(&self, _key: &Key, old: &Value, new: &Value) -> bool {
        old.eq_value(&**new)
    }

    /// What the value needs to exist first.
    fn dependencies(&self, _key: &Key, _value: &Value) -> Vec<Dependency> {
        Vec::new()
    }

    /// The (key, value) pairs this value splits into; each is scheduled like any value by the
    /// descriptor that selects its key (or, with none, as a property of its parent).
    fn derived_values(&self, _key: &Key, _value: &Value) -> Vec<(Key, Value)> {
        Vec::new()
    }

    /// True when changes can be applied by `update`; otherwise they go through re-create.
    fn can_update(&self) -> bool {
        false
    }

    /// True when this particular change must be applied by delete + create.
    fn needs_recreate(
        &self,
        _key: &Key,
        _old: &Value,
        _new: &Value,
        _metadata: Option<&Metadata>,
    ) -> bool {
        false
    }

    /// Creates the value in the dataplane, returning its metadata.
    fn create(
        &self,
        md: &MetadataView<'_>,
        key: &Key,
        value: &Value,
    ) -> Result<Option<Metadata>, KvError>;

    /// Updates the value in place, returning its new metadata (`None` keeps the old one).
    fn update(
        &self,
        _md: &MetadataView<'_>,
        _key: &Key,
        _old: &Value,
        _new: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<Option<Metadata>, KvError> {
        Err(KvError::Unsupported {
            descriptor: self.name().to_owned(),
            operation: "update",
        })
    }

    /// Removes the value from the dataplane.
    fn delete(
        &self,
        md: &MetadataView<'_>,
        key: &Key,
        value: &Value,
        metadata: Option<&Metadata>,
    ) -> Result<(), KvError>;

    /// Reads the current dataplane state. `correlate` holds the values the agent expects.
    /// `Ok(None)` means the descriptor cannot retrieve: the scheduler then trusts its graph.
    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        _correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        Ok(None)
    }

    /// Should a failure be retried? Defaults to the error's own classification.
    fn is_retriable(&self, err: &KvError) -> bool {
        err.is_retriable()
    }
}

/// The registered descriptors, in registration order (the first selector that matches wins).
#[derive(Clone, Default)]
pub(crate) struct Registry {
    pub descriptors: Vec<Arc<dyn Descriptor>>,
    pub names: Vec<Arc<str>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names.iter()).finish()
    }
}

impl Registry {
    pub fn register(&mut self, d: Arc<dyn Descriptor>) -> Result<(), KvError> {
        if self.names.iter().any(|n| **n == *d.name()) {
            return Err(KvError::DuplicateDescriptor(d.name().to_owned()));
        }
        self.names.push(d.name().into());
        self.descriptors.push(d);
        Ok(())
    }

    pub fn find(&self, key: &Key) -> Option<usize> {
        self.descriptors.iter().position(|d| d.key_selector(key))
    }

    pub fn get(&self, idx: Option<usize>) -> Option<&Arc<dyn Descriptor>> {
        self.descriptors.get(idx?)
    }

    pub fn name(&self, idx: Option<usize>) -> Option<&str> {
        idx.and_then(|i| self.names.get(i)).map(|n| &**n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_of_matching() {
        let d = Dependency::any_of_prefix("has-vrf", "vpp/interface/if1/vrf/");
        assert!(
            d.target
                .matches(&Key::from("vpp/interface/if1/vrf/0/ip-version/v4"))
        );
        assert!(!d.target.matches(&Key::from("vpp/interface/if2/vrf/0")));
        let sel: KeySelector = Arc::new(|k: &Key| k.as_str().ends_with("/UP"));
        let d = Dependency::any_of("up", vec![], Some(sel));
        assert!(d.target.matches(&Key::from("linux/interface/state/x/UP")));
        assert!(!d.target.matches(&Key::from("linux/interface/state/x/DOWN")));
    }
}
