//! [`IfIndex`]: what the plugin knows about the Linux interfaces it configured, by logical
//! name: host name, namespace and kind. The interface descriptor writes it (create, update,
//! delete, retrieve); the address, route and ARP descriptors read it to find where their
//! interface lives. It is the plugin's own metadata map (Ligato's `LinuxIfMetadataIndex`),
//! shared only between this crate's descriptors.
//!
//! It holds no kernel state (no ifindex: names are resolved in the namespace at each call,
//! since a move between namespaces changes the index).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::ns::NsRef;

/// How a Linux interface came to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IfKind {
    /// One end of a veth pair; `peer` is the logical name of the other end.
    Veth { peer: String },
    /// The Linux side of the VPP TAP interface `vpp_tap`.
    TapToVpp { vpp_tap: String },
    /// An interface the agent found and only configures.
    Existing,
}

/// The metadata of one configured Linux interface (also handed to the scheduler).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinuxIfMeta {
    /// Logical name (the model's `name`).
    pub name: String,
    /// Name in the kernel.
    pub host_name: String,
    pub ns: NsRef,
    pub kind: IfKind,
}

/// Logical name -> metadata. Cheap to clone; clones share the map.
#[derive(Clone, Debug, Default)]
pub struct IfIndex(Arc<Mutex<BTreeMap<String, LinuxIfMeta>>>);

impl IfIndex {
    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, LinuxIfMeta>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn get(&self, name: &str) -> Option<LinuxIfMeta> {
        self.map().get(name).cloned()
    }

    pub fn insert(&self, meta: LinuxIfMeta) {
        self.map().insert(meta.name.clone(), meta);
    }

    pub fn remove(&self, name: &str) -> Option<LinuxIfMeta> {
        self.map().remove(name)
    }

    /// Every namespace that holds a configured interface.
    pub fn namespaces(&self) -> Vec<NsRef> {
        let mut v: Vec<NsRef> = self.map().values().map(|m| m.ns.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    pub fn all(&self) -> Vec<LinuxIfMeta> {
        self.map().values().cloned().collect()
    }
}
