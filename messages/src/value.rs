//! [`Value`]: a protobuf message behind a shared pointer, the agent's equivalent of Go's
//! `proto.Message`. The scheduler, descriptors and connectors pass values around without
//! knowing their concrete type; a descriptor downcasts to the model it handles.
//!
//! Equality, text rendering (for transaction logs) and encoding work on any value whose type
//! implements `prost::Message + prost::Name`. JSON lives in [`crate::json`].

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use prost_reflect::{DynamicMessage, Kind, ReflectMessage, Value as ReflectValue};

use crate::proto::descriptor_pool;

/// A protobuf message that can travel as a [`Value`].
pub trait ProtoValue: fmt::Debug + Send + Sync + 'static {
    /// Full proto name, e.g. `ligato.vpp.interfaces.Interface`.
    fn type_name(&self) -> String;
    fn as_any(&self) -> &dyn Any;
    /// Proto equality: same type and equal fields.
    fn eq_value(&self, other: &dyn ProtoValue) -> bool;
    /// Protobuf wire encoding.
    fn encode_proto(&self) -> Vec<u8>;
}

impl<T> ProtoValue for T
where
    T: prost::Message + prost::Name + PartialEq + fmt::Debug + Send + Sync + 'static,
{
    fn type_name(&self) -> String {
        T::full_name()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn eq_value(&self, other: &dyn ProtoValue) -> bool {
        other.as_any().downcast_ref::<T>() == Some(self)
    }

    fn encode_proto(&self) -> Vec<u8> {
        self.encode_to_vec()
    }
}

/// A shared, immutable protobuf message.
pub type Value = Arc<dyn ProtoValue>;

/// Wraps a message into a [`Value`].
pub fn value<T: ProtoValue>(msg: T) -> Value {
    Arc::new(msg)
}

/// Downcasts a value to a concrete model type.
pub fn downcast<T: ProtoValue>(value: &dyn ProtoValue) -> Option<&T> {
    value.as_any().downcast_ref::<T>()
}

/// Decodes the value into a reflection message, when its type is in the model pool.
pub fn to_dynamic(value: &dyn ProtoValue) -> Option<DynamicMessage> {
    let desc = descriptor_pool().get_message_by_name(&value.type_name())?;
    DynamicMessage::decode(desc, value.encode_proto().as_slice()).ok()
}

/// One-line text form used by transaction logs, as Ligato prints values:
/// `{ name:"loop1" type:SOFTWARE_LOOPBACK enabled:true }`; `<EMPTY>` for `google.protobuf.Empty`.
pub fn text(value: Option<&dyn ProtoValue>) -> String {
    let Some(value) = value else {
        return "<NIL>".to_owned();
    };
    if value.type_name() == "google.protobuf.Empty" {
        return "<EMPTY>".to_owned();
    }
    match to_dynamic(value) {
        Some(msg) => {
            let mut body = String::new();
            write_text(&mut body, &msg);
            if body.is_empty() {
                "{ }".to_owned()
            } else {
                format!("{{ {body} }}")
            }
        }
        None => format!("{value:?}"),
    }
}

/// Prototext of the set fields, in declaration order, separated by spaces (Go's prototext
/// single-line form; prost-reflect's compact form uses commas instead).
fn write_text(out: &mut String, msg: &DynamicMessage) {
    for field in msg.descriptor().fields() {
        if !msg.has_field(&field) {
            continue;
        }
        let value = msg.get_field(&field);
        let items: Vec<&ReflectValue> = match &*value {
            ReflectValue::List(list) => list.iter().collect(),
            other => vec![other],
        };
        for item in items {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(field.name());
            out.push(':');
            write_scalar(out, item, &field.kind());
        }
    }
}

fn write_scalar(out: &mut String, value: &ReflectValue, kind: &Kind) {
    use std::fmt::Write;
    match (value, kind) {
        (ReflectValue::EnumNumber(n), Kind::Enum(e)) => match e.get_value(*n) {
            Some(v) => out.push_str(v.name()),
            None => {
                let _ = write!(out, "{n}");
            }
        },
        (ReflectValue::String(s), _) => {
            let _ = write!(out, "{s:?}");
        }
        (ReflectValue::Message(m), _) => {
            let mut inner = String::new();
            write_text(&mut inner, m);
            let _ = write!(out, "{{{inner}}}");
        }
        (other, _) => {
            let _ = write!(out, "{other}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Empty;
    use crate::proto::vpp_interfaces::{Interface, interface::Type};

    #[test]
    fn text_form() {
        let v = Interface {
            name: "loop1".into(),
            r#type: Type::SoftwareLoopback as i32,
            enabled: true,
            ..Default::default()
        };
        assert_eq!(
            text(Some(&v)),
            r#"{ name:"loop1" type:SOFTWARE_LOOPBACK enabled:true }"#
        );
        assert_eq!(text(Some(&Empty {})), "<EMPTY>");
        assert_eq!(text(None), "<NIL>");
    }

    #[test]
    fn equality_is_typed() {
        let a: Value = value(Interface {
            name: "a".into(),
            ..Default::default()
        });
        let b: Value = value(Interface {
            name: "a".into(),
            ..Default::default()
        });
        assert!(a.eq_value(&*b));
        assert!(!a.eq_value(&Empty {}));
        assert!(downcast::<Interface>(&*a).is_some());
    }
}
