//! Test support shared by the golden, property and unit-style integration tests: an in-memory
//! fake dataplane that behaves like VPP about ordering (it rejects a create whose dependencies
//! are missing and a delete that would strand a dependent, and records such attempts as
//! violations), with failure injection; and a closure-configured descriptor over it.
//!
//! It is not a VPP model: values are opaque, only keys and dependencies matter.

#![allow(dead_code)]

pub mod models;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use kvscheduler::{
    DepTarget, Dependency, Descriptor, KvError, Metadata, MetadataView, Origin, Retrieved,
};
use messages::{Key, Value};

/// One dataplane entry and the dependencies it was created with.
#[derive(Clone, Debug)]
pub struct DpEntry {
    pub value: Value,
    pub deps: Vec<DepTarget>,
    pub obtained: bool,
}

/// An injected failure: the next `times` operations on the key fail.
#[derive(Clone, Debug)]
pub struct FailRule {
    pub error: String,
    pub retriable: bool,
    pub times: u32,
}

#[derive(Debug, Default)]
pub struct DpState {
    pub entries: BTreeMap<Key, DpEntry>,
    pub fail: HashMap<Key, FailRule>,
    /// Forbidden attempts (create with missing deps, delete stranding dependents, ...).
    pub violations: Vec<String>,
    /// Every successful call, `create key` / `update key` / `delete key`.
    pub calls: Vec<String>,
    next_index: u32,
}

/// The fake dataplane, shared by all test descriptors of one scheduler.
#[derive(Clone, Debug, Default)]
pub struct FakeDp(Arc<Mutex<DpState>>);

impl FakeDp {
    pub fn state(&self) -> MutexGuard<'_, DpState> {
        match self.0.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    pub fn keys(&self) -> Vec<String> {
        self.state().entries.keys().map(|k| k.to_string()).collect()
    }

    pub fn insert(&self, key: &Key, value: Value, obtained: bool) {
        self.state().entries.insert(
            key.clone(),
            DpEntry {
                value,
                deps: Vec::new(),
                obtained,
            },
        );
    }

    fn injected(s: &mut DpState, key: &Key) -> Result<(), KvError> {
        if let Some(rule) = s.fail.get_mut(key)
            && rule.times > 0
        {
            rule.times -= 1;
            return Err(KvError::Dataplane {
                message: rule.error.clone(),
                retriable: rule.retriable,
            });
        }
        Ok(())
    }

    pub fn create(&self, key: &Key, value: &Value, deps: Vec<DepTarget>) -> Result<u32, KvError> {
        let mut s = self.state();
        Self::injected(&mut s, key)?;
        if s.entries.contains_key(key) {
            s.violations.push(format!("create of existing {key}"));
            return Err(KvError::fatal("already exists"));
        }
        for d in &deps {
            if !s.entries.keys().any(|k| d.matches(k)) {
                s.violations
                    .push(format!("create of {key} with missing dependency {d:?}"));
                return Err(KvError::fatal("dependency missing"));
            }
        }
        s.entries.insert(
            key.clone(),
            DpEntry {
                value: value.clone(),
                deps,
                obtained: false,
            },
        );
        s.calls.push(format!("create {key}"));
        s.next_index += 1;
        Ok(s.next_index)
    }

    /// Changes a value in place; its dependencies become `deps`, which must exist.
    pub fn update(&self, key: &Key, value: &Value, deps: Vec<DepTarget>) -> Result<(), KvError> {
        let mut s = self.state();
        Self::injected(&mut s, key)?;
        for d in &deps {
            if !s.entries.keys().any(|k| k != key && d.matches(k)) {
                s.violations
                    .push(format!("update of {key} with missing dependency {d:?}"));
                return Err(KvError::fatal("dependency missing"));
            }
        }
        match s.entries.get_mut(key) {
            Some(e) => {
                e.value = value.clone();
                e.deps = deps;
            }
            None => {
                s.violations.push(format!("update of missing {key}"));
                return Err(KvError::fatal("not found"));
            }
        }
        s.calls.push(format!("update {key}"));
        Ok(())
    }

    pub fn delete(&self, key: &Key) -> Result<(), KvError> {
        let mut s = self.state();
        Self::injected(&mut s, key)?;
        if !s.entries.contains_key(key) {
            s.violations.push(format!("delete of missing {key}"));
            return Err(KvError::fatal("not found"));
        }
        let stranded = s.entries.iter().find(|(k, e)| {
            *k != key
                && e.deps
                    .iter()
                    .any(|d| d.matches(key) && !s.entries.keys().any(|o| o != key && d.matches(o)))
        });
        if let Some((k, _)) = stranded {
            let msg = format!("delete of {key} would strand {k}");
            s.violations.push(msg);
            return Err(KvError::fatal("in use"));
        }
        s.entries.remove(key);
        s.calls.push(format!("delete {key}"));
        Ok(())
    }
}

type DepsFn = Box<dyn Fn(&Key, &Value) -> Vec<Dependency> + Send + Sync>;
type DerivedFn = Box<dyn Fn(&Key, &Value) -> Vec<(Key, Value)> + Send + Sync>;
type ValidateFn = Box<dyn Fn(&Key, &Value) -> Result<(), KvError> + Send + Sync>;
type RecreateFn = Box<dyn Fn(&Value, &Value) -> bool + Send + Sync>;
type SelectFn = Box<dyn Fn(&Key) -> bool + Send + Sync>;

/// A descriptor configured with closures, storing values in a [`FakeDp`]. Metadata is a
/// `u32` index, as VPP's `sw_if_index`.
pub struct TestDescriptor {
    pub name: String,
    pub nb_prefix: Option<String>,
    pub select: SelectFn,
    pub dp: FakeDp,
    pub deps: DepsFn,
    pub derived: DerivedFn,
    pub validate: ValidateFn,
    pub recreate: RecreateFn,
    pub can_update: bool,
    pub retrievable: bool,
}

impl TestDescriptor {
    pub fn new(name: &str, prefix: &str, dp: &FakeDp) -> Self {
        let p = prefix.to_owned();
        TestDescriptor {
            name: name.to_owned(),
            nb_prefix: Some(prefix.to_owned()),
            select: Box::new(move |k| k.has_prefix(&p)),
            dp: dp.clone(),
            deps: Box::new(|_, _| Vec::new()),
            derived: Box::new(|_, _| Vec::new()),
            validate: Box::new(|_, _| Ok(())),
            recreate: Box::new(|_, _| false),
            can_update: true,
            retrievable: true,
        }
    }
}

impl Descriptor for TestDescriptor {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_selector(&self, key: &Key) -> bool {
        (self.select)(key)
    }
    fn nb_key_prefix(&self) -> Option<&str> {
        self.nb_prefix.as_deref()
    }
    fn validate(&self, key: &Key, value: &Value) -> Result<(), KvError> {
        (self.validate)(key, value)
    }
    fn dependencies(&self, key: &Key, value: &Value) -> Vec<Dependency> {
        (self.deps)(key, value)
    }
    fn derived_values(&self, key: &Key, value: &Value) -> Vec<(Key, Value)> {
        (self.derived)(key, value)
    }
    fn can_update(&self) -> bool {
        self.can_update
    }
    fn needs_recreate(&self, _: &Key, old: &Value, new: &Value, _: Option<&Metadata>) -> bool {
        (self.recreate)(old, new)
    }
    fn create(
        &self,
        _md: &MetadataView<'_>,
        key: &Key,
        value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        let deps = (self.deps)(key, value)
            .into_iter()
            .map(|d| d.target)
            .collect();
        let idx = self.dp.create(key, value, deps)?;
        Ok(Some(Arc::new(idx)))
    }
    fn update(
        &self,
        _md: &MetadataView<'_>,
        key: &Key,
        _old: &Value,
        new: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<Option<Metadata>, KvError> {
        let deps = (self.deps)(key, new)
            .into_iter()
            .map(|d| d.target)
            .collect();
        self.dp.update(key, new, deps)?;
        Ok(None)
    }
    fn delete(
        &self,
        _md: &MetadataView<'_>,
        key: &Key,
        _value: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        self.dp.delete(key)
    }
    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        _correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        if !self.retrievable {
            return Ok(None);
        }
        let s = self.dp.state();
        let found = s
            .entries
            .iter()
            .filter(|(k, _)| (self.select)(k))
            .map(|(k, e)| Retrieved {
                key: k.clone(),
                value: e.value.clone(),
                metadata: None,
                origin: if e.obtained {
                    Origin::FromSb
                } else {
                    Origin::FromNb
                },
            })
            .collect();
        Ok(Some(found))
    }
}
