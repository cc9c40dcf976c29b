//! Property test: random puts, deletes and full resyncs over a random dependency DAG (exact,
//! any-of by prefix, any-of by selector, derived values with their own dependency, updates
//! that need re-create) against the fake dataplane, which rejects creates with missing
//! dependencies and deletes that would strand a dependent.
//!
//! Drift steps change the fake behind the scheduler's back (entries vanish, stray values
//! appear) and run a downstream resync.
//! After every transaction: the fake saw no forbidden operation, and it holds exactly the
//! desired values (and derived values) whose dependencies are transitively satisfied; the
//! others are PENDING. It does not inject failures (the golden scenarios cover those).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use std::time::Duration;

use common::{FailRule, FakeDp, TestDescriptor};
use kvscheduler::{
    Dependency, KeySelector, ManualClock, RetryPolicy, Scheduler, SchedulerConfig, Txn, ValueState,
};
use messages::value::{downcast, value};
use messages::{Key, Value};
use proptest::prelude::*;

#[derive(Clone, PartialEq, prost::Message)]
struct Item {
    #[prost(string, repeated, tag = "1")]
    deps: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    any_of: Vec<String>,
    #[prost(uint32, tag = "3")]
    data: u32,
    #[prost(string, repeated, tag = "4")]
    derived: Vec<String>,
    /// Any-of by selector: some key of the same group with a lower index.
    #[prost(bool, tag = "5")]
    any_lower: bool,
}

impl prost::Name for Item {
    const NAME: &'static str = "Item";
    const PACKAGE: &'static str = "test";
}

const GROUPS: usize = 3;
const PER_GROUP: usize = 4;
const KEYS: usize = GROUPS * PER_GROUP;

fn key_name(idx: usize) -> String {
    format!("g{}/{}", idx / PER_GROUP, idx % PER_GROUP)
}

fn parse(key: &str) -> Option<(usize, usize)> {
    let rest = key.strip_prefix('g')?;
    let (g, i) = rest.split_once('/')?;
    Some((g.parse().ok()?, i.parse().ok()?))
}

/// Random knobs for one value; turned into an [`Item`] that only refers to lower keys.
#[derive(Clone, Debug)]
struct Knobs {
    deps: u16,
    any_of: u8,
    derived: u16,
    data: u8,
    any_lower: bool,
}

fn item(idx: usize, k: &Knobs) -> Item {
    let lower = |mask: u16| -> Vec<String> {
        (0..idx)
            .filter(|j| mask & (1 << j) != 0)
            .map(key_name)
            .collect()
    };
    let group = idx / PER_GROUP;
    Item {
        // Sparse exact deps keep most values creatable.
        deps: lower(k.deps & k.deps.rotate_left(5)),
        any_of: (0..group)
            .filter(|h| k.any_of & (1 << h) != 0)
            .map(|h| format!("g{h}/"))
            .collect(),
        data: u32::from(k.data % 4),
        derived: lower(k.derived),
        any_lower: k.any_lower && !idx.is_multiple_of(PER_GROUP),
    }
}

fn deps_of(key: &Key, v: &Value) -> Vec<Dependency> {
    let Some(it) = downcast::<Item>(&**v) else {
        return Vec::new();
    };
    let mut out: Vec<Dependency> = it
        .deps
        .iter()
        .map(|d| Dependency::on_key(format!("needs-{d}"), d.as_str()))
        .collect();
    out.extend(
        it.any_of
            .iter()
            .map(|p| Dependency::any_of_prefix(format!("any-{p}"), p.as_str())),
    );
    if it.any_lower
        && let Some((g, i)) = parse(key.as_str())
    {
        let sel: KeySelector =
            Arc::new(move |k: &Key| parse(k.as_str()).is_some_and(|(g2, i2)| g2 == g && i2 < i));
        out.push(Dependency::any_of("any-lower", vec![], Some(sel)));
    }
    out
}

fn scheduler(dp: &FakeDp, clock: Arc<ManualClock>) -> Scheduler {
    let mut s = Scheduler::new(
        SchedulerConfig {
            print_txn_summary: false,
            ..SchedulerConfig::default()
        },
        clock,
    );
    let mut items = TestDescriptor::new("item", "g", dp);
    items.deps = Box::new(deps_of);
    items.derived = Box::new(|k, v| {
        let Some(it) = downcast::<Item>(&**v) else {
            return Vec::new();
        };
        it.derived
            .iter()
            .map(|t| {
                let d = Item {
                    deps: vec![t.clone()],
                    ..Item::default()
                };
                (Key::from(format!("d/{k}/{t}")), value(d))
            })
            .collect()
    });
    items.recreate = Box::new(|old, new| {
        let parity = |v: &Value| downcast::<Item>(&**v).map(|i| i.data % 2);
        parity(old) != parity(new)
    });
    let mut derived = TestDescriptor::new("item-derived", "d/", dp);
    derived.nb_prefix = None;
    derived.deps = Box::new(deps_of);
    let registered = s
        .register(Arc::new(items))
        .and_then(|()| s.register(Arc::new(derived)));
    assert!(registered.is_ok());
    s
}

/// The values that must exist: desired ones whose dependencies exist, in DAG order.
fn expected(desired: &BTreeMap<usize, Item>) -> BTreeSet<String> {
    let mut exists: BTreeSet<String> = BTreeSet::new();
    for (&idx, it) in desired {
        let name = key_name(idx);
        let (g, i) = (idx / PER_GROUP, idx % PER_GROUP);
        let ok = it.deps.iter().all(|d| exists.contains(d))
            && it
                .any_of
                .iter()
                .all(|p| exists.iter().any(|k| k.starts_with(p.as_str())))
            && (!it.any_lower
                || exists
                    .iter()
                    .any(|k| parse(k).is_some_and(|(g2, i2)| g2 == g && i2 < i)));
        if ok {
            for t in &it.derived {
                if exists.contains(t) {
                    exists.insert(format!("d/{name}/{t}"));
                }
            }
            exists.insert(name);
        }
    }
    exists
}

#[derive(Clone, Debug)]
enum Step {
    Change(Vec<(usize, Option<Knobs>)>),
    Resync(Vec<(usize, Knobs)>),
    /// Behind the agent's back: remove these dataplane entries (by position among the
    /// current keys) and add stray values under these keys; then a downstream resync.
    Drift(Vec<usize>, Vec<usize>),
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (
        any::<u16>(),
        any::<u8>(),
        any::<u16>(),
        any::<u8>(),
        any::<bool>(),
    )
        .prop_map(|(deps, any_of, derived, data, any_lower)| Knobs {
            deps,
            any_of,
            derived: derived & derived.rotate_left(3),
            data,
            any_lower,
        })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => prop::collection::vec((0..KEYS, prop::option::weighted(0.7, knobs())), 1..5)
            .prop_map(Step::Change),
        1 => prop::collection::vec((0..KEYS, knobs()), 0..KEYS).prop_map(Step::Resync),
        1 => (prop::collection::vec(0..64usize, 0..3), prop::collection::vec(0..KEYS, 0..2))
            .prop_map(|(gone, stray)| Step::Drift(gone, stray)),
    ]
}

/// The transaction for one step, applying it to the model of the desired state (and, for
/// drift, to the fake dataplane).
fn to_txn(st: &Step, desired: &mut BTreeMap<usize, Item>, dp: &FakeDp) -> Txn {
    match st {
        Step::Drift(gone, stray) => {
            let keys = dp.keys();
            for g in gone {
                if !keys.is_empty() {
                    dp.state().entries.remove(keys[g % keys.len()].as_str());
                }
            }
            for idx in stray {
                dp.insert(&Key::from(key_name(*idx)), value(Item::default()), false);
            }
            Txn::downstream_resync()
        }
        Step::Change(changes) => {
            let mut t = Txn::nb();
            for (idx, k) in changes {
                match k {
                    Some(k) => {
                        let it = item(*idx, k);
                        desired.insert(*idx, it.clone());
                        t = t.put(key_name(*idx), value(it));
                    }
                    None => {
                        desired.remove(idx);
                        t = t.delete(key_name(*idx));
                    }
                }
            }
            t
        }
        Step::Resync(all) => {
            desired.clear();
            for (idx, k) in all {
                desired.insert(*idx, item(*idx, k));
            }
            Txn::full_resync(
                desired
                    .iter()
                    .map(|(i, it)| (Key::from(key_name(*i)), value(it.clone()))),
            )
        }
    }
}

/// The fake holds exactly the satisfiable values, which are CONFIGURED; the others PENDING.
fn check(s: &Scheduler, dp: &FakeDp, desired: &BTreeMap<usize, Item>) -> Result<(), TestCaseError> {
    let violations = std::mem::take(&mut dp.state().violations);
    prop_assert!(violations.is_empty(), "forbidden: {violations:?}");
    let want = expected(desired);
    let got: BTreeSet<String> = dp.keys().into_iter().collect();
    prop_assert_eq!(&got, &want);
    for idx in desired.keys() {
        let name = key_name(*idx);
        let state = s.value_status(&Key::from(name.as_str())).state;
        let want_state = if want.contains(&name) {
            ValueState::Configured
        } else {
            ValueState::Pending
        };
        prop_assert_eq!(state, want_state, "state of {}", name);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn dataplane_holds_exactly_the_satisfiable_values(steps in prop::collection::vec(step(), 1..16)) {
        let dp = FakeDp::default();
        let mut s = scheduler(&dp, Arc::new(ManualClock::new(0)));
        let mut desired: BTreeMap<usize, Item> = BTreeMap::new();
        for (n, st) in steps.iter().enumerate() {
            let report = s.commit(to_txn(st, &mut desired, &dp));
            prop_assert!(report.as_ref().is_ok_and(|r| r.is_ok()), "step {n}: {report:?}");
            check(&s, &dp, &desired).map_err(|e| TestCaseError::fail(format!("step {n} {st:?}: {e}")))?;
        }
    }

    /// Transient failures on random keys (create, update or delete, each failing once): the
    /// fake never sees a forbidden operation, and once the retries have run the dataplane
    /// converges to the same state as without failures.
    #[test]
    fn retries_converge_after_transient_failures(
        steps in prop::collection::vec((step(), prop::collection::vec(0..KEYS, 0..3)), 1..12)
    ) {
        let dp = FakeDp::default();
        let clock = Arc::new(ManualClock::new(0));
        let mut s = scheduler(&dp, clock.clone());
        let policy = RetryPolicy { max_count: 0, ..RetryPolicy::default() };
        let mut desired: BTreeMap<usize, Item> = BTreeMap::new();
        for (n, (st, fails)) in steps.iter().enumerate() {
            for idx in fails {
                dp.state().fail.insert(
                    Key::from(key_name(*idx)),
                    FailRule { error: "transient".into(), retriable: true, times: 1 },
                );
            }
            let report = s.commit(to_txn(st, &mut desired, &dp).with_retry(policy));
            prop_assert!(report.is_ok(), "step {n}: {report:?}");
            let violations = std::mem::take(&mut dp.state().violations);
            prop_assert!(violations.is_empty(), "step {n} {st:?}: {violations:?}");
            let mut rounds = 0;
            while s.next_retry_due().is_some() {
                rounds += 1;
                prop_assert!(rounds < 50, "retries do not converge");
                clock.advance(Duration::from_secs(3600));
                s.run_due_retries();
                let violations = std::mem::take(&mut dp.state().violations);
                prop_assert!(violations.is_empty(), "retry after step {n}: {violations:?}");
            }
            check(&s, &dp, &desired).map_err(|e| TestCaseError::fail(format!("step {n} {st:?} fails {fails:?}: {e}")))?;
        }
    }
}
