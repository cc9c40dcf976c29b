//! Start-up of the `vpp-agent` binary: the command line (every plugin config flag and env var
//! from the `config` crate, plus the binary's own flags), loading the configuration, and the
//! summary printed at start. It does not start any actor.

use std::ffi::OsString;
use std::fmt::Write;

use clap::{Arg, ArgAction, Command};
use config::{AgentConfig, ConfigError, Environment};

/// The `vpp-agent` command: the config crate's flags plus `--print-config`.
pub fn command() -> Command {
    config::command().version(env!("CARGO_PKG_VERSION")).arg(
        Arg::new("print-config")
            .long("print-config")
            .action(ArgAction::SetTrue)
            .help("Print the effective configuration (label, stores, which file each plugin read) and exit"),
    )
}

/// What the command line asked for.
#[derive(Debug)]
pub struct Startup {
    pub config: AgentConfig,
    pub print_config: bool,
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
    Ok(
        AgentConfig::from_matches(&matches, env).map(|config| Startup {
            config,
            print_config,
        }),
    )
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
