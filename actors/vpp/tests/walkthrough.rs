//! The seed's walk-through ("Configuration Order using the Ligato vpp-agent") through the real
//! `kvscheduler::Scheduler` and every VPP descriptor, over the in-process simulator: FIB entry
//! first (pending), the bridge domain (created, membership pending), the TAP interface
//! (interface, membership and FIB in that order, one transaction), the BD deleted (FIB first,
//! membership next, BD last; FIB pending again), the BD back (all re-created). Each step is
//! checked on the simulator's `show` output and on the value states.
//!
//! It deliberately uses the in-process double; the socket variant lives in `socket.rs`.

mod common;

use common::*;
use kvscheduler::ValueState;
use messages::Key;

const FIB: &str = "config/vpp/l2/v2/fib/bd1/mac/62:89:C6:A3:6D:5C";
const BD: &str = "config/vpp/l2/v2/bridge-domain/bd1";
const MEMBER: &str = "vpp/bd/bd1/interface/tap1";
const TAP: &str = "config/vpp/v2/interfaces/tap1";

#[test]
fn seed_walkthrough_orders_vpp_calls_and_recovers_after_bd_removal() {
    let (sim, _h, mut s) = setup("23.06");

    // 1. The FIB entry first: nothing it needs exists, so it waits and VPP sees nothing.
    let ops = put(&mut s, &[fib("bd1", "62:89:C6:A3:6D:5C", "tap1")]);
    assert_eq!(ops, [format!("CREATE {FIB} [NOOP IS-PENDING]")]);
    assert_eq!(state(&s, FIB), ValueState::Pending);
    assert!(!sim.cli("show l2fib verbose").contains("62:89:c6:a3:6d:5c"));

    // 2. The bridge domain: created; its membership of tap1 waits for the interface.
    let ops = put(&mut s, &[bd("bd1", &[("tap1", false)])]);
    assert_eq!(
        ops,
        [
            format!("CREATE {BD}"),
            format!("CREATE {MEMBER} [DERIVED NOOP IS-PENDING]"),
        ]
    );
    assert_eq!(state(&s, MEMBER), ValueState::Pending);
    let bds = sim.cli("show bridge-domain");
    assert!(
        bds.lines().any(|l| l.trim_start().starts_with('1')),
        "{bds}"
    );

    // 3. The TAP: interface, membership and FIB entry, in that order, in one transaction.
    let ops = put(&mut s, &[tap("tap1")]);
    assert_eq!(
        ops,
        [
            format!("CREATE {TAP}"),
            format!("CREATE {MEMBER} [DERIVED WAS-PENDING]"),
            format!("CREATE {FIB} [WAS-PENDING]"),
        ]
    );
    for k in [TAP, MEMBER, FIB, BD] {
        assert_eq!(state(&s, k), ValueState::Configured, "{k}");
    }
    let fib_text = sim.cli("show l2fib verbose");
    let line = fib_text
        .lines()
        .find(|l| l.contains("62:89:c6:a3:6d:5c"))
        .unwrap_or_else(|| panic!("fib entry missing:\n{fib_text}"));
    assert!(
        line.contains("tap0"),
        "the entry points at VPP's tap0: {line}"
    );
    {
        let vpp = sim.vpp();
        let t = vpp.interface_by_name("tap0").expect("tap0");
        assert_eq!(t.tag, "tap1");
        assert!(t.admin_up);
    }
    let meta = s
        .metadata(&Key::from(TAP))
        .and_then(|m| m.downcast_ref::<vpp::descriptors::InterfaceMeta>().cloned())
        .expect("interface metadata");
    assert_eq!(meta.internal_name, "tap0");

    // 4. The BD goes: FIB entry first, membership next, BD last; the FIB entry waits again.
    let ops = delete(&mut s, &[Key::from(BD)]);
    assert_eq!(
        ops,
        [
            format!("DELETE {FIB} [IS-PENDING]"),
            format!("DELETE {MEMBER} [DERIVED]"),
            format!("DELETE {BD}"),
        ]
    );
    assert_eq!(state(&s, FIB), ValueState::Pending);
    // The membership belongs to the deleted BD, so it is gone rather than pending.
    assert_eq!(state(&s, MEMBER), ValueState::Nonexistent);
    assert_eq!(state(&s, TAP), ValueState::Configured);
    let fib_text = sim.cli("show l2fib verbose");
    assert!(
        !fib_text.contains("62:89:c6:a3:6d:5c"),
        "no stale entry left:\n{fib_text}"
    );
    assert!(sim.vpp().bridge_domains().next().is_none());

    // 5. The BD comes back: membership and FIB entry follow without intervention.
    let ops = put(&mut s, &[bd("bd1", &[("tap1", false)])]);
    assert_eq!(
        ops,
        [
            format!("CREATE {BD}"),
            format!("CREATE {MEMBER} [DERIVED]"),
            format!("CREATE {FIB} [WAS-PENDING]"),
        ]
    );
    for k in [TAP, MEMBER, FIB, BD] {
        assert_eq!(state(&s, k), ValueState::Configured, "{k}");
    }
    assert!(sim.cli("show l2fib verbose").contains("62:89:c6:a3:6d:5c"));
}
