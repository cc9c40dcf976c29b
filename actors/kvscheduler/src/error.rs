//! The crate's one error type, [`KvError`], with a bounded [`ErrorKind`] and the retry
//! classification the scheduler uses for failed operations.
//!
//! It does not carry dataplane-specific detail beyond a message: a descriptor that wraps a
//! richer error (a VPP retval, an IO error) flattens it into [`KvError::Dataplane`] and decides
//! whether it is retriable.

use messages::Key;

/// Everything that can go wrong in the scheduler core or in a descriptor operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// Returned by a descriptor's `validate`: the value is INVALID and never reaches the
    /// dataplane. `fields` are the offending field names (reported as status details).
    #[error("invalid value: {reason}")]
    InvalidValue { reason: String, fields: Vec<String> },
    /// A dataplane operation (create, update, delete, retrieve) failed.
    #[error("{message}")]
    Dataplane { message: String, retriable: bool },
    /// The descriptor does not implement the requested operation.
    #[error("descriptor {descriptor} does not support {operation}")]
    Unsupported {
        descriptor: String,
        operation: &'static str,
    },
    /// Two descriptors registered under one name.
    #[error("descriptor {0} is already registered")]
    DuplicateDescriptor(String),
    /// A NB value whose key no descriptor selects.
    #[error("no descriptor selects key {0}")]
    Unimplemented(Key),
    /// A status query for a prefix no value has.
    #[error("unknown key prefix")]
    UnknownKeyPrefix(String),
    /// A history query for a transaction that is not (or no longer) recorded.
    #[error("transaction #{0} is not recorded")]
    TxnNotRecorded(u64),
    /// Retrieval of the dataplane state failed, so a resync could not be planned.
    #[error("retrieve by {descriptor} failed: {source}")]
    Retrieve {
        descriptor: String,
        source: Box<KvError>,
    },
}

/// The bounded classification of [`KvError`], used as a metrics label and for policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    InvalidValue,
    Dataplane,
    Unsupported,
    Registration,
    NotFound,
    Retrieve,
}

impl KvError {
    /// A dataplane failure worth retrying later (a timeout, a busy resource).
    pub fn retriable(message: impl Into<String>) -> Self {
        KvError::Dataplane {
            message: message.into(),
            retriable: true,
        }
    }

    /// A dataplane failure that retrying will not fix.
    pub fn fatal(message: impl Into<String>) -> Self {
        KvError::Dataplane {
            message: message.into(),
            retriable: false,
        }
    }

    /// An invalid value, with the names of the offending fields.
    pub fn invalid(reason: impl Into<String>, fields: &[&str]) -> Self {
        KvError::InvalidValue {
            reason: reason.into(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            KvError::InvalidValue { .. } => ErrorKind::InvalidValue,
            KvError::Dataplane { .. } => ErrorKind::Dataplane,
            KvError::Unsupported { .. } => ErrorKind::Unsupported,
            KvError::DuplicateDescriptor(_) => ErrorKind::Registration,
            KvError::Unimplemented(_)
            | KvError::UnknownKeyPrefix(_)
            | KvError::TxnNotRecorded(_) => ErrorKind::NotFound,
            KvError::Retrieve { .. } => ErrorKind::Retrieve,
        }
    }

    /// Default retry classification; a descriptor may override it per error.
    pub fn is_retriable(&self) -> bool {
        match self {
            KvError::Dataplane { retriable, .. } => *retriable,
            KvError::Retrieve { source, .. } => source.is_retriable(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert!(KvError::retriable("busy").is_retriable());
        assert!(!KvError::fatal("no such bd").is_retriable());
        assert!(!KvError::invalid("bad mtu", &["mtu"]).is_retriable());
        let wrapped = KvError::Retrieve {
            descriptor: "vpp-interface".into(),
            source: Box::new(KvError::retriable("timeout")),
        };
        assert!(wrapped.is_retriable());
        assert_eq!(wrapped.kind(), ErrorKind::Retrieve);
        assert_eq!(
            wrapped.to_string(),
            "retrieve by vpp-interface failed: timeout"
        );
    }
}
