//! The static tables that describe every plugin config: plugin name, flag, env var and one-line
//! description, and per plugin every YAML field with its default (as text) and meaning. The
//! `vpp-agent -h` text and docs/configuration.md are generated from here, and tests check the
//! tables against the structs' own serialized defaults, so they cannot drift.
//!
//! It deliberately does not load anything; see `agent` for that.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One YAML field of a plugin config file. Nested fields use dots (`pool.idle-timeout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldDoc {
    /// The YAML key, as Ligato spells it.
    pub name: &'static str,
    /// The default, as [`render_default`] prints the serialized default; for a field whose
    /// default is derived from others (`None` in the struct), a short description.
    pub default: &'static str,
    /// One line: what the field means.
    pub meaning: &'static str,
}

/// One plugin that reads a config file.
#[derive(Clone, Copy, Debug)]
pub struct PluginInfo {
    /// Ligato's plugin name, e.g. `linux-ifplugin`.
    pub name: &'static str,
    /// The flag naming its file, without dashes: `linux-ifplugin-config`.
    pub flag: &'static str,
    /// The env var naming its file: `LINUX_IFPLUGIN_CONFIG`.
    pub env: &'static str,
    /// One line for `-h`.
    pub description: &'static str,
    /// Every YAML field, in struct order (the order docs list them).
    pub fields: &'static [FieldDoc],
    /// The struct's default, serialized, for docs and the drift tests.
    pub default_json: fn() -> Result<Value, serde_json::Error>,
}

/// A typed plugin config: its defaults are Ligato's and its table is [`PluginConfig::INFO`].
pub trait PluginConfig: Default + Serialize + DeserializeOwned + Clone + std::fmt::Debug {
    /// The plugin's row and field table.
    const INFO: PluginInfo;
}

/// Serializes `T::default()`; the `default_json` of every [`PluginInfo`].
pub fn default_json<T: PluginConfig>() -> Result<Value, serde_json::Error> {
    serde_json::to_value(T::default())
}

/// Every plugin with a config file, in the order `-h` lists them.
pub static PLUGINS: &[&PluginInfo] = &[
    &<crate::EtcdConfig as PluginConfig>::INFO,
    &<crate::RedisConfig as PluginConfig>::INFO,
    &<crate::ConsulConfig as PluginConfig>::INFO,
    &<crate::BoltConfig as PluginConfig>::INFO,
    &<crate::FileDbConfig as PluginConfig>::INFO,
    &<crate::GovppConfig as PluginConfig>::INFO,
    &<crate::HttpConfig as PluginConfig>::INFO,
    &<crate::GrpcConfig as PluginConfig>::INFO,
    &<crate::KvSchedulerConfig as PluginConfig>::INFO,
    &<crate::LogsConfig as PluginConfig>::INFO,
    &<crate::LinuxIfPluginConfig as PluginConfig>::INFO,
    &<crate::VppIfPluginConfig as PluginConfig>::INFO,
    &<crate::TelemetryConfig as PluginConfig>::INFO,
];

/// The plugin called `name`, if any.
pub fn plugin(name: &str) -> Option<&'static PluginInfo> {
    PLUGINS.iter().copied().find(|p| p.name == name)
}

/// How a default value is written in the tables: strings bare (the empty string as `""`),
/// numbers and booleans as themselves, lists and maps as JSON, null as `none`.
pub fn render_default(value: &Value) -> String {
    match value {
        Value::String(s) if s.is_empty() => "\"\"".to_owned(),
        Value::String(s) => s.clone(),
        Value::Null => "none".to_owned(),
        other => other.to_string(),
    }
}

/// The serialized default flattened to `(dotted YAML name, value)`, sorted by name; non-empty
/// maps are descended into, everything else is a leaf.
pub fn flatten(value: &Value) -> Vec<(String, Value)> {
    fn walk(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (key, child) in map {
                    let name = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&name, child, out);
                }
            }
            leaf => out.push((prefix.to_owned(), leaf.clone())),
        }
    }
    let mut out = Vec::new();
    walk("", value, &mut out);
    out
}

/// Env vars read outside the plugin config files (Ligato's names), for docs/configuration.md.
pub const ENV_VARS: &[(&str, &str)] = &[
    (
        "ETCD_ENDPOINTS",
        "etcd endpoints (comma separated) when the etcd config file sets no `endpoints`",
    ),
    (
        "ETCD_EXPAND_ENV_VARS",
        "expand `${VAR}` in the etcd config file before parsing it",
    ),
    (
        "CONSUL_HTTP_ADDR",
        "Consul address when the consul config file sets none",
    ),
    (
        "INITIAL_LOGLVL",
        "replaces the logs config file's `default-level`",
    ),
    (
        "VPP_STATUS_PUBLISHERS",
        "comma-separated store names appended to the VPP interface plugin's `status-publishers`",
    ),
    (
        "ENABLE_STATUS_PUBLISHING",
        "when non-empty, value status is written back to the first store under `config-status/`",
    ),
    (
        "GOVPPMUX_NOSOCK",
        "when non-empty, sets the govpp `connect-via-shm` field (accepted for compatibility; this agent always uses the socket client)",
    ),
    (
        "LOG_FORMAT",
        "`json` for JSON-lines logs with span fields; anything else gives human-readable text",
    ),
    (
        "RUST_LOG",
        "log filter in tracing `EnvFilter` syntax (default `info`)",
    ),
];

/// Where the configuration surface deliberately differs from Ligato, and why.
pub const DIFFERENCES: &[(&str, &str)] = &[
    (
        "Loopback by default",
        "The HTTP and gRPC servers bind `127.0.0.1` unless a config file sets an `endpoint`; Ligato binds all addresses. An agent's API can change the dataplane, so exposing it is an explicit choice",
    ),
    (
        "`--grpc-port` enables gRPC",
        "In Ligato the flag is ignored without a grpc config file; here the port alone turns the server on, which is what a user giving a port expects",
    ),
    (
        "Missing explicit files are errors",
        "A path given by flag or env var that exists neither as given nor under the config dir stops the agent with an error naming it; Ligato silently runs with defaults, which hides typos",
    ),
    (
        "Unknown fields are errors",
        "A misspelt field in a config file is reported with file, line and field; Ligato's YAML decoding ignores it",
    ),
    (
        "The embedded store is the default",
        "With no store configured the agent runs on its embedded store (Ligato's bolt role) so it needs no server; Ligato runs with no store at all",
    ),
];

/// docs/configuration.md: the mechanics, then one section per plugin with its field table.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Configuration\n\n\
         Generated from `config/src/table.rs`; do not edit by hand.\n\n\
         Each plugin reads an optional YAML file named by `--<plugin>-config=<path>` or the env var `<PLUGIN>_CONFIG` (upper case, `-` becomes `_`); the flag wins.\n\
         A relative path that does not exist as given is looked up under `--config-dir` (env `CONFIG_DIR`, default `.`).\n\
         A path given explicitly that exists in neither place is an error.\n\
         With no path given, `<plugin>.conf` is looked up the same way, as Ligato does, and the plugin runs with the defaults below when it is absent.\n\
         Durations are Go durations (`2s`, `100ms`, `1m30s`) or integers of nanoseconds.\n\
         Unknown fields and bad values are errors naming the file, the line and the field.\n\n",
    );
    out.push_str(
        "## Command-line flags\n\n\
         Besides one `--<plugin>-config` flag per plugin (listed with each plugin below), `vpp-agent` takes these; each flag wins over its env var.\n\
         Ligato's single-dash spelling (`-etcd-config=/x`) is accepted too.\n\n\
         | flag | env | meaning |\n|---|---|---|\n",
    );
    for g in crate::cli::GLOBAL_FLAGS {
        out.push_str(&format!(
            "| `--{} <{}>` | `{}` | {} |\n",
            g.flag, g.value_name, g.env, g.help
        ));
    }
    out.push_str("\n## Other environment variables\n\n| env | meaning |\n|---|---|\n");
    for (env, meaning) in ENV_VARS {
        out.push_str(&format!("| `{env}` | {meaning} |\n"));
    }
    out.push_str("\n## Where we differ from Ligato\n\n");
    for (topic, note) in DIFFERENCES {
        out.push_str(&format!("- **{topic}.** {note}.\n"));
    }
    out.push('\n');
    for info in PLUGINS {
        out.push_str(&format!(
            "## {}\n\n{}.\n\nFlag `--{}`, env `{}`.\n\n| field | default | meaning |\n|---|---|---|\n",
            info.name, info.description, info.flag, info.env
        ));
        for field in info.fields {
            out.push_str(&format!(
                "| `{}` | `{}` | {} |\n",
                field.name, field.default, field.meaning
            ));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_plugin_has_ligato_flag_and_env_names() {
        assert_eq!(PLUGINS.len(), 13);
        for info in PLUGINS {
            assert_eq!(info.flag, format!("{}-config", info.name));
            assert_eq!(
                info.env,
                format!("{}_CONFIG", info.name.to_uppercase().replace('-', "_"))
            );
            assert!(!info.description.is_empty() && !info.description.ends_with('.'));
            assert!(plugin(info.name).is_some());
        }
        assert_eq!(
            plugin("linux-ifplugin").map(|p| p.env),
            Some("LINUX_IFPLUGIN_CONFIG")
        );
    }

    #[test]
    fn field_tables_match_the_structs_defaults() {
        for info in PLUGINS {
            let defaults = (info.default_json)().expect("default serializes");
            let flat: std::collections::BTreeMap<String, Value> =
                flatten(&defaults).into_iter().collect();
            let mut table: Vec<&str> = info.fields.iter().map(|f| f.name).collect();
            table.sort_unstable();
            table.dedup();
            assert_eq!(
                table.len(),
                info.fields.len(),
                "{}: duplicate rows",
                info.name
            );
            let from_struct: Vec<&str> = flat.keys().map(String::as_str).collect();
            assert_eq!(
                table, from_struct,
                "{}: table fields vs struct fields",
                info.name
            );
            for field in info.fields {
                assert!(!field.meaning.is_empty(), "{}.{}", info.name, field.name);
                let value = &flat[field.name];
                if value.is_null() {
                    assert!(!field.default.is_empty(), "{}.{}", info.name, field.name);
                } else {
                    assert_eq!(
                        field.default,
                        render_default(value),
                        "{}.{}: table default vs struct default",
                        info.name,
                        field.name
                    );
                }
            }
        }
    }

    #[test]
    fn markdown_lists_every_field() {
        let md = markdown();
        for info in PLUGINS {
            assert!(md.contains(&format!("## {}\n", info.name)));
            for field in info.fields {
                assert!(
                    md.contains(&format!("| `{}` |", field.name)),
                    "{}",
                    field.name
                );
            }
        }
    }
}
