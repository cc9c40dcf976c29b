//! The crate's one error type, [`ConnectorError`], with a bounded [`ErrorKind`] and
//! [`ConnectorError::is_retriable`] for retry policy and metrics labels.
//!
//! Deliberately not here: retry loops (each backend's watch task owns its own reconnect)
//! and any classification by error text (variants are chosen where the error is made).

use std::path::PathBuf;
use std::time::Duration;

/// Which store an error comes from; also the `connector` field in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Store {
    Etcd,
    Redis,
    Consul,
    Embedded,
    FileDb,
}

impl Store {
    /// The lower-case name used in error text, logs and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Store::Etcd => "etcd",
            Store::Redis => "redis",
            Store::Consul => "consul",
            Store::Embedded => "embedded",
            Store::FileDb => "filedb",
        }
    }
}

impl std::fmt::Display for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A boxed lower-level cause (client library error, io error).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything a connector can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The store could not be reached at all.
    #[error("{store} cannot connect to {endpoint}: {source}")]
    Connect {
        store: Store,
        endpoint: String,
        #[source]
        source: BoxError,
    },
    /// The connection broke during an operation on `key` (or a prefix).
    #[error("{store} connection lost during {op} of {key}: {source}")]
    Disconnected {
        store: Store,
        op: &'static str,
        key: String,
        #[source]
        source: BoxError,
    },
    /// The operation did not finish in time.
    #[error("{store} {op} of {key} timed out after {after:?}")]
    Timeout {
        store: Store,
        op: &'static str,
        key: String,
        after: Duration,
    },
    /// The store answered and refused (permissions, protocol status, bad request).
    #[error("{store} refused {op} of {key}: {reason}")]
    Rejected {
        store: Store,
        op: &'static str,
        key: String,
        reason: String,
    },
    /// The value is larger than the store accepts.
    #[error("{store} value of {key} is {size} bytes, over the store's limit of {limit} bytes")]
    ValueTooLarge {
        store: Store,
        key: String,
        size: usize,
        limit: usize,
    },
    /// The key cannot be used with this store.
    #[error("{store} invalid key {key:?}: {reason}")]
    BadKey {
        store: Store,
        key: String,
        reason: &'static str,
    },
    /// The value cannot be stored by this store (fileDB needs JSON).
    #[error("{store} value of {key} cannot be stored: {reason}")]
    BadValue {
        store: Store,
        key: String,
        reason: String,
    },
    /// Redis keyspace notifications are not enabled on the server.
    #[error(
        "redis at {endpoint} has keyspace notifications off (notify-keyspace-events is {current:?}); \
         set `notify-keyspace-events KA` (at least `K$g`) in redis.conf or run \
         `redis-cli config set notify-keyspace-events KA`"
    )]
    NotificationsOff { endpoint: String, current: String },
    /// A fileDB file could not be parsed; the last good content of the file stays applied.
    #[error("filedb cannot parse {path}{}: {message}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    BadFile {
        path: PathBuf,
        line: Option<u64>,
        message: String,
    },
    /// A local file operation failed.
    #[error("{store} {op} {path}: {source}")]
    Io {
        store: Store,
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The embedded database failed.
    #[error("embedded database {path}: {source}")]
    Database {
        path: PathBuf,
        #[source]
        source: BoxError,
    },
    /// Another process holds the embedded database file.
    #[error("embedded database {path} is locked by another process (waited {waited:?})")]
    Locked { path: PathBuf, waited: Duration },
    /// An option asks for something this build cannot do.
    #[error("{store} option {option} is not supported: {reason}")]
    Unsupported {
        store: Store,
        option: &'static str,
        reason: &'static str,
    },
    /// A TLS file named in the config is missing, unreadable or not what the field needs.
    #[error("{store} {field} {path}: {reason}")]
    TlsFile {
        store: Store,
        /// The config field (`ca-file`, `tls.cert-file`, ...).
        field: &'static str,
        path: PathBuf,
        reason: String,
    },
    /// The TLS handshake with the store failed: a certificate the other side does not accept.
    #[error("{store} tls handshake with {endpoint} failed: {reason}")]
    TlsHandshake {
        store: Store,
        endpoint: String,
        reason: String,
    },
    /// The store replied with something that does not follow its protocol.
    #[error("{store} unexpected reply to {op} of {key}: {detail}")]
    Protocol {
        store: Store,
        op: &'static str,
        key: String,
        detail: String,
    },
    /// The backend was closed.
    #[error("{store} connector is closed")]
    Closed { store: Store },
}

/// The bounded classification of [`ConnectorError`], for retry policy and metric labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Connect,
    Disconnected,
    Timeout,
    Rejected,
    ValueTooLarge,
    BadKey,
    BadValue,
    NotificationsOff,
    BadFile,
    Io,
    Database,
    Locked,
    Unsupported,
    Tls,
    Protocol,
    Closed,
}

impl ConnectorError {
    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ConnectorError::Connect { .. } => ErrorKind::Connect,
            ConnectorError::Disconnected { .. } => ErrorKind::Disconnected,
            ConnectorError::Timeout { .. } => ErrorKind::Timeout,
            ConnectorError::Rejected { .. } => ErrorKind::Rejected,
            ConnectorError::ValueTooLarge { .. } => ErrorKind::ValueTooLarge,
            ConnectorError::BadKey { .. } => ErrorKind::BadKey,
            ConnectorError::BadValue { .. } => ErrorKind::BadValue,
            ConnectorError::NotificationsOff { .. } => ErrorKind::NotificationsOff,
            ConnectorError::BadFile { .. } => ErrorKind::BadFile,
            ConnectorError::Io { .. } => ErrorKind::Io,
            ConnectorError::Database { .. } => ErrorKind::Database,
            ConnectorError::Locked { .. } => ErrorKind::Locked,
            ConnectorError::Unsupported { .. } => ErrorKind::Unsupported,
            ConnectorError::TlsFile { .. } | ConnectorError::TlsHandshake { .. } => ErrorKind::Tls,
            ConnectorError::Protocol { .. } => ErrorKind::Protocol,
            ConnectorError::Closed { .. } => ErrorKind::Closed,
        }
    }

    /// Whether trying the same operation again later can succeed.
    pub fn is_retriable(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::Connect
                | ErrorKind::Disconnected
                | ErrorKind::Timeout
                | ErrorKind::Locked
                | ErrorKind::Io
        )
    }
}

/// The crate's result type.
pub type Result<T, E = ConnectorError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_lowercase_and_names_the_key() {
        let err = ConnectorError::Timeout {
            store: Store::Etcd,
            op: "put",
            key: "/vnf-agent/vpp1/config/x".into(),
            after: Duration::from_secs(3),
        };
        let text = err.to_string();
        assert_eq!(
            text,
            "etcd put of /vnf-agent/vpp1/config/x timed out after 3s"
        );
        assert!(err.is_retriable());
        assert_eq!(err.kind(), ErrorKind::Timeout);
    }

    #[test]
    fn notifications_off_says_what_to_set() {
        let err = ConnectorError::NotificationsOff {
            endpoint: "127.0.0.1:6379".into(),
            current: String::new(),
        };
        let text = err.to_string();
        assert!(text.contains("notify-keyspace-events KA"), "{text}");
        assert!(text.contains("K$g"), "{text}");
        assert!(!err.is_retriable());
    }

    #[test]
    fn bad_file_names_path_and_line() {
        let err = ConnectorError::BadFile {
            path: "/etc/agent/a.json".into(),
            line: Some(3),
            message: "expected value".into(),
        };
        assert_eq!(
            err.to_string(),
            "filedb cannot parse /etc/agent/a.json at line 3: expected value"
        );
    }
}
