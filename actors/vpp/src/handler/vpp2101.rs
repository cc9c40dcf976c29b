//! The VPP 21.01 handler: the pre-21.06 CRCs (binapi's `vpp2101`), and the original message of
//! each family because 21.01 has no newer one: `tap_create_v2`, `bridge_domain_add_del`,
//! `memif_socket_filename_add_del` + `memif_create`, `af_packet_create`,
//! `vxlan_add_del_tunnel` + `vxlan_tunnel_dump`, `ip_table_add_del`.
//!
//! Everything else is the shared code of [`super::common`]; this module deliberately holds
//! nothing but the release's choices.

use binapi::vpp2101 as rel;

super::common::release_handler! {
    version: "21.01",
    tap: v2,
    bd: v1,
    memif: v1,
    af_packet: v1,
    vxlan: v1,
    ip_table: v1,
}
