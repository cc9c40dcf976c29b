//! `linux-interface-watcher`: the keys `linux/interface/host-name/<host-name>`, one per link
//! in the agent's own (default) namespace, as Ligato's interface watcher reports them. They
//! are retrieved from netlink, hence OBTAINED; VPP AF_PACKET interfaces and EXISTING Linux
//! interfaces in the default namespace depend on them (`afpacket-host-interface-exists`,
//! `host-interface-exists`). The value is `google.protobuf.Empty`.
//!
//! It never creates or deletes a link. New links are noticed by the watcher (`watcher.rs`),
//! whose event the scheduler's owner answers with a downstream resync.

use std::fmt;
use std::sync::Arc;

use kvscheduler::{Descriptor, KvError, Metadata, MetadataView, Origin, Retrieved};
use messages::proto::Empty;
use messages::{Key, Value};

use super::{HOST_INTERFACE_DESCRIPTOR, HOST_NAME_PREFIX, host_name_key};
use crate::netlink::Netlink;
use crate::ns::NsRef;

/// The `linux-interface-watcher` descriptor.
pub struct HostInterfaceDescriptor {
    pub(crate) nl: Netlink,
}

impl fmt::Debug for HostInterfaceDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostInterfaceDescriptor")
            .finish_non_exhaustive()
    }
}

impl HostInterfaceDescriptor {
    pub fn new(nl: Netlink) -> Self {
        HostInterfaceDescriptor { nl }
    }
}

impl Descriptor for HostInterfaceDescriptor {
    fn name(&self) -> &str {
        HOST_INTERFACE_DESCRIPTOR
    }

    fn key_selector(&self, key: &Key) -> bool {
        key.as_str().starts_with(HOST_NAME_PREFIX)
    }

    fn validate(&self, key: &Key, _value: &Value) -> Result<(), KvError> {
        Err(KvError::invalid(
            format!("host interface {key} is observed, it cannot be configured"),
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
            "host interface {key} is observed, the agent does not create it"
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
        let links = self.nl.links(&NsRef::Default)?;
        Ok(Some(
            links
                .into_iter()
                .map(|l| Retrieved {
                    key: host_name_key(&l.name),
                    value: empty.clone(),
                    metadata: None,
                    origin: Origin::FromSb,
                })
                .collect(),
        ))
    }
}
