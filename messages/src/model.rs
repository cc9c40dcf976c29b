//! Model specifications and key building, as Ligato's `pkg/models`: a model is a spec
//! (class, module, version, type), a protobuf message and a name template; its key is
//! `<class>/<module with . as />/<version>/<type>/<name>`, cleaned like Go's `path.Join`.
//!
//! This module defines what a model is; the built-in models are in [`crate::models`] and the
//! lookup tables in [`crate::registry`].

use std::fmt;
use std::sync::Arc;

use crate::value::{ProtoValue, Value};

/// Module, version and type of a model (Ligato's `models.Spec`); the class is `config`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModelSpec {
    pub class: &'static str,
    pub module: &'static str,
    pub version: &'static str,
    pub type_name: &'static str,
}

impl ModelSpec {
    /// A `config` class spec.
    pub const fn config(
        module: &'static str,
        version: &'static str,
        type_name: &'static str,
    ) -> Self {
        ModelSpec {
            class: "config",
            module,
            version,
            type_name,
        }
    }

    /// `<module>.<type>`, e.g. `vpp.interfaces` or `vpp.l2.bridge-domain`.
    pub fn model_name(&self) -> String {
        format!("{}.{}", self.module, self.type_name)
    }

    /// `<class>/<module>/<version>/<type>/` with `.` turned into `/` in module and type.
    pub fn key_prefix(&self) -> String {
        format!(
            "{}/{}/{}/{}/",
            self.class,
            self.module.replace('.', "/"),
            self.version,
            self.type_name.replace('.', "/")
        )
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.model_name())
    }
}

/// A protobuf message type that is a model: it knows its spec and how to name an instance.
pub trait NamedModel:
    prost::Message + prost::Name + Default + Clone + PartialEq + fmt::Debug + Send + Sync + 'static
{
    /// The spec of the model.
    const SPEC: ModelSpec;
    /// Ligato's name template, as text (shown by `model inspect`; the logic is in
    /// [`NamedModel::instance_name`]).
    const NAME_TEMPLATE: &'static str;
    /// The name part of the key, exactly as Ligato's template renders it.
    fn instance_name(&self) -> String;
}

/// A registered model: spec, proto type and the functions to name and decode its values.
#[derive(Clone)]
pub struct Model {
    spec: ModelSpec,
    proto_name: Arc<str>,
    name_template: &'static str,
    key_prefix: Arc<str>,
    name_of: fn(&dyn ProtoValue) -> Option<String>,
    decode: fn(&[u8]) -> Result<Value, prost::DecodeError>,
}

fn name_of<T: NamedModel>(value: &dyn ProtoValue) -> Option<String> {
    value.as_any().downcast_ref::<T>().map(T::instance_name)
}

fn decode<T: NamedModel>(bytes: &[u8]) -> Result<Value, prost::DecodeError> {
    T::decode(bytes).map(|m| Arc::new(m) as Value)
}

impl Model {
    /// The model of message type `T`.
    pub fn of<T: NamedModel>() -> Self {
        Model {
            spec: T::SPEC,
            proto_name: T::full_name().into(),
            name_template: T::NAME_TEMPLATE,
            key_prefix: T::SPEC.key_prefix().into(),
            name_of: name_of::<T>,
            decode: decode::<T>,
        }
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// Full proto name of the message, e.g. `ligato.vpp.l2.BridgeDomain`.
    pub fn proto_name(&self) -> &str {
        &self.proto_name
    }

    pub fn name_template(&self) -> &'static str {
        self.name_template
    }

    /// `config/vpp/v2/interfaces/`.
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// The name of `value` under this model, or `None` if the value is of another type.
    pub fn instance_name(&self, value: &dyn ProtoValue) -> Option<String> {
        (self.name_of)(value)
    }

    /// The key of `value`: `path.Join(key_prefix, name)` as Ligato builds it.
    pub fn key_of(&self, value: &dyn ProtoValue) -> Option<String> {
        let name = self.instance_name(value)?;
        Some(go_path_join(&self.key_prefix, &name))
    }

    /// Decodes protobuf wire bytes into a value of this model.
    pub fn decode_proto(&self, bytes: &[u8]) -> Result<Value, prost::DecodeError> {
        (self.decode)(bytes)
    }
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("name", &self.spec.model_name())
            .field("proto", &self.proto_name)
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

/// Go's `path.Join(prefix, name)` for a relative prefix: joins with `/` and cleans the result
/// (empty and `.` segments dropped, `..` pops a segment, no trailing slash).
pub fn go_path_join(prefix: &str, name: &str) -> String {
    let joined = format!("{prefix}/{name}");
    let mut out: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if matches!(out.last(), Some(last) if *last != "..") {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    if out.is_empty() {
        ".".to_owned()
    } else {
        out.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_join_cleans_like_go() {
        assert_eq!(
            go_path_join("config/vpp/v2/interfaces/", "loop1"),
            "config/vpp/v2/interfaces/loop1"
        );
        assert_eq!(
            go_path_join("config/vpp/v2/route/", "vrf/3/dst/10.0.0.0/8/"),
            "config/vpp/v2/route/vrf/3/dst/10.0.0.0/8"
        );
        assert_eq!(go_path_join("a/b/", "c//d"), "a/b/c/d");
        assert_eq!(go_path_join("a/b/", "../c"), "a/c");
        assert_eq!(go_path_join("a/b/", "./c/."), "a/b/c");
        assert_eq!(go_path_join("a/", ""), "a");
    }

    #[test]
    fn spec_prefixes() {
        let s = ModelSpec::config("vpp.l2", "v2", "bridge-domain");
        assert_eq!(s.key_prefix(), "config/vpp/l2/v2/bridge-domain/");
        assert_eq!(s.model_name(), "vpp.l2.bridge-domain");
    }
}
