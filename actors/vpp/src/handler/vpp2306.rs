//! The VPP 23.06 handler: the newer message variants 23.06 offers: `tap_create_v3`,
//! `bridge_domain_add_del_v2`, `memif_socket_filename_add_del_v2` + `memif_create_v2`,
//! `af_packet_create_v3`, `vxlan_add_del_tunnel_v3` + `vxlan_tunnel_v2_dump`; IP tables still
//! through `ip_table_add_del` (its `_v2` arrives in 24.10).
//!
//! Everything else is the shared code of [`super::common`]; this module deliberately holds
//! nothing but the release's choices.

use binapi::vpp2306 as rel;

super::common::release_handler! {
    version: "23.06",
    tap: v3,
    bd: v2,
    memif: v2,
    af_packet: v3,
    vxlan: v3,
    ip_table: v1,
}
