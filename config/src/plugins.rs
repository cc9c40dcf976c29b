//! Config files of the agent's own plugins: `govpp` (VPP connection), `kvscheduler`, `logs`,
//! `linux-ifplugin`, `vpp-ifplugin` and `telemetry`, with Ligato's field names and defaults
//! (vpp-agent `plugins/*`, cn-infra `logging/logmanager`).
//!
//! It deliberately does not act on any of them; env overrides that Ligato applies to these
//! (`INITIAL_LOGLVL`, `GOVPPMUX_NOSOCK`) are applied by `agent` after loading.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::table::{FieldDoc, PluginConfig, PluginInfo, default_json};

const fn field(name: &'static str, default: &'static str, meaning: &'static str) -> FieldDoc {
    FieldDoc {
        name,
        default,
        meaning,
    }
}

/// `govpp.conf` (vpp-agent `plugins/govppmux/config.go`, its `DefaultConfig`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct GovppConfig {
    pub resync_after_reconnect: bool,
    #[serde(with = "crate::duration::go")]
    pub reply_timeout: Duration,
    pub connect_via_shm: bool,
    pub shm_prefix: String,
    pub binapi_socket_path: String,
    pub stats_socket_path: String,
    pub retry_request_count: u32,
    #[serde(with = "crate::duration::go")]
    pub retry_request_timeout: Duration,
    pub retry_connect_count: u32,
    #[serde(with = "crate::duration::go")]
    pub retry_connect_timeout: Duration,
    pub proxy_enabled: bool,
    #[serde(with = "crate::duration::go")]
    pub health_check_probe_interval: Duration,
    #[serde(with = "crate::duration::go")]
    pub health_check_reply_timeout: Duration,
    pub health_check_threshold: u32,
    pub trace_enabled: bool,
}

impl Default for GovppConfig {
    fn default() -> Self {
        Self {
            resync_after_reconnect: true,
            reply_timeout: Duration::from_secs(1),
            connect_via_shm: false,
            shm_prefix: String::new(),
            binapi_socket_path: "/run/vpp/api.sock".to_owned(),
            stats_socket_path: "/run/vpp/stats.sock".to_owned(),
            retry_request_count: 0,
            retry_request_timeout: Duration::from_millis(500),
            retry_connect_count: 0,
            retry_connect_timeout: Duration::from_secs(1),
            proxy_enabled: true,
            health_check_probe_interval: Duration::from_secs(1),
            health_check_reply_timeout: Duration::from_millis(250),
            health_check_threshold: 1,
            trace_enabled: false,
        }
    }
}

impl PluginConfig for GovppConfig {
    const INFO: PluginInfo = PluginInfo {
        name: "govpp",
        flag: "govpp-config",
        env: "GOVPP_CONFIG",
        description: "VPP connection (GoVPP mux) config file",
        fields: &[
            field(
                "resync-after-reconnect",
                "true",
                "resync VPP after its connection comes back (Ligato's code default; its sample says false)",
            ),
            field("reply-timeout", "1s", "timeout of one binary API request"),
            field(
                "connect-via-shm",
                "false",
                "shared memory instead of the socket (also when env GOVPPMUX_NOSOCK is non-empty)",
            ),
            field("shm-prefix", "\"\"", "shared memory prefix"),
            field(
                "binapi-socket-path",
                "/run/vpp/api.sock",
                "VPP binary API socket",
            ),
            field(
                "stats-socket-path",
                "/run/vpp/stats.sock",
                "VPP stats socket",
            ),
            field("retry-request-count", "0", "retries of a failed request"),
            field(
                "retry-request-timeout",
                "500ms",
                "delay between request retries",
            ),
            field(
                "retry-connect-count",
                "0",
                "retries of the initial connect (Ligato's sample says 3)",
            ),
            field(
                "retry-connect-timeout",
                "1s",
                "delay between connect retries",
            ),
            field("proxy-enabled", "true", "serve the VPP API proxy over HTTP"),
            field(
                "health-check-probe-interval",
                "1s",
                "how often VPP is probed",
            ),
            field(
                "health-check-reply-timeout",
                "250ms",
                "how long a probe waits",
            ),
            field(
                "health-check-threshold",
                "1",
                "failed probes before VPP counts as disconnected",
            ),
            field("trace-enabled", "false", "record every binary API message"),
        ],
        default_json: default_json::<GovppConfig>,
    };
}

/// `kvscheduler.conf` (vpp-agent `plugins/kvscheduler/plugin_scheduler.go`). The `retry-*`
/// fields are ours: Ligato hard-codes these as the defaults of its per-transaction retry option.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct KvSchedulerConfig {
    pub record_transaction_history: bool,
    /// Minutes.
    pub transaction_history_age_limit: u32,
    /// Minutes.
    pub permanently_recorded_init_period: u32,
    pub enable_txn_simulation: bool,
    pub print_txn_summary: bool,
    #[serde(with = "crate::duration::go")]
    pub retry_period: Duration,
    /// Zero: unlimited.
    pub retry_max_count: u32,
    pub retry_backoff: bool,
}

impl Default for KvSchedulerConfig {
    fn default() -> Self {
        Self {
            record_transaction_history: true,
            transaction_history_age_limit: 1440,
            permanently_recorded_init_period: 60,
            enable_txn_simulation: false,
            print_txn_summary: true,
            retry_period: Duration::from_secs(1),
            retry_max_count: 3,
            retry_backoff: true,
        }
    }
}

impl PluginConfig for KvSchedulerConfig {
    const INFO: PluginInfo = PluginInfo {
        name: "kvscheduler",
        flag: "kvscheduler-config",
        env: "KVSCHEDULER_CONFIG",
        description: "KV scheduler (transactions, history, retries) config file",
        fields: &[
            field(
                "record-transaction-history",
                "true",
                "keep a history of transactions",
            ),
            field(
                "transaction-history-age-limit",
                "1440",
                "minutes a transaction record is kept",
            ),
            field(
                "permanently-recorded-init-period",
                "60",
                "minutes after start whose transactions are kept forever",
            ),
            field(
                "enable-txn-simulation",
                "false",
                "simulate every transaction before executing it",
            ),
            field(
                "print-txn-summary",
                "true",
                "log a summary of every transaction",
            ),
            field(
                "retry-period",
                "1s",
                "ours: first delay before a failed operation is retried",
            ),
            field(
                "retry-max-count",
                "3",
                "ours: retries of a failed operation; 0 unlimited",
            ),
            field(
                "retry-backoff",
                "true",
                "ours: double the delay on each further retry",
            ),
        ],
        default_json: default_json::<KvSchedulerConfig>,
    };
}

/// A log level, as logrus parses it (case-insensitive; `warning` is `warn`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Trace,
    Debug,
    #[default]
    Info,
    Warn,
    Error,
    Fatal,
    Panic,
}

impl LogLevel {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Fatal => "fatal",
            LogLevel::Panic => "panic",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LogLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "trace" => LogLevel::Trace,
            "debug" => LogLevel::Debug,
            "info" => LogLevel::Info,
            "warn" | "warning" => LogLevel::Warn,
            "error" => LogLevel::Error,
            "fatal" => LogLevel::Fatal,
            "panic" => LogLevel::Panic,
            _ => {
                return Err(format!(
                    "unknown log level {s:?}, expected one of trace, debug, info, warn, error, fatal, panic"
                ));
            }
        })
    }
}

impl Serialize for LogLevel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for LogLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(D::Error::custom)
    }
}

/// `logs.conf` (cn-infra `logging/logmanager/config.go`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct LogsConfig {
    pub default_level: LogLevel,
    pub loggers: Vec<LoggerLevel>,
    pub hooks: BTreeMap<String, LogHook>,
}

/// One entry of `loggers` in [`LogsConfig`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoggerLevel {
    /// Logger name, e.g. `kvscheduler`.
    pub name: String,
    /// Its level.
    pub level: LogLevel,
}

/// One entry of `hooks` in [`LogsConfig`] (names `syslog`, `fluent`, `logstash`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogHook {
    /// `tcp` or `udp`.
    pub protocol: String,
    /// Host.
    pub address: String,
    /// Port.
    pub port: u16,
    /// Levels sent to the hook.
    pub levels: Vec<LogLevel>,
}

impl PluginConfig for LogsConfig {
    const INFO: PluginInfo = PluginInfo {
        name: "logs",
        flag: "logs-config",
        env: "LOGS_CONFIG",
        description: "log levels config file",
        fields: &[
            field(
                "default-level",
                "info",
                "level of every logger not listed; env INITIAL_LOGLVL sets it when the file does not",
            ),
            field("loggers", "[]", "per-logger levels: [{name, level}]"),
            field(
                "hooks",
                "{}",
                "log shipping: name (syslog, fluent, logstash) -> {protocol, address, port, levels}",
            ),
        ],
        default_json: default_json::<LogsConfig>,
    };
}

/// `linux-ifplugin.conf` (vpp-agent `plugins/linux/ifplugin/ifplugin.go`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct LinuxIfPluginConfig {
    pub disabled: bool,
    pub go_routines_count: u32,
}

impl Default for LinuxIfPluginConfig {
    fn default() -> Self {
        Self {
            disabled: false,
            go_routines_count: 10,
        }
    }
}

impl PluginConfig for LinuxIfPluginConfig {
    const INFO: PluginInfo = PluginInfo {
        name: "linux-ifplugin",
        flag: "linux-ifplugin-config",
        env: "LINUX_IFPLUGIN_CONFIG",
        description: "Linux interface plugin config file",
        fields: &[
            field("disabled", "false", "do not manage Linux interfaces"),
            field(
                "go-routines-count",
                "10",
                "parallel workers for interface dumps",
            ),
        ],
        default_json: default_json::<LinuxIfPluginConfig>,
    };
}

/// A store that interface status can be published to (`status-publishers`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusPublisher {
    Etcd,
    Redis,
    Consul,
}

impl FromStr for StatusPublisher {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "etcd" => Ok(StatusPublisher::Etcd),
            "redis" => Ok(StatusPublisher::Redis),
            "consul" => Ok(StatusPublisher::Consul),
            _ => Err(format!(
                "unknown status publisher {s:?}, expected one of etcd, redis, consul"
            )),
        }
    }
}

/// `vpp-ifplugin.conf` (vpp-agent `plugins/vpp/ifplugin/config.go`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct VppIfPluginConfig {
    /// Zero: VPP's default.
    pub mtu: u32,
    pub status_publishers: Vec<StatusPublisher>,
}

impl PluginConfig for VppIfPluginConfig {
    const INFO: PluginInfo = PluginInfo {
        name: "vpp-ifplugin",
        flag: "vpp-ifplugin-config",
        env: "VPP_IFPLUGIN_CONFIG",
        description: "VPP interface plugin config file",
        fields: &[
            field("mtu", "0", "default MTU of new interfaces; 0 VPP's own"),
            field(
                "status-publishers",
                "[]",
                "stores interface status is written to: etcd, redis, consul",
            ),
        ],
        default_json: default_json::<VppIfPluginConfig>,
    };
}

/// A group of VPP stats that telemetry can skip (`skipped`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TelemetryMetric {
    Runtime,
    Memory,
    Buffers,
    Nodes,
    Interfaces,
}

/// `telemetry.conf` (vpp-agent `plugins/telemetry/config.go`). `polling-interval` is also our
/// stats publisher's period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct TelemetryConfig {
    #[serde(with = "crate::duration::go")]
    pub polling_interval: Duration,
    pub disabled: bool,
    pub prometheus_disabled: bool,
    pub skipped: Vec<TelemetryMetric>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            polling_interval: Self::DEFAULT_POLLING_INTERVAL,
            disabled: false,
            prometheus_disabled: false,
            skipped: Vec::new(),
        }
    }
}

impl TelemetryConfig {
    /// Ligato's default polling interval.
    pub const DEFAULT_POLLING_INTERVAL: Duration = Duration::from_secs(30);
    /// Ligato's floor: an interval must be longer than this to be used.
    pub const MIN_POLLING_INTERVAL: Duration = Duration::from_secs(1);

    /// The period the stats publisher uses: `polling-interval` if it is longer than 1s,
    /// otherwise the 30s default (Ligato warns and does the same).
    pub fn publish_period(&self) -> Duration {
        if self.polling_interval > Self::MIN_POLLING_INTERVAL {
            self.polling_interval
        } else {
            Self::DEFAULT_POLLING_INTERVAL
        }
    }
}

impl PluginConfig for TelemetryConfig {
    const INFO: PluginInfo = PluginInfo {
        name: "telemetry",
        flag: "telemetry-config",
        env: "TELEMETRY_CONFIG",
        description: "VPP statistics (telemetry, stats publisher) config file",
        fields: &[
            field(
                "polling-interval",
                "30s",
                "how often VPP stats are read and published; at least 1s",
            ),
            field("disabled", "false", "do not poll VPP stats"),
            field(
                "prometheus-disabled",
                "false",
                "do not export stats to Prometheus",
            ),
            field(
                "skipped",
                "[]",
                "stat groups not polled: runtime, memory, buffers, nodes, interfaces",
            ),
        ],
        default_json: default_json::<TelemetryConfig>,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels_parse_like_logrus() {
        assert_eq!("INFO".parse(), Ok(LogLevel::Info));
        assert_eq!("warning".parse(), Ok(LogLevel::Warn));
        assert_eq!("Debug".parse(), Ok(LogLevel::Debug));
        let err = "loud".parse::<LogLevel>().expect_err("loud");
        assert!(err.starts_with("unknown log level \"loud\""), "{err}");
        assert_eq!(LogLevel::Warn.to_string(), "warn");
    }

    #[test]
    fn telemetry_period_has_a_floor() {
        let mut c = TelemetryConfig::default();
        assert_eq!(c.publish_period(), Duration::from_secs(30));
        c.polling_interval = Duration::from_secs(2);
        assert_eq!(c.publish_period(), Duration::from_secs(2));
        c.polling_interval = Duration::from_secs(1);
        assert_eq!(c.publish_period(), Duration::from_secs(30));
        c.polling_interval = Duration::ZERO;
        assert_eq!(c.publish_period(), Duration::from_secs(30));
    }
}
