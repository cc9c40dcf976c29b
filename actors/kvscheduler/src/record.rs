//! Transaction records in Ligato's shapes: [`RecordedTxn`], [`RecordedTxnOp`] and
//! [`RecordedKVPair`], serialisable with serde under Ligato's JSON field names, plus the
//! operation flags in Ligato's order.
//!
//! Values are kept as shared pointers and only rendered (text or proto JSON) when printed or
//! serialised, so recording costs no formatting. The text layout lives in `log.rs`.

use std::time::SystemTime;

use messages::Key;
use messages::Value;
use messages::proto::ligato::kvscheduler::{TxnOperation, ValueState};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::clock::rfc3339;
use crate::descriptor::Origin;

/// Ligato's `TxnType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TxnType {
    #[serde(rename = "SBNotification")]
    SbNotification,
    #[serde(rename = "NBTransaction")]
    NbTransaction,
    #[serde(rename = "RetryFailedOps")]
    RetryFailedOps,
    #[serde(rename = "RetryUnimplOps")]
    RetryUnimplOps,
}

impl TxnType {
    pub fn name(self) -> &'static str {
        match self {
            TxnType::SbNotification => "SBNotification",
            TxnType::NbTransaction => "NBTransaction",
            TxnType::RetryFailedOps => "RetryFailedOps",
            TxnType::RetryUnimplOps => "RetryUnimplOps",
        }
    }

    /// The label in the text form.
    pub fn label(self) -> &'static str {
        match self {
            TxnType::SbNotification => "SB Notification",
            TxnType::NbTransaction => "NB Transaction",
            TxnType::RetryFailedOps => "Retry Transaction",
            TxnType::RetryUnimplOps => "RetryUnimplOps",
        }
    }
}

/// Ligato's `ResyncType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize)]
pub enum ResyncType {
    #[default]
    NotResync,
    FullResync,
    UpstreamResync,
    DownstreamResync,
}

impl ResyncType {
    pub fn name(self) -> &'static str {
        match self {
            ResyncType::NotResync => "NotResync",
            ResyncType::FullResync => "FullResync",
            ResyncType::UpstreamResync => "UpstreamResync",
            ResyncType::DownstreamResync => "DownstreamResync",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ResyncType::NotResync => "Not Resync",
            ResyncType::FullResync => "Full Resync",
            ResyncType::UpstreamResync => "NB Sync",
            ResyncType::DownstreamResync => "SB Sync",
        }
    }

    fn is_none(&self) -> bool {
        *self == ResyncType::NotResync
    }
}

/// A value as JSON: `{"ProtoMsgName": .., "ProtoMsgData": <proto JSON>}`.
#[derive(Clone, Debug)]
pub struct ProtoWithName(pub Value);

impl Serialize for ProtoWithName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let data = messages::value::to_dynamic(&*self.0)
            .and_then(|m| serde_json::to_value(&m).ok())
            .unwrap_or(serde_json::Value::Null);
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("ProtoMsgName", &self.0.type_name())?;
        map.serialize_entry("ProtoMsgData", &data)?;
        map.end()
    }
}

/// One (key, value) of a transaction's input; `None` is a delete.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedKVPair {
    #[serde(rename = "Key")]
    pub key: Key,
    #[serde(rename = "Value")]
    pub value: Option<ProtoWithName>,
    #[serde(rename = "Origin")]
    pub origin: u8,
}

impl RecordedKVPair {
    pub fn new(key: Key, value: Option<Value>, origin: Origin) -> Self {
        RecordedKVPair {
            key,
            value: value.map(ProtoWithName),
            origin: origin as u8,
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn state_is_zero(s: &ValueState) -> bool {
    *s == ValueState::Nonexistent
}

fn ser_state<S: Serializer>(s: &ValueState, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.as_str_name())
}

fn ser_op<S: Serializer>(o: &TxnOperation, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(o.as_str_name())
}

/// One planned or executed operation.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedTxnOp {
    #[serde(rename = "Operation", serialize_with = "ser_op")]
    pub operation: TxnOperation,
    #[serde(rename = "Key")]
    pub key: Key,
    #[serde(
        rename = "NewState",
        serialize_with = "ser_state",
        skip_serializing_if = "state_is_zero"
    )]
    pub new_state: ValueState,
    #[serde(rename = "NewValue", skip_serializing_if = "Option::is_none")]
    pub new_value: Option<ProtoWithName>,
    #[serde(rename = "NewErrMsg", skip_serializing_if = "Option::is_none")]
    pub new_err: Option<String>,
    #[serde(
        rename = "PrevState",
        serialize_with = "ser_state",
        skip_serializing_if = "state_is_zero"
    )]
    pub prev_state: ValueState,
    #[serde(rename = "PrevValue", skip_serializing_if = "Option::is_none")]
    pub prev_value: Option<ProtoWithName>,
    #[serde(rename = "PrevErrMsg", skip_serializing_if = "Option::is_none")]
    pub prev_err: Option<String>,
    #[serde(rename = "NOOP", skip_serializing_if = "is_false")]
    pub noop: bool,
    #[serde(rename = "IsDerived", skip_serializing_if = "is_false")]
    pub is_derived: bool,
    #[serde(rename = "IsProperty", skip_serializing_if = "is_false")]
    pub is_property: bool,
    #[serde(rename = "IsRevert", skip_serializing_if = "is_false")]
    pub is_revert: bool,
    #[serde(rename = "IsRetry", skip_serializing_if = "is_false")]
    pub is_retry: bool,
    #[serde(rename = "IsRecreate", skip_serializing_if = "is_false")]
    pub is_recreate: bool,
}

impl RecordedTxnOp {
    /// Ligato's flags, in Ligato's order (`RecordedTxnOp.StringWithOpts`).
    pub fn flags(&self) -> Vec<&'static str> {
        use ValueState as S;
        let (prev, new) = (self.prev_state, self.new_state);
        let mut f = Vec::new();
        if self.is_derived && !self.is_property {
            f.push("DERIVED");
        }
        if self.is_property {
            f.push("PROPERTY");
        }
        if self.noop {
            f.push("NOOP");
        }
        if self.is_revert && !self.is_property {
            f.push("REVERT");
        }
        if self.is_retry && !self.is_property {
            f.push("RETRY");
        }
        if self.is_recreate {
            f.push("RECREATE");
        }
        if new == S::Obtained {
            f.push("OBTAINED");
        }
        if prev == S::Obtained && prev != new {
            f.push("WAS-OBTAINED");
        }
        if new == S::Unimplemented {
            f.push("UNIMPLEMENTED");
        }
        if prev == S::Unimplemented && prev != new {
            f.push("WAS-UNIMPLEMENTED");
        }
        if prev == S::Removed && self.operation == TxnOperation::Delete {
            f.push("ALREADY-REMOVED");
        }
        if prev == S::Missing {
            f.push(if new == S::Removed {
                "ALREADY-MISSING"
            } else {
                "WAS-MISSING"
            });
        }
        if prev == S::Discovered {
            f.push("DISCOVERED");
        }
        match (prev == S::Pending, new == S::Pending) {
            (true, true) => f.push("STILL-PENDING"),
            (true, false) => f.push("WAS-PENDING"),
            (false, true) => f.push("IS-PENDING"),
            (false, false) => {}
        }
        for bad in [S::Failed, S::Invalid] {
            let name = if bad == S::Failed {
                "FAILED"
            } else {
                "INVALID"
            };
            let prev_bad = prev == bad || (bad == S::Failed && prev == S::Retrying);
            let new_bad = new == bad || (bad == S::Failed && new == S::Retrying);
            match (prev_bad, new_bad) {
                (true, true) => f.push(if bad == S::Failed {
                    "STILL-FAILING"
                } else {
                    "STILL-INVALID"
                }),
                (true, false) if new == S::Configured => f.push("FIXED"),
                (false, true) => f.push(name),
                _ => {}
            }
        }
        f
    }

    /// `OPERATION key [FLAGS]`: a compact one-line form for tests and debugging.
    pub fn brief(&self) -> String {
        let flags = self.flags();
        if flags.is_empty() {
            format!("{} {}", self.operation.as_str_name(), self.key)
        } else {
            format!(
                "{} {} [{}]",
                self.operation.as_str_name(),
                self.key,
                flags.join(" ")
            )
        }
    }
}

fn ser_time<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*t))
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_empty<T>(v: &[T]) -> bool {
    v.is_empty()
}

/// One transaction: its input, planned and executed operations.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedTxn {
    #[serde(rename = "PreRecord", skip_serializing_if = "is_false")]
    pub pre_record: bool,
    #[serde(rename = "WithSimulation", skip_serializing_if = "is_false")]
    pub with_simulation: bool,
    #[serde(rename = "Start", serialize_with = "ser_time")]
    pub start: SystemTime,
    #[serde(rename = "Stop", serialize_with = "ser_time")]
    pub stop: SystemTime,
    #[serde(rename = "SeqNum")]
    pub seq_num: u64,
    #[serde(rename = "TxnType")]
    pub txn_type: TxnType,
    #[serde(rename = "ResyncType", skip_serializing_if = "ResyncType::is_none")]
    pub resync_type: ResyncType,
    #[serde(rename = "Description", skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(rename = "RetryForTxn", skip_serializing_if = "is_zero")]
    pub retry_for_txn: u64,
    #[serde(rename = "RetryAttempt", skip_serializing_if = "is_zero")]
    pub retry_attempt: u64,
    #[serde(rename = "Values", skip_serializing_if = "is_empty")]
    pub values: Vec<RecordedKVPair>,
    #[serde(rename = "Planned", skip_serializing_if = "is_empty")]
    pub planned: Vec<RecordedTxnOp>,
    #[serde(rename = "Executed", skip_serializing_if = "is_empty")]
    pub executed: Vec<RecordedTxnOp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(prev: ValueState, new: ValueState) -> RecordedTxnOp {
        RecordedTxnOp {
            operation: TxnOperation::Create,
            key: Key::from("k"),
            new_state: new,
            new_value: None,
            new_err: None,
            prev_state: prev,
            prev_value: None,
            prev_err: None,
            noop: false,
            is_derived: false,
            is_property: false,
            is_revert: false,
            is_retry: false,
            is_recreate: false,
        }
    }

    #[test]
    fn flag_order_and_names() {
        use ValueState as S;
        let mut o = op(S::Nonexistent, S::Pending);
        o.noop = true;
        o.is_derived = true;
        assert_eq!(o.flags(), vec!["DERIVED", "NOOP", "IS-PENDING"]);
        assert_eq!(op(S::Pending, S::Configured).flags(), vec!["WAS-PENDING"]);
        assert_eq!(op(S::Failed, S::Configured).flags(), vec!["FIXED"]);
        assert_eq!(op(S::Retrying, S::Failed).flags(), vec!["STILL-FAILING"]);
        assert_eq!(op(S::Nonexistent, S::Invalid).flags(), vec!["INVALID"]);
        assert_eq!(op(S::Missing, S::Configured).flags(), vec!["WAS-MISSING"]);
        assert_eq!(op(S::Nonexistent, S::Obtained).flags(), vec!["OBTAINED"]);
    }

    #[test]
    fn json_shape() {
        let o = op(ValueState::Nonexistent, ValueState::Configured);
        let j = serde_json::to_value(&o).unwrap_or_default();
        assert_eq!(
            j,
            serde_json::json!({"Operation":"CREATE","Key":"k","NewState":"CONFIGURED"})
        );
    }
}
