//! The VPP 25.06 handler: 23.06's choices plus `ip_table_add_del_v2` (24.10+), and 25.06's own
//! TAP layouts (its `tap_flags` enum gained `CONSISTENT_QP`).
//!
//! Everything else is the shared code of [`super::common`]; this module deliberately holds
//! nothing but the release's choices.

use binapi::vpp2506 as rel;

super::common::release_handler! {
    version: "25.06",
    tap: v3,
    bd: v2,
    memif: v2,
    af_packet: v3,
    vxlan: v3,
    ip_table: v2,
}
