//! The crate's one error type, [`Error`], with a bounded [`ErrorKind`] for retry policy and metric labels.
//!
//! Every error that concerns one message names it, and VPP return codes carry their meaning from
//! [`crate::retval`]. This module deliberately does not log; callers decide what to do with an error.

use crate::codec::CodecError;
use crate::codec::frame::FrameError;
use crate::retval::{retval_is_transient, retval_meaning};
use std::time::Duration;

/// The bounded classification of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The socket could not be opened, read or written.
    Io,
    /// The peer broke the framing or the handshake, or sent a message we cannot decode.
    Protocol,
    /// A value could not be encoded (too long a string, too many elements).
    Encode,
    /// No answer in time.
    Timeout,
    /// The connection is gone.
    Disconnected,
    /// VPP answered with a non-zero `retval`.
    Vpp,
    /// A message is missing from VPP's table or has another CRC.
    Incompatible,
    /// The code generator failed on its inputs.
    Generate,
}

impl ErrorKind {
    /// A short label, e.g. for metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Io => "io",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Encode => "encode",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Disconnected => "disconnected",
            ErrorKind::Vpp => "vpp",
            ErrorKind::Incompatible => "incompatible",
            ErrorKind::Generate => "generate",
        }
    }
}

/// Everything that can go wrong in binapi.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("connect to {path}: {source}")]
    Connect {
        path: String,
        source: std::io::Error,
    },
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("frame: {0}")]
    Frame(FrameError),
    #[error("handshake: {reason}")]
    Handshake { reason: String },
    #[error("{msg}: encode: {source}")]
    Encode {
        msg: &'static str,
        source: CodecError,
    },
    #[error("{msg}: decode: {source}")]
    Decode {
        msg: &'static str,
        source: CodecError,
    },
    #[error("{msg}: vpp returned {retval} ({meaning})")]
    Retval {
        msg: &'static str,
        retval: i32,
        meaning: &'static str,
    },
    #[error("{msg}: no reply within {after:?}")]
    Timeout { msg: &'static str, after: Duration },
    #[error("{msg}: connection closed: {reason}")]
    Disconnected { msg: &'static str, reason: String },
    #[error("{msg}: unexpected message {got} in reply")]
    UnexpectedReply { msg: &'static str, got: String },
    #[error("{name_crc} is not in vpp's message table")]
    UnknownMessage { name_crc: &'static str },
    #[error("no compatible release: {report}")]
    Incompatible { report: String },
    #[error("generate {path}: {reason}")]
    Generate { path: String, reason: String },
}

impl From<FrameError> for Error {
    fn from(e: FrameError) -> Self {
        match e {
            FrameError::Io(io) => Error::Io(io),
            other => Error::Frame(other),
        }
    }
}

impl Error {
    /// A VPP `retval` error for message `msg`.
    pub fn retval(msg: &'static str, retval: i32) -> Self {
        Error::Retval {
            msg,
            retval,
            meaning: retval_meaning(retval),
        }
    }

    /// The bounded classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Connect { .. } | Error::Io(_) => ErrorKind::Io,
            Error::Frame(_)
            | Error::Handshake { .. }
            | Error::Decode { .. }
            | Error::UnexpectedReply { .. } => ErrorKind::Protocol,
            Error::Encode { .. } => ErrorKind::Encode,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Disconnected { .. } => ErrorKind::Disconnected,
            Error::Retval { .. } => ErrorKind::Vpp,
            Error::UnknownMessage { .. } | Error::Incompatible { .. } => ErrorKind::Incompatible,
            Error::Generate { .. } => ErrorKind::Generate,
        }
    }

    /// Whether the same call may succeed later (after a reconnect for connection errors).
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Retval { retval, .. } => retval_is_transient(*retval),
            _ => matches!(
                self.kind(),
                ErrorKind::Io | ErrorKind::Protocol | ErrorKind::Timeout | ErrorKind::Disconnected
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retval_errors_name_the_message_and_the_meaning() {
        let e = Error::retval("sw_interface_set_flags", -2);
        assert_eq!(
            e.to_string(),
            "sw_interface_set_flags: vpp returned -2 (invalid sw_if_index)"
        );
        assert_eq!(e.kind(), ErrorKind::Vpp);
        assert!(!e.is_retriable());
        assert!(Error::retval("ip_path_mtu_get", -165).is_retriable());
    }

    #[test]
    fn connection_errors_are_retriable() {
        let e = Error::Disconnected {
            msg: "control_ping",
            reason: "eof".into(),
        };
        assert!(e.is_retriable());
        assert_eq!(e.kind().as_str(), "disconnected");
        let e = Error::UnknownMessage {
            name_crc: "tap_create_v3_3f3fd1df",
        };
        assert!(!e.is_retriable());
        assert_eq!(e.kind(), ErrorKind::Incompatible);
    }
}
