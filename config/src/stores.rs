//! Config files of the KV store connectors: `etcd`, `redis`, `consul`, `bolt` (our embedded
//! store) and `filedb`, with Ligato's YAML field names and defaults (cn-infra `db/keyval/*`).
//!
//! It deliberately does not decide which stores run (see `agent`) and does not connect to
//! anything; values that depend on the environment (etcd's `ETCD_ENDPOINTS`) are filled in by
//! `agent` after loading.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::file_mode::FileMode;
use crate::table::{FieldDoc, PluginConfig, PluginInfo, default_json};

/// Where etcd is when neither the file nor `ETCD_ENDPOINTS`/`ETCDV3_ENDPOINTS` say.
pub const DEFAULT_ETCD_ENDPOINT: &str = "127.0.0.1:2379";

const fn field(name: &'static str, default: &'static str, meaning: &'static str) -> FieldDoc {
    FieldDoc {
        name,
        default,
        meaning,
    }
}

/// `etcd.conf` (cn-infra `db/keyval/etcd/config.go`); see [`EtcdConfig::INFO`] for the fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct EtcdConfig {
    pub endpoints: Vec<String>,
    #[serde(with = "crate::duration::go")]
    pub dial_timeout: Duration,
    #[serde(with = "crate::duration::go")]
    pub operation_timeout: Duration,
    pub insecure_transport: bool,
    pub insecure_skip_tls_verify: bool,
    pub cert_file: String,
    pub key_file: String,
    pub ca_file: String,
    #[serde(with = "crate::duration::go")]
    pub auto_compact: Duration,
    pub resync_after_reconnect: bool,
    pub allow_delayed_start: bool,
    #[serde(with = "crate::duration::go")]
    pub reconnect_interval: Duration,
    /// Seconds.
    pub session_ttl: u64,
    pub expand_env_variables: bool,
}

impl Default for EtcdConfig {
    fn default() -> Self {
        Self {
            endpoints: Vec::new(),
            dial_timeout: Duration::from_secs(1),
            operation_timeout: Duration::from_secs(3),
            insecure_transport: false,
            insecure_skip_tls_verify: false,
            cert_file: String::new(),
            key_file: String::new(),
            ca_file: String::new(),
            auto_compact: Duration::ZERO,
            resync_after_reconnect: false,
            allow_delayed_start: false,
            reconnect_interval: Duration::from_secs(2),
            session_ttl: 5,
            expand_env_variables: false,
        }
    }
}

impl EtcdConfig {
    /// What cn-infra's `ConfigToClient` does after loading, applied by `agent`:
    /// - empty `endpoints`: `ETCD_ENDPOINTS` (comma separated), then `ETCDV3_ENDPOINTS`, then
    ///   [`DEFAULT_ETCD_ENDPOINT`];
    /// - a zero `dial-timeout`, `operation-timeout`, `session-ttl` or `reconnect-interval`
    ///   means the default;
    /// - a non-empty `ETCD_EXPAND_ENV_VARS` turns `expand-env-variables` on.
    pub fn apply_ligato_fallbacks(&mut self, env: impl Fn(&str) -> Option<String>) {
        let defaults = EtcdConfig::default();
        if self.dial_timeout.is_zero() {
            self.dial_timeout = defaults.dial_timeout;
        }
        if self.operation_timeout.is_zero() {
            self.operation_timeout = defaults.operation_timeout;
        }
        if self.session_ttl == 0 {
            self.session_ttl = defaults.session_ttl;
        }
        if self.reconnect_interval.is_zero() {
            self.reconnect_interval = defaults.reconnect_interval;
        }
        if env("ETCD_EXPAND_ENV_VARS").is_some_and(|v| !v.is_empty()) {
            self.expand_env_variables = true;
        }
        if !self.endpoints.is_empty() {
            return;
        }
        for var in ["ETCD_ENDPOINTS", "ETCDV3_ENDPOINTS"] {
            let from_env: Vec<String> = env(var)
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if !from_env.is_empty() {
                self.endpoints = from_env;
                return;
            }
        }
        self.endpoints = vec![DEFAULT_ETCD_ENDPOINT.to_owned()];
    }
}

impl PluginConfig for EtcdConfig {
    const INFO: PluginInfo = PluginInfo {
        name: "etcd",
        flag: "etcd-config",
        env: "ETCD_CONFIG",
        description: "etcd KV store connector config file; without one the connector is off",
        fields: &[
            field(
                "endpoints",
                "[]",
                "etcd addresses; if empty, env ETCD_ENDPOINTS (comma separated), then ETCDV3_ENDPOINTS, then 127.0.0.1:2379",
            ),
            field(
                "dial-timeout",
                "1s",
                "timeout for establishing a connection; 0 means the default",
            ),
            field(
                "operation-timeout",
                "3s",
                "timeout of one KV operation; 0 means the default",
            ),
            field(
                "insecure-transport",
                "false",
                "plain TCP even when TLS files are set; otherwise TLS is on when cert-file, key-file or ca-file is set (or an endpoint is https://)",
            ),
            field(
                "insecure-skip-tls-verify",
                "false",
                "do not verify the server's certificate (only when TLS is on; alone it does not turn TLS on, as in Ligato)",
            ),
            field(
                "cert-file",
                "\"\"",
                "client TLS certificate (PEM); with key-file, mutual TLS",
            ),
            field("key-file", "\"\"", "client TLS key (PEM)"),
            field(
                "ca-file",
                "\"\"",
                "CA bundle (PEM) to verify the server; empty: the system's roots",
            ),
            field(
                "auto-compact",
                "0s",
                "compaction period; 0 disables it, below 1h is warned about",
            ),
            field(
                "resync-after-reconnect",
                "false",
                "full resync after the connection comes back",
            ),
            field(
                "allow-delayed-start",
                "false",
                "start without etcd and keep reconnecting",
            ),
            field(
                "reconnect-interval",
                "2s",
                "delay between reconnect attempts; 0 means the default",
            ),
            field(
                "session-ttl",
                "5",
                "lease TTL of the session, in seconds; 0 means the default",
            ),
            field(
                "expand-env-variables",
                "false",
                "expand ${VAR} in stored values before decoding; also on when env ETCD_EXPAND_ENV_VARS is non-empty",
            ),
        ],
        default_json: default_json::<EtcdConfig>,
    };
}

/// `redis.conf` (cn-infra `db/keyval/redis/config.go`): one file for the node, cluster and
/// sentinel clients; [`RedisConfig::client_kind`] picks one as Ligato does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct RedisConfig {
    pub endpoint: String,
    pub endpoints: Vec<String>,
    pub db: u32,
    pub enable_query_on_slave: bool,
    pub tls: RedisTls,
    /// Ligato's key is misspelt `max-rediects`; we also accept `max-redirects`.
    #[serde(rename = "max-rediects", alias = "max-redirects")]
    pub max_redirects: u32,
    pub route_by_latency: bool,
    pub master_name: String,
    pub password: String,
    #[serde(with = "crate::duration::go")]
    pub dial_timeout: Duration,
    #[serde(with = "crate::duration::go")]
    pub read_timeout: Duration,
    /// `None`: the read timeout.
    #[serde(with = "crate::duration::go_option")]
    pub write_timeout: Option<Duration>,
    pub pool: RedisPool,
}

/// `tls` of [`RedisConfig`] (node client only).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct RedisTls {
    pub enabled: bool,
    pub skip_verify: bool,
    pub cert_file: String,
    pub key_file: String,
    pub ca_file: String,
}

/// `pool` of [`RedisConfig`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct RedisPool {
    /// `None`: 10 per CPU.
    pub max_connections: Option<u32>,
    /// `None`: the read timeout plus 1s.
    #[serde(with = "crate::duration::go_option")]
    pub busy_timeout: Option<Duration>,
    #[serde(with = "crate::duration::go")]
    pub idle_timeout: Duration,
    #[serde(with = "crate::duration::go")]
    pub idle_check_frequency: Duration,
}

impl Default for RedisPool {
    fn default() -> Self {
        Self {
            max_connections: None,
            busy_timeout: None,
            idle_timeout: Duration::from_secs(300),
            idle_check_frequency: Duration::from_secs(60),
        }
    }
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            endpoints: Vec::new(),
            db: 0,
            enable_query_on_slave: false,
            tls: RedisTls::default(),
            max_redirects: 0,
            route_by_latency: false,
            master_name: String::new(),
            password: String::new(),
            dial_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(3),
            write_timeout: None,
            pool: RedisPool::default(),
        }
    }
}

/// Which Redis client a [`RedisConfig`] asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedisClientKind {
    /// `master-name` is set.
    Sentinel,
    /// `endpoint` is set.
    Node,
    /// Neither: `endpoints` are cluster nodes.
    Cluster,
}

impl RedisConfig {
    /// Ligato's choice: sentinel if `master-name` is set, else node if `endpoint` is set, else
    /// cluster.
    pub fn client_kind(&self) -> RedisClientKind {
        if !self.master_name.is_empty() {
            RedisClientKind::Sentinel
        } else if !self.endpoint.is_empty() {
            RedisClientKind::Node
        } else {
            RedisClientKind::Cluster
        }
    }

    /// `write-timeout`, or the read timeout when unset.
    pub fn write_timeout(&self) -> Duration {
        self.write_timeout.unwrap_or(self.read_timeout)
    }

    /// `pool.max-connections`, or 10 per CPU when unset.
    pub fn max_connections(&self, cpus: usize) -> u32 {
        let per_cpu = u32::try_from(cpus.max(1)).unwrap_or(u32::MAX / 10);
        self.pool
            .max_connections
            .unwrap_or_else(|| per_cpu.saturating_mul(10))
    }

    /// `pool.busy-timeout`, or the read timeout plus 1s when unset.
    pub fn busy_timeout(&self) -> Duration {
        self.pool
            .busy_timeout
            .unwrap_or(self.read_timeout + Duration::from_secs(1))
    }
}

impl PluginConfig for RedisConfig {
    const INFO: PluginInfo = PluginInfo {
        name: "redis",
        flag: "redis-config",
        env: "REDIS_CONFIG",
        description: "Redis KV store connector config file; without one the connector is off",
        fields: &[
            field(
                "endpoint",
                "\"\"",
                "node client address; set means a node client (unless master-name)",
            ),
            field(
                "endpoints",
                "[]",
                "cluster nodes, or sentinels with master-name",
            ),
            field("db", "0", "database number (node and sentinel)"),
            field(
                "enable-query-on-slave",
                "false",
                "allow read queries on replicas",
            ),
            field(
                "tls.enabled",
                "false",
                "TLS (rediss) to a node client; sentinel and cluster clients are not supported",
            ),
            field(
                "tls.skip-verify",
                "false",
                "do not verify the server's certificate",
            ),
            field(
                "tls.cert-file",
                "\"\"",
                "client TLS certificate (PEM); with tls.key-file, mutual TLS",
            ),
            field("tls.key-file", "\"\"", "client TLS key (PEM)"),
            field(
                "tls.ca-file",
                "\"\"",
                "CA bundle (PEM) to verify the server; empty: the system's roots",
            ),
            field(
                "max-rediects",
                "0",
                "cluster redirect limit (Ligato's spelling; max-redirects also accepted)",
            ),
            field(
                "route-by-latency",
                "false",
                "cluster: send reads to the closest node",
            ),
            field(
                "master-name",
                "\"\"",
                "sentinel master; set means a sentinel client",
            ),
            field("password", "\"\"", "AUTH password"),
            field(
                "dial-timeout",
                "5s",
                "timeout for establishing a connection",
            ),
            field("read-timeout", "3s", "socket read timeout"),
            field(
                "write-timeout",
                "same as read-timeout",
                "socket write timeout",
            ),
            field("pool.max-connections", "10 per CPU", "connection pool size"),
            field(
                "pool.busy-timeout",
                "read-timeout + 1s",
                "wait for a free pool connection",
            ),
            field(
                "pool.idle-timeout",
                "5m0s",
                "close connections idle this long",
            ),
            field(
                "pool.idle-check-frequency",
                "1m0s",
                "how often idle connections are reaped",
            ),
        ],
        default_json: default_json::<RedisConfig>,
    };
}

/// `consul.conf` (cn-infra `db/keyval/consul/consul.go`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConsulConfig {
    pub address: String,
    pub resync_after_reconnect: bool,
}

impl Default for ConsulConfig {
    fn default() -> Self {
        Self {
            address: "127.0.0.1:8500".to_owned(),
            resync_after_reconnect: false,
        }
    }
}

impl PluginConfig for ConsulConfig {
    const INFO: PluginInfo = PluginInfo {
        name: "consul",
        flag: "consul-config",
        env: "CONSUL_CONFIG",
        description: "Consul KV store connector config file; without one the connector is off",
        fields: &[
            field(
                "address",
                "127.0.0.1:8500",
                "Consul HTTP API address; when the file sets none, env CONSUL_HTTP_ADDR if set (the Consul client's default)",
            ),
            field(
                "resync-after-reconnect",
                "false",
                "full resync after the connection comes back",
            ),
        ],
        default_json: default_json::<ConsulConfig>,
    };
}

/// `bolt.conf` (cn-infra `db/keyval/bolt/bolt.go`): our embedded store, which is the default
/// store when no other is configured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct BoltConfig {
    pub db_path: PathBuf,
    pub file_mode: FileMode,
    /// Zero: wait forever for the file lock.
    #[serde(with = "crate::duration::go")]
    pub lock_timeout: Duration,
    pub filter_duplicate_notifications: bool,
}

impl Default for BoltConfig {
    fn default() -> Self {
        Self {
            db_path: PathBuf::from("/tmp/bolt.db"),
            file_mode: FileMode(0o660),
            lock_timeout: Duration::ZERO,
            filter_duplicate_notifications: false,
        }
    }
}

impl PluginConfig for BoltConfig {
    const INFO: PluginInfo = PluginInfo {
        name: "bolt",
        flag: "bolt-config",
        env: "BOLT_CONFIG",
        description: "embedded KV store config file; the store runs when no other store is configured or this file is given",
        fields: &[
            field(
                "db-path",
                "/tmp/bolt.db",
                "database file (Ligato's sample path)",
            ),
            field(
                "file-mode",
                "432",
                "permissions of a new database file: decimal 432 or octal 0660",
            ),
            field(
                "lock-timeout",
                "0s",
                "wait for the file lock; 0 waits forever",
            ),
            field(
                "filter-duplicate-notifications",
                "false",
                "do not notify a put that does not change the value",
            ),
        ],
        default_json: default_json::<BoltConfig>,
    };
}

/// `filedb.conf` (cn-infra `db/keyval/filedb/plugin.go`): desired config read from local
/// `.json`/`.yaml` files.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileDbConfig {
    pub configuration_paths: Vec<PathBuf>,
    /// Empty: status is not written.
    pub status_path: PathBuf,
}

impl FileDbConfig {
    /// `status-path`, or `None` when empty (status is not written).
    pub fn status_path(&self) -> Option<&Path> {
        (!self.status_path.as_os_str().is_empty()).then_some(self.status_path.as_path())
    }
}

impl PluginConfig for FileDbConfig {
    const INFO: PluginInfo = PluginInfo {
        name: "filedb",
        flag: "filedb-config",
        env: "FILEDB_CONFIG",
        description: "file-based KV store config file; without one the connector is off",
        fields: &[
            field(
                "configuration-paths",
                "[]",
                "files or directories; every .json and .yaml file in them is read",
            ),
            field(
                "status-path",
                "\"\"",
                "a .json or .yaml file where status is written; empty: not written",
            ),
        ],
        default_json: default_json::<FileDbConfig>,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etcd_endpoints_fall_back_to_env_then_default() {
        let mut c = EtcdConfig::default();
        c.apply_ligato_fallbacks(|v| {
            (v == "ETCD_ENDPOINTS").then(|| "10.0.0.1:2379, 10.0.0.2:2379".into())
        });
        assert_eq!(c.endpoints, ["10.0.0.1:2379", "10.0.0.2:2379"]);

        let mut c = EtcdConfig::default();
        c.apply_ligato_fallbacks(|v| (v == "ETCDV3_ENDPOINTS").then(|| "10.0.0.3:2379".into()));
        assert_eq!(c.endpoints, ["10.0.0.3:2379"]);

        let mut c = EtcdConfig::default();
        c.apply_ligato_fallbacks(|_| Some(" , ".into()));
        assert_eq!(c.endpoints, [DEFAULT_ETCD_ENDPOINT]);

        let mut c = EtcdConfig {
            endpoints: vec!["file:2379".into()],
            ..EtcdConfig::default()
        };
        c.apply_ligato_fallbacks(|_| Some("env:2379".into()));
        assert_eq!(c.endpoints, ["file:2379"]);
        assert!(c.expand_env_variables, "ETCD_EXPAND_ENV_VARS was non-empty");
    }

    #[test]
    fn etcd_zero_timeouts_mean_the_defaults() {
        let mut c = EtcdConfig {
            dial_timeout: Duration::ZERO,
            operation_timeout: Duration::ZERO,
            session_ttl: 0,
            reconnect_interval: Duration::ZERO,
            auto_compact: Duration::ZERO,
            ..EtcdConfig::default()
        };
        c.apply_ligato_fallbacks(|_| None);
        let want = EtcdConfig {
            endpoints: vec![DEFAULT_ETCD_ENDPOINT.to_owned()],
            ..EtcdConfig::default()
        };
        assert_eq!(c, want);
        assert!(!c.expand_env_variables);
    }

    #[test]
    fn redis_client_kind_and_derived_defaults() {
        let mut c = RedisConfig::default();
        assert_eq!(c.client_kind(), RedisClientKind::Cluster);
        assert_eq!(c.write_timeout(), Duration::from_secs(3));
        assert_eq!(c.busy_timeout(), Duration::from_secs(4));
        assert_eq!(c.max_connections(4), 40);
        c.endpoint = "127.0.0.1:6379".into();
        assert_eq!(c.client_kind(), RedisClientKind::Node);
        c.master_name = "m".into();
        assert_eq!(c.client_kind(), RedisClientKind::Sentinel);
        c.write_timeout = Some(Duration::from_secs(9));
        c.pool.max_connections = Some(7);
        c.pool.busy_timeout = Some(Duration::from_millis(10));
        assert_eq!(c.write_timeout(), Duration::from_secs(9));
        assert_eq!(c.max_connections(4), 7);
        assert_eq!(c.busy_timeout(), Duration::from_millis(10));
    }

    #[test]
    fn filedb_empty_status_path_means_none() {
        let mut c = FileDbConfig::default();
        assert_eq!(c.status_path(), None);
        c.status_path = PathBuf::from("/tmp/status.json");
        assert_eq!(c.status_path(), Some(Path::new("/tmp/status.json")));
    }
}
