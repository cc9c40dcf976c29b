//! Export of the value graph: a JSON snapshot (an array of Ligato `RecordedNode`s with
//! `depends-on` and `derives` targets) and a Graphviz dot rendering.
//!
//! It renders only; it does not run `dot` or serve anything.

use std::fmt::Write;
use std::time::SystemTime;

use messages::proto::ligato::kvscheduler::ValueState;

use crate::descriptor::Registry;
use crate::graph::Graph;
use crate::history::{RecordedNode, snapshot_node};

/// Every node of the graph, sorted by key.
pub(crate) fn snapshot(
    graph: &Graph,
    reg: &Registry,
    now: SystemTime,
    seq: u64,
) -> Vec<RecordedNode> {
    graph
        .nodes
        .sorted_keys(|_, _| true)
        .iter()
        .filter_map(|k| snapshot_node(graph, reg, k, now, seq))
        .collect()
}

fn color(state: &str) -> &'static str {
    match ValueState::from_str_name(state) {
        Some(ValueState::Configured) => "palegreen",
        Some(ValueState::Obtained) => "lightcyan",
        Some(ValueState::Pending) => "khaki",
        Some(ValueState::Invalid) => "plum",
        Some(ValueState::Failed) | Some(ValueState::Retrying) => "tomato",
        Some(ValueState::Unimplemented) => "lightgrey",
        _ => "white",
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Graphviz dot: one box per value coloured by state; solid `depends-on` edges labelled with
/// the dependency label, dashed `derives` edges. Any-of targets point at every matching key
/// (or at a placeholder naming the prefixes when none matches).
pub(crate) fn dot(nodes: &[RecordedNode]) -> String {
    let mut out =
        String::from("digraph kvscheduler {\n  rankdir=LR;\n  node [shape=box, style=filled];\n");
    for n in nodes {
        let state = n.flags.get("value-state").map_or("", |s| s.as_str());
        let _ = writeln!(
            out,
            "  {} [label={}, fillcolor={}];",
            quote(n.key.as_str()),
            quote(&format!("{}\\n{}", n.label, state)),
            color(state)
        );
    }
    for n in nodes {
        for t in &n.targets {
            let style = if t.relation == "derives" {
                "dashed"
            } else {
                "solid"
            };
            if t.matching_keys.is_empty() {
                let _ = writeln!(
                    out,
                    "  {} -> {} [label={}, style={style}, color=red];",
                    quote(n.key.as_str()),
                    quote(&t.expected_key),
                    quote(&t.label)
                );
            }
            for m in &t.matching_keys {
                let label = if t.relation == "derives" {
                    ""
                } else {
                    t.label.as_str()
                };
                let _ = writeln!(
                    out,
                    "  {} -> {} [label={}, style={style}];",
                    quote(n.key.as_str()),
                    quote(m.as_str()),
                    quote(label)
                );
            }
        }
    }
    out.push_str("}\n");
    out
}
