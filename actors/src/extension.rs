//! Extensions: how a build of the agent adds object kinds without touching the built-in ones.
//!
//! An [`Extension`] brings models (proto messages with their key templates, registered in the
//! model registry so the watcher, REST and the clients decode them) and the descriptors that
//! apply them (scheduled like the built-in ones: dependencies, derived values, retries,
//! resync). A binary passes its extensions to [`crate::runtime::run`]; see docs/extending.md
//! and `examples/custom-model/` for a worked example.
//!
//! Deliberately not here: new actors (an extension that needs one starts it itself from
//! [`Extension::descriptors`]' host, or adds it to `agent.rs`; see docs/extending.md).

use std::fmt;
use std::sync::Arc;

use kvscheduler::Descriptor;
use messages::{ModelError, Registry};

/// What the running agent offers an extension's descriptors.
#[derive(Clone)]
pub struct Host {
    /// The agent's microservice label.
    pub label: String,
    /// The VPP API of the connected release (requests block the scheduler thread, as the
    /// built-in VPP descriptors do).
    pub vpp: vpp::ApiHandle,
    /// The Linux plugin's netlink layer and namespace bookkeeping; `None` when the Linux
    /// plugin is disabled.
    pub linux: Option<LinuxHost>,
}

/// The Linux side of [`Host`].
#[derive(Clone, Debug)]
pub struct LinuxHost {
    /// Runs netlink operations inside a namespace (one worker thread per namespace).
    pub netlink: linux::Netlink,
    /// Namespaces the host watcher looks at: add the ones your values reference, so a value
    /// waiting for a namespace is created as soon as it appears.
    pub watched: linux::WatchedNamespaces,
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Host")
            .field("label", &self.label)
            .field("linux", &self.linux.is_some())
            .finish_non_exhaustive()
    }
}

/// An addition to the agent: models and the descriptors that apply them.
pub trait Extension: Send {
    /// A short name for logs (`linux-dummy`).
    fn name(&self) -> &str;

    /// Adds the extension's models (and their proto descriptors, for JSON) to `registry`.
    fn register_models(&self, registry: &mut Registry) -> Result<(), ModelError>;

    /// The descriptors of the extension's values, made once at start-up. They run after the
    /// built-in descriptors are registered, so a key the built-ins select stays theirs.
    fn descriptors(&self, host: &Host) -> Vec<Arc<dyn Descriptor>>;
}

/// The registry of built-in models plus every extension's; an error names the extension.
pub fn registry_with(extensions: &[Box<dyn Extension>]) -> Result<Registry, String> {
    let mut registry = Registry::builtin();
    for ext in extensions {
        ext.register_models(&mut registry)
            .map_err(|e| format!("extension {}: {e}", ext.name()))?;
    }
    Ok(registry)
}
