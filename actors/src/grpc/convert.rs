//! `ligato.configurator.Config` ↔ the agent's `(Key, Value)` pairs, and Config ↔ YAML/JSON
//! text (proto3 JSON: original or lowerCamel field names on input, original names out).
//!
//! The mapping is generic over the descriptor pool: every message field of `vpp_config` and
//! `linux_config` (repeated or single) holds values of the model registered for that message
//! type, so a model added to the registry and to `ConfigData` needs no code here. Used by the
//! gRPC server, `GET/PUT /configuration` and agentctl.
//!
//! Deliberately not here: anything that talks to an actor.

use prost::Message;
use prost_reflect::{
    DeserializeOptions, DynamicMessage, Kind, MessageDescriptor, ReflectMessage, SerializeOptions,
    Value as ReflectValue,
};
use serde::Serialize;

use messages::proto::ligato::configurator::Config;
use messages::{Key, Registry, Value};

/// The full proto name of [`Config`].
pub const CONFIG_MESSAGE: &str = "ligato.configurator.Config";

/// Bad config input; the text names the field (`vpp_config.interfaces[0].mtu`) or the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Neither YAML nor JSON.
    #[error("config is not valid yaml or json: {reason}")]
    Syntax { reason: String },
    /// Text that does not fit the Config message (an unknown model, a wrong type).
    #[error("config {}: {reason}", field.as_deref().map(|f| format!("field {f:?}")).unwrap_or_else(|| "message".to_owned()))]
    Invalid {
        field: Option<String>,
        reason: String,
    },
    /// A value whose message type has no registered model, or whose key cannot be built.
    #[error("config field {field:?}: {reason}")]
    Model { field: String, reason: String },
    /// The descriptor pool lacks the Config message (a broken build).
    #[error("message {0:?} is not in the descriptor pool")]
    MissingDescriptor(String),
}

fn config_descriptor(registry: &Registry) -> Result<MessageDescriptor, ConfigError> {
    registry
        .pool()
        .get_message_by_name(CONFIG_MESSAGE)
        .ok_or_else(|| ConfigError::MissingDescriptor(CONFIG_MESSAGE.to_owned()))
}

/// Parses a Config document: JSON, or YAML (a superset of JSON, so both parse as YAML; JSON
/// is tried first for its better error positions). Unknown fields (e.g. a model this agent
/// does not implement) and wrong types are errors naming the field.
pub fn config_from_text(registry: &Registry, text: &str) -> Result<Config, ConfigError> {
    let tree: serde_json::Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| ConfigError::Syntax {
            reason: e.to_string(),
        })?
    } else if text.trim().is_empty() {
        serde_json::Value::Object(serde_json::Map::new())
    } else {
        serde_saphyr::from_str(text).map_err(|e| ConfigError::Syntax {
            reason: e.to_string().lines().next().unwrap_or_default().to_owned(),
        })?
    };
    config_from_json_value(registry, tree)
}

/// [`config_from_text`] for an already parsed JSON tree.
pub fn config_from_json_value(
    registry: &Registry,
    tree: serde_json::Value,
) -> Result<Config, ConfigError> {
    if tree.is_null() {
        return Ok(Config::default());
    }
    let desc = config_descriptor(registry)?;
    let mut track = serde_path_to_error::Track::new();
    let opts = DeserializeOptions::new().deny_unknown_fields(true);
    let msg = DynamicMessage::deserialize_with_options(
        desc,
        serde_path_to_error::Deserializer::new(tree, &mut track),
        &opts,
    )
    .map_err(|e| {
        let path = track.path().to_string();
        ConfigError::Invalid {
            field: (!path.is_empty() && path != "." && path != "?").then_some(path),
            reason: e.to_string(),
        }
    })?;
    msg.transcode_to::<Config>()
        .map_err(|e| ConfigError::Invalid {
            field: None,
            reason: e.to_string(),
        })
}

/// A Config as a dynamic message of the registry's pool.
fn to_dynamic(registry: &Registry, config: &Config) -> Result<DynamicMessage, ConfigError> {
    let desc = config_descriptor(registry)?;
    DynamicMessage::decode(desc, config.encode_to_vec().as_slice()).map_err(|e| {
        ConfigError::Invalid {
            field: None,
            reason: e.to_string(),
        }
    })
}

struct WithOptions<'a>(&'a DynamicMessage);

impl Serialize for WithOptions<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let opts = SerializeOptions::new().use_proto_field_name(true);
        self.0.serialize_with_options(s, &opts)
    }
}

/// proto3 JSON of a Config (original field names, enum names, defaults omitted), pretty.
pub fn config_to_json(registry: &Registry, config: &Config) -> Result<String, ConfigError> {
    let msg = to_dynamic(registry, config)?;
    serde_json::to_string_pretty(&WithOptions(&msg)).map_err(|e| ConfigError::Invalid {
        field: None,
        reason: e.to_string(),
    })
}

/// The same document as YAML, fields in declaration order (Ligato's `GET /configuration`).
pub fn config_to_yaml(registry: &Registry, config: &Config) -> Result<String, ConfigError> {
    let msg = to_dynamic(registry, config)?;
    serde_saphyr::to_string(&WithOptions(&msg)).map_err(|e| ConfigError::Invalid {
        field: None,
        reason: e.to_string(),
    })
}

/// The model values of a Config with their keys, in document order (`vpp_config` first, then
/// each field in declaration order, then list order).
pub fn config_to_values(
    registry: &Registry,
    config: &Config,
) -> Result<Vec<(Key, Value)>, ConfigError> {
    let root = to_dynamic(registry, config)?;
    let mut out = Vec::new();
    for (section, data) in root.fields() {
        let ReflectValue::Message(data) = data else {
            continue;
        };
        for (field, items) in data.fields() {
            let items: Vec<&DynamicMessage> = match items {
                ReflectValue::List(list) => list.iter().filter_map(|v| v.as_message()).collect(),
                ReflectValue::Message(m) => vec![m],
                _ => Vec::new(),
            };
            for (i, item) in items.into_iter().enumerate() {
                let path = if field.is_list() {
                    format!("{}.{}[{i}]", section.name(), field.name())
                } else {
                    format!("{}.{}", section.name(), field.name())
                };
                out.push(item_value(registry, &path, item)?);
            }
        }
    }
    Ok(out)
}

fn item_value(
    registry: &Registry,
    path: &str,
    item: &DynamicMessage,
) -> Result<(Key, Value), ConfigError> {
    let model_err = |reason: String| ConfigError::Model {
        field: path.to_owned(),
        reason,
    };
    let name = item.descriptor().full_name().to_owned();
    let model = registry
        .model_for_message(&name)
        .ok_or_else(|| model_err(format!("no model is registered for message {name}")))?;
    let value = model
        .decode_proto(&item.encode_to_vec())
        .map_err(|e| model_err(e.to_string()))?;
    let key = registry
        .key_of(&*value)
        .map_err(|e| model_err(e.to_string()))?;
    registry
        .parse_key(key.as_str())
        .map_err(|_| model_err(format!("the value has no name (its key would be {key:?})")))?;
    Ok((key, value))
}

/// The Config holding `values`; values of a type with no Config field (derived values,
/// models outside `ConfigData`) are left out.
pub fn values_to_config<'a>(
    registry: &Registry,
    values: impl IntoIterator<Item = &'a Value>,
) -> Result<Config, ConfigError> {
    let desc = config_descriptor(registry)?;
    let mut root = DynamicMessage::new(desc.clone());
    for value in values {
        let type_name = value.type_name();
        let Some((section, field)) = desc.fields().find_map(|section| {
            let Kind::Message(data) = section.kind() else {
                return None;
            };
            data.fields()
                .find(|f| matches!(f.kind(), Kind::Message(m) if m.full_name() == type_name))
                .map(|f| (section, f))
        }) else {
            continue;
        };
        let Kind::Message(item_desc) = field.kind() else {
            continue;
        };
        let item =
            DynamicMessage::decode(item_desc, value.encode_proto().as_slice()).map_err(|e| {
                ConfigError::Model {
                    field: format!("{}.{}", section.name(), field.name()),
                    reason: e.to_string(),
                }
            })?;
        let ReflectValue::Message(data) = root.get_field_mut(&section) else {
            continue;
        };
        if field.is_list() {
            if let ReflectValue::List(list) = data.get_field_mut(&field) {
                list.push(ReflectValue::Message(item));
            }
        } else {
            data.set_field(&field, ReflectValue::Message(item));
        }
    }
    root.transcode_to::<Config>()
        .map_err(|e| ConfigError::Invalid {
            field: None,
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "vppConfig:
  interfaces:
    - name: loop1
      type: SOFTWARE_LOOPBACK
      enabled: true
      ipAddresses: [10.0.0.1/24]
  bridge_domains:
    - name: bd1
      interfaces: [{name: loop1, bridgedVirtualInterface: true}]
linuxConfig:
  interfaces:
    - {name: veth1, type: VETH, enabled: true, veth: {peerIfName: veth2}}
";

    fn registry() -> &'static Registry {
        messages::registry::builtin()
    }

    #[test]
    fn yaml_document_maps_to_keys_in_order() {
        let config = config_from_text(registry(), DOC).unwrap_or_else(|e| panic!("{e}"));
        let values = config_to_values(registry(), &config).unwrap_or_else(|e| panic!("{e}"));
        let keys: Vec<&str> = values.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "config/vpp/v2/interfaces/loop1",
                "config/vpp/l2/v2/bridge-domain/bd1",
                "config/linux/interfaces/v2/interface/veth1",
            ]
        );
        let back = values_to_config(registry(), values.iter().map(|(_, v)| v))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, config);
    }

    #[test]
    fn json_and_yaml_output_parse_back() {
        let config = config_from_text(registry(), DOC).unwrap_or_else(|e| panic!("{e}"));
        let json = config_to_json(registry(), &config).unwrap_or_else(|e| panic!("{e}"));
        assert!(json.contains("\"vpp_config\""), "{json}");
        assert!(json.contains("\"SOFTWARE_LOOPBACK\""), "{json}");
        let yaml = config_to_yaml(registry(), &config).unwrap_or_else(|e| panic!("{e}"));
        assert!(yaml.starts_with("vpp_config:"), "{yaml}");
        for text in [json, yaml] {
            let again = config_from_text(registry(), &text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(again, config, "{text}");
        }
    }

    #[test]
    fn unknown_model_and_wrong_type_name_the_field() {
        let err = config_from_text(registry(), "vpp_config:\n  acls: [{name: a}]\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("acls"), "{err}");
        let err = config_from_text(
            registry(),
            r#"{"vpp_config":{"interfaces":[{"name":"x","mtu":"big"}]}}"#,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("vpp_config.interfaces[0].mtu"), "{err}");
        assert!(matches!(
            config_from_text(registry(), "{not json"),
            Err(ConfigError::Syntax { .. })
        ));
    }

    #[test]
    fn a_value_without_a_name_is_refused() {
        let config = config_from_text(registry(), "vpp_config: {interfaces: [{mtu: 1500}]}")
            .unwrap_or_else(|e| panic!("{e}"));
        let err = config_to_values(registry(), &config)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("vpp_config.interfaces[0]"), "{err}");
    }

    #[test]
    fn an_empty_config_prints_as_an_empty_document() {
        for text in [
            config_to_yaml(registry(), &Config::default()),
            config_to_json(registry(), &Config::default()),
        ] {
            let text = text.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(text.trim(), "{}");
            assert_eq!(
                config_from_text(registry(), &text).unwrap_or_else(|e| panic!("{e}")),
                Config::default()
            );
        }
    }

    #[test]
    fn empty_documents_are_empty_configs() {
        for text in ["", "{}", "null", "vpp_config: {}"] {
            let config = config_from_text(registry(), text).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                config_to_values(registry(), &config)
                    .unwrap_or_else(|e| panic!("{e}"))
                    .is_empty()
            );
        }
    }
}
