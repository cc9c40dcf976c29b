//! Network namespace references as Ligato has them ([`NsRef`]), the files they resolve to,
//! the scheduler keys that stand for "this namespace exists", and [`WatchedNamespaces`]: the
//! set of references the configured values use, shared by the interface descriptor (which
//! adds to it) and the namespace descriptor and watcher (which read it).
//!
//! Resolution rules:
//! - `NSID <name>`: the named namespace `/var/run/netns/<name>` (what `ip netns add` creates).
//! - `PID <pid>`: `/proc/<pid>/ns/net`.
//! - `FD <path>`: the namespace file at `<path>` (Ligato's FD reference is a file path).
//! - `MICROSERVICE <label>`: looked up as the named namespace `/var/run/netns/<label>`.
//!   Ligato finds the container whose `MICROSERVICE_LABEL` is `<label>` through Docker; this
//!   crate does not talk to Docker, so a microservice must publish its namespace under its
//!   label (for example `ip netns attach <label> <pid>`).
//!
//! This module does not enter namespaces (see `netlink::worker`) and never creates or deletes
//! them: a missing namespace is a missing dependency, not something the agent makes.

use std::collections::BTreeSet;
use std::fmt;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use messages::Key;
use messages::proto::ligato::linux::namespace::{NetNamespace, net_namespace::ReferenceType};

use crate::error::LinuxError;

/// Where named namespaces live (`ip netns` convention).
pub const NETNS_DIR: &str = "/var/run/netns";

/// Key prefix of the "namespace exists" values the namespace descriptor reports.
pub const NAMESPACE_KEY_PREFIX: &str = "linux/namespace/";

/// Key prefix of Ligato's "microservice available" values.
pub const MICROSERVICE_KEY_PREFIX: &str = "linux/microservice/";

/// A network namespace as a model value refers to it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NsRef {
    /// The agent's own namespace (no namespace in the model).
    Default,
    /// `NSID`: a named namespace under [`NETNS_DIR`].
    Named(String),
    /// `PID`: the namespace of a process.
    Pid(u32),
    /// `FD`: a namespace file path.
    Path(PathBuf),
    /// `MICROSERVICE`: a named namespace published under the microservice label.
    Microservice(String),
}

impl fmt::Display for NsRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NsRef::Default => f.write_str("default"),
            NsRef::Named(n) => write!(f, "NSID {n}"),
            NsRef::Pid(p) => write!(f, "PID {p}"),
            NsRef::Path(p) => write!(f, "FD {}", p.display()),
            NsRef::Microservice(l) => write!(f, "MICROSERVICE {l}"),
        }
    }
}

impl NsRef {
    /// The reference a model value carries; no namespace (or an empty one) is the default.
    pub fn from_model(item: &str, ns: Option<&NetNamespace>) -> Result<NsRef, LinuxError> {
        let Some(ns) = ns else {
            return Ok(NsRef::Default);
        };
        let reference = ns.reference.trim();
        let ty = ReferenceType::try_from(ns.r#type).unwrap_or(ReferenceType::Undefined);
        if ty == ReferenceType::Undefined && reference.is_empty() {
            return Ok(NsRef::Default);
        }
        if reference.is_empty() {
            return Err(LinuxError::invalid(
                item,
                "namespace",
                ty.as_str_name(),
                "the namespace reference is empty",
            ));
        }
        match ty {
            ReferenceType::Nsid => {
                if reference.contains('/') {
                    return Err(LinuxError::invalid(
                        item,
                        "namespace",
                        reference,
                        "a namespace name cannot contain '/'",
                    ));
                }
                Ok(NsRef::Named(reference.to_owned()))
            }
            ReferenceType::Pid => reference.parse::<u32>().map(NsRef::Pid).map_err(|_| {
                LinuxError::invalid(item, "namespace", reference, "a PID must be a number")
            }),
            ReferenceType::Fd => Ok(NsRef::Path(PathBuf::from(reference))),
            ReferenceType::Microservice => Ok(NsRef::Microservice(reference.to_owned())),
            ReferenceType::Undefined => Err(LinuxError::invalid(
                item,
                "namespace",
                reference,
                "the namespace reference type is UNDEFINED",
            )),
        }
    }

    /// The model form (`None` for the default namespace).
    pub fn to_model(&self) -> Option<NetNamespace> {
        let (ty, reference) = match self {
            NsRef::Default => return None,
            NsRef::Named(n) => (ReferenceType::Nsid, n.clone()),
            NsRef::Pid(p) => (ReferenceType::Pid, p.to_string()),
            NsRef::Path(p) => (ReferenceType::Fd, p.display().to_string()),
            NsRef::Microservice(l) => (ReferenceType::Microservice, l.clone()),
        };
        Some(NetNamespace {
            r#type: ty as i32,
            reference,
        })
    }

    /// The namespace file (`None` for the default namespace).
    pub fn path(&self) -> Option<PathBuf> {
        match self {
            NsRef::Default => None,
            NsRef::Named(n) | NsRef::Microservice(n) => Some(Path::new(NETNS_DIR).join(n)),
            NsRef::Pid(p) => Some(PathBuf::from(format!("/proc/{p}/ns/net"))),
            NsRef::Path(p) => Some(p.clone()),
        }
    }

    /// The key that exists while the namespace does, or `None` for the default namespace
    /// (which always exists). A microservice uses Ligato's `linux/microservice/<label>`.
    pub fn key(&self) -> Option<Key> {
        match self {
            NsRef::Default => None,
            NsRef::Named(n) => Some(Key::new(format!("{NAMESPACE_KEY_PREFIX}NSID/{n}"))),
            NsRef::Pid(p) => Some(Key::new(format!("{NAMESPACE_KEY_PREFIX}PID/{p}"))),
            NsRef::Path(p) => Some(Key::new(format!(
                "{NAMESPACE_KEY_PREFIX}FD/{}",
                p.display()
            ))),
            NsRef::Microservice(l) => Some(Key::new(format!("{MICROSERVICE_KEY_PREFIX}{l}"))),
        }
    }

    /// Opens the namespace file and checks that it is a network namespace (a file on nsfs);
    /// `Ok(None)` when it does not exist (yet).
    pub fn open(&self) -> Result<Option<(File, NsIdentity)>, LinuxError> {
        let path = match self.path() {
            Some(p) => p,
            None => PathBuf::from("/proc/self/ns/net"),
        };
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(LinuxError::Io { path, source: e }),
        };
        let meta = file.metadata().map_err(|e| LinuxError::Io {
            path: path.clone(),
            source: e,
        })?;
        if Some(meta.dev()) != nsfs_dev() {
            // A plain file: `ip netns add` creates the file before it bind-mounts the
            // namespace on it, or the path is simply not a namespace.
            return Ok(None);
        }
        Ok(Some((
            file,
            NsIdentity {
                dev: meta.dev(),
                ino: meta.ino(),
            },
        )))
    }

    /// Does the namespace exist right now?
    pub fn exists(&self) -> bool {
        matches!(self.open(), Ok(Some(_)))
    }
}

/// The device and inode of a namespace file: two references name the same namespace exactly
/// when their identities are equal, and a re-created namespace gets a new identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NsIdentity {
    pub dev: u64,
    pub ino: u64,
}

/// The device number of nsfs, read from the agent's own namespace file.
fn nsfs_dev() -> Option<u64> {
    static DEV: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *DEV.get_or_init(|| std::fs::metadata("/proc/self/ns/net").ok().map(|m| m.dev()))
}

/// Lists the named namespaces under [`NETNS_DIR`] that are mounted (exist).
pub fn named_namespaces() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(NETNS_DIR) else {
        return Vec::new();
    };
    let mut names: Vec<String> = dir
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| NsRef::Named(n.clone()).exists())
        .collect();
    names.sort();
    names
}

/// The namespace references that configured values use. Cheap to clone; all clones share
/// one set. The interface descriptor adds references as it sees values; nothing removes
/// them (a reference that is no longer used only costs a `stat` per watcher poll).
#[derive(Clone, Debug, Default)]
pub struct WatchedNamespaces(Arc<Mutex<BTreeSet<NsRef>>>);

impl WatchedNamespaces {
    pub fn add(&self, ns: &NsRef) {
        if *ns == NsRef::Default {
            return;
        }
        let mut set = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !set.contains(ns) {
            set.insert(ns.clone());
        }
    }

    /// The watched references, plus every named namespace that exists now.
    pub fn snapshot(&self) -> BTreeSet<NsRef> {
        let mut set = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        set.extend(named_namespaces().into_iter().map(NsRef::Named));
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(ty: ReferenceType, reference: &str) -> NetNamespace {
        NetNamespace {
            r#type: ty as i32,
            reference: reference.into(),
        }
    }

    #[test]
    fn references_resolve_like_ligato() {
        assert_eq!(NsRef::from_model("a", None).ok(), Some(NsRef::Default));
        let n = NsRef::from_model("a", Some(&model(ReferenceType::Nsid, "blue"))).ok();
        assert_eq!(n, Some(NsRef::Named("blue".into())));
        let n = n.unwrap_or(NsRef::Default);
        assert_eq!(n.path(), Some(PathBuf::from("/var/run/netns/blue")));
        assert_eq!(
            n.key().map(|k| k.to_string()),
            Some("linux/namespace/NSID/blue".into())
        );
        assert_eq!(n.to_model(), Some(model(ReferenceType::Nsid, "blue")));
        let p = NsRef::from_model("a", Some(&model(ReferenceType::Pid, "42"))).ok();
        assert_eq!(
            p.and_then(|p| p.path()),
            Some(PathBuf::from("/proc/42/ns/net"))
        );
        let m = NsRef::Microservice("ms1".into());
        assert_eq!(
            m.key().map(|k| k.to_string()),
            Some("linux/microservice/ms1".into())
        );
        assert_eq!(m.path(), Some(PathBuf::from("/var/run/netns/ms1")));
        assert!(NsRef::from_model("a", Some(&model(ReferenceType::Pid, "x"))).is_err());
        assert!(NsRef::from_model("a", Some(&model(ReferenceType::Nsid, ""))).is_err());
        assert!(NsRef::from_model("a", Some(&model(ReferenceType::Nsid, "a/b"))).is_err());
    }

    #[test]
    fn own_namespace_exists_and_a_plain_file_is_not_one() {
        assert!(NsRef::Default.exists());
        assert!(NsRef::Pid(std::process::id()).exists());
        assert!(!NsRef::Path("/etc/hostname".into()).exists());
        assert!(!NsRef::Named("vpp-agent-rs-no-such-ns".into()).exists());
    }
}
