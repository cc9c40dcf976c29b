//! [`Traced`]: a descriptor wrapper that puts each dataplane operation (create, update,
//! delete, retrieve) in a `descriptor_op` span with `descriptor`, `op`, `key` and, on failure,
//! `error`. The scheduler thread runs operations inside the `scheduler_txn` span, so these
//! spans are children of the transaction, and the VPP requests an operation makes are theirs.
//!
//! Every [`Descriptor`] method is forwarded explicitly, so wrapping never changes what the
//! scheduler plans (the planning methods get no span: they are called often and do no IO).
//! Deliberately not here: timing or counting operations (the transaction record has them).

use std::sync::Arc;

use kvscheduler::{Dependency, Descriptor, KvError, Metadata, MetadataView, Retrieved};
use messages::{Key, Value};
use tracing::field::Empty;

/// See the module docs.
pub struct Traced(pub Arc<dyn Descriptor>);

impl std::fmt::Debug for Traced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Traced").field(&self.0.name()).finish()
    }
}

/// Wraps `d` so its operations are traced.
pub fn traced(d: Arc<dyn Descriptor>) -> Arc<dyn Descriptor> {
    Arc::new(Traced(d))
}

impl Traced {
    fn span(&self, op: &'static str, key: Option<&Key>) -> tracing::Span {
        match key {
            Some(key) => tracing::info_span!(
                "descriptor_op",
                descriptor = self.0.name(),
                op,
                key = key.as_str(),
                error = Empty
            ),
            None => tracing::info_span!(
                "descriptor_op",
                descriptor = self.0.name(),
                op,
                error = Empty
            ),
        }
    }

    fn run<T>(
        &self,
        op: &'static str,
        key: Option<&Key>,
        f: impl FnOnce() -> Result<T, KvError>,
    ) -> Result<T, KvError> {
        let span = self.span(op, key);
        let _enter = span.enter();
        let res = f();
        if let Err(e) = &res {
            span.record("error", tracing::field::display(e));
        }
        res
    }
}

impl Descriptor for Traced {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn key_selector(&self, key: &Key) -> bool {
        self.0.key_selector(key)
    }

    fn nb_key_prefix(&self) -> Option<&str> {
        self.0.nb_key_prefix()
    }

    fn key_label(&self, key: &Key) -> String {
        self.0.key_label(key)
    }

    fn validate(&self, key: &Key, value: &Value) -> Result<(), KvError> {
        self.0.validate(key, value)
    }

    fn equivalent(&self, key: &Key, old: &Value, new: &Value) -> bool {
        self.0.equivalent(key, old, new)
    }

    fn dependencies(&self, key: &Key, value: &Value) -> Vec<Dependency> {
        self.0.dependencies(key, value)
    }

    fn derived_values(&self, key: &Key, value: &Value) -> Vec<(Key, Value)> {
        self.0.derived_values(key, value)
    }

    fn can_update(&self) -> bool {
        self.0.can_update()
    }

    fn needs_recreate(
        &self,
        key: &Key,
        old: &Value,
        new: &Value,
        metadata: Option<&Metadata>,
    ) -> bool {
        self.0.needs_recreate(key, old, new, metadata)
    }

    fn create(
        &self,
        md: &MetadataView<'_>,
        key: &Key,
        value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        self.run("create", Some(key), || self.0.create(md, key, value))
    }

    fn update(
        &self,
        md: &MetadataView<'_>,
        key: &Key,
        old: &Value,
        new: &Value,
        metadata: Option<&Metadata>,
    ) -> Result<Option<Metadata>, KvError> {
        self.run("update", Some(key), || {
            self.0.update(md, key, old, new, metadata)
        })
    }

    fn delete(
        &self,
        md: &MetadataView<'_>,
        key: &Key,
        value: &Value,
        metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        self.run("delete", Some(key), || {
            self.0.delete(md, key, value, metadata)
        })
    }

    fn retrieve(
        &self,
        md: &MetadataView<'_>,
        correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        self.run("retrieve", None, || self.0.retrieve(md, correlate))
    }

    fn is_retriable(&self, err: &KvError) -> bool {
        self.0.is_retriable(err)
    }
}
