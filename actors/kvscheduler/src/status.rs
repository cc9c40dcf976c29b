//! Value status as Ligato reports it: [`ValueStatus`] and [`BaseValueStatus`] (a top-level
//! value with its derived values), with Ligato's JSON field names and omitempty rules, plus the
//! conversion to the protobuf `ligato.kvscheduler.ValueStatus`.
//!
//! It only reads the graph; status-change notifications are the actor's business.

use messages::Key;
use messages::proto::ligato::kvscheduler::{self as pb, TxnOperation, ValueState};
use serde::{Serialize, Serializer};

use crate::graph::{Graph, Node};

fn ser_state<S: Serializer>(s: &ValueState, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.as_str_name())
}

fn ser_op<S: Serializer>(o: &TxnOperation, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(o.as_str_name())
}

fn state_is_zero(s: &ValueState) -> bool {
    *s == ValueState::Nonexistent
}

fn op_is_zero(o: &TxnOperation) -> bool {
    *o == TxnOperation::Undefined
}

/// The status of one value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValueStatus {
    pub key: Key,
    #[serde(serialize_with = "ser_state", skip_serializing_if = "state_is_zero")]
    pub state: ValueState,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub error: String,
    #[serde(serialize_with = "ser_op", skip_serializing_if = "op_is_zero")]
    pub last_operation: TxnOperation,
    /// Missing dependency labels (PENDING) or invalid fields (INVALID).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

impl ValueStatus {
    /// The protobuf form.
    pub fn to_proto(&self) -> pb::ValueStatus {
        pb::ValueStatus {
            key: self.key.to_string(),
            state: self.state as i32,
            error: self.error.clone(),
            last_operation: self.last_operation as i32,
            details: self.details.clone(),
        }
    }
}

/// A top-level value's status with the statuses of its derived values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BaseValueStatus {
    pub value: ValueStatus,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub derived_values: Vec<ValueStatus>,
}

impl BaseValueStatus {
    pub fn to_proto(&self) -> pb::BaseValueStatus {
        pb::BaseValueStatus {
            value: Some(self.value.to_proto()),
            derived_values: self.derived_values.iter().map(|v| v.to_proto()).collect(),
        }
    }
}

pub(crate) fn value_status(graph: &Graph, key: &Key) -> ValueStatus {
    let Some(node) = graph.nodes.get(key) else {
        return ValueStatus {
            key: key.clone(),
            state: ValueState::Nonexistent,
            error: String::new(),
            last_operation: TxnOperation::Undefined,
            details: Vec::new(),
        };
    };
    let details = match node.state {
        ValueState::Pending => graph.missing_deps(key),
        ValueState::Invalid => node
            .invalid
            .as_ref()
            .map(|b| b.1.clone())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    ValueStatus {
        key: key.clone(),
        state: node.state,
        error: node.error.clone().unwrap_or_default(),
        last_operation: node.last_op,
        details,
    }
}

/// Status of `key` and of everything derived from it (recursively, properties excluded).
pub(crate) fn base_status(graph: &Graph, key: &Key) -> BaseValueStatus {
    let mut derived_values = Vec::new();
    let mut stack: Vec<Key> = graph
        .nodes
        .get(key)
        .map(|n| n.derived.iter().rev().cloned().collect())
        .unwrap_or_default();
    while let Some(k) = stack.pop() {
        let Some(n) = graph.nodes.get(&k) else {
            continue;
        };
        if !n.is_property {
            derived_values.push(value_status(graph, &k));
        }
        stack.extend(n.derived.iter().rev().cloned());
    }
    BaseValueStatus {
        value: value_status(graph, key),
        derived_values,
    }
}

/// Statuses of the top-level values under `prefix`, sorted by key.
pub(crate) fn by_prefix(graph: &Graph, prefix: &str) -> Vec<BaseValueStatus> {
    graph
        .nodes
        .sorted_keys(|k: &Key, n: &Node| k.has_prefix(prefix) && !n.is_derived())
        .iter()
        .map(|k| base_status(graph, k))
        .collect()
}
