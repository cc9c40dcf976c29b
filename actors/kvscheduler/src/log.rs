//! The transaction log in Ligato's text layout (`txn_record.go`): a 120-character header box
//! with the arguments and planned operations, then the executed operations and a footer box
//! with the duration; and the text form of a transaction history.
//!
//! It only formats strings; where they are printed is the caller's choice (a log sink).

use std::fmt::Write;

use messages::proto::ligato::kvscheduler::TxnOperation;
use messages::value::text;

use crate::clock::{go_duration, go_time, round_100us};
use crate::record::{ProtoWithName, RecordedTxn, RecordedTxnOp, ResyncType, TxnType};

const WIDTH: usize = 120;

fn frame(corner: char, fill: char) -> String {
    let mut s = String::with_capacity(WIDTH + 1);
    s.push(corner);
    s.extend(std::iter::repeat_n(fill, WIDTH - 2));
    s.push(corner);
    s.push('\n');
    s
}

fn body(msg: &str, info: &str) -> String {
    let w = (WIDTH - 5).saturating_sub(msg.chars().count());
    format!("| {msg} {info:>w$} |\n")
}

fn val(v: &Option<ProtoWithName>) -> String {
    text(v.as_ref().map(|v| &*v.0))
}

fn msg(txn: &RecordedTxn) -> String {
    format!("#{} - {}", txn.seq_num, txn.txn_type.name())
}

fn info(txn: &RecordedTxn) -> String {
    match txn.txn_type {
        TxnType::NbTransaction if txn.resync_type != ResyncType::NotResync => {
            txn.resync_type.name().to_owned()
        }
        TxnType::RetryFailedOps => format!(
            "retrying failed TXN #{} (attempt {})",
            txn.retry_for_txn, txn.retry_attempt
        ),
        TxnType::RetryUnimplOps => format!("retrying unimplemented TXN #{}", txn.retry_for_txn),
        _ => String::new(),
    }
}

/// The operation list, numbered, indented by `indent` spaces.
pub fn ops(list: &[RecordedTxnOp], indent: usize) -> String {
    let pad = " ".repeat(indent);
    if list.is_empty() {
        return format!("{pad}<NONE>\n");
    }
    let mut out = String::new();
    for (i, op) in list.iter().enumerate() {
        let flags = op.flags();
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!(" [{}]", flags.join(" "))
        };
        let _ = writeln!(
            out,
            "{pad}{}. {}{flags}:",
            i + 1,
            op.operation.as_str_name()
        );
        let _ = writeln!(out, "{pad}    - key: {}", op.key);
        match op.operation {
            TxnOperation::Update => {
                let _ = writeln!(out, "{pad}    - prev-value: {}", val(&op.prev_value));
                let _ = writeln!(out, "{pad}    - new-value: {}", val(&op.new_value));
            }
            TxnOperation::Delete => {
                let _ = writeln!(out, "{pad}    - value: {}", val(&op.prev_value));
            }
            _ => {
                let _ = writeln!(out, "{pad}    - value: {}", val(&op.new_value));
            }
        }
        if let Some(e) = &op.prev_err {
            let _ = writeln!(out, "{pad}    - prev-error: {e}");
        }
        if let Some(e) = &op.new_err {
            let _ = writeln!(out, "{pad}    - error: {e}");
        }
    }
    out
}

/// The block printed when a transaction starts: header box, arguments, planned operations.
pub fn header(txn: &RecordedTxn) -> String {
    let mut out = frame('+', '=');
    out.push_str(&body(&msg(txn), &info(txn)));
    out.push_str(&frame('+', '='));
    out.push_str(&arguments(txn, 2));
    if txn.with_simulation {
        out.push_str("  * planned operations:\n");
        out.push_str(&ops(&txn.planned, 6));
    }
    out
}

fn arguments(txn: &RecordedTxn, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut out = format!("{pad}* transaction arguments:\n");
    let _ = writeln!(out, "{pad}    - seqNum: {}", txn.seq_num);
    let ty = match txn.txn_type {
        TxnType::NbTransaction if txn.resync_type != ResyncType::NotResync => {
            format!("{}, {}", txn.txn_type.label(), txn.resync_type.label())
        }
        TxnType::RetryFailedOps => format!(
            "{} (for txn #{}, attempt #{})",
            txn.txn_type.label(),
            txn.retry_for_txn,
            txn.retry_attempt
        ),
        TxnType::RetryUnimplOps => {
            format!("{} (for txn #{})", txn.txn_type.label(), txn.retry_for_txn)
        }
        _ => txn.txn_type.label().to_owned(),
    };
    let _ = writeln!(out, "{pad}    - type: {ty}");
    if let Some(first) = txn.description.lines().next() {
        let _ = writeln!(out, "{pad}    - Description: {first}");
    }
    if txn.resync_type != ResyncType::DownstreamResync {
        if txn.values.is_empty() {
            let _ = writeln!(out, "{pad}    - values: NONE");
        } else {
            let _ = writeln!(out, "{pad}    - values:");
            for kv in &txn.values {
                let _ = writeln!(out, "{pad}        - key: {}", kv.key);
                let _ = writeln!(out, "{pad}          val: {}", val(&kv.value));
            }
        }
    }
    out
}

/// The block printed when a transaction finishes: executed operations and footer box.
pub fn footer(txn: &RecordedTxn) -> String {
    let mut out = frame('o', '-');
    if txn.executed.is_empty() {
        out.push_str("  * executed operations:\n");
    } else {
        let dur = txn.stop.duration_since(txn.start).unwrap_or_default();
        let _ = writeln!(
            out,
            "  * executed operations ({} -> {}, dur: {}):",
            go_time(txn.start),
            go_time(txn.stop),
            go_duration(round_100us(dur))
        );
    }
    out.push_str(&ops(&txn.executed, 6));
    out.push_str(&frame('x', '-'));
    let took = txn.stop.duration_since(txn.start).unwrap_or_default();
    out.push_str(&body(
        &msg(txn),
        &format!("took {}", go_duration(round_100us(took))),
    ));
    out.push_str(&frame('x', '-'));
    out
}

/// A history in text form: `Transaction #<seq>:` then the body indented by 4.
pub fn history<'a>(txns: impl IntoIterator<Item = &'a RecordedTxn>) -> String {
    let mut out = String::new();
    for (i, txn) in txns.into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "Transaction #{}:", txn.seq_num);
        out.push_str(&arguments(txn, 4));
        if txn.with_simulation {
            out.push_str("    * planned operations:\n");
            out.push_str(&ops(&txn.planned, 8));
        }
        out.push_str("    * executed operations:\n");
        out.push_str(&ops(&txn.executed, 8));
    }
    out
}
