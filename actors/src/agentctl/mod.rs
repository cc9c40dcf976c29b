//! `agentctl`, the operator's CLI, as a library (the binary only calls [`main`]): Ligato's
//! global flags and command tree (vpp-agent `cmd/agentctl`), one module per command group.
//!
//! | command | module | transport |
//! |---|---|---|
//! | `kvdb list\|get\|put\|del`, `import` | [`kvdb`] | the KV store (plugin config files, or `-e`) |
//! | `config history\|resync` | [`configure`] | REST `/scheduler/...` |
//! | `config get\|update\|delete\|retrieve\|watch` | [`grpc_config`] | gRPC ConfiguratorService |
//! | `dump`, `values`, `status` | [`state`] | REST `/scheduler/dump`, `/scheduler/status`, `/readiness` |
//! | `model list\|inspect` | [`model`] | the built-in model registry |
//! | `vpp cli\|info` | [`vpp`] | REST `/vpp/command` |
//! | `metrics list\|get` | [`metrics`] | REST `/metrics` |
//! | `trace SEQ` | [`trace`] | REST `/scheduler/txn-trace` |
//! | `report` | [`report`] | all of the above, into one `.tar.gz` |
//!
//! A new command group is one module with `command()` and `run()`, and one line each in
//! [`command`] and [`dispatch`].
//!
//! Exit codes: 0 ok, 1 error, 2 usage (clap's parse errors, a bad flag value, an unknown
//! model). Deliberately not here: Ligato's `log`, `service`, `generate` commands.

pub mod configure;
pub mod grpc_config;
pub mod kvdb;
pub mod metrics;
pub mod model;
pub mod output;
pub mod report;
pub mod rest;
pub mod state;
pub mod trace;
pub mod vpp;

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};
use config::{AgentConfig, Environment};
use messages::MicroserviceLabel;

use output::{Format, Output};

/// Ligato's default `--timeout`.
pub const DEFAULT_TIMEOUT: &str = "2m0s";

/// What went wrong; [`CtlError::exit_code`] maps it to the process exit code.
#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    /// The command line is wrong (exit 2).
    #[error("{0}")]
    Usage(String),
    /// No connection to the agent at all.
    #[error("cannot reach the agent at {addr}: {reason}")]
    Unreachable { addr: String, reason: String },
    /// The agent answered with an error.
    #[error("{what}: the agent answered http {status}: {message}")]
    Api {
        what: String,
        status: u16,
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// Anything else, already worded.
    #[error("{0}")]
    Failed(String),
}

impl CtlError {
    /// 2 for usage errors, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CtlError::Usage(_) => 2,
            _ => 1,
        }
    }

    pub fn failed(msg: impl std::fmt::Display) -> Self {
        CtlError::Failed(msg.to_string())
    }
}

/// The global flags, resolved (flag, then env var, then Ligato's default).
#[derive(Debug, Clone)]
pub struct Globals {
    /// `-H/--host` / `AGENT_HOST`.
    pub host: String,
    /// `--http-port` (9191).
    pub http_port: u16,
    /// `--grpc-port` (9111).
    pub grpc_port: u16,
    /// `--service-label` / `--label` / `--microservice-label` / `MICROSERVICE_LABEL`.
    pub label: MicroserviceLabel,
    /// `--timeout` (2m0s): each request to the agent.
    pub timeout: Duration,
    /// `--http-basic-auth` / `AGENTCTL_HTTP_BASIC_AUTH`: `user:password`.
    pub basic_auth: Option<(String, String)>,
    /// `-e/--etcd-endpoints` / `ETCD_ENDPOINTS`: use this etcd for `kvdb` instead of the
    /// store the plugin config files name.
    pub etcd_endpoints: Option<Vec<String>>,
    /// `-o/--output`.
    pub output: Output,
    /// `-f/--format`, if given (commands differ in what they show without it).
    pub format: Option<Format>,
}

impl Globals {
    /// `-f/--format`, YAML by default.
    pub fn format(&self) -> Format {
        self.format.unwrap_or_default()
    }
}

/// Everything a command needs.
#[derive(Debug)]
pub struct Ctx {
    pub globals: Globals,
    /// The store configuration (the same plugin config flags as `vpp-agent`).
    pub agent_config: AgentConfig,
}

impl Ctx {
    /// A REST client of the agent at `--host:--http-port`.
    pub fn rest(&self) -> Result<rest::AgentRest, CtlError> {
        rest::AgentRest::new(&self.globals)
    }
}

fn global(arg: Arg) -> Arg {
    arg.global(true)
}

/// agentctl's own global flags (Ligato's `cmd/agentctl/cli/flags.go`).
fn global_args() -> Vec<Arg> {
    vec![
        Arg::new("host")
            .short('H')
            .long("host")
            .env("AGENT_HOST")
            .value_name("HOST")
            .default_value("127.0.0.1")
            .help("address of the agent (REST and gRPC)"),
        Arg::new("service-label")
            .long("service-label")
            .visible_alias("label")
            .value_name("LABEL")
            .help("microservice label of the agent, the <label> of /vnf-agent/<label>/ [env: MICROSERVICE_LABEL] [default: vpp1]"),
        Arg::new("http-port")
            .long("http-port")
            .value_name("PORT")
            .default_value("9191")
            .help("the agent's REST port"),
        Arg::new("grpc-port")
            .long("grpc-port")
            .value_name("PORT")
            .default_value("9111")
            .help("the agent's gRPC port"),
        Arg::new("timeout")
            .long("timeout")
            .value_name("DURATION")
            .default_value(DEFAULT_TIMEOUT)
            .help("timeout of each request to the agent (Go syntax: 30s, 2m0s)"),
        Arg::new("etcd-endpoints")
            .short('e')
            .long("etcd-endpoints")
            .env("ETCD_ENDPOINTS")
            .value_name("HOST:PORT,...")
            .value_delimiter(',')
            .action(ArgAction::Append)
            .help("use this etcd for kvdb commands (default: the store of the plugin config files)"),
        Arg::new("http-basic-auth")
            .long("http-basic-auth")
            .env("AGENTCTL_HTTP_BASIC_AUTH")
            .value_name("USER:PASSWORD")
            .help("credentials for the agent's REST server"),
        Arg::new("output")
            .short('o')
            .long("output")
            .value_name("FORMAT")
            .value_parser(value_parser!(Output))
            .default_value("table")
            .help("tables for humans, json for scripts"),
        Arg::new("format")
            .short('f')
            .long("format")
            .value_name("FORMAT")
            .value_parser(value_parser!(Format))
            .help("how values are shown: yaml or json [default: yaml]"),
    ]
    .into_iter()
    .map(global)
    .collect()
}

/// The whole command line: agentctl's flags, the store's plugin config flags (as `vpp-agent`),
/// and every command group.
pub fn command() -> Command {
    // The agent's own --http-port/--grpc-port mean its server ports; agentctl's name the agent.
    let store_args = config::args()
        .into_iter()
        .filter(|a| !["http-port", "grpc-port"].contains(&a.get_id().as_str()))
        .map(|a| {
            let plugin = a.get_help_heading().is_some();
            let a = global(a);
            if plugin {
                a.help_heading("Store config files (as vpp-agent)")
            } else {
                a
            }
        });
    Command::new("agentctl")
        .about("Manage a vpp-agent: its configuration, state, VPP and diagnostics")
        .version(env!("CARGO_PKG_VERSION"))
        .subcommand_required(true)
        .arg_required_else_help(true)
        .args(global_args())
        .args(store_args)
        .subcommand(configure::command())
        .subcommand(kvdb::command())
        .subcommand(kvdb::import_command())
        .subcommand(state::dump_command())
        .subcommand(state::values_command())
        .subcommand(state::status_command())
        .subcommand(model::command())
        .subcommand(vpp::command())
        .subcommand(metrics::command())
        .subcommand(trace::command())
        .subcommand(report::command())
}

/// Runs the command chosen on the command line.
pub async fn dispatch(ctx: &Ctx, m: &ArgMatches) -> Result<(), CtlError> {
    match m.subcommand() {
        Some(("config", a)) => configure::run(ctx, a).await,
        Some(("kvdb", a)) => kvdb::run(ctx, a).await,
        Some(("import", a)) => kvdb::import(ctx, a).await,
        Some(("dump", a)) => state::dump(ctx, a).await,
        Some(("values", a)) => state::values(ctx, a).await,
        Some(("status", a)) => state::status(ctx, a).await,
        Some(("model", a)) => model::run(ctx, a),
        Some(("vpp", a)) => vpp::run(ctx, a).await,
        Some(("metrics", a)) => metrics::run(ctx, a).await,
        Some(("trace", a)) => trace::run(ctx, a).await,
        Some(("report", a)) => report::run(ctx, a).await,
        Some((other, _)) => Err(CtlError::Usage(format!("unknown command {other:?}"))),
        None => Err(CtlError::Usage("a command is required".to_owned())),
    }
}

fn usage(msg: impl std::fmt::Display) -> CtlError {
    CtlError::Usage(msg.to_string())
}

fn port(m: &ArgMatches, id: &str) -> Result<u16, CtlError> {
    let v = m.get_one::<String>(id).map(String::as_str).unwrap_or("");
    v.parse::<u16>()
        .map_err(|_| usage(format!("invalid --{id} {v:?}: not a port number (0-65535)")))
}

/// Resolves the global flags and the store config.
pub fn context(m: &ArgMatches, env: &Environment) -> Result<Ctx, CtlError> {
    let agent_config = AgentConfig::from_matches(m, env).map_err(usage)?;
    let label = m
        .get_one::<String>("service-label")
        .cloned()
        .unwrap_or_else(|| agent_config.microservice_label.clone());
    let label = MicroserviceLabel::new(label).map_err(usage)?;
    let timeout_text = m
        .get_one::<String>("timeout")
        .map(String::as_str)
        .unwrap_or(DEFAULT_TIMEOUT);
    let timeout = config::duration::parse_go_duration(timeout_text)
        .map_err(|e| usage(format!("--timeout: {e}")))?;
    if timeout.is_zero() {
        return Err(usage("--timeout: must be more than 0"));
    }
    let basic_auth = match m.get_one::<String>("http-basic-auth") {
        None => None,
        Some(s) if s.is_empty() => None,
        Some(s) => {
            let (user, pass) = s.split_once(':').ok_or_else(|| {
                usage("--http-basic-auth: expected USER:PASSWORD (no colon found)")
            })?;
            Some((user.to_owned(), pass.to_owned()))
        }
    };
    let etcd_endpoints = m
        .get_many::<String>("etcd-endpoints")
        .map(|v| {
            v.map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|v| !v.is_empty());
    let globals = Globals {
        host: m
            .get_one::<String>("host")
            .cloned()
            .unwrap_or_else(|| "127.0.0.1".to_owned()),
        http_port: port(m, "http-port")?,
        grpc_port: port(m, "grpc-port")?,
        label,
        timeout,
        basic_auth,
        etcd_endpoints,
        output: m.get_one::<Output>("output").copied().unwrap_or_default(),
        format: m.get_one::<Format>("format").copied(),
    };
    Ok(Ctx {
        globals,
        agent_config,
    })
}

/// The whole program: parse `args`, run, print errors, return the exit code.
pub fn main<I, T>(args: I, env: &Environment) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let args = config::ligato_style_args(args);
    let m = match command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = context(&m, env).and_then(|ctx| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CtlError::failed(format!("tokio runtime: {e}")))?;
        rt.block_on(dispatch(&ctx, &m))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("agentctl: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Ctx, CtlError> {
        let m = command()
            .try_get_matches_from(args)
            .map_err(|e| usage(e.to_string()))?;
        context(&m, &Environment::default())
    }

    #[test]
    fn command_is_well_formed() {
        command().debug_assert();
    }

    #[test]
    fn global_flags_resolve_with_ligato_defaults() {
        let ctx = parse(&["agentctl", "model", "list"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ctx.globals.host, "127.0.0.1");
        assert_eq!(ctx.globals.http_port, 9191);
        assert_eq!(ctx.globals.grpc_port, 9111);
        assert_eq!(ctx.globals.label.as_str(), "vpp1");
        assert_eq!(ctx.globals.timeout, Duration::from_secs(120));
        assert_eq!(ctx.globals.etcd_endpoints, None);
    }

    #[test]
    fn flags_may_follow_the_command_and_label_has_aliases() {
        let ctx = parse(&[
            "agentctl",
            "values",
            "--label",
            "vpp7",
            "-H",
            "10.0.0.1",
            "--http-port",
            "8000",
            "-e",
            "a:1,b:2",
            "--http-basic-auth",
            "u:p:w",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ctx.globals.label.as_str(), "vpp7");
        assert_eq!(ctx.globals.host, "10.0.0.1");
        assert_eq!(ctx.globals.http_port, 8000);
        assert_eq!(
            ctx.globals.etcd_endpoints,
            Some(vec!["a:1".to_owned(), "b:2".to_owned()])
        );
        assert_eq!(
            ctx.globals.basic_auth,
            Some(("u".to_owned(), "p:w".to_owned()))
        );
        let ctx = parse(&["agentctl", "--microservice-label", "x9", "status"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ctx.globals.label.as_str(), "x9");
    }

    #[test]
    fn bad_flag_values_are_usage_errors() {
        for args in [
            &["agentctl", "--http-port", "99999", "status"][..],
            &["agentctl", "--timeout", "soon", "status"],
            &["agentctl", "--http-basic-auth", "nocolon", "status"],
        ] {
            let err = parse(args).err().map(|e| (e.exit_code(), e.to_string()));
            assert!(matches!(err, Some((2, _))), "{args:?}: {err:?}");
        }
    }
}
