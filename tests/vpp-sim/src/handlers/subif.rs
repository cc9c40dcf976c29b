//! Sub-interface handlers, expanded per release by `subif!(vppYYMM)`: `create_vlan_subif`
//! (one tag, exact match, named `<parent>.<vlan>`), `create_subif` (any tags and flags) and
//! `delete_subif`, with VPP's refusals (vlan above 4095: -55; an existing vlan: -56; an
//! existing sub id: -68).
//!
//! Naming and what a parent's delete takes with it live in the state model.

/// `sub_if_flags` bits VPP sets for `create_vlan_subif`: ONE_TAG | EXACT_MATCH.
pub const VLAN_SUBIF_FLAGS: u32 = 2 | 16;

macro_rules! subif {
    ($rel:ident) => {
        use api::InterfaceIndex;
        use binapi::$rel as api;

        use $crate::handlers::Ctx;
        use $crate::handlers::subif::VLAN_SUBIF_FLAGS;
        use $crate::state::{Retval, VppResult};

        register! {
            requests {
                api::CreateVlanSubif => create_vlan_subif,
                api::CreateSubif => create_subif,
                api::DeleteSubif => delete_subif,
            }
            streams {}
        }

        fn create_vlan_subif(
            ctx: &mut Ctx<'_>,
            m: api::CreateVlanSubif,
        ) -> VppResult<api::CreateVlanSubifReply> {
            let vlan = u16::try_from(m.vlan_id)
                .ok()
                .filter(|v| *v <= 4095)
                .ok_or(Retval::INVALID_VLAN)?;
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
            Ok(api::CreateVlanSubifReply {
                retval: 0,
                sw_if_index: InterfaceIndex(idx),
            })
        }

        fn create_subif(
            ctx: &mut Ctx<'_>,
            m: api::CreateSubif,
        ) -> VppResult<api::CreateSubifReply> {
            let idx = ctx.vpp.create_subif(
                m.sw_if_index.0,
                m.sub_id,
                m.outer_vlan_id,
                m.inner_vlan_id,
                m.sub_if_flags.0,
            )?;
            Ok(api::CreateSubifReply {
                retval: 0,
                sw_if_index: InterfaceIndex(idx),
            })
        }

        fn delete_subif(
            ctx: &mut Ctx<'_>,
            m: api::DeleteSubif,
        ) -> VppResult<api::DeleteSubifReply> {
            ctx.vpp.delete_subif(m.sw_if_index.0)?;
            Ok(api::DeleteSubifReply { retval: 0 })
        }
    };
}
