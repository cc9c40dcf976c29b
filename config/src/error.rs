//! The one error type of this crate: every way reading flags, env vars and plugin config files
//! can fail, each naming what the user has to fix (the file, line, column and field).
//!
//! clap's own errors (`--help`, unknown flags) are carried as they are, so the binary can print
//! them with `clap::Error::exit`; this module deliberately does not reword them.

use std::fmt;
use std::path::PathBuf;

/// Why the agent's configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A config file was named by a flag or env var but exists neither as given nor under the
    /// config dir.
    #[error("{plugin} config file {path} (from {origin}) not found, also looked in {looked_in}")]
    NotFound {
        /// Plugin name, e.g. `etcd`.
        plugin: &'static str,
        /// The path as given.
        path: PathBuf,
        /// `--etcd-config` or `env ETCD_CONFIG`.
        origin: String,
        /// `<config-dir>/<path>`, the second place looked at.
        looked_in: PathBuf,
    },
    /// The file exists but could not be read.
    #[error("cannot read {plugin} config file {path}: {source}")]
    Read {
        /// Plugin name.
        plugin: &'static str,
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not valid YAML, has an unknown field or a bad value.
    #[error("{}", ParseDisplay(self))]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line, when the YAML parser knows it.
        line: Option<u64>,
        /// 1-based column, when the YAML parser knows it.
        column: Option<u64>,
        /// The YAML path of the offending field, e.g. `loggers[0].level`; `None` at the top.
        field: Option<String>,
        /// What is wrong, from the YAML parser or our value checks.
        message: String,
    },
    /// A flag or env var other than a file path has a bad value (`--http-port=abc`).
    #[error("invalid value {value:?} for {origin}: {message}")]
    BadValue {
        /// `--http-port` or `env HTTP_PORT`.
        origin: String,
        /// The value given.
        value: String,
        /// What is wrong.
        message: String,
    },
    /// The parsed command line lacks one of our arguments (or has it with another type): the
    /// binary built its command without [`crate::args`]. A programming error, reported rather
    /// than panicking.
    #[error(
        "the command line has no usable --{flag} argument ({reason}); add config::args() to the command"
    )]
    ArgNotDefined {
        /// The flag, without dashes.
        flag: &'static str,
        /// clap's explanation.
        reason: String,
    },
    /// clap rejected the command line, or was asked for `--help` / `--version`.
    #[error(transparent)]
    Cli(clap::Error),
}

struct ParseDisplay<'a>(&'a ConfigError);

impl fmt::Display for ParseDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ConfigError::Parse {
            path,
            line,
            column,
            field,
            message,
        } = self.0
        else {
            return Ok(());
        };
        write!(f, "{}", path.display())?;
        if let Some(line) = line {
            write!(f, ":{line}")?;
            if let Some(column) = column {
                write!(f, ":{column}")?;
            }
        }
        match field {
            Some(field) => write!(f, ": field `{field}`: {message}"),
            None => write!(f, ": {message}"),
        }
    }
}

/// A bounded classification of [`ConfigError`], for metrics labels and exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConfigErrorKind {
    /// [`ConfigError::NotFound`].
    NotFound,
    /// [`ConfigError::Read`].
    Io,
    /// [`ConfigError::Parse`].
    Parse,
    /// [`ConfigError::BadValue`].
    BadValue,
    /// [`ConfigError::Cli`] and [`ConfigError::ArgNotDefined`].
    Cli,
}

impl ConfigError {
    /// The kind of this error.
    pub fn kind(&self) -> ConfigErrorKind {
        match self {
            ConfigError::NotFound { .. } => ConfigErrorKind::NotFound,
            ConfigError::Read { .. } => ConfigErrorKind::Io,
            ConfigError::Parse { .. } => ConfigErrorKind::Parse,
            ConfigError::BadValue { .. } => ConfigErrorKind::BadValue,
            ConfigError::Cli(_) | ConfigError::ArgNotDefined { .. } => ConfigErrorKind::Cli,
        }
    }

    /// Whether trying again unchanged could succeed: only a read error can (a file being
    /// replaced, a transient IO failure); everything else needs the user to fix something.
    pub fn is_retriable(&self) -> bool {
        matches!(self.kind(), ConfigErrorKind::Io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_names_file_line_column_and_field() {
        let err = ConfigError::Parse {
            path: PathBuf::from("/etc/etcd.conf"),
            line: Some(3),
            column: Some(15),
            field: Some("dial-timeout".to_owned()),
            message: "invalid duration \"x\"".to_owned(),
        };
        assert_eq!(
            err.to_string(),
            "/etc/etcd.conf:3:15: field `dial-timeout`: invalid duration \"x\""
        );
        assert_eq!(err.kind(), ConfigErrorKind::Parse);
        assert!(!err.is_retriable());
    }

    #[test]
    fn parse_error_without_position_or_field() {
        let err = ConfigError::Parse {
            path: PathBuf::from("a.conf"),
            line: None,
            column: None,
            field: None,
            message: "expected mapping start".to_owned(),
        };
        assert_eq!(err.to_string(), "a.conf: expected mapping start");
    }

    #[test]
    fn read_errors_are_the_only_retriable_ones() {
        let err = ConfigError::Read {
            plugin: "etcd",
            path: PathBuf::from("e.conf"),
            source: std::io::Error::other("boom"),
        };
        assert_eq!(err.kind(), ConfigErrorKind::Io);
        assert!(err.is_retriable());
        let err = ConfigError::BadValue {
            origin: "--http-port".to_owned(),
            value: "x".to_owned(),
            message: "not a port".to_owned(),
        };
        assert_eq!(
            err.to_string(),
            "invalid value \"x\" for --http-port: not a port"
        );
        assert!(!err.is_retriable());
    }
}
