//! Message traces: the process-wide tracing set-up of the `vpp-agent` binary and the pieces
//! that make one KV change one trace.
//!
//! - [`init`] installs the subscriber: the log on stderr (text or JSON lines with the current
//!   span and the whole span list), the in-memory [`TraceStore`] of the last transactions
//!   (`GET /scheduler/txn-trace?seq-num=N`, `agentctl trace N`), and, with the `otlp` feature
//!   and `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) set, an OTLP/HTTP exporter.
//! - [`descriptor::traced`] wraps each descriptor so its operations get a span.
//!
//! Span names are `<actor>_<step>`: `connector_resync`, `connector_change` (the roots, one per
//! store event), `watcher_resync`, `watcher_change`, `orchestrator_resync`,
//! `orchestrator_change`, `orchestrator_client_txn`, `scheduler_txn`, `descriptor_op`,
//! `vpp_request`. Field names are the fixed vocabulary in [`fields`].
//!
//! Deliberately not here: the spans themselves (each actor creates its own, as a child of the
//! span its message carries) and metrics.

pub mod descriptor;
#[cfg(feature = "otlp")]
mod otlp;
pub mod rest;
pub mod store;

pub use descriptor::traced;
pub use store::{SpanNode, TraceStore};

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry, fmt};

/// The field vocabulary of spans and log lines, the same everywhere.
pub mod fields {
    /// The scheduler's transaction sequence number.
    pub const TXN_SEQ: &str = "txn_seq";
    /// A value's key, relative to the agent prefix (`config/vpp/v2/interfaces/tap1`).
    pub const KEY: &str = "key";
    /// The store a change came from (`etcd`, `redis`, `consul`, `embedded`, `filedb`).
    pub const CONNECTOR: &str = "connector";
    /// The VPP release the handler speaks (`23.06`).
    pub const VPP_VERSION: &str = "vpp_version";
    /// An error's text.
    pub const ERROR: &str = "error";
    /// A VPP request: the binary API message name, its context, the reply's retval and the
    /// round trip in microseconds.
    pub const MSG: &str = "msg";
    pub const CONTEXT: &str = "context";
    pub const RETVAL: &str = "retval";
    pub const LATENCY_US: &str = "latency_us";
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    /// One JSON object per line, with `span` (the current span) and `spans` (root first).
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "invalid log format {other:?}: expected text or json"
            )),
        }
    }
}

/// How [`init`] sets tracing up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    /// An `EnvFilter` directive (`info`, `warn,actors=debug`); `off` logs nothing.
    pub filter: String,
    pub format: LogFormat,
    /// Transactions whose traces are kept in memory; 0 turns the trace store off.
    pub txn_traces: usize,
    /// Export spans over OTLP/HTTP (the endpoint comes from the standard `OTEL_*` env).
    pub otlp: bool,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            filter: "info".to_owned(),
            format: LogFormat::Text,
            txn_traces: store::DEFAULT_CAPACITY,
            otlp: false,
        }
    }
}

/// Turns a Ligato level (`debug`, `info`, `warn`, `error`, `fatal`, `panic`) or an
/// `EnvFilter` directive into a directive, or says why it is neither.
pub fn level_directive(level: &str) -> Result<String, String> {
    let d = match level.to_ascii_lowercase().as_str() {
        "warning" => "warn".to_owned(),
        "fatal" | "panic" => "error".to_owned(),
        _ => level.to_owned(),
    };
    // A bare word must be a level: EnvFilter would take it for a target name.
    if !d.contains(['=', ',']) && d.parse::<LevelFilter>().is_err() {
        return Err(format!(
            "invalid log level {level:?}: expected trace, debug, info, warn, error or a filter directive"
        ));
    }
    EnvFilter::try_new(&d)
        .map(|_| d)
        .map_err(|e| format!("invalid log level {level:?}: {e}"))
}

/// The targets whose spans make the message trace (this workspace's crates).
fn trace_targets() -> Targets {
    Targets::new()
        .with_target("actors", LevelFilter::INFO)
        .with_target("vpp_agent", LevelFilter::INFO)
        .with_target("vpp", LevelFilter::INFO)
        .with_target("binapi", LevelFilter::INFO)
        .with_target("kvscheduler", LevelFilter::INFO)
        .with_target("linux", LevelFilter::INFO)
}

/// Flushes the OTLP exporter when dropped (keep it until the process ends).
#[must_use = "dropping the guard flushes and stops the OTLP exporter"]
#[derive(Debug, Default)]
pub struct TracingGuard {
    #[cfg(feature = "otlp")]
    otlp: Option<otlp::Exporter>,
}

/// Installs the process-wide subscriber described by `opts` (the log on stderr) and makes its
/// trace store the global one. Errors: an invalid filter, or an OTLP exporter that cannot be
/// built.
pub fn init(opts: &LogOptions) -> anyhow::Result<TracingGuard> {
    let (layers, guard) = layers(opts, std::io::stderr)?;
    tracing_subscriber::registry().with(layers).try_init()?;
    #[cfg(not(feature = "otlp"))]
    if opts.otlp {
        tracing::warn!(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but this build has no otlp feature; spans are not exported."
        );
    }
    Ok(guard)
}

/// One layer of the subscriber [`init`] installs.
pub type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// The layers [`init`] installs, the log written to `writer` (benchmarks use a sink).
pub fn layers<W>(opts: &LogOptions, writer: W) -> anyhow::Result<(Vec<BoxedLayer>, TracingGuard)>
where
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&opts.filter)?;
    let mut layers: Vec<BoxedLayer> = Vec::new();
    layers.push(match opts.format {
        LogFormat::Text => fmt::layer().with_writer(writer).with_filter(filter).boxed(),
        LogFormat::Json => fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_writer(writer)
            .with_filter(filter)
            .boxed(),
    });
    if opts.txn_traces > 0 {
        let store = TraceStore::new(opts.txn_traces);
        store.set_global();
        layers.push(store.layer().with_filter(trace_targets()).boxed());
    }
    #[allow(unused_mut)]
    let mut guard = TracingGuard::default();
    #[cfg(feature = "otlp")]
    if opts.otlp {
        let (exporter, layer) = otlp::build(trace_targets())?;
        guard.otlp = Some(exporter);
        layers.push(layer);
    }
    Ok((layers, guard))
}

/// Whether the standard OTLP env asks for trace export.
pub fn otlp_configured(env: &config::Environment) -> bool {
    env.get("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
        || env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ligato_levels_and_directives_are_accepted() {
        assert_eq!(level_directive("DEBUG").as_deref(), Ok("DEBUG"));
        assert_eq!(level_directive("warning").as_deref(), Ok("warn"));
        assert_eq!(level_directive("fatal").as_deref(), Ok("error"));
        assert_eq!(
            level_directive("info,actors=debug").as_deref(),
            Ok("info,actors=debug")
        );
        assert_eq!(level_directive("off").as_deref(), Ok("off"));
        for bad in ["loud", "actors=loud"] {
            let err = level_directive(bad).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn log_format_parses_text_and_json_only() {
        assert_eq!("JSON".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert_eq!("text".parse::<LogFormat>(), Ok(LogFormat::Text));
        assert!("xml".parse::<LogFormat>().unwrap_err().contains("\"xml\""));
    }
}

#[cfg(test)]
mod startup_tests {
    use super::*;
    use crate::startup;
    use config::Environment;

    fn log(args: &[&str], env: &[(&str, &str)]) -> Result<LogOptions, String> {
        let env: Environment = env.iter().copied().collect();
        let args = std::iter::once("vpp-agent").chain(args.iter().copied());
        match startup::parse(args, &env) {
            Ok(Ok(s)) => Ok(s.log),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn flags_beat_env_which_beats_rust_log_and_the_logs_config() {
        let l = log(&[], &[]).expect("defaults");
        assert_eq!(l, LogOptions::default());
        let l = log(&[], &[("RUST_LOG", "warn"), ("INITIAL_LOGLVL", "debug")]).expect("env");
        assert_eq!(l.filter, "warn");
        let l = log(&[], &[("INITIAL_LOGLVL", "debug")]).expect("env");
        assert_eq!(l.filter, "debug");
        let env = [
            ("LOG_LEVEL", "error"),
            ("RUST_LOG", "warn"),
            ("LOG_FORMAT", "json"),
        ];
        let l = log(&[], &env).expect("env");
        assert_eq!((l.filter.as_str(), l.format), ("error", LogFormat::Json));
        let l = log(&["--log-level", "debug", "--log-format", "text"], &env).expect("flags");
        assert_eq!((l.filter.as_str(), l.format), ("debug", LogFormat::Text));
        let l = log(
            &[],
            &[
                ("TXN_TRACES", "0"),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ],
        )
        .expect("env");
        assert_eq!((l.txn_traces, l.otlp), (0, true));
    }

    #[test]
    fn bad_log_settings_are_usage_errors_naming_the_value() {
        let e = log(&["--log-level", "loud"], &[]).unwrap_err();
        assert!(e.contains("\"loud\""), "{e}");
        let e = log(&[], &[("LOG_FORMAT", "xml")]).unwrap_err();
        assert!(e.contains("\"xml\""), "{e}");
        let e = log(&[], &[("TXN_TRACES", "many")]).unwrap_err();
        assert!(e.contains("\"many\""), "{e}");
        // An unparsable RUST_LOG falls back to the default level, as it always did.
        assert_eq!(
            log(&[], &[("RUST_LOG", "x=loud")]).expect("lenient").filter,
            "info"
        );
    }
}
