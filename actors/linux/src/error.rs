//! [`LinuxError`]: the crate's one error type, with a bounded [`ErrorKind`] and the retry
//! classification, plus its conversion into the scheduler's [`KvError`].
//!
//! It does not log and does not decide policy: descriptors turn it into a `KvError` and the
//! scheduler decides whether to retry. Errors are classified by variant and errno, never by
//! matching text.

use std::path::PathBuf;
use std::time::Duration;

use kvscheduler::KvError;

use crate::ns::NsRef;

/// Everything that can go wrong in the Linux plugin.
#[derive(Debug, thiserror::Error)]
pub enum LinuxError {
    /// The namespace file is missing (or is not a network namespace yet).
    #[error("namespace {ns} does not exist")]
    NamespaceNotFound { ns: NsRef },
    /// The worker thread could not enter the namespace or open its netlink socket.
    #[error("cannot enter namespace {ns}: {source}")]
    EnterNamespace {
        ns: NsRef,
        #[source]
        source: std::io::Error,
    },
    /// A link looked up by name does not exist in the namespace.
    #[error("interface {name} not found in namespace {ns}")]
    LinkNotFound { name: String, ns: NsRef },
    /// The kernel rejected a netlink request.
    #[error("netlink {op} of {target} in namespace {ns} failed: {source}")]
    Netlink {
        op: &'static str,
        target: String,
        ns: NsRef,
        #[source]
        source: Box<rtnetlink::Error>,
    },
    /// The namespace's worker thread stopped before it answered.
    #[error("netlink worker of namespace {ns} stopped during {op}")]
    WorkerGone { ns: NsRef, op: &'static str },
    /// The namespace's worker did not answer in time.
    #[error("netlink {op} in namespace {ns} timed out after {after:?}")]
    Timeout {
        ns: NsRef,
        op: &'static str,
        after: Duration,
    },
    /// A model value the plugin cannot apply (bad address, unsupported type).
    #[error("invalid {field} {value:?} of {item}: {reason}")]
    Invalid {
        item: String,
        field: &'static str,
        value: String,
        reason: String,
    },
    /// A value refers to a Linux interface the plugin has not configured (yet).
    #[error("interface {name} is not configured by the linux plugin")]
    UnknownInterface { name: String },
    /// Reading a namespace file or directory failed.
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The bounded classification of [`LinuxError`], used as a metrics label and for policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Namespace,
    NotFound,
    Netlink,
    Worker,
    Invalid,
    Io,
}

/// Errnos that a later attempt can fix (a device or namespace that is still appearing, a
/// busy resource).
const RETRIABLE_ERRNOS: &[i32] = &[
    libc_errno::EAGAIN,
    libc_errno::EBUSY,
    libc_errno::ENODEV,
    libc_errno::ENOBUFS,
    libc_errno::EINTR,
];

/// The few errno values the plugin looks at (Linux numbering).
pub(crate) mod libc_errno {
    pub const ENOENT: i32 = 2;
    pub const ESRCH: i32 = 3;
    pub const EINTR: i32 = 4;
    pub const EAGAIN: i32 = 11;
    pub const EBUSY: i32 = 16;
    pub const EEXIST: i32 = 17;
    pub const ENODEV: i32 = 19;
    pub const ENOBUFS: i32 = 105;
    pub const EADDRNOTAVAIL: i32 = 99;
}

impl LinuxError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            LinuxError::NamespaceNotFound { .. } | LinuxError::EnterNamespace { .. } => {
                ErrorKind::Namespace
            }
            LinuxError::LinkNotFound { .. } | LinuxError::UnknownInterface { .. } => {
                ErrorKind::NotFound
            }
            LinuxError::Netlink { .. } => ErrorKind::Netlink,
            LinuxError::WorkerGone { .. } | LinuxError::Timeout { .. } => ErrorKind::Worker,
            LinuxError::Invalid { .. } => ErrorKind::Invalid,
            LinuxError::Io { .. } => ErrorKind::Io,
        }
    }

    /// Would the same operation succeed later without a configuration change?
    pub fn is_retriable(&self) -> bool {
        match self {
            LinuxError::NamespaceNotFound { .. }
            | LinuxError::EnterNamespace { .. }
            | LinuxError::LinkNotFound { .. }
            | LinuxError::UnknownInterface { .. }
            | LinuxError::WorkerGone { .. }
            | LinuxError::Timeout { .. }
            | LinuxError::Io { .. } => true,
            LinuxError::Netlink { .. } => {
                self.errno().is_some_and(|e| RETRIABLE_ERRNOS.contains(&e))
            }
            LinuxError::Invalid { .. } => false,
        }
    }

    /// The kernel's errno for a netlink failure (positive, e.g. 17 for EEXIST).
    pub fn errno(&self) -> Option<i32> {
        match self {
            LinuxError::Netlink { source, .. } => match &**source {
                rtnetlink::Error::NetlinkError(msg) => Some(msg.raw_code().abs()),
                _ => None,
            },
            _ => None,
        }
    }

    /// True for "already exists" answers (create of something present).
    pub fn is_exists(&self) -> bool {
        self.errno() == Some(libc_errno::EEXIST)
    }

    /// True when the object (or its namespace) is already gone: a delete has nothing to do.
    pub fn is_gone(&self) -> bool {
        matches!(
            self,
            LinuxError::NamespaceNotFound { .. } | LinuxError::LinkNotFound { .. }
        ) || self.errno().is_some_and(|e| {
            [
                libc_errno::ENOENT,
                libc_errno::ESRCH,
                libc_errno::ENODEV,
                libc_errno::EADDRNOTAVAIL,
            ]
            .contains(&e)
        })
    }

    pub(crate) fn invalid(
        item: impl Into<String>,
        field: &'static str,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        LinuxError::Invalid {
            item: item.into(),
            field,
            value: value.into(),
            reason: reason.into(),
        }
    }
}

impl From<LinuxError> for KvError {
    fn from(e: LinuxError) -> Self {
        match &e {
            LinuxError::Invalid { field, .. } => KvError::invalid(e.to_string(), &[field]),
            _ if e.is_retriable() => KvError::retriable(e.to_string()),
            _ => KvError::fatal(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_and_text() {
        let e = LinuxError::NamespaceNotFound {
            ns: NsRef::Named("blue".into()),
        };
        assert_eq!(e.kind(), ErrorKind::Namespace);
        assert!(e.is_retriable());
        assert!(e.is_gone());
        assert_eq!(e.to_string(), "namespace NSID blue does not exist");
        let inv = LinuxError::invalid("veth1", "ip_addresses", "10.0.0.1", "missing prefix length");
        assert!(!inv.is_retriable());
        assert_eq!(
            inv.to_string(),
            "invalid ip_addresses \"10.0.0.1\" of veth1: missing prefix length"
        );
        let kv: KvError = inv.into();
        assert_eq!(kv.kind(), kvscheduler::ErrorKind::InvalidValue);
        let kv: KvError = e.into();
        assert!(kv.is_retriable());
    }
}
