//! Keys and labels as newtypes: [`Key`] (a model key such as `config/vpp/v2/interfaces/loop1`,
//! or a derived key such as `vpp/bd/bd1/interface/tap1`), [`MicroserviceLabel`] and the agent
//! prefix `/vnf-agent/<label>/` that KV stores put in front of every key.
//!
//! This module only builds and splits strings; it does not know which models exist
//! (see [`crate::registry`]).

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

/// The prefix shared by all agents in a KV store (cn-infra's `agentPrefix`).
pub const ALL_AGENTS_PREFIX: &str = "/vnf-agent/";

/// The default microservice label, as in Ligato.
pub const DEFAULT_LABEL: &str = "vpp1";

/// A key of the agent's key space, without the agent prefix. Cheap to clone.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(Arc<str>);

impl Key {
    pub fn new(key: impl Into<Arc<str>>) -> Self {
        Key(key.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when this key starts with `prefix` (plain string prefix, as Ligato's key selectors).
    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.0.starts_with(prefix)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Borrow<str> for Key {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Key {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Self {
        Key(s.into())
    }
}

impl From<String> for Key {
    fn from(s: String) -> Self {
        Key(s.into())
    }
}

impl serde::Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Key::from)
    }
}

/// The microservice label that groups agents watching the same part of a store.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MicroserviceLabel(String);

/// Why a string is not a usable microservice label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("microservice label is empty")]
    Empty,
    #[error("microservice label {0:?} contains '/', which would break the agent prefix")]
    Slash(String),
}

impl MicroserviceLabel {
    pub fn new(label: impl Into<String>) -> Result<Self, LabelError> {
        let label = label.into();
        if label.is_empty() {
            return Err(LabelError::Empty);
        }
        if label.contains('/') {
            return Err(LabelError::Slash(label));
        }
        Ok(MicroserviceLabel(label))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `/vnf-agent/<label>/`: the prefix this agent watches.
    pub fn agent_prefix(&self) -> String {
        format!("{ALL_AGENTS_PREFIX}{}/", self.0)
    }

    /// The full store key for `key`: `/vnf-agent/<label>/<key>`.
    pub fn add_prefix(&self, key: &Key) -> String {
        format!("{ALL_AGENTS_PREFIX}{}/{}", self.0, key.as_str())
    }

    /// Strips this agent's prefix; `None` when the store key belongs to another label or is
    /// not under `/vnf-agent/` at all.
    pub fn strip_prefix(&self, store_key: &str) -> Option<Key> {
        let rest = store_key.strip_prefix(ALL_AGENTS_PREFIX)?;
        let rest = rest.strip_prefix(self.0.as_str())?;
        let rest = rest.strip_prefix('/')?;
        if rest.is_empty() {
            return None;
        }
        Some(Key::from(rest))
    }
}

impl Default for MicroserviceLabel {
    fn default() -> Self {
        MicroserviceLabel(DEFAULT_LABEL.to_owned())
    }
}

impl fmt::Display for MicroserviceLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Splits a full store key into its label and the agent-relative key, whatever the label.
pub fn split_agent_key(store_key: &str) -> Option<(&str, &str)> {
    let rest = store_key.strip_prefix(ALL_AGENTS_PREFIX)?;
    let (label, key) = rest.split_once('/')?;
    if label.is_empty() || key.is_empty() {
        return None;
    }
    Some((label, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_round_trip() {
        let label = MicroserviceLabel::default();
        let key = Key::from("config/vpp/v2/interfaces/loop1");
        let full = label.add_prefix(&key);
        assert_eq!(full, "/vnf-agent/vpp1/config/vpp/v2/interfaces/loop1");
        assert_eq!(label.strip_prefix(&full), Some(key));
        assert_eq!(label.agent_prefix(), "/vnf-agent/vpp1/");
    }

    #[test]
    fn other_labels_are_not_ours() {
        let label = MicroserviceLabel::new("vpp1").unwrap();
        assert_eq!(label.strip_prefix("/vnf-agent/vpp10/config/x"), None);
        assert_eq!(label.strip_prefix("/vnf-agent/vpp2/config/x"), None);
        assert_eq!(label.strip_prefix("/other/vpp1/config/x"), None);
        assert_eq!(label.strip_prefix("/vnf-agent/vpp1/"), None);
        assert_eq!(
            split_agent_key("/vnf-agent/vpp2/config/x"),
            Some(("vpp2", "config/x"))
        );
    }

    #[test]
    fn bad_labels() {
        assert_eq!(MicroserviceLabel::new(""), Err(LabelError::Empty));
        assert!(matches!(
            MicroserviceLabel::new("a/b"),
            Err(LabelError::Slash(_))
        ));
    }
}
