//! The command-line surface of `vpp-agent`: one `--<plugin>-config` flag per plugin, plus
//! `--config-dir`, `--microservice-label`, `--http-port` and `--grpc-port`, each with the env
//! var that can stand in for it and a one-line description, so `vpp-agent -h` lists them all.
//!
//! Env vars are shown in the help text but read by `agent` from an injectable [`Environment`],
//! not by clap, so tests never touch the process env. It deliberately does not parse anything
//! itself and has no flags unrelated to configuration (the binary adds its own).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Arg, ArgAction, Command, value_parser};

use crate::table::PLUGINS;

/// `--config-dir`: where relative config file paths are looked up second.
pub const CONFIG_DIR: GlobalFlag = GlobalFlag {
    flag: "config-dir",
    env: "CONFIG_DIR",
    value_name: "DIR",
    help: "directory where a relative plugin config path is looked up if it does not exist as given [default: .]",
};
/// `--microservice-label`: the agent's label, the `<label>` of `/vnf-agent/<label>/`.
pub const MICROSERVICE_LABEL: GlobalFlag = GlobalFlag {
    flag: "microservice-label",
    env: "MICROSERVICE_LABEL",
    value_name: "LABEL",
    help: "microservice label of this agent, the prefix /vnf-agent/<label>/ of its keys [default: vpp1]",
};
/// `--http-port`: the REST port when the http config file sets no endpoint.
pub const HTTP_PORT: GlobalFlag = GlobalFlag {
    flag: "http-port",
    env: "HTTP_PORT",
    value_name: "PORT",
    help: "port of the HTTP server (on 127.0.0.1) unless the http config file sets an endpoint [default: 9191]",
};
/// `--grpc-port`: enables gRPC on this port when the grpc config file sets no endpoint.
pub const GRPC_PORT: GlobalFlag = GlobalFlag {
    flag: "grpc-port",
    env: "GRPC_PORT",
    value_name: "PORT",
    help: "enable the gRPC server on this port (on 127.0.0.1) unless the grpc config file sets an endpoint",
};

/// A flag that is not a plugin config file.
#[derive(Clone, Copy, Debug)]
pub struct GlobalFlag {
    /// Long flag name without dashes; also the clap argument id.
    pub flag: &'static str,
    /// The env var read when the flag is absent.
    pub env: &'static str,
    /// Placeholder in the help text.
    pub value_name: &'static str,
    /// One line for `-h`.
    pub help: &'static str,
}

/// The non-plugin flags, in help order.
pub const GLOBAL_FLAGS: [GlobalFlag; 4] = [CONFIG_DIR, MICROSERVICE_LABEL, HTTP_PORT, GRPC_PORT];

/// Every configuration argument; add them to the binary's own command with `.args(args())`.
/// Every argument's id is its long flag name (`etcd-config`, `http-port`).
pub fn args() -> Vec<Arg> {
    let mut args: Vec<Arg> = GLOBAL_FLAGS
        .iter()
        .map(|g| {
            let arg = Arg::new(g.flag)
                .long(g.flag)
                .value_name(g.value_name)
                .action(ArgAction::Set)
                .help(format!("{} [env: {}]", g.help, g.env));
            if g.flag == CONFIG_DIR.flag {
                arg.value_parser(value_parser!(PathBuf))
            } else {
                arg
            }
        })
        .collect();
    args.extend(PLUGINS.iter().map(|p| {
        Arg::new(p.flag)
            .long(p.flag)
            .value_name("PATH")
            .action(ArgAction::Set)
            // Not PathBuf: that parser rejects `--etcd-config=`, which means "no file".
            .value_parser(value_parser!(OsString))
            .help(format!("{} [env: {}]", p.description, p.env))
            .help_heading("Plugin config files")
    }));
    args
}

/// A `vpp-agent` command with only the configuration arguments; the binary may add more.
pub fn command() -> Command {
    Command::new("vpp-agent")
        .about("VPP agent: applies desired network configuration from KV stores to VPP and Linux")
        .after_help(
            "Each plugin config file is YAML; a relative path that does not exist is looked up in \
             the config dir. Without a flag or env var, <plugin>.conf is looked up the same way.",
        )
        .args(args())
}

/// Rewrites Ligato's single-dash long flags (`-etcd-config=/x`, Go's flag syntax) into clap's
/// `--etcd-config=/x`, for the flags of [`args`] only; anything after a bare `--` is left alone.
pub fn ligato_style_args<I, T>(args: I) -> Vec<OsString>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let known: Vec<&str> = GLOBAL_FLAGS
        .iter()
        .map(|g| g.flag)
        .chain(PLUGINS.iter().map(|p| p.flag))
        .collect();
    let mut rest_is_positional = false;
    args.into_iter()
        .map(Into::into)
        .map(|arg| {
            if rest_is_positional {
                return arg;
            }
            let Some(text) = arg.to_str() else {
                return arg;
            };
            if text == "--" {
                rest_is_positional = true;
                return arg;
            }
            let single = text.strip_prefix('-').filter(|t| !t.starts_with('-'));
            match single {
                Some(t) if known.contains(&t.split_once('=').map_or(t, |(name, _)| name)) => {
                    OsString::from(format!("-{text}"))
                }
                _ => arg,
            }
        })
        .collect()
}

/// The environment variables the configuration reads, injectable so tests never set the real
/// process env. An empty value counts as unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// The process environment (variables whose name or value is not UTF-8 are skipped).
    pub fn process() -> Self {
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect()
    }

    /// The value of `name`, if set and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Environment {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self {
            vars: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_plugin_flag_and_env_var() {
        let help = command().render_long_help().to_string();
        for p in PLUGINS {
            assert!(help.contains(&format!("--{} <PATH>", p.flag)), "{}", p.flag);
            assert!(help.contains(&format!("[env: {}]", p.env)), "{}", p.env);
        }
        for g in GLOBAL_FLAGS {
            assert!(help.contains(&format!("--{}", g.flag)), "{}", g.flag);
            assert!(help.contains(&format!("[env: {}]", g.env)), "{}", g.env);
        }
        assert!(help.contains("[env: LINUX_IFPLUGIN_CONFIG]"));
    }

    #[test]
    fn command_is_well_formed() {
        command().debug_assert();
    }

    #[test]
    fn ligato_single_dash_flags_are_rewritten() {
        let out = ligato_style_args([
            "vpp-agent",
            "-etcd-config=/opt/etcd.conf",
            "-microservice-label",
            "vpp2",
            "-h",
            "-bogus-config=x",
            "--http-port=1",
            "--",
            "-grpc-config=y",
        ]);
        let out: Vec<&str> = out.iter().filter_map(|a| a.to_str()).collect();
        assert_eq!(
            out,
            [
                "vpp-agent",
                "--etcd-config=/opt/etcd.conf",
                "--microservice-label",
                "vpp2",
                "-h",
                "-bogus-config=x",
                "--http-port=1",
                "--",
                "-grpc-config=y"
            ]
        );
    }

    #[test]
    fn empty_env_values_count_as_unset() {
        let env: Environment = [("A", "1"), ("B", "")].into_iter().collect();
        assert_eq!(env.get("A"), Some("1"));
        assert_eq!(env.get("B"), None);
        assert_eq!(env.get("C"), None);
    }
}
