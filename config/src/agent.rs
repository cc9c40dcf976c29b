//! Building the agent's whole configuration from parsed flags and the environment: which file
//! each plugin reads (Ligato's lookup), the typed configs, the microservice label, and which KV
//! stores and servers run.
//!
//! Lookup, as cn-infra `config/plugin_config.go` does it: the path from `--<plugin>-config`, else
//! from `<PLUGIN>_CONFIG`, else the default name `<plugin>.conf`; first as given, then under the
//! config dir. We are stricter than Ligato in one place: a path given explicitly (flag or env)
//! that exists in neither place is an error naming it, where Ligato silently runs with defaults.
//! It deliberately does not start anything and never writes to the process env.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::ArgMatches;

use crate::cli::{CONFIG_DIR, Environment, GRPC_PORT, GlobalFlag, HTTP_PORT, MICROSERVICE_LABEL};
use crate::error::ConfigError;
use crate::rpc::DEFAULT_HOST;
use crate::table::{PluginConfig, PluginInfo};
use crate::{
    BoltConfig, ConsulConfig, EtcdConfig, FileDbConfig, GovppConfig, GrpcConfig, HttpConfig,
    KvSchedulerConfig, LinuxIfPluginConfig, LogsConfig, RedisConfig, TelemetryConfig,
    VppIfPluginConfig,
};

/// The label used when neither `--microservice-label` nor `MICROSERVICE_LABEL` is set.
pub const DEFAULT_MICROSERVICE_LABEL: &str = "vpp1";

/// One plugin's config and the file it came from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Loaded<T> {
    /// The typed config: the file's values over Ligato's defaults.
    pub config: T,
    /// The file read, as found (given path or `<config-dir>/<path>`); `None`: not configured,
    /// the config is all defaults.
    pub source: Option<PathBuf>,
}

impl<T> Loaded<T> {
    /// Whether a config file was found for this plugin.
    pub fn is_configured(&self) -> bool {
        self.source.is_some()
    }
}

/// A KV store the agent can watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KvStore {
    /// etcd.
    Etcd,
    /// Redis.
    Redis,
    /// Consul.
    Consul,
    /// The embedded store (Ligato's bolt).
    Bolt,
    /// Local files.
    FileDb,
}

impl KvStore {
    /// The plugin name, e.g. `filedb`.
    pub fn name(self) -> &'static str {
        match self {
            KvStore::Etcd => "etcd",
            KvStore::Redis => "redis",
            KvStore::Consul => "consul",
            KvStore::Bolt => "bolt",
            KvStore::FileDb => "filedb",
        }
    }
}

/// Everything the agent needs to start.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentConfig {
    /// `--microservice-label` / `MICROSERVICE_LABEL`, default `vpp1`.
    pub microservice_label: String,
    /// `--config-dir` / `CONFIG_DIR`, default `.`.
    pub config_dir: PathBuf,
    pub etcd: Loaded<EtcdConfig>,
    pub redis: Loaded<RedisConfig>,
    pub consul: Loaded<ConsulConfig>,
    pub bolt: Loaded<BoltConfig>,
    pub filedb: Loaded<FileDbConfig>,
    pub govpp: Loaded<GovppConfig>,
    pub http: Loaded<HttpConfig>,
    pub grpc: Loaded<GrpcConfig>,
    pub kvscheduler: Loaded<KvSchedulerConfig>,
    pub logs: Loaded<LogsConfig>,
    pub linux_ifplugin: Loaded<LinuxIfPluginConfig>,
    pub vpp_ifplugin: Loaded<VppIfPluginConfig>,
    pub telemetry: Loaded<TelemetryConfig>,
    /// The KV stores to run, in [`KvStore`] order: every store connector with a config file,
    /// and the embedded store when it has a file or no other store is configured.
    pub kv_stores: Vec<KvStore>,
    /// Whether the gRPC server runs: it has a config file or `--grpc-port` / `GRPC_PORT`.
    pub grpc_enabled: bool,
}

/// Where a flag's value came from, for messages.
fn origin_flag(flag: &str) -> String {
    format!("--{flag}")
}

fn origin_env(var: &str) -> String {
    format!("env {var}")
}

struct Inputs<'a> {
    matches: &'a ArgMatches,
    env: &'a Environment,
    config_dir: PathBuf,
}

impl Inputs<'_> {
    fn flag_string(&self, flag: &'static str) -> Result<Option<String>, ConfigError> {
        match self.matches.try_get_one::<String>(flag) {
            Ok(v) => Ok(v.cloned()),
            Err(e) => Err(undefined(flag, &e)),
        }
    }

    fn flag_path(&self, flag: &'static str) -> Result<Option<PathBuf>, ConfigError> {
        match self.matches.try_get_one::<PathBuf>(flag) {
            Ok(v) => Ok(v.cloned()),
            Err(e) => Err(undefined(flag, &e)),
        }
    }

    fn flag_os(&self, flag: &'static str) -> Result<Option<PathBuf>, ConfigError> {
        match self.matches.try_get_one::<std::ffi::OsString>(flag) {
            Ok(v) => Ok(v.map(PathBuf::from)),
            Err(e) => Err(undefined(flag, &e)),
        }
    }

    /// The flag's value, else the env var's, with its origin.
    fn global(&self, g: GlobalFlag) -> Result<Option<(String, String)>, ConfigError> {
        if let Some(v) = self.flag_string(g.flag)? {
            return Ok(Some((v, origin_flag(g.flag))));
        }
        Ok(self
            .env
            .get(g.env)
            .map(|v| (v.to_owned(), origin_env(g.env))))
    }

    fn port(&self, g: GlobalFlag) -> Result<Option<u16>, ConfigError> {
        let Some((value, origin)) = self.global(g)? else {
            return Ok(None);
        };
        value
            .parse::<u16>()
            .map(Some)
            .map_err(|_| ConfigError::BadValue {
                origin,
                value,
                message: "not a port number (0-65535)".to_owned(),
            })
    }

    /// Finds the plugin's file: explicit (flag, then env) or Ligato's default `<name>.conf`;
    /// each tried as given, then under the config dir. An explicitly empty flag
    /// (`--etcd-config=`) means "no file", as in Ligato, and skips the default name too.
    fn locate(&self, info: &PluginInfo) -> Result<Option<PathBuf>, ConfigError> {
        let explicit = match self.flag_os(info.flag)? {
            Some(path) if path.as_os_str().is_empty() => return Ok(None),
            Some(path) => Some((path, origin_flag(info.flag))),
            None => self
                .env
                .get(info.env)
                .map(|v| (PathBuf::from(v), origin_env(info.env))),
        };
        let (path, origin) = match explicit {
            Some((path, origin)) => (path, Some(origin)),
            None => (PathBuf::from(format!("{}.conf", info.name)), None),
        };
        let under_dir = self.config_dir.join(&path);
        if path.exists() {
            Ok(Some(path))
        } else if under_dir.exists() {
            Ok(Some(under_dir))
        } else if let Some(origin) = origin {
            Err(ConfigError::NotFound {
                plugin: info.name,
                path,
                origin,
                looked_in: under_dir,
            })
        } else {
            Ok(None)
        }
    }

    fn load<T: PluginConfig>(&self) -> Result<(Loaded<T>, BTreeSet<String>), ConfigError> {
        match self.locate(&T::INFO)? {
            None => Ok((Loaded::default(), BTreeSet::new())),
            Some(path) => {
                let (config, keys) = read_file::<T>(&path)?;
                Ok((
                    Loaded {
                        config,
                        source: Some(path),
                    },
                    keys,
                ))
            }
        }
    }
}

fn undefined(flag: &'static str, err: &clap::parser::MatchesError) -> ConfigError {
    ConfigError::ArgNotDefined {
        flag,
        reason: err.to_string(),
    }
}

/// Reads and decodes one plugin config file; also returns the top-level keys it sets.
fn read_file<T: PluginConfig>(path: &Path) -> Result<(T, BTreeSet<String>), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        plugin: T::INFO.name,
        path: path.to_owned(),
        source,
    })?;
    crate::yaml::decode(path, &text)
}

/// Reads one plugin config file into its typed struct (no lookup, no flags): for tools and
/// tests that have a path in hand.
pub fn load_file<T: PluginConfig>(path: &Path) -> Result<T, ConfigError> {
    read_file::<T>(path).map(|(config, _)| config)
}

fn check_label(label: String, origin: String) -> Result<String, ConfigError> {
    if label.is_empty() || label.contains('/') || label.chars().any(char::is_whitespace) {
        return Err(ConfigError::BadValue {
            origin,
            value: label,
            message: "a microservice label must be non-empty, without '/' or whitespace".to_owned(),
        });
    }
    Ok(label)
}

impl AgentConfig {
    /// Builds the configuration from matches of a command that has [`crate::args`] and from
    /// `env` (use [`Environment::process`] in the binary). Flags win over env vars; see the
    /// module doc for the file lookup.
    ///
    /// After loading, Ligato's env and flag overrides apply:
    /// - etcd: see [`EtcdConfig::apply_ligato_fallbacks`] (`ETCD_ENDPOINTS` when the file has
    ///   no `endpoints`, zero timeouts mean the defaults, `ETCD_EXPAND_ENV_VARS`);
    /// - consul `address` from `CONSUL_HTTP_ADDR` when the file sets none (the Consul client's
    ///   own default, which Ligato inherits);
    /// - `--http-port`/`HTTP_PORT` and `--grpc-port`/`GRPC_PORT` set `127.0.0.1:<port>` when the
    ///   file sets no `endpoint` (Ligato binds `0.0.0.0`; we bind loopback; a gRPC port also
    ///   turns gRPC on, which Ligato's ignored flag does not);
    /// - `INITIAL_LOGLVL` replaces the file's `default-level`, as Ligato's log manager does;
    /// - `VPP_STATUS_PUBLISHERS` (comma separated here; Ligato appends the whole value as one
    ///   name) is appended to `status-publishers`;
    /// - a non-empty `GOVPPMUX_NOSOCK` forces shared memory.
    pub fn from_matches(matches: &ArgMatches, env: &Environment) -> Result<Self, ConfigError> {
        let mut inputs = Inputs {
            matches,
            env,
            config_dir: PathBuf::from("."),
        };
        if let Some(dir) = inputs.flag_path(CONFIG_DIR.flag)? {
            inputs.config_dir = dir;
        } else if let Some(dir) = env.get(CONFIG_DIR.env) {
            inputs.config_dir = PathBuf::from(dir);
        }
        let microservice_label = match inputs.global(MICROSERVICE_LABEL)? {
            Some((label, origin)) => check_label(label, origin)?,
            None => DEFAULT_MICROSERVICE_LABEL.to_owned(),
        };
        let http_port = inputs.port(HTTP_PORT)?;
        let grpc_port = inputs.port(GRPC_PORT)?;

        let (mut etcd, _) = inputs.load::<EtcdConfig>()?;
        etcd.config
            .apply_ligato_fallbacks(|var| env.get(var).map(str::to_owned));
        let (redis, _) = inputs.load::<RedisConfig>()?;
        let (mut consul, consul_keys) = inputs.load::<ConsulConfig>()?;
        if let Some(address) = env.get("CONSUL_HTTP_ADDR")
            && !consul_keys.contains("address")
        {
            consul.config.address = address.to_owned();
        }
        let (bolt, _) = inputs.load::<BoltConfig>()?;
        let (filedb, _) = inputs.load::<FileDbConfig>()?;
        let (mut govpp, _) = inputs.load::<GovppConfig>()?;
        if env.get("GOVPPMUX_NOSOCK").is_some() {
            govpp.config.connect_via_shm = true;
        }
        let (mut http, http_keys) = inputs.load::<HttpConfig>()?;
        if let Some(port) = http_port.filter(|_| !http_keys.contains("endpoint")) {
            http.config.endpoint = format!("{DEFAULT_HOST}:{port}");
        }
        let (mut grpc, grpc_keys) = inputs.load::<GrpcConfig>()?;
        if let Some(port) = grpc_port.filter(|_| !grpc_keys.contains("endpoint")) {
            grpc.config.endpoint = format!("{DEFAULT_HOST}:{port}");
        }
        let (kvscheduler, _) = inputs.load::<KvSchedulerConfig>()?;
        let (mut logs, _) = inputs.load::<LogsConfig>()?;
        if let Some(level) = env.get("INITIAL_LOGLVL") {
            logs.config.default_level = level.parse().map_err(|message| ConfigError::BadValue {
                origin: origin_env("INITIAL_LOGLVL"),
                value: level.to_owned(),
                message,
            })?;
        }
        let (linux_ifplugin, _) = inputs.load::<LinuxIfPluginConfig>()?;
        let (mut vpp_ifplugin, _) = inputs.load::<VppIfPluginConfig>()?;
        if let Some(publishers) = env.get("VPP_STATUS_PUBLISHERS") {
            for name in publishers
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
            {
                let publisher = name.parse().map_err(|message| ConfigError::BadValue {
                    origin: origin_env("VPP_STATUS_PUBLISHERS"),
                    value: publishers.to_owned(),
                    message,
                })?;
                vpp_ifplugin.config.status_publishers.push(publisher);
            }
        }
        let (telemetry, _) = inputs.load::<TelemetryConfig>()?;

        let mut kv_stores: Vec<KvStore> = [
            (KvStore::Etcd, etcd.is_configured()),
            (KvStore::Redis, redis.is_configured()),
            (KvStore::Consul, consul.is_configured()),
            (KvStore::FileDb, filedb.is_configured()),
        ]
        .into_iter()
        .filter_map(|(store, on)| on.then_some(store))
        .collect();
        if bolt.is_configured() || kv_stores.is_empty() {
            kv_stores.push(KvStore::Bolt);
        }
        kv_stores.sort();
        let grpc_enabled = grpc.is_configured() || grpc_port.is_some();

        Ok(Self {
            microservice_label,
            config_dir: inputs.config_dir,
            etcd,
            redis,
            consul,
            bolt,
            filedb,
            govpp,
            http,
            grpc,
            kvscheduler,
            logs,
            linux_ifplugin,
            vpp_ifplugin,
            telemetry,
            kv_stores,
            grpc_enabled,
        })
    }

    /// Parses `args` (the program name first) with [`crate::command`] and builds the
    /// configuration; clap's errors (including `--help`) come back as [`ConfigError::Cli`], to
    /// be shown with `clap::Error::exit`.
    pub fn from_args<I, T>(args: I, env: &Environment) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = crate::command()
            .try_get_matches_from(crate::ligato_style_args(args))
            .map_err(ConfigError::Cli)?;
        Self::from_matches(&matches, env)
    }

    /// Whether the HTTP server runs (unless its file says `disabled: true`).
    pub fn http_enabled(&self) -> bool {
        !self.http.config.disabled
    }

    /// Whether `store` runs.
    pub fn kv_store_enabled(&self, store: KvStore) -> bool {
        self.kv_stores.contains(&store)
    }

    /// Each plugin's name and the file it read, `None` when not configured: for the start-up
    /// log.
    pub fn sources(&self) -> Vec<(&'static str, Option<&Path>)> {
        fn row<T: PluginConfig>(l: &Loaded<T>) -> (&'static str, Option<&Path>) {
            (T::INFO.name, l.source.as_deref())
        }
        vec![
            row(&self.etcd),
            row(&self.redis),
            row(&self.consul),
            row(&self.bolt),
            row(&self.filedb),
            row(&self.govpp),
            row(&self.http),
            row(&self.grpc),
            row(&self.kvscheduler),
            row(&self.logs),
            row(&self.linux_ifplugin),
            row(&self.vpp_ifplugin),
            row(&self.telemetry),
        ]
    }
}
