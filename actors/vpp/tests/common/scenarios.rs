//! Scenarios shared by the in-process tests and the socket tests, so the same steps run
//! against the simulator double and against vpp-sim's socket for each shipped release: the
//! seed's walk-through ([`walkthrough`]) and 50 mixed objects in random versus dependency
//! order ([`mixed`]).
//!
//! Test-only code; each scenario asserts its own expectations.

use kvscheduler::{Scheduler, ValueState};
use messages::{Key, Value};
use vpp::ApiHandle;
use vpp_sim::state::Vpp;

use super::*;

const FIB: &str = "config/vpp/l2/v2/fib/bd1/mac/62:89:C6:A3:6D:5C";
const BD: &str = "config/vpp/l2/v2/bridge-domain/bd1";
const MEMBER: &str = "vpp/bd/bd1/interface/tap1";
const TAP: &str = "config/vpp/v2/interfaces/tap1";

/// The seed's walk-through on `s`, checking VPP through `cli` (a CLI command's text) and
/// `vpp` (a copy of the simulator's state).
pub fn walkthrough(s: &mut Scheduler, cli: &dyn Fn(&str) -> String, vpp: &dyn Fn() -> Vpp) {
    // 1. The FIB entry first: nothing it needs exists, so it waits and VPP sees nothing.
    let ops = put(s, &[fib("bd1", "62:89:C6:A3:6D:5C", "tap1")]);
    assert_eq!(ops, [format!("CREATE {FIB} [NOOP IS-PENDING]")]);
    assert_eq!(state(s, FIB), ValueState::Pending);
    assert!(!cli("show l2fib verbose").contains("62:89:c6:a3:6d:5c"));

    // 2. The bridge domain: created; its membership of tap1 waits for the interface.
    let ops = put(s, &[bd("bd1", &[("tap1", false)])]);
    assert_eq!(
        ops,
        [
            format!("CREATE {BD}"),
            format!("CREATE {MEMBER} [DERIVED NOOP IS-PENDING]"),
        ]
    );
    assert_eq!(state(s, MEMBER), ValueState::Pending);
    let bds = cli("show bridge-domain");
    assert!(
        bds.lines().any(|l| l.trim_start().starts_with('1')),
        "{bds}"
    );

    // 3. The TAP: interface, membership and FIB entry, in that order, in one transaction.
    let ops = put(s, &[tap("tap1")]);
    assert_eq!(
        ops,
        [
            format!("CREATE {TAP}"),
            format!("CREATE {MEMBER} [DERIVED WAS-PENDING]"),
            format!("CREATE {FIB} [WAS-PENDING]"),
        ]
    );
    for k in [TAP, MEMBER, FIB, BD] {
        assert_eq!(state(s, k), ValueState::Configured, "{k}");
    }
    let fib_text = cli("show l2fib verbose");
    let line = fib_text
        .lines()
        .find(|l| l.contains("62:89:c6:a3:6d:5c"))
        .unwrap_or_else(|| panic!("fib entry missing:\n{fib_text}"));
    assert!(
        line.contains("tap0"),
        "the entry points at VPP's tap0: {line}"
    );
    {
        let vpp = vpp();
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
    let ops = delete(s, &[Key::from(BD)]);
    assert_eq!(
        ops,
        [
            format!("DELETE {FIB} [IS-PENDING]"),
            format!("DELETE {MEMBER} [DERIVED]"),
            format!("DELETE {BD}"),
        ]
    );
    assert_eq!(state(s, FIB), ValueState::Pending);
    // The membership belongs to the deleted BD, so it is gone rather than pending.
    assert_eq!(state(s, MEMBER), ValueState::Nonexistent);
    assert_eq!(state(s, TAP), ValueState::Configured);
    let fib_text = cli("show l2fib verbose");
    assert!(
        !fib_text.contains("62:89:c6:a3:6d:5c"),
        "no stale entry left:\n{fib_text}"
    );
    assert!(vpp().bridge_domains().next().is_none());

    // 5. The BD comes back: membership and FIB entry follow without intervention.
    let ops = put(s, &[bd("bd1", &[("tap1", false)])]);
    assert_eq!(
        ops,
        [
            format!("CREATE {BD}"),
            format!("CREATE {MEMBER} [DERIVED]"),
            format!("CREATE {FIB} [WAS-PENDING]"),
        ]
    );
    for k in [TAP, MEMBER, FIB, BD] {
        assert_eq!(state(s, k), ValueState::Configured, "{k}");
    }
    assert!(cli("show l2fib verbose").contains("62:89:c6:a3:6d:5c"));
}

/// A small deterministic xorshift generator (tests need reproducible shuffles, not quality).
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = usize::try_from(self.next() % (i as u64 + 1)).unwrap_or(0);
            v.swap(i, j);
        }
    }
}

/// 50 objects of every kind, in dependency order: 4 VRF tables, 12 interfaces, 3 bridge
/// domains, 8 FIB entries, 2 xconnects, 15 routes, 6 ARP entries.
pub fn fifty_objects() -> Vec<Value> {
    let mut v = vec![vrf(1, false), vrf(1, true), vrf(2, false), vrf(2, true)];
    v.push(loopback("lo0", &["10.0.0.1/24"], 1));
    v.push(loopback("lo1", &["10.1.0.1/24"], 1));
    v.push(loopback("lo2", &["fd02::1/64"], 2));
    v.push(loopback("lo3", &["10.3.0.1/24"], 0));
    v.push(loopback("lo4", &[], 0));
    v.push(loopback("lo5", &[], 0));
    for t in 0..4 {
        v.push(tap(&format!("tap{t}")));
    }
    v.push(memif("mem0", 10, ""));
    v.push(memif("mem1", 11, ""));
    v.push(bd(
        "bd0",
        &[("tap0", false), ("tap1", false), ("lo3", true)],
    ));
    v.push(bd("bd1", &[("tap2", false), ("mem0", false)]));
    v.push(bd("bd2", &[("tap3", false), ("mem1", false)]));
    let members = [
        ("bd0", "tap0"),
        ("bd0", "tap0"),
        ("bd0", "tap1"),
        ("bd0", "tap1"),
        ("bd1", "tap2"),
        ("bd1", "mem0"),
        ("bd2", "tap3"),
        ("bd2", "mem1"),
    ];
    for (n, (b, i)) in members.iter().enumerate() {
        v.push(fib(b, &format!("02:00:00:00:01:{n:02x}"), i));
    }
    v.push(xconnect("lo4", "lo5"));
    v.push(xconnect("lo5", "lo4"));
    for k in 0..5 {
        v.push(route(1, &format!("20.{k}.0.0/16"), "10.0.0.254", "lo0"));
    }
    for k in 0..4 {
        v.push(route(2, &format!("2001:db8:{k}::/48"), "fd02::fe", "lo2"));
    }
    for k in 0..3 {
        v.push(route(0, &format!("30.{k}.0.0/16"), "10.3.0.254", "lo3"));
    }
    for k in 0..3 {
        v.push(value(messages::proto::vpp_l3::Route {
            vrf_id: 0,
            dst_network: format!("40.{k}.0.0/16"),
            r#type: messages::proto::vpp_l3::route::RouteType::InterVrf as i32,
            via_vrf_id: 1,
            ..Default::default()
        }));
    }
    for (i, ip) in [
        ("lo0", "10.0.0.7"),
        ("lo0", "10.0.0.8"),
        ("lo1", "10.1.0.7"),
        ("lo1", "10.1.0.8"),
        ("lo3", "10.3.0.7"),
        ("lo3", "10.3.0.8"),
    ] {
        v.push(arp(
            i,
            ip,
            &format!("02:00:00:00:02:{}", &ip[ip.len() - 1..].repeat(2)),
        ));
    }
    v
}

fn all_configured(s: &Scheduler, objects: &[Value]) {
    for v in objects {
        let st = s.value_status(&key(v));
        assert_eq!(
            st.state,
            ValueState::Configured,
            "{} ({})",
            key(v),
            st.error
        );
    }
}

/// Applies the 50 objects one transaction each in dependency order on `first` and in a
/// random order on `second` (two VPPs that start equal), compares the two VPPs by snapshot,
/// then deletes everything from `second` in another random order and compares it with how
/// it started.
pub fn mixed(
    first: (&ApiHandle, &dyn Fn() -> Vpp),
    second: (&ApiHandle, &dyn Fn() -> Vpp),
    seed: u64,
) {
    let objects = fifty_objects();
    assert_eq!(objects.len(), 50);
    let start = snapshot(&second.1());
    assert_eq!(snapshot(&first.1()), start);

    let mut ordered = scheduler(first.0);
    for v in &objects {
        put(&mut ordered, std::slice::from_ref(v));
    }
    all_configured(&ordered, &objects);
    let want = snapshot(&first.1());

    let mut rng = Rng::new(seed);
    let mut shuffled = objects.clone();
    rng.shuffle(&mut shuffled);
    let mut random = scheduler(second.0);
    for v in &shuffled {
        put(&mut random, std::slice::from_ref(v));
    }
    all_configured(&random, &objects);
    assert_eq!(snapshot(&second.1()), want);

    let mut keys: Vec<Key> = objects.iter().map(key).collect();
    rng.shuffle(&mut keys);
    for k in &keys {
        delete(&mut random, std::slice::from_ref(k));
    }
    assert_eq!(snapshot(&second.1()), start);
}
