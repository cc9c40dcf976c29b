//! Sub-interfaces (`create_vlan_subif`, `create_subif`, `delete_subif`): binapi does not
//! generate these messages, so their bodies are declared here by hand from the releases'
//! `interface.api.json` (names, field order and CRCs copied from the JSON), with handlers.
//!
//! Only the three messages and their replies; nothing else is hand-declared.

use binapi::codec::message::{HeaderShape, Message, MessageKind, Request};
use binapi::types::{InterfaceIndex, SubIfFlags};
use binapi::{CodecError, Reader, Wire};

use super::{Answer, Ctx, Registry};
use crate::state::{Retval, VppResult};

macro_rules! message {
    ($name:ident, $wire:literal, $crc:literal, $kind:ident, $shape:ident { $($f:ident: $t:ty),* $(,)? } $(=> $rv:ident)?) => {
        #[doc = concat!("`", $wire, "_", $crc, "`, declared by hand.")]
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name { $(pub $f: $t),* }

        impl Wire for $name {
            fn wire_len(&self) -> usize {
                0 $(+ self.$f.wire_len())*
            }
            fn encode(&self, _out: &mut Vec<u8>) -> Result<(), CodecError> {
                $(self.$f.encode(_out)?;)*
                Ok(())
            }
            fn decode(_r: &mut Reader<'_>) -> Result<Self, CodecError> {
                Ok(Self { $($f: <$t>::decode(_r)?),* })
            }
        }

        impl Message for $name {
            const NAME: &'static str = $wire;
            const CRC: &'static str = $crc;
            const NAME_CRC: &'static str = concat!($wire, "_", $crc);
            const KIND: MessageKind = MessageKind::$kind;
            const SHAPE: HeaderShape = HeaderShape::$shape;
            $(
                fn retval(&self) -> Option<i32> {
                    Some(self.$rv)
                }
            )?
        }
    };
}

message!(
    CreateVlanSubif,
    "create_vlan_subif",
    "af34ac8b",
    Request,
    Request {
        sw_if_index: InterfaceIndex,
        vlan_id: u32,
    }
);
message!(
    CreateVlanSubifReply,
    "create_vlan_subif_reply",
    "5383d31f",
    Reply,
    Reply {
        retval: i32,
        sw_if_index: InterfaceIndex,
    } => retval
);
message!(
    CreateSubif,
    "create_subif",
    "790ca755",
    Request,
    Request {
        sw_if_index: InterfaceIndex,
        sub_id: u32,
        sub_if_flags: SubIfFlags,
        outer_vlan_id: u16,
        inner_vlan_id: u16,
    }
);
message!(
    CreateSubif2101,
    "create_subif",
    "cb371063",
    Request,
    Request {
        sw_if_index: InterfaceIndex,
        sub_id: u32,
        sub_if_flags: SubIfFlags,
        outer_vlan_id: u16,
        inner_vlan_id: u16,
    }
);
message!(
    CreateSubifReply,
    "create_subif_reply",
    "5383d31f",
    Reply,
    Reply {
        retval: i32,
        sw_if_index: InterfaceIndex,
    } => retval
);
message!(
    DeleteSubif,
    "delete_subif",
    "f9e6675e",
    Request,
    Request {
        sw_if_index: InterfaceIndex,
    }
);
message!(
    DeleteSubifReply,
    "delete_subif_reply",
    "e8d4e804",
    Reply,
    Reply { retval: i32 }
);

impl Request for CreateVlanSubif {
    type Reply = CreateVlanSubifReply;
}

impl Request for CreateSubif {
    type Reply = CreateSubifReply;
}

impl Request for CreateSubif2101 {
    type Reply = CreateSubifReply;
}

impl Request for DeleteSubif {
    type Reply = DeleteSubifReply;
}

/// `sub_if_flags` bits VPP sets for `create_vlan_subif`: ONE_TAG | EXACT_MATCH.
const VLAN_SUBIF_FLAGS: u32 = 2 | 16;

fn create_vlan_subif(ctx: &mut Ctx<'_>, m: CreateVlanSubif) -> VppResult<CreateVlanSubifReply> {
    if m.vlan_id > 4095 {
        return Err(Retval::INVALID_VLAN);
    }
    let vlan = m.vlan_id as u16;
    let idx = ctx
        .vpp
        .create_subif(m.sw_if_index.0, m.vlan_id, vlan, 0, VLAN_SUBIF_FLAGS)
        .map_err(|rv| {
            if rv == Retval::SUBIF_ALREADY_EXISTS {
                Retval::VLAN_ALREADY_EXISTS
            } else {
                rv
            }
        })?;
    Ok(CreateVlanSubifReply {
        retval: 0,
        sw_if_index: InterfaceIndex(idx),
    })
}

fn create_subif_common(
    ctx: &mut Ctx<'_>,
    parent: u32,
    sub_id: u32,
    flags: u32,
    outer: u16,
    inner: u16,
) -> VppResult<CreateSubifReply> {
    let idx = ctx.vpp.create_subif(parent, sub_id, outer, inner, flags)?;
    Ok(CreateSubifReply {
        retval: 0,
        sw_if_index: InterfaceIndex(idx),
    })
}

fn create_subif(ctx: &mut Ctx<'_>, m: CreateSubif) -> VppResult<CreateSubifReply> {
    let f = m.sub_if_flags.0;
    create_subif_common(
        ctx,
        m.sw_if_index.0,
        m.sub_id,
        f,
        m.outer_vlan_id,
        m.inner_vlan_id,
    )
}

fn create_subif_2101(ctx: &mut Ctx<'_>, m: CreateSubif2101) -> VppResult<CreateSubifReply> {
    let f = m.sub_if_flags.0;
    create_subif_common(
        ctx,
        m.sw_if_index.0,
        m.sub_id,
        f,
        m.outer_vlan_id,
        m.inner_vlan_id,
    )
}

fn delete_subif(ctx: &mut Ctx<'_>, m: DeleteSubif) -> VppResult<DeleteSubifReply> {
    ctx.vpp.delete_subif(m.sw_if_index.0)?;
    Ok(DeleteSubifReply { retval: 0 })
}

/// Registers the sub-interface handlers; `v2101` picks 21.01's `create_subif` CRC.
pub fn register(r: &mut Registry, v2101: bool) {
    r.add::<CreateVlanSubif>(Answer::Reply, |c, p| {
        super::request(c, p, create_vlan_subif)
    });
    r.add::<DeleteSubif>(Answer::Reply, |c, p| super::request(c, p, delete_subif));
    if v2101 {
        r.add::<CreateSubif2101>(Answer::Reply, |c, p| {
            super::request(c, p, create_subif_2101)
        });
    } else {
        r.add::<CreateSubif>(Answer::Reply, |c, p| super::request(c, p, create_subif));
    }
}
