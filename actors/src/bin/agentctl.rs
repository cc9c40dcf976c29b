//! `agentctl`: the operator's CLI. Today it has Ligato's `kvdb` commands (`list`, `get`, `put`,
//! `del`) and `import`, against the store the agent's plugin config files configure (the same
//! `--<plugin>-config` flags and env vars as `vpp-agent`), with the agent prefix
//! `/vnf-agent/<label>/` handled for the user. Values are checked against the model registry
//! before anything is written: a bad key or value changes nothing.
//!
//! Exit codes: 0 ok, 1 error, 2 usage.

use std::process::ExitCode;

use bytes::Bytes;
use clap::{Arg, ArgAction, ArgMatches, Command};
use config::{AgentConfig, Environment};
use connectors::{AnyBackend, KvBackend};
use messages::{Key, MicroserviceLabel, registry::builtin};

fn command() -> Command {
    let key = || {
        Arg::new("key")
            .required(true)
            .help("key relative to /vnf-agent/<label>/")
    };
    config::command()
        .name("agentctl")
        .about("Operate a vpp-agent through its KV store")
        .subcommand_required(true)
        .subcommand(
            Command::new("kvdb")
                .visible_alias("kv")
                .about("Read and write the agent's keys in the configured store")
                .subcommand_required(true)
                .subcommand(
                    Command::new("list")
                        .visible_alias("ls")
                        .arg(Arg::new("prefix")),
                )
                .subcommand(Command::new("get").arg(key()))
                .subcommand(
                    Command::new("put")
                        .arg(key())
                        .arg(Arg::new("value").required(true)),
                )
                .subcommand(Command::new("del").arg(key())),
        )
        .subcommand(
            Command::new("import")
                .about("Put every `KEY VALUE` line of a file (blank lines and # comments skipped)")
                .arg(Arg::new("file").required(true))
                .arg(
                    Arg::new("replace")
                        .long("replace")
                        .action(ArgAction::SetTrue)
                        .help("delete the agent's keys that the file does not have"),
                ),
        )
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("agentctl: {msg}");
    ExitCode::from(1)
}

/// Checks a (relative key, value) pair against the models; returns the store key.
fn checked(label: &MicroserviceLabel, key: &str, value: &str) -> Result<String, String> {
    builtin()
        .decode_json(key, value.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(label.add_prefix(&Key::from(key)))
}

fn parse_import(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("line {}: expected `KEY VALUE`", n + 1))?;
        out.push((k.to_owned(), v.trim().to_owned()));
    }
    Ok(out)
}

async fn run(cfg: AgentConfig, m: &ArgMatches) -> Result<(), String> {
    let label =
        MicroserviceLabel::new(cfg.microservice_label.clone()).map_err(|e| e.to_string())?;
    let (store, options) = actors::stores::backend_options(&cfg)?
        .into_iter()
        .next()
        .ok_or("no KV store is configured")?;
    let backend = AnyBackend::open(options)
        .await
        .map_err(|e| format!("{}: {e}", store.name()))?;
    let prefix = label.agent_prefix();
    let result = match m.subcommand() {
        Some(("kvdb", k)) => match k.subcommand() {
            Some(("list", a)) => {
                let p = a
                    .get_one::<String>("prefix")
                    .map(String::as_str)
                    .unwrap_or("");
                let items = backend
                    .list(&format!("{prefix}{p}"))
                    .await
                    .map_err(|e| e.to_string())?;
                for kv in items {
                    let key = kv.key.strip_prefix(&prefix).unwrap_or(&kv.key);
                    println!("{key} {}", String::from_utf8_lossy(&kv.value));
                }
                Ok(())
            }
            Some(("get", a)) => {
                let key = a.get_one::<String>("key").ok_or("missing key")?;
                match backend
                    .get(&format!("{prefix}{key}"))
                    .await
                    .map_err(|e| e.to_string())?
                {
                    Some(v) => {
                        println!("{}", String::from_utf8_lossy(&v));
                        Ok(())
                    }
                    None => Err(format!("key {key:?} not found")),
                }
            }
            Some(("put", a)) => {
                let key = a.get_one::<String>("key").ok_or("missing key")?;
                let value = a.get_one::<String>("value").ok_or("missing value")?;
                let full = checked(&label, key, value)?;
                backend
                    .put(&full, Bytes::from(value.clone()))
                    .await
                    .map_err(|e| e.to_string())
            }
            Some(("del", a)) => {
                let key = a.get_one::<String>("key").ok_or("missing key")?;
                backend
                    .delete(&format!("{prefix}{key}"))
                    .await
                    .map_err(|e| e.to_string())
            }
            _ => Err("unknown kvdb command".to_owned()),
        },
        Some(("import", a)) => {
            let file = a.get_one::<String>("file").ok_or("missing file")?;
            let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
            let items = parse_import(&text).map_err(|e| format!("{file}: {e}"))?;
            let mut checked_items = Vec::new();
            for (k, v) in &items {
                checked_items.push((
                    checked(&label, k, v).map_err(|e| format!("{file}: {e}"))?,
                    v,
                ));
            }
            if a.get_flag("replace") {
                let keep: Vec<&String> = checked_items.iter().map(|(k, _)| k).collect();
                for kv in backend.list(&prefix).await.map_err(|e| e.to_string())? {
                    if !keep.contains(&&kv.key) {
                        backend.delete(&kv.key).await.map_err(|e| e.to_string())?;
                    }
                }
            }
            for (k, v) in checked_items {
                backend
                    .put(&k, Bytes::from(v.clone()))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            println!("imported {} keys into {}", items.len(), store.name());
            Ok(())
        }
        _ => Err("unknown command".to_owned()),
    };
    let _ = backend.close().await;
    result
}

fn main() -> ExitCode {
    let args = config::ligato_style_args(std::env::args_os());
    let m = match command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let cfg = match AgentConfig::from_matches(&m, &Environment::process()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("agentctl: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(e),
    };
    match rt.block_on(run(cfg, &m)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}
