//! The model registry: which models exist, how to find a model from a key or a message name,
//! and how to turn a `(key, JSON bytes)` pair from a store into a typed [`Value`] and back.
//!
//! A registry is plain data built once at start-up ([`Registry::builtin`] plus any extra
//! [`Registry::register`] calls) and then shared read-only.

use std::sync::LazyLock;

use prost_reflect::{DescriptorPool, DynamicMessage};

use crate::error::ModelError;
use crate::json;
use crate::key::Key;
use crate::model::{Model, NamedModel};
use crate::proto::{descriptor_pool, linux_interfaces, linux_l3, vpp_interfaces, vpp_l2, vpp_l3};
use crate::value::{ProtoValue, Value};

/// All models the agent knows, and the descriptors of their messages.
#[derive(Debug, Clone)]
pub struct Registry {
    models: Vec<Model>,
    pool: DescriptorPool,
}

static BUILTIN: LazyLock<Registry> = LazyLock::new(Registry::builtin);

/// The registry of built-in models, shared.
pub fn builtin() -> &'static Registry {
    &BUILTIN
}

impl Registry {
    /// An empty registry over the built-in descriptor pool.
    pub fn empty() -> Self {
        Registry {
            models: Vec::new(),
            pool: descriptor_pool().clone(),
        }
    }

    /// Ligato's VPP and Linux models.
    pub fn builtin() -> Self {
        let mut r = Registry::empty();
        r.models = vec![
            Model::of::<vpp_interfaces::Interface>(),
            Model::of::<vpp_l2::BridgeDomain>(),
            Model::of::<vpp_l2::FibEntry>(),
            Model::of::<vpp_l2::XConnectPair>(),
            Model::of::<vpp_l3::Route>(),
            Model::of::<vpp_l3::ArpEntry>(),
            Model::of::<vpp_l3::VrfTable>(),
            Model::of::<linux_interfaces::Interface>(),
            Model::of::<linux_l3::Route>(),
            Model::of::<linux_l3::ArpEntry>(),
        ];
        r
    }

    /// Adds a model. Its message must be in the pool (see [`Registry::add_descriptors`]) for
    /// JSON to work, and its key prefix must be new.
    pub fn register<T: NamedModel>(&mut self) -> Result<&Model, ModelError> {
        let model = Model::of::<T>();
        if let Some(existing) = self
            .models
            .iter()
            .find(|m| m.key_prefix() == model.key_prefix())
        {
            return Err(ModelError::DuplicatePrefix {
                model: model.spec().model_name(),
                prefix: model.key_prefix().to_owned(),
                existing: existing.spec().model_name(),
            });
        }
        if self.pool.get_message_by_name(model.proto_name()).is_none() {
            return Err(ModelError::MissingDescriptor {
                name: model.proto_name().to_owned(),
            });
        }
        self.models.push(model);
        Ok(self.models.last().expect("just pushed"))
    }

    /// Adds the messages of an encoded `FileDescriptorSet` (e.g. from protox) to the pool.
    pub fn add_descriptors(&mut self, file_descriptor_set: &[u8]) -> Result<(), ModelError> {
        self.pool
            .decode_file_descriptor_set(file_descriptor_set)
            .map_err(|e| ModelError::MissingDescriptor {
                name: format!("invalid descriptor set: {e}"),
            })
    }

    pub fn models(&self) -> &[Model] {
        &self.models
    }

    pub fn pool(&self) -> &DescriptorPool {
        &self.pool
    }

    /// The model of a proto message, by full name (`ligato.vpp.l2.BridgeDomain`).
    pub fn model_for_message(&self, proto_name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.proto_name() == proto_name)
    }

    /// The model by its name (`vpp.interfaces`, `vpp.l2.bridge-domain`).
    pub fn model_by_name(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.spec().model_name() == name)
    }

    /// The model whose prefix `key` starts with (longest prefix wins), and the name after it.
    pub fn parse_key<'k>(&self, key: &'k str) -> Result<(&Model, &'k str), ModelError> {
        let model = self
            .models
            .iter()
            .filter(|m| key.starts_with(m.key_prefix()))
            .max_by_key(|m| m.key_prefix().len())
            .ok_or_else(|| ModelError::UnknownModel {
                key: key.to_owned(),
            })?;
        let name = &key[model.key_prefix().len()..];
        if name.is_empty() {
            return Err(ModelError::EmptyName {
                key: key.to_owned(),
                prefix: model.key_prefix().to_owned(),
            });
        }
        Ok((model, name))
    }

    /// The key of a model value, byte-identical to Ligato's `models.Key`.
    pub fn key_of(&self, value: &dyn ProtoValue) -> Result<Key, ModelError> {
        let name = value.type_name();
        let model = self
            .model_for_message(&name)
            .ok_or_else(|| ModelError::UnknownMessage { name: name.clone() })?;
        model
            .key_of(value)
            .map(Key::from)
            .ok_or(ModelError::UnknownMessage { name })
    }

    /// Decodes a store value for `key`: `Ok(None)` for an empty value (a delete, as in Ligato),
    /// otherwise the typed value. The value must be proto3 JSON of the key's model (original or
    /// lowerCamel field names, enums by name or number, no unknown fields) and its own key must
    /// be `key`.
    pub fn decode_json(&self, key: &str, bytes: &[u8]) -> Result<Option<Value>, ModelError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let (model, _) = self.parse_key(key)?;
        let value = self.value_from_json(model, key, bytes)?;
        let expected = model.key_of(&*value).unwrap_or_default();
        if expected != key {
            return Err(ModelError::KeyMismatch {
                key: key.to_owned(),
                expected,
            });
        }
        Ok(Some(value))
    }

    /// Decodes proto3 JSON into a value of `model`, without checking the key; `key` only
    /// names the value in errors.
    pub fn value_from_json(
        &self,
        model: &Model,
        key: &str,
        bytes: &[u8],
    ) -> Result<Value, ModelError> {
        let desc = self
            .pool
            .get_message_by_name(model.proto_name())
            .ok_or_else(|| ModelError::MissingDescriptor {
                name: model.proto_name().to_owned(),
            })?;
        let msg = json::decode(desc, key, bytes)?;
        model
            .decode_proto(&prost::Message::encode_to_vec(&msg))
            .map_err(|e| ModelError::InvalidValue {
                key: key.to_owned(),
                message: model.proto_name().to_owned(),
                field: None,
                reason: e.to_string(),
                location: None,
            })
    }

    /// proto3 JSON of a value, with original field names and enum names, defaults omitted
    /// (what Ligato writes with `protojson` and `UseProtoNames`).
    pub fn encode_json(&self, value: &dyn ProtoValue) -> Result<String, ModelError> {
        let name = value.type_name();
        let desc = self
            .pool
            .get_message_by_name(&name)
            .ok_or(ModelError::MissingDescriptor { name })?;
        let msg = DynamicMessage::decode(desc, value.encode_proto().as_slice()).map_err(|e| {
            ModelError::MissingDescriptor {
                name: format!("{}: {e}", value.type_name()),
            }
        })?;
        Ok(json::encode(&msg))
    }
}
