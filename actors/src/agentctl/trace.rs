//! `agentctl trace SEQ`: the message trace of a recent transaction (REST
//! `/scheduler/txn-trace?seq-num=SEQ`), printed as an indented span tree: each span's name,
//! duration and fields, children in start order (`-o json` prints the tree as the agent
//! sends it).
//!
//! Deliberately not here: keeping traces (the agent's trace store keeps the last ones).

use clap::{Arg, ArgMatches, Command, value_parser};

use super::output::{self, Output};
use super::{CtlError, Ctx};
use crate::trace::SpanNode;

pub fn command() -> Command {
    Command::new("trace")
        .about("Show the message trace of a recent transaction as a span tree")
        .arg(
            Arg::new("seq")
                .required(true)
                .value_parser(value_parser!(u64))
                .help("The transaction's sequence number (see `agentctl config history`)"),
        )
}

pub async fn run(ctx: &Ctx, m: &ArgMatches) -> Result<(), CtlError> {
    let seq = m.get_one::<u64>("seq").copied().unwrap_or_default();
    let rest = ctx.rest()?;
    let seq_text = seq.to_string();
    let json = rest
        .get_json("/scheduler/txn-trace", &[("seq-num", &seq_text)])
        .await?;
    if ctx.globals.output == Output::Json {
        output::print(&output::json(&json)?);
        return Ok(());
    }
    let tree: SpanNode = serde_json::from_value(json).map_err(|e| {
        CtlError::failed(format!(
            "the agent's trace of transaction {seq} does not parse: {e}"
        ))
    })?;
    output::print(&tree.to_text());
    Ok(())
}
