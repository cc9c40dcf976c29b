//! `agentctl config ...`: the agent's configuration and transactions.
//!
//! | command | transport |
//! |---|---|
//! | `history [SEQ]` (`--details`) | REST `/scheduler/txn-history` |
//! | `resync` (`--retry`, `--verbose`) | REST POST `/scheduler/downstream-resync` |
//! | `get`, `update`, `delete`, `retrieve`, `watch` | gRPC ConfiguratorService ([`super::grpc_config`]) |
//!
//! It deliberately holds no state between commands.

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::Value as Json;

use super::output::{self, Output, Progress, Table};
use super::{CtlError, Ctx};

pub fn command() -> Command {
    Command::new("config")
        .visible_alias("cfg")
        .about("Manage the agent's configuration and see its transactions")
        .subcommand_required(true)
        .subcommands(super::grpc_config::commands())
        .subcommand(
            Command::new("history")
                .about("Show the transaction history (one transaction with SEQ)")
                .arg(Arg::new("seq").value_parser(clap::value_parser!(u64)))
                .arg(
                    Arg::new("details")
                        .long("details")
                        .action(ArgAction::SetTrue)
                        .help("print Ligato's transaction log text instead of a table"),
                ),
        )
        .subcommand(
            Command::new("resync")
                .about("Re-apply the desired configuration to the dataplane (downstream resync)")
                .arg(
                    Arg::new("retry")
                        .long("retry")
                        .action(ArgAction::SetTrue)
                        .help("retry failed operations"),
                )
                .arg(
                    Arg::new("verbose")
                        .short('v')
                        .long("verbose")
                        .action(ArgAction::SetTrue)
                        .help("list every executed operation"),
                ),
        )
}

pub async fn run(ctx: &Ctx, m: &ArgMatches) -> Result<(), CtlError> {
    match m.subcommand() {
        Some(("history", a)) => history(ctx, a).await,
        Some(("resync", a)) => resync(ctx, a).await,
        Some((other, a)) => super::grpc_config::run(ctx, other, a).await,
        None => Err(CtlError::Usage("a config command is required".to_owned())),
    }
}

fn ops_summary(txn: &Json) -> (usize, usize) {
    let executed = txn["Executed"].as_array().map_or(&[][..], Vec::as_slice);
    let errors = executed
        .iter()
        .filter(|o| o["NewErrMsg"].as_str().is_some_and(|e| !e.is_empty()))
        .count();
    (executed.len(), errors)
}

/// One row per transaction: SEQ, TYPE, START, VALUES, EXECUTED, ERRORS, DESCRIPTION.
pub fn history_table(txns: &[Json]) -> String {
    let mut t = Table::new([
        "SEQ",
        "TYPE",
        "START",
        "VALUES",
        "EXECUTED",
        "ERRORS",
        "DESCRIPTION",
    ]);
    for txn in txns {
        let (ops, errors) = ops_summary(txn);
        let kind = match txn["ResyncType"].as_str() {
            Some(r) if !r.is_empty() => format!("{} ({r})", txn["TxnType"].as_str().unwrap_or("")),
            _ => txn["TxnType"].as_str().unwrap_or("").to_owned(),
        };
        t.row([
            txn["SeqNum"]
                .as_u64()
                .map(|n| n.to_string())
                .unwrap_or_default(),
            kind,
            txn["Start"].as_str().unwrap_or("").to_owned(),
            txn["Values"].as_array().map_or(0, Vec::len).to_string(),
            ops.to_string(),
            errors.to_string(),
            txn["Description"].as_str().unwrap_or("").to_owned(),
        ]);
    }
    t.render()
}

/// The executed operations of a transaction: OPERATION, KEY, STATE, ERROR.
pub fn ops_table(txn: &Json) -> String {
    let mut t = Table::new(["OPERATION", "KEY", "STATE", "ERROR"]);
    for op in txn["Executed"].as_array().map_or(&[][..], Vec::as_slice) {
        let s = |f: &str| op[f].as_str().unwrap_or("").to_owned();
        t.row([s("Operation"), s("Key"), s("NewState"), s("NewErrMsg")]);
    }
    t.render()
}

async fn history(ctx: &Ctx, a: &ArgMatches) -> Result<(), CtlError> {
    let rest = ctx.rest()?;
    let seq = a.get_one::<u64>("seq").map(u64::to_string);
    let mut query: Vec<(&str, &str)> = Vec::new();
    if let Some(seq) = &seq {
        query.push(("seq-num", seq));
    }
    if a.get_flag("details") && ctx.globals.output != Output::Json {
        query.push(("format", "text"));
        let text = rest.get_text("/scheduler/txn-history", &query).await?;
        output::print(&text);
        return Ok(());
    }
    let answer = rest.get_json("/scheduler/txn-history", &query).await?;
    let text = if ctx.globals.output == Output::Json {
        output::json(&answer)?
    } else {
        match answer {
            Json::Array(txns) => history_table(&txns),
            one => history_table(std::slice::from_ref(&one)),
        }
    };
    output::print(&text);
    Ok(())
}

async fn resync(ctx: &Ctx, a: &ArgMatches) -> Result<(), CtlError> {
    let rest = ctx.rest()?;
    let mut query: Vec<(&str, &str)> = Vec::new();
    if a.get_flag("retry") {
        query.push(("retry", "true"));
    }
    if a.get_flag("verbose") {
        query.push(("verbose", "true"));
    }
    let progress = Progress::start("resyncing the agent with the dataplane");
    let txn = rest
        .post_json("/scheduler/downstream-resync", &query, None)
        .await;
    drop(progress);
    let txn = txn?;
    if ctx.globals.output == Output::Json {
        output::print(&output::json(&txn)?);
        return Ok(());
    }
    let (ops, errors) = ops_summary(&txn);
    println!(
        "resync done: transaction #{}, {ops} operations executed, {errors} errors",
        txn["SeqNum"].as_u64().unwrap_or(0)
    );
    if (a.get_flag("verbose") || errors > 0) && ops > 0 {
        output::print(&ops_table(&txn));
    }
    if errors > 0 {
        return Err(CtlError::failed(format!(
            "resync: {errors} operations failed"
        )));
    }
    Ok(())
}
