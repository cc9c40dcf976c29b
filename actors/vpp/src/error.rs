//! The crate's one error type, [`VppError`], with a bounded [`ErrorKind`] and the retry
//! classification the scheduler uses, plus the conversion into the scheduler's [`KvError`].
//!
//! Every error that concerns one VPP call names the binary-API message and, when VPP answered,
//! its `retval`. Retriability is decided by kind (and by the retval code through binapi's
//! table), never by matching text. This module deliberately does not log.

use kvscheduler::KvError;

/// The bounded classification of a [`VppError`], for retry policy and metric labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// VPP answered with a non-zero retval.
    Vpp,
    /// The connection or the codec failed (socket, timeout, disconnect, decode).
    Transport,
    /// VPP's message table fits no shipped release.
    Incompatible,
    /// The operation needs a binary-API message this build does not generate.
    Unsupported,
    /// Something the descriptors need is not known (no metadata for an interface, a BD).
    NotFound,
    /// A value could not be turned into an API call (unparsable address, MAC).
    Invalid,
    /// A blocking call was made from inside the async runtime.
    Runtime,
}

impl ErrorKind {
    /// A short label, e.g. for metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Vpp => "vpp",
            ErrorKind::Transport => "transport",
            ErrorKind::Incompatible => "incompatible",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Runtime => "runtime",
        }
    }
}

/// Everything that can go wrong in the VPP layer.
#[derive(Debug, thiserror::Error)]
pub enum VppError {
    /// VPP refused a request.
    #[error("{msg}: vpp returned {retval} ({meaning})")]
    Retval {
        msg: &'static str,
        retval: i32,
        meaning: &'static str,
    },
    /// The transport failed for one message.
    #[error("{msg}: {source}")]
    Transport {
        msg: &'static str,
        #[source]
        source: binapi::Error,
    },
    /// No shipped release matches VPP's message table.
    #[error("vpp reports version {version:?}, no handler fits: {report}")]
    Incompatible { version: String, report: String },
    /// The build lacks the messages for this operation.
    #[error("{operation} is unsupported by this build (missing binapi message {message})")]
    Unsupported {
        operation: &'static str,
        message: &'static str,
    },
    /// A referenced object is unknown.
    #[error("{what} {name} not found")]
    NotFound { what: &'static str, name: String },
    /// A value cannot be expressed as an API call.
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// A blocking VPP call was made on a runtime thread.
    #[error("{msg}: blocking vpp call from inside the async runtime")]
    InRuntime { msg: &'static str },
}

impl VppError {
    /// A retval error for message `msg`, with binapi's meaning of the code.
    pub fn retval(msg: &'static str, retval: i32) -> Self {
        VppError::Retval {
            msg,
            retval,
            meaning: binapi::retval::retval_meaning(retval),
        }
    }

    /// Wraps a binapi error of message `msg`, keeping VPP's retval when there is one.
    pub fn from_binapi(msg: &'static str, e: binapi::Error) -> Self {
        match e {
            binapi::Error::Retval { msg, retval, .. } => VppError::retval(msg, retval),
            source => VppError::Transport { msg, source },
        }
    }

    pub fn not_found(what: &'static str, name: impl Into<String>) -> Self {
        VppError::NotFound {
            what,
            name: name.into(),
        }
    }

    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        VppError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            VppError::Retval { .. } => ErrorKind::Vpp,
            VppError::Transport { .. } => ErrorKind::Transport,
            VppError::Incompatible { .. } => ErrorKind::Incompatible,
            VppError::Unsupported { .. } => ErrorKind::Unsupported,
            VppError::NotFound { .. } => ErrorKind::NotFound,
            VppError::Invalid { .. } => ErrorKind::Invalid,
            VppError::InRuntime { .. } => ErrorKind::Runtime,
        }
    }

    /// The VPP retval, when VPP answered.
    pub fn retval_code(&self) -> Option<i32> {
        match self {
            VppError::Retval { retval, .. } => Some(*retval),
            _ => None,
        }
    }

    /// Whether the same call may succeed later: transport failures (after a reconnect),
    /// transient retvals, and missing references (metadata appears once a dependency is
    /// configured).
    pub fn is_retriable(&self) -> bool {
        match self {
            VppError::Retval { retval, .. } => binapi::retval::retval_is_transient(*retval),
            VppError::Transport { source, .. } => source.is_retriable(),
            VppError::NotFound { .. } => true,
            VppError::Incompatible { .. }
            | VppError::Unsupported { .. }
            | VppError::Invalid { .. }
            | VppError::InRuntime { .. } => false,
        }
    }
}

impl From<VppError> for KvError {
    fn from(e: VppError) -> Self {
        match e {
            VppError::Invalid { field, reason } => KvError::invalid(reason, &[field]),
            other => KvError::Dataplane {
                retriable: other.is_retriable(),
                message: other.to_string(),
            },
        }
    }
}

/// Shorthand for this crate's results.
pub type Result<T, E = VppError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retval_errors_carry_message_and_code() {
        let e = VppError::from_binapi(
            "create_loopback",
            binapi::Error::retval("create_loopback", -31),
        );
        assert_eq!(e.kind(), ErrorKind::Vpp);
        assert_eq!(e.retval_code(), Some(-31));
        assert!(
            e.to_string()
                .starts_with("create_loopback: vpp returned -31")
        );
        assert!(!e.is_retriable());
        let kv: KvError = e.into();
        assert!(!kv.is_retriable());
    }

    #[test]
    fn transport_and_missing_references_are_retriable() {
        let e = VppError::from_binapi(
            "sw_interface_dump",
            binapi::Error::Disconnected {
                msg: "sw_interface_dump",
                reason: "eof".into(),
            },
        );
        assert_eq!(e.kind(), ErrorKind::Transport);
        assert!(e.is_retriable());
        assert!(VppError::not_found("interface", "tap1").is_retriable());
        let u = VppError::Unsupported {
            operation: "create sub-interface",
            message: "create_subif",
        };
        assert!(!u.is_retriable());
        assert_eq!(
            u.to_string(),
            "create sub-interface is unsupported by this build (missing binapi message create_subif)"
        );
    }

    #[test]
    fn invalid_values_become_invalid_kv_errors() {
        let kv: KvError = VppError::invalid("phys_address", "bad mac").into();
        assert_eq!(kv.kind(), kvscheduler::ErrorKind::InvalidValue);
    }
}
