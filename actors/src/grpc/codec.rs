//! The service's codec: prost's, except that an Update or Delete request carrying fields this
//! agent does not know is refused (`INVALID_ARGUMENT` naming the field) instead of having them
//! silently dropped. A client built from Ligato's full `.proto` files can send models we do
//! not implement (`acls`, field 20 of `ligato.vpp.ConfigData`); prost would decode the request
//! without them and the agent would answer OK for config it never applied.
//!
//! Other messages (the other requests, and every response a client decodes) are plain prost.

use std::marker::PhantomData;

use bytes::Buf;
use prost::Message;
use prost_reflect::{DynamicMessage, ReflectMessage, Value as ReflectValue};
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder};
use tonic_prost::ProstEncoder;

/// The requests whose unknown fields are refused.
const CHECKED: [&str; 2] = [
    "ligato.configurator.UpdateRequest",
    "ligato.configurator.DeleteRequest",
];

/// See the module docs; `T` is encoded, `U` decoded.
#[derive(Debug, Clone)]
pub struct CheckedCodec<T, U> {
    _pd: PhantomData<(T, U)>,
}

impl<T, U> Default for CheckedCodec<T, U> {
    fn default() -> Self {
        CheckedCodec { _pd: PhantomData }
    }
}

impl<T, U> Codec for CheckedCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + prost::Name + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = CheckedDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        CheckedDecoder { _pd: PhantomData }
    }
}

/// Decodes `U`, refusing unknown fields for the checked requests (Update, Delete).
#[derive(Debug, Clone)]
pub struct CheckedDecoder<U> {
    _pd: PhantomData<U>,
}

impl<U: Message + Default + prost::Name> Decoder for CheckedDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        let bytes = buf.copy_to_bytes(buf.remaining());
        let name = U::full_name();
        if CHECKED.contains(&name.as_str())
            && let Some(field) = unknown_field(&name, &bytes)
        {
            return Err(Status::invalid_argument(field));
        }
        U::decode(bytes)
            .map(Some)
            .map_err(|e| Status::invalid_argument(format!("malformed {name}: {e}")))
    }
}

/// The first field of `bytes` (a `message` of the descriptor pool) that the pool does not
/// know, described with its path, e.g. `unknown field 20 of ligato.vpp.ConfigData at
/// update.vpp_config (a model or field this agent does not implement)`; `None` if all are
/// known or the bytes do not decode (prost reports that).
pub fn unknown_field(message: &str, bytes: &[u8]) -> Option<String> {
    let desc = messages::proto::descriptor_pool().get_message_by_name(message)?;
    let msg = DynamicMessage::decode(desc, bytes).ok()?;
    find_unknown(&msg, "")
}

fn find_unknown(msg: &DynamicMessage, path: &str) -> Option<String> {
    if let Some(f) = msg.unknown_fields().next() {
        let at = if path.is_empty() {
            String::new()
        } else {
            format!(" at {path}")
        };
        return Some(format!(
            "unknown field {} of {}{at} (a model or field this agent does not implement)",
            f.number(),
            msg.descriptor().full_name()
        ));
    }
    for (field, value) in msg.fields() {
        let here = if path.is_empty() {
            field.name().to_owned()
        } else {
            format!("{path}.{}", field.name())
        };
        let found = match value {
            ReflectValue::Message(m) => find_unknown(m, &here),
            ReflectValue::List(items) => items.iter().enumerate().find_map(|(i, v)| {
                v.as_message()
                    .and_then(|m| find_unknown(m, &format!("{here}[{i}]")))
            }),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use messages::proto::ligato::configurator::{Config, UpdateRequest};
    use messages::proto::ligato::vpp::ConfigData;
    use messages::proto::vpp_interfaces::Interface;

    fn request() -> Vec<u8> {
        UpdateRequest {
            update: Some(Config {
                vpp_config: Some(ConfigData {
                    interfaces: vec![Interface {
                        name: "loop1".to_owned(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
        .encode_to_vec()
    }

    #[test]
    fn known_fields_pass() {
        assert_eq!(
            unknown_field("ligato.configurator.UpdateRequest", &request()),
            None
        );
    }

    #[test]
    fn a_model_we_do_not_implement_is_named() {
        // ConfigData field 20 (Ligato's acls): one empty ACL, appended to vpp_config.
        let data = [
            ConfigData {
                interfaces: vec![Interface {
                    name: "loop1".to_owned(),
                    ..Default::default()
                }],
                ..Default::default()
            }
            .encode_to_vec(),
            vec![0xa2, 0x01, 0x00],
        ]
        .concat();
        let config = [vec![0x0a, u8::try_from(data.len()).unwrap_or(0)], data].concat();
        let req = [vec![0x0a, u8::try_from(config.len()).unwrap_or(0)], config].concat();
        assert_eq!(
            unknown_field("ligato.configurator.UpdateRequest", &req).as_deref(),
            Some(
                "unknown field 20 of ligato.vpp.ConfigData at update.vpp_config \
                 (a model or field this agent does not implement)"
            )
        );
    }

    #[test]
    fn an_unknown_field_inside_a_value_has_its_index() {
        // Interface field 99 (varint 1) inside interfaces[1].
        let second = [
            Interface {
                name: "loop2".to_owned(),
                ..Default::default()
            }
            .encode_to_vec(),
            vec![0x98, 0x06, 0x01],
        ]
        .concat();
        let first = Interface {
            name: "loop1".to_owned(),
            ..Default::default()
        }
        .encode_to_vec();
        let mut data = vec![0x52, u8::try_from(first.len()).unwrap_or(0)];
        data.extend(first);
        data.extend([0x52, u8::try_from(second.len()).unwrap_or(0)]);
        data.extend(second);
        let config = [vec![0x0a, u8::try_from(data.len()).unwrap_or(0)], data].concat();
        let req = [vec![0x0a, u8::try_from(config.len()).unwrap_or(0)], config].concat();
        let err = unknown_field("ligato.configurator.DeleteRequest", &req).unwrap_or_default();
        assert!(
            err.starts_with(
                "unknown field 99 of ligato.vpp.interfaces.Interface at delete.vpp_config.interfaces[1]"
            ),
            "{err}"
        );
    }
}
