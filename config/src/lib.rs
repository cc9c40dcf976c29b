//! Plugin configuration of vpp-agent-rs, compatible with Ligato's: one typed struct per plugin
//! config file (YAML, Ligato's field names and defaults), the `--<plugin>-config` flags and
//! `<PLUGIN>_CONFIG` env vars that name them, the config-dir lookup, the microservice label, and
//! the static tables that document all of it.
//!
//! The binary calls [`command`] (or adds [`args`] to its own command), then
//! [`AgentConfig::from_matches`] with [`Environment::process`]. Everything is plain data; this
//! crate deliberately has no actix or tokio, starts nothing and never writes the process env.
//!
//! ```
//! let env = config::Environment::from_iter([("MICROSERVICE_LABEL", "vpp7")]);
//! let cfg = config::AgentConfig::from_args(["vpp-agent"], &env).expect("defaults load");
//! assert_eq!(cfg.microservice_label, "vpp7");
//! assert_eq!(cfg.kv_stores, [config::KvStore::Bolt]);
//! assert_eq!(cfg.http.config.endpoint, "127.0.0.1:9191");
//! ```

mod agent;
mod cli;
pub mod duration;
mod error;
mod file_mode;
mod plugins;
mod rpc;
mod stores;
pub mod table;
mod yaml;

pub use agent::{AgentConfig, DEFAULT_MICROSERVICE_LABEL, KvStore, Loaded, load_file};
pub use cli::{
    CONFIG_DIR, Environment, GLOBAL_FLAGS, GRPC_PORT, GlobalFlag, HTTP_PORT, MICROSERVICE_LABEL,
    args, command, ligato_style_args,
};
pub use error::{ConfigError, ConfigErrorKind};
pub use file_mode::{FileMode, SocketPermission};
pub use plugins::{
    GovppConfig, KvSchedulerConfig, LinuxIfPluginConfig, LogHook, LogLevel, LoggerLevel,
    LogsConfig, StatusPublisher, TelemetryConfig, TelemetryMetric, VppIfPluginConfig,
};
pub use rpc::{
    DEFAULT_GRPC_ENDPOINT, DEFAULT_HTTP_ENDPOINT, GrpcConfig, GrpcNetwork, HttpConfig, HttpUser,
    RateLimiter,
};
pub use stores::{
    BoltConfig, ConsulConfig, DEFAULT_ETCD_ENDPOINT, EtcdConfig, FileDbConfig, RedisClientKind,
    RedisConfig, RedisPool, RedisTls,
};
pub use table::{FieldDoc, PLUGINS, PluginConfig, PluginInfo};
