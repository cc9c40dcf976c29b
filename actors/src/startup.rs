//! Start-up of the `vpp-agent` binary: the command line (every plugin config flag and env var
//! from the `config` crate, plus the binary's own flags), loading the configuration, and the
//! summary printed at start. It does not start any actor.

use std::ffi::OsString;
use std::fmt::Write;

use clap::{Arg, ArgAction, Command};
use config::{AgentConfig, ConfigError, Environment};

/// The `vpp-agent` command: the config crate's flags plus `--print-config` and the log flags.
pub fn command() -> Command {
    config::command()
        .version(env!("CARGO_PKG_VERSION"))
        .arg(
            Arg::new("print-config")
                .long("print-config")
                .action(ArgAction::SetTrue)
                .help("Print the effective configuration (label, stores, which file each plugin read) and exit"),
        )
        .arg(
            Arg::new("log-level")
                .long("log-level")
                .value_name("LEVEL")
                .help("Log level (debug, info, warn, error) or a filter directive like info,actors=debug [env: LOG_LEVEL]; default: RUST_LOG, else the logs plugin's default-level"),
        )
        .arg(
            Arg::new("log-format")
                .long("log-format")
                .value_name("FORMAT")
                .help("Log line format: text or json (JSON lines with the span list) [env: LOG_FORMAT]"),
        )
}

/// What the command line asked for.
#[derive(Debug)]
pub struct Startup {
    pub config: AgentConfig,
    pub print_config: bool,
    /// Log level, format, trace store and OTLP export.
    pub log: crate::trace::LogOptions,
}

/// Parses arguments (Ligato's single-dash flags accepted) and loads every plugin config.
/// `Err(clap::Error)` covers `-h`, `--version` and usage errors; config errors name the file.
pub fn parse<I, T>(args: I, env: &Environment) -> Result<Result<Startup, ConfigError>, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let matches = command().try_get_matches_from(config::ligato_style_args(args))?;
    let print_config = matches.get_flag("print-config");
    let flag = |name: &str| matches.get_one::<String>(name).map(String::as_str);
    let config = match AgentConfig::from_matches(&matches, env) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let log = log_options(flag("log-level"), flag("log-format"), env, &config)
        .map_err(|m| command().error(clap::error::ErrorKind::InvalidValue, m))?;
    Ok(Ok(Startup {
        config,
        print_config,
        log,
    }))
}

/// The log settings: the level from `--log-level`, `LOG_LEVEL`, `RUST_LOG`, then the logs
/// plugin's `default-level` (which `INITIAL_LOGLVL` sets); the format from `--log-format`,
/// then `LOG_FORMAT`; OTLP export when the standard `OTEL_EXPORTER_OTLP_*ENDPOINT` is set;
/// `TXN_TRACES` transaction traces kept for REST (default 100, 0 turns the store off).
pub fn log_options(
    level: Option<&str>,
    format: Option<&str>,
    env: &Environment,
    cfg: &AgentConfig,
) -> Result<crate::trace::LogOptions, String> {
    let filter = match level.or(env.get("LOG_LEVEL")) {
        Some(l) => crate::trace::level_directive(l)?,
        // An unparsable RUST_LOG falls back to the default, as before the log flags existed.
        None => match env
            .get("RUST_LOG")
            .and_then(|d| crate::trace::level_directive(d).ok())
        {
            Some(d) => d,
            None => crate::trace::level_directive(cfg.logs.config.default_level.as_str())?,
        },
    };
    let format = match format.or(env.get("LOG_FORMAT")) {
        Some(f) => f.parse()?,
        None => crate::trace::LogFormat::Text,
    };
    let txn_traces = match env.get("TXN_TRACES") {
        Some(n) => n
            .parse()
            .map_err(|_| format!("invalid TXN_TRACES {n:?}: not a number"))?,
        None => crate::trace::store::DEFAULT_CAPACITY,
    };
    Ok(crate::trace::LogOptions {
        filter,
        format,
        txn_traces,
        otlp: crate::trace::otlp_configured(env),
    })
}

/// A human summary of the effective configuration.
pub fn summary(cfg: &AgentConfig) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "microservice label: {}", cfg.microservice_label);
    let _ = writeln!(out, "agent prefix: /vnf-agent/{}/", cfg.microservice_label);
    let stores: Vec<&str> = cfg.kv_stores.iter().map(|s| s.name()).collect();
    let _ = writeln!(out, "kv stores: {}", stores.join(", "));
    let _ = writeln!(
        out,
        "vpp api socket: {}",
        cfg.govpp.config.binapi_socket_path
    );
    let _ = writeln!(out, "http endpoint: {}", cfg.http.config.endpoint);
    if cfg.grpc_enabled {
        let _ = writeln!(out, "grpc endpoint: {}", cfg.grpc.config.endpoint);
    }
    let _ = writeln!(out, "plugin config files:");
    for (name, source) in cfg.sources() {
        match source {
            Some(path) => {
                let _ = writeln!(out, "  {name}: {}", path.display());
            }
            None => {
                let _ = writeln!(out, "  {name}: defaults");
            }
        }
    }
    out
}
