//! 50 mixed objects (tables, interfaces, bridge domains, FIB entries, xconnects, routes, ARP
//! entries) applied in random order end in the same VPP state as in dependency order, and
//! deleting all of them leaves VPP as it started; over the in-process double, for several
//! shuffles and each shipped release's simulator model.
//!
//! It deliberately compares VPP by a snapshot that names objects by tag (indices and bd ids
//! depend on the order of creation).

mod common;

use common::*;

#[test]
fn random_order_ends_like_dependency_order_and_delete_all_restores_vpp() {
    for (n, version) in ["21.01", "23.06", "25.06"].iter().enumerate() {
        for seed in [7u64, 1234, 987_654_321] {
            let (a, ha, _) = setup(version);
            let (b, hb, _) = setup(version);
            scenarios::mixed(
                (&ha, &|| a.vpp().clone()),
                (&hb, &|| b.vpp().clone()),
                seed + n as u64,
            );
        }
    }
}
