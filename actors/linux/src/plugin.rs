//! [`LinuxPlugin`]: builds the Linux descriptors around one netlink layer, one interface
//! index and one set of watched namespaces, and registers them with a scheduler unless the
//! `linux-ifplugin` config disables the plugin (then the VPP side works alone and Linux keys
//! stay UNIMPLEMENTED, as in Ligato).
//!
//! It owns no thread of its own; the namespace watcher is started on request.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use config::LinuxIfPluginConfig;
use kvscheduler::{Descriptor, KvError, MetadataView, Scheduler};
use tokio::sync::mpsc;

use crate::descriptor::address::AddressDescriptor;
use crate::descriptor::arp::ArpDescriptor;
use crate::descriptor::host_interface::HostInterfaceDescriptor;
use crate::descriptor::interface::{InterfaceDescriptor, VppTapNames};
use crate::descriptor::namespace::NamespaceDescriptor;
use crate::descriptor::route::RouteDescriptor;
use crate::index::IfIndex;
use crate::netlink::Netlink;
use crate::ns::WatchedNamespaces;
use crate::watcher::{WatchEvent, Watcher};

/// The Linux plugin's descriptors and their shared state.
#[derive(Clone)]
pub struct LinuxPlugin {
    netlink: Netlink,
    index: IfIndex,
    watched: WatchedNamespaces,
    label: String,
    tap_names: Arc<dyn VppTapNames>,
}

impl fmt::Debug for LinuxPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinuxPlugin")
            .field("label", &self.label)
            .field("netlink", &self.netlink)
            .finish_non_exhaustive()
    }
}

fn no_vpp_tap_names(_: &MetadataView<'_>, _: &str) -> Option<String> {
    None
}

impl LinuxPlugin {
    /// `label` is the microservice label; it goes into the alias of every interface the
    /// agent creates, so that two agents on one host keep their hands off each other's.
    pub fn new(netlink: Netlink, label: impl Into<String>) -> Self {
        LinuxPlugin {
            netlink,
            index: IfIndex::default(),
            watched: WatchedNamespaces::default(),
            label: label.into(),
            tap_names: Arc::new(no_vpp_tap_names),
        }
    }

    /// How to find the host name of a VPP TAP (its `tap.host_if_name`); without it, a
    /// TAP_TO_VPP looks for a TAP already named like its own `host_if_name`.
    pub fn with_vpp_tap_names(mut self, names: Arc<dyn VppTapNames>) -> Self {
        self.tap_names = names;
        self
    }

    pub fn netlink(&self) -> &Netlink {
        &self.netlink
    }

    pub fn index(&self) -> &IfIndex {
        &self.index
    }

    pub fn watched_namespaces(&self) -> &WatchedNamespaces {
        &self.watched
    }

    /// The descriptors, in the order they must be registered (namespaces and interfaces
    /// before what lives on interfaces, since retrieve runs in registration order).
    pub fn descriptors(&self) -> Vec<Arc<dyn Descriptor>> {
        vec![
            Arc::new(NamespaceDescriptor::new(self.watched.clone())),
            Arc::new(HostInterfaceDescriptor::new(self.netlink.clone())),
            Arc::new(InterfaceDescriptor::new(
                self.netlink.clone(),
                self.index.clone(),
                self.watched.clone(),
                self.label.clone(),
                self.tap_names.clone(),
            )),
            Arc::new(AddressDescriptor::new(
                self.netlink.clone(),
                self.index.clone(),
            )),
            Arc::new(RouteDescriptor::new(
                self.netlink.clone(),
                self.index.clone(),
            )),
            Arc::new(ArpDescriptor::new(self.netlink.clone(), self.index.clone())),
        ]
    }

    /// Registers the descriptors unless `config.disabled`; returns whether it did.
    pub fn register(
        &self,
        scheduler: &mut Scheduler,
        config: &LinuxIfPluginConfig,
    ) -> Result<bool, KvError> {
        if config.disabled {
            tracing::info!("the linux interface plugin is disabled");
            return Ok(false);
        }
        for d in self.descriptors() {
            scheduler.register(d)?;
        }
        Ok(true)
    }

    /// Starts the watcher of namespaces and default-namespace links; answer each event with
    /// a downstream resync scoped to [`crate::descriptor::ALL`].
    pub fn watch(
        &self,
        interval: Duration,
    ) -> std::io::Result<(Watcher, mpsc::UnboundedReceiver<WatchEvent>)> {
        Watcher::start(self.watched.clone(), self.netlink.clone(), interval)
    }
}
