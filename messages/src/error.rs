//! The error type of the `messages` crate: bad keys and bad values, always naming the key
//! (and the field, for a value) so a user can find what to fix.

/// What went wrong, as a bounded set for metrics labels and retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    UnknownKey,
    InvalidValue,
    KeyMismatch,
    Registry,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::UnknownKey => "unknown_key",
            ErrorKind::InvalidValue => "invalid_value",
            ErrorKind::KeyMismatch => "key_mismatch",
            ErrorKind::Registry => "registry",
        }
    }
}

/// An error about a key or a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("key {key:?} matches no registered model")]
    UnknownModel { key: String },
    #[error("key {key:?} has no name after the model prefix {prefix:?}")]
    EmptyName { key: String, prefix: String },
    #[error("value of key {key:?} is not a valid {message}: {}{reason}{}",
        field.as_ref().map(|f| format!("field {f:?}: ")).unwrap_or_default(),
        location.map(|(l, c)| format!(" (line {l}, column {c})")).unwrap_or_default())]
    InvalidValue {
        key: String,
        message: String,
        /// Dotted path of the offending field (`tap.host_if_name`, `ip_addresses[1]`).
        field: Option<String>,
        reason: String,
        location: Option<(usize, usize)>,
    },
    #[error("key {key:?} does not match its value, whose key is {expected:?}")]
    KeyMismatch { key: String, expected: String },
    #[error("no model is registered for message {name:?}")]
    UnknownMessage { name: String },
    #[error("model {model} cannot be registered: key prefix {prefix:?} is used by {existing}")]
    DuplicatePrefix {
        model: String,
        prefix: String,
        existing: String,
    },
    #[error("message {name:?} is not in the descriptor pool")]
    MissingDescriptor { name: String },
}

impl ModelError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ModelError::UnknownModel { .. } | ModelError::EmptyName { .. } => ErrorKind::UnknownKey,
            ModelError::InvalidValue { .. } => ErrorKind::InvalidValue,
            ModelError::KeyMismatch { .. } => ErrorKind::KeyMismatch,
            ModelError::UnknownMessage { .. }
            | ModelError::DuplicatePrefix { .. }
            | ModelError::MissingDescriptor { .. } => ErrorKind::Registry,
        }
    }

    /// Bad input never becomes good by retrying.
    pub fn is_retriable(&self) -> bool {
        false
    }
}
