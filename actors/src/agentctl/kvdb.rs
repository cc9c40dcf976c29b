//! `agentctl kvdb list|get|put|del` and `agentctl import`: the agent's keys in its KV store,
//! with the prefix `/vnf-agent/<label>/` handled for the user. The store is etcd at
//! `-e/--etcd-endpoints` when given, otherwise the first store the plugin config files name
//! (the same `--<plugin>-config` flags as `vpp-agent`; the embedded store by default).
//!
//! Values are checked against the model registry before anything is written, and `import`
//! checks every line before the first write: a bad key or value changes nothing.

use bytes::Bytes;
use clap::{Arg, ArgAction, ArgMatches, Command};
use connectors::{AnyBackend, BackendOptions, EtcdOptions, KvBackend};
use messages::registry::builtin;
use messages::{Key, MicroserviceLabel};

use super::output::{self, Output};
use super::{CtlError, Ctx};

pub fn command() -> Command {
    let key = || {
        Arg::new("key")
            .required(true)
            .help("key relative to /vnf-agent/<label>/")
    };
    Command::new("kvdb")
        .visible_alias("kv")
        .about("Read and write the agent's keys in the KV store")
        .subcommand_required(true)
        .subcommand(
            Command::new("list")
                .visible_aliases(["ls", "l"])
                .about("List the agent's keys and values (under PREFIX)")
                .arg(Arg::new("prefix").help("key prefix relative to /vnf-agent/<label>/")),
        )
        .subcommand(
            Command::new("get")
                .visible_alias("g")
                .about("Print one value")
                .arg(key()),
        )
        .subcommand(
            Command::new("put")
                .visible_alias("p")
                .about("Write one value (JSON, checked against its model)")
                .arg(key())
                .arg(Arg::new("value").required(true)),
        )
        .subcommand(
            Command::new("del")
                .visible_alias("d")
                .about("Delete one key")
                .arg(key()),
        )
}

pub fn import_command() -> Command {
    Command::new("import")
        .about("Put every `KEY VALUE` line of a file into the store (blank lines and # comments skipped)")
        .arg(Arg::new("file").required(true))
        .arg(
            Arg::new("replace")
                .long("replace")
                .action(ArgAction::SetTrue)
                .help("delete the agent's keys that the file does not have"),
        )
}

/// The store the kvdb commands use, opened, and its name.
async fn open(ctx: &Ctx) -> Result<(AnyBackend, String), CtlError> {
    let (name, options) = match &ctx.globals.etcd_endpoints {
        Some(endpoints) => (
            "etcd".to_owned(),
            BackendOptions::Etcd(EtcdOptions::new(endpoints.clone())),
        ),
        None => {
            let (store, options) = crate::stores::backend_options(&ctx.agent_config)
                .map_err(CtlError::Failed)?
                .into_iter()
                .next()
                .ok_or_else(|| CtlError::failed("no KV store is configured"))?;
            (store.name().to_owned(), options)
        }
    };
    let backend = AnyBackend::open(options)
        .await
        .map_err(|e| CtlError::failed(format!("{name}: {e}")))?;
    Ok((backend, name))
}

/// Checks a (relative key, value) pair against the models; returns the store key.
pub fn checked(label: &MicroserviceLabel, key: &str, value: &str) -> Result<String, CtlError> {
    builtin()
        .decode_json(key, value.as_bytes())
        .map_err(CtlError::failed)?;
    Ok(label.add_prefix(&Key::from(key)))
}

/// The `KEY VALUE` lines of an import file.
pub fn parse_import(text: &str) -> Result<Vec<(String, String)>, String> {
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

fn arg<'a>(m: &'a ArgMatches, id: &str) -> Result<&'a String, CtlError> {
    m.get_one::<String>(id)
        .ok_or_else(|| CtlError::Usage(format!("missing {id}")))
}

fn store_err(name: &str) -> impl Fn(connectors::ConnectorError) -> CtlError + '_ {
    move |e| CtlError::failed(format!("{name}: {e}"))
}

pub async fn run(ctx: &Ctx, m: &ArgMatches) -> Result<(), CtlError> {
    let (backend, name) = open(ctx).await?;
    let result = run_on(ctx, &backend, &name, m).await;
    let _ = backend.close().await;
    result
}

async fn run_on(
    ctx: &Ctx,
    backend: &AnyBackend,
    name: &str,
    m: &ArgMatches,
) -> Result<(), CtlError> {
    let label = &ctx.globals.label;
    let prefix = label.agent_prefix();
    match m.subcommand() {
        Some(("list", a)) => {
            let p = a.get_one::<String>("prefix").map_or("", String::as_str);
            let items = backend
                .list(&format!("{prefix}{p}"))
                .await
                .map_err(store_err(name))?;
            let rows: Vec<(String, String)> = items
                .iter()
                .map(|kv| {
                    let key = kv.key.strip_prefix(&prefix).unwrap_or(&kv.key).to_owned();
                    (key, String::from_utf8_lossy(&kv.value).into_owned())
                })
                .collect();
            if ctx.globals.output == Output::Json {
                let list: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|(k, v)| {
                        let value = serde_json::from_str(v)
                            .unwrap_or_else(|_| serde_json::Value::String(v.clone()));
                        serde_json::json!({ "key": k, "value": value })
                    })
                    .collect();
                output::print(&output::json(&list)?);
            } else {
                // Ligato prints `key value` lines, which scripts may already parse.
                for (k, v) in rows {
                    println!("{k} {v}");
                }
            }
            Ok(())
        }
        Some(("get", a)) => {
            let key = arg(a, "key")?;
            match backend
                .get(&format!("{prefix}{key}"))
                .await
                .map_err(store_err(name))?
            {
                Some(v) => {
                    println!("{}", String::from_utf8_lossy(&v));
                    Ok(())
                }
                None => Err(CtlError::failed(format!("key {key:?} not found in {name}"))),
            }
        }
        Some(("put", a)) => {
            let key = arg(a, "key")?;
            let value = arg(a, "value")?;
            let full = checked(label, key, value)?;
            backend
                .put(&full, Bytes::from(value.clone()))
                .await
                .map_err(store_err(name))
        }
        Some(("del", a)) => {
            let key = arg(a, "key")?;
            backend
                .delete(&format!("{prefix}{key}"))
                .await
                .map_err(store_err(name))
        }
        _ => Err(CtlError::Usage("unknown kvdb command".to_owned())),
    }
}

pub async fn import(ctx: &Ctx, a: &ArgMatches) -> Result<(), CtlError> {
    let label = &ctx.globals.label;
    let file = arg(a, "file")?;
    let text = std::fs::read_to_string(file).map_err(|source| CtlError::Io {
        path: file.clone(),
        source,
    })?;
    let items = parse_import(&text).map_err(|e| CtlError::failed(format!("{file}: {e}")))?;
    let mut checked_items = Vec::new();
    for (k, v) in &items {
        let full = checked(label, k, v).map_err(|e| CtlError::failed(format!("{file}: {e}")))?;
        checked_items.push((full, v));
    }
    let (backend, name) = open(ctx).await?;
    let result = async {
        let prefix = label.agent_prefix();
        if a.get_flag("replace") {
            let keep: Vec<&String> = checked_items.iter().map(|(k, _)| k).collect();
            for kv in backend.list(&prefix).await.map_err(store_err(&name))? {
                if !keep.contains(&&kv.key) {
                    backend.delete(&kv.key).await.map_err(store_err(&name))?;
                }
            }
        }
        for (k, v) in &checked_items {
            backend
                .put(k, Bytes::from((*v).clone()))
                .await
                .map_err(store_err(&name))?;
        }
        Ok::<(), CtlError>(())
    }
    .await;
    let _ = backend.close().await;
    result?;
    if ctx.globals.output == Output::Json {
        output::print(&output::json(
            &serde_json::json!({ "imported": items.len(), "store": name }),
        )?);
    } else {
        println!("imported {} keys into {name}", items.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_lines_skip_comments_and_need_a_value() {
        let ok = parse_import("# c\n\nconfig/a {\"x\": 1}\n").unwrap_or_default();
        assert_eq!(ok, [("config/a".to_owned(), "{\"x\": 1}".to_owned())]);
        assert_eq!(
            parse_import("a b\nlonely\n").err().as_deref(),
            Some("line 2: expected `KEY VALUE`")
        );
    }

    #[test]
    fn values_are_checked_against_their_model() {
        let label = MicroserviceLabel::new("vpp1").unwrap_or_else(|e| panic!("{e}"));
        let ok = checked(
            &label,
            "config/vpp/v2/interfaces/tap1",
            r#"{"name":"tap1","type":"TAP"}"#,
        );
        assert_eq!(
            ok.ok().as_deref(),
            Some("/vnf-agent/vpp1/config/vpp/v2/interfaces/tap1")
        );
        for (key, value) in [
            ("config/nope/v1/x/a", "{}"),
            ("config/vpp/v2/interfaces/tap1", "{not json"),
            (
                "config/vpp/v2/interfaces/tap1",
                r#"{"name":"tap1","mtu":"big"}"#,
            ),
        ] {
            assert!(checked(&label, key, value).is_err(), "{key} {value}");
        }
    }
}
