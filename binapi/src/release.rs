//! What a generated release module describes at run time: its agent messages ([`MessageInfo`]) and its full
//! message table in VPP's file order ([`ApiFileInfo`]), bundled as a [`Release`].
//!
//! The compatibility check reads `messages`; a VPP simulator builds its message table from `files`
//! ([`crate::server::MessageTable::for_release`]). This module deliberately holds no generated data itself.

use crate::codec::message::{HeaderShape, Message, MessageKind};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Something done once per message type, e.g. registering a decoder; see `vppYYMM::visit_messages`.
pub trait MessageVisitor {
    fn visit<M: Message>(&mut self);
}

/// One agent message of a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageInfo {
    pub name: &'static str,
    /// 8 lowercase hex digits, no `0x`.
    pub crc: &'static str,
    pub kind: MessageKind,
    pub shape: HeaderShape,
}

impl MessageInfo {
    /// The message-table key, `name_crc`.
    pub fn name_crc(&self) -> String {
        format!("{}_{}", self.name, self.crc)
    }
}

/// One `.api.json` file of a release, with every message it defines (not only the agent's), in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiFileInfo {
    /// e.g. `interface`.
    pub module: &'static str,
    /// e.g. `core/interface.api.json`.
    pub path: &'static str,
    /// `vl_api_version`, e.g. `0x49616418`.
    pub version_crc: &'static str,
    /// `name_crc` of every message, in file order.
    pub messages: &'static [&'static str],
}

/// A generated VPP release module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    /// e.g. `23.06`.
    pub version: &'static str,
    /// The Rust module, e.g. `vpp2306`.
    pub module: &'static str,
    /// The agent messages it defines, sorted by name.
    pub messages: &'static [MessageInfo],
    /// Its files, memclnt first.
    pub files: &'static [ApiFileInfo],
}

impl Release {
    /// The agent message called `name`, if this release defines it.
    pub fn message(&self, name: &str) -> Option<&'static MessageInfo> {
        self.messages.iter().find(|m| m.name == name)
    }

    /// A release by version (`23.06`) or module name (`vpp2306`).
    pub fn find(version_or_module: &str) -> Option<&'static Release> {
        crate::generated::RELEASES
            .iter()
            .copied()
            .find(|r| r.version == version_or_module || r.module == version_or_module)
    }
}

/// The header shape of a known message, looked up by `name_crc` across all releases.
pub fn shape_of(name_crc: &str) -> Option<HeaderShape> {
    static SHAPES: OnceLock<HashMap<String, HeaderShape>> = OnceLock::new();
    SHAPES
        .get_or_init(|| {
            crate::generated::RELEASES
                .iter()
                .flat_map(|r| r.messages.iter())
                .map(|m| (m.name_crc(), m.shape))
                .collect()
        })
        .get(name_crc)
        .copied()
}
