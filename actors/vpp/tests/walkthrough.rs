//! The seed's walk-through ("Configuration Order using the Ligato vpp-agent") through the real
//! `kvscheduler::Scheduler` and every VPP descriptor, over the in-process simulator double:
//! FIB entry first (pending), the bridge domain (created, membership pending), the TAP
//! interface (interface, membership and FIB in that order, one transaction), the BD deleted
//! (FIB first, membership next, BD last; FIB pending again), the BD back (all re-created).
//!
//! It deliberately uses the in-process double; `socket.rs` runs the same scenario over
//! vpp-sim's socket for each release.

mod common;

use common::*;

#[test]
fn seed_walkthrough_orders_vpp_calls_and_recovers_after_bd_removal() {
    for version in ["21.01", "23.06", "25.06"] {
        let (sim, _h, mut s) = setup(version);
        scenarios::walkthrough(&mut s, &|c| sim.cli(c), &|| sim.vpp().clone());
    }
}
