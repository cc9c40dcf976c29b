//! The gRPC half of `agentctl config`: `get`, `update` (`--replace`, `--dry-run`,
//! `--waitdone`), `delete`, `retrieve` and `watch`, over Ligato's ConfiguratorService at
//! `--host:--grpc-port` with the client and the Config ↔ YAML/JSON helpers of
//! [`crate::grpc`].
//!
//! Input files are YAML or JSON of `ligato.configurator.Config` (`-` reads stdin); anything
//! that does not fit (syntax, an unknown model or field, a wrong type) is refused before a
//! request is sent. A dry run (`x-dry-run: true`) prints the planned operations and changes
//! nothing.
//!
//! Deliberately not here: TLS to the gRPC server (agentctl connects in plain text).

use std::io::Read;

use clap::{Arg, ArgAction, ArgMatches, Command};
use messages::registry::builtin;
use prost_reflect::{DynamicMessage, SerializeOptions};
use serde_json::{Value as Json, json};
use tonic::transport::Channel;

use super::output::{self, Format, Output, Table};
use super::{CtlError, Ctx};
use crate::grpc::proto::configurator_service_client::ConfiguratorServiceClient;
use crate::grpc::proto::{
    Config, DeleteRequest, DumpRequest, GetRequest, Notification, NotifyRequest, UpdateRequest,
    UpdateResponse,
};
use crate::grpc::{client, convert};

type Client = ConfiguratorServiceClient<Channel>;

fn file_arg(required: bool) -> Arg {
    Arg::new("file")
        .required(required)
        .value_name("FILE")
        .help("YAML or JSON of ligato.configurator.Config (- for stdin)")
}

fn dry_run_arg() -> Arg {
    Arg::new("dry-run")
        .long("dry-run")
        .action(ArgAction::SetTrue)
        .help("print the planned operations without applying them")
}

fn wait_done_arg() -> Arg {
    Arg::new("waitdone")
        .long("waitdone")
        .action(ArgAction::SetTrue)
        .help("answer only once no requested value is pending (or at --timeout)")
}

/// The gRPC subcommands of `config`.
pub fn commands() -> Vec<Command> {
    vec![
        Command::new("get").about("Print the agent's desired configuration (gRPC Get)"),
        Command::new("update")
            .about("Apply a configuration over gRPC (Update)")
            .arg(file_arg(true))
            .arg(
                Arg::new("replace")
                    .long("replace")
                    .action(ArgAction::SetTrue)
                    .help("replace everything set over gRPC (a full resync of the grpc source)"),
            )
            .arg(dry_run_arg())
            .arg(wait_done_arg()),
        Command::new("delete")
            .about("Delete the values of a configuration over gRPC (Delete)")
            .arg(file_arg(true))
            .arg(dry_run_arg())
            .arg(wait_done_arg()),
        Command::new("retrieve")
            .visible_aliases(["ret", "read", "dump"])
            .about("Print the configuration the agent believes applied (gRPC Dump)"),
        Command::new("watch")
            .visible_aliases(["notify", "subscribe"])
            .about("Stream notifications (gRPC Notify), one JSON document per line")
            .arg(
                Arg::new("filter")
                    .long("filter")
                    .action(ArgAction::Append)
                    .value_name("JSON")
                    .help("JSON of ligato.configurator.Notification to match (repeatable; all must match)"),
            )
            .arg(
                Arg::new("idx")
                    .long("idx")
                    .value_parser(clap::value_parser!(u32))
                    .default_value("0")
                    .help("start at this notification index"),
            )
            .arg(
                Arg::new("max")
                    .long("max")
                    .value_parser(clap::value_parser!(u64))
                    .help("stop after this many notifications (each waited for at most --timeout)"),
            ),
    ]
}

fn deepest(e: &dyn std::error::Error) -> String {
    let mut reason = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        reason = s.to_string();
        source = s.source();
    }
    reason
}

fn endpoint(ctx: &Ctx) -> String {
    let host = &ctx.globals.host;
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{}", ctx.globals.grpc_port)
    } else {
        format!("{host}:{}", ctx.globals.grpc_port)
    }
}

async fn connect(ctx: &Ctx) -> Result<Client, CtlError> {
    let ep = endpoint(ctx);
    let connecting = client::connect(&ep);
    match tokio::time::timeout(ctx.globals.timeout, connecting).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(CtlError::Unreachable {
            addr: format!("grpc://{ep}"),
            reason: deepest(&e),
        }),
        Err(_) => Err(CtlError::Unreachable {
            addr: format!("grpc://{ep}"),
            reason: "connection timed out (--timeout)".to_owned(),
        }),
    }
}

fn status_error(ctx: &Ctx, what: &str, s: &tonic::Status) -> CtlError {
    if s.code() == tonic::Code::Unavailable {
        return CtlError::Unreachable {
            addr: format!("grpc://{}", endpoint(ctx)),
            reason: s.message().to_owned(),
        };
    }
    let code = format!("{:?}", s.code()).to_lowercase();
    CtlError::failed(format!(
        "{what}: the agent answered {code}: {}",
        s.message()
    ))
}

/// Runs one unary call with the global timeout.
async fn call<T>(
    ctx: &Ctx,
    what: &str,
    fut: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<T, tonic::Status> {
    match tokio::time::timeout(ctx.globals.timeout, fut).await {
        Ok(r) => r.map(tonic::Response::into_inner),
        Err(_) => Err(tonic::Status::deadline_exceeded(format!(
            "{what}: no answer within {} (--timeout)",
            config::duration::format_go_duration(ctx.globals.timeout)
        ))),
    }
}

/// Reads and parses a Config file (or stdin for `-`).
pub fn read_config(path: &str) -> Result<Config, CtlError> {
    let text = if path == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|source| CtlError::Io {
                path: "stdin".to_owned(),
                source,
            })?;
        s
    } else {
        std::fs::read_to_string(path).map_err(|source| CtlError::Io {
            path: path.to_owned(),
            source,
        })?
    };
    convert::config_from_text(builtin(), &text)
        .map_err(|e| CtlError::failed(format!("{path}: {e}")))
}

/// A Config as YAML or JSON text.
pub fn render_config(config: &Config, format: Format) -> Result<String, CtlError> {
    let text = match format {
        Format::Yaml => convert::config_to_yaml(builtin(), config),
        Format::Json => convert::config_to_json(builtin(), config),
    }
    .map_err(CtlError::failed)?;
    Ok(if text.ends_with('\n') {
        text
    } else {
        format!("{text}\n")
    })
}

/// A message of the registry's pool as proto3 JSON (original field names).
fn proto_json(name: &str, msg: &impl prost::Message) -> Result<Json, CtlError> {
    let desc = builtin()
        .pool()
        .get_message_by_name(name)
        .ok_or_else(|| CtlError::failed(format!("message {name} is not in the descriptor pool")))?;
    let dynamic = DynamicMessage::decode(desc, msg.encode_to_vec().as_slice())
        .map_err(|e| CtlError::failed(format!("{name}: {e}")))?;
    dynamic
        .serialize_with_options(
            serde_json::value::Serializer,
            &SerializeOptions::new().use_proto_field_name(true),
        )
        .map_err(|e| CtlError::failed(format!("{name}: {e}")))
}

fn print_config(ctx: &Ctx, config: &Config) -> Result<(), CtlError> {
    let format = if ctx.globals.output == Output::Json {
        Format::Json
    } else {
        ctx.globals.format()
    };
    output::print(&render_config(config, format)?);
    Ok(())
}

/// The planned or executed operations of an outcome.
pub fn ops_table(resp: &UpdateResponse) -> String {
    let mut t = Table::new(["OPERATION", "KEY", "FLAGS", "ERROR"]);
    for op in &resp.ops {
        t.row([
            op.operation.clone(),
            op.key.clone(),
            op.flags.join(" "),
            op.error.clone(),
        ]);
    }
    t.render()
}

fn results_table(resp: &UpdateResponse) -> String {
    let mut t = Table::new(["KEY", "STATE", "ERROR"]);
    for r in &resp.results {
        t.row([r.key.clone(), r.state.clone(), r.error.clone()]);
    }
    t.render()
}

fn outcome_json(resp: &UpdateResponse) -> Result<Json, CtlError> {
    proto_json("ligato.configurator.UpdateResponse", resp)
}

/// Prints an Update/Delete outcome (`what` is `update` or `delete`).
fn print_outcome(ctx: &Ctx, what: &str, resp: &UpdateResponse) -> Result<(), CtlError> {
    if ctx.globals.output == Output::Json {
        output::print(&output::json(&outcome_json(resp)?)?);
        return Ok(());
    }
    if resp.dry_run {
        println!(
            "dry run of {what}: {} planned operations, nothing applied",
            resp.ops.len()
        );
        if !resp.ops.is_empty() {
            output::print(&ops_table(resp));
        }
        return Ok(());
    }
    println!(
        "{what} applied: transaction #{}, {} operations",
        resp.txn_seq,
        resp.ops.len()
    );
    if !resp.results.is_empty() {
        output::print(&results_table(resp));
    }
    Ok(())
}

/// Prints a failed transaction's outcome (if the status carries one) and turns it into the
/// error to exit with.
fn failed(ctx: &Ctx, what: &str, s: &tonic::Status) -> CtlError {
    if let Some(resp) = client::failed_outcome(s) {
        let _ = print_outcome(ctx, what, &resp);
    }
    status_error(ctx, what, s)
}

pub async fn run(ctx: &Ctx, name: &str, a: &ArgMatches) -> Result<(), CtlError> {
    match name {
        "get" | "retrieve" => {
            let mut c = connect(ctx).await?;
            let config = if name == "get" {
                call(ctx, "get", c.get(GetRequest {}))
                    .await
                    .map_err(|s| status_error(ctx, "get", &s))?
                    .config
            } else {
                call(ctx, "retrieve", c.dump(DumpRequest {}))
                    .await
                    .map_err(|s| status_error(ctx, "retrieve", &s))?
                    .dump
            };
            print_config(ctx, &config.unwrap_or_default())
        }
        "update" | "delete" => {
            let file = a
                .get_one::<String>("file")
                .ok_or_else(|| CtlError::Usage("missing FILE".to_owned()))?;
            // Parsed before connecting: bad input never reaches the agent.
            let config = read_config(file)?;
            let wait_done = a.get_flag("waitdone");
            let dry = a.get_flag("dry-run");
            let mut c = connect(ctx).await?;
            let resp = if name == "update" {
                let req = UpdateRequest {
                    update: Some(config),
                    full_resync: a.get_flag("replace"),
                    wait_done,
                };
                let req = if dry {
                    client::dry_run(req)
                } else {
                    tonic::Request::new(req)
                };
                call(ctx, name, c.update(req)).await
            } else {
                let req = DeleteRequest {
                    delete: Some(config),
                    wait_done,
                };
                let req = if dry {
                    client::dry_run(req)
                } else {
                    tonic::Request::new(req)
                };
                call(ctx, name, c.delete(req))
                    .await
                    .map(|d| UpdateResponse {
                        txn_seq: d.txn_seq,
                        results: d.results,
                        dry_run: d.dry_run,
                        ops: d.ops,
                    })
            };
            let resp = resp.map_err(|s| failed(ctx, name, &s))?;
            print_outcome(ctx, name, &resp)
        }
        "watch" => watch(ctx, a).await,
        other => Err(CtlError::Usage(format!("unknown config command {other:?}"))),
    }
}

async fn watch(ctx: &Ctx, a: &ArgMatches) -> Result<(), CtlError> {
    let mut filters = Vec::new();
    for f in a.get_many::<String>("filter").into_iter().flatten() {
        filters.push(notification_filter(f)?);
    }
    let idx = a.get_one::<u32>("idx").copied().unwrap_or(0);
    let max = a.get_one::<u64>("max").copied();
    let mut c = connect(ctx).await?;
    let mut stream = c
        .notify(NotifyRequest { idx, filters })
        .await
        .map_err(|s| status_error(ctx, "watch", &s))?
        .into_inner();
    let mut seen = 0u64;
    while max.is_none_or(|m| seen < m) {
        let next = stream.message();
        // With --max the caller expects an end: each wait is bounded by --timeout.
        let next = if max.is_some() {
            tokio::time::timeout(ctx.globals.timeout, next)
                .await
                .map_err(|_| {
                    CtlError::failed(format!(
                        "watch: no notification within {} (--timeout)",
                        config::duration::format_go_duration(ctx.globals.timeout)
                    ))
                })?
        } else {
            next.await
        };
        let Some(n) = next.map_err(|s| status_error(ctx, "watch", &s))? else {
            break;
        };
        let doc = json!({
            "next_idx": n.next_idx,
            "notification": match &n.notification {
                Some(n) => proto_json("ligato.configurator.Notification", n)?,
                None => Json::Null,
            },
        });
        println!(
            "{}",
            serde_json::to_string(&doc).map_err(|e| CtlError::failed(format!("watch: {e}")))?
        );
        seen += 1;
    }
    Ok(())
}

/// A `--filter`: JSON of `ligato.configurator.Notification`.
fn notification_filter(text: &str) -> Result<Notification, CtlError> {
    let bad = |e: &dyn std::fmt::Display| CtlError::Usage(format!("--filter {text}: {e}"));
    let desc = builtin()
        .pool()
        .get_message_by_name("ligato.configurator.Notification")
        .ok_or_else(|| CtlError::failed("ligato.configurator.Notification is not in the pool"))?;
    let mut de = serde_json::Deserializer::from_str(text);
    let msg = DynamicMessage::deserialize(desc, &mut de).map_err(|e| bad(&e))?;
    prost::Message::decode(prost::Message::encode_to_vec(&msg).as_slice()).map_err(|e| bad(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_or_are_usage_errors() {
        let ok =
            notification_filter(r#"{"vpp_notification":{"interface":{"state":{"name":"tap1"}}}}"#);
        assert!(ok.is_ok(), "{ok:?}");
        let bad = notification_filter(r#"{"nope":1}"#).err();
        assert!(matches!(bad, Some(CtlError::Usage(_))), "{bad:?}");
    }

    #[test]
    fn configs_render_back_as_yaml_and_json() {
        let config = convert::config_from_text(
            builtin(),
            "vpp_config: {interfaces: [{name: loop1, type: SOFTWARE_LOOPBACK}]}",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let yaml = render_config(&config, Format::Yaml).unwrap_or_default();
        assert!(yaml.contains("name: loop1"), "{yaml}");
        let json = render_config(&config, Format::Json).unwrap_or_default();
        let back = convert::config_from_text(builtin(), &json).unwrap_or_default();
        assert_eq!(back, config);
    }
}
