//! `linux-namespace`: the keys `linux/namespace/<TYPE>/<ref>` and `linux/microservice/<label>`
//! that stand for "this network namespace exists". Interfaces in a namespace depend on its
//! key, so a value whose namespace is missing waits as PENDING instead of failing, and is
//! created once a retrieve (a downstream resync, triggered by the namespace watcher) reports
//! the namespace. The values are `google.protobuf.Empty`, retrieved from the system, hence
//! OBTAINED: the agent never creates or deletes a namespace.
//!
//! Which namespaces are looked at: every named namespace under `/var/run/netns`, plus every
//! reference a configured interface uses (PID, FD and MICROSERVICE references cannot be
//! listed). It does not watch anything itself (see `watcher.rs`).

use std::fmt;
use std::sync::Arc;

use kvscheduler::{Descriptor, KvError, Metadata, MetadataView, Origin, Retrieved};
use messages::proto::Empty;
use messages::{Key, Value};

use super::NAMESPACE_DESCRIPTOR;
use crate::ns::{MICROSERVICE_KEY_PREFIX, NAMESPACE_KEY_PREFIX, WatchedNamespaces};

/// The `linux-namespace` descriptor.
pub struct NamespaceDescriptor {
    pub(crate) watched: WatchedNamespaces,
}

impl fmt::Debug for NamespaceDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamespaceDescriptor")
            .finish_non_exhaustive()
    }
}

impl NamespaceDescriptor {
    pub fn new(watched: WatchedNamespaces) -> Self {
        NamespaceDescriptor { watched }
    }

    /// The keys of the watched namespaces that exist now.
    pub fn present(&self) -> Vec<Key> {
        self.watched
            .snapshot()
            .into_iter()
            .filter(|ns| ns.exists())
            .filter_map(|ns| ns.key())
            .collect()
    }
}

impl Descriptor for NamespaceDescriptor {
    fn name(&self) -> &str {
        NAMESPACE_DESCRIPTOR
    }

    fn key_selector(&self, key: &Key) -> bool {
        key.as_str().starts_with(NAMESPACE_KEY_PREFIX)
            || key.as_str().starts_with(MICROSERVICE_KEY_PREFIX)
    }

    fn validate(&self, key: &Key, _value: &Value) -> Result<(), KvError> {
        Err(KvError::invalid(
            format!("namespace {key} is observed, it cannot be configured"),
            &[],
        ))
    }

    fn create(
        &self,
        _md: &MetadataView<'_>,
        key: &Key,
        _value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        Err(KvError::fatal(format!(
            "namespace {key} is observed, the agent does not create namespaces"
        )))
    }

    fn delete(
        &self,
        _md: &MetadataView<'_>,
        _key: &Key,
        _value: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        Ok(())
    }

    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        _correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        let empty: Value = Arc::new(Empty {});
        Ok(Some(
            self.present()
                .into_iter()
                .map(|key| Retrieved {
                    key,
                    value: empty.clone(),
                    metadata: None,
                    origin: Origin::FromSb,
                })
                .collect(),
        ))
    }
}
