//! Dependency cycles and scoped downstream resyncs.
//!
//! Cycles: two values that each need the other (the two ends of a Linux veth pair) are
//! created together once both are desired, as Ligato's scheduler does; one alone stays
//! PENDING; removing one takes the other down to PENDING first; the order they arrive in
//! does not matter. The stand-in dataplane creates and deletes a pair as the kernel does
//! (deleting either end deletes both).
//!
//! Scoped resync: `Txn::downstream_resync().only_descriptors(..)` re-reads and repairs only
//! the named descriptors' values, while the values it unblocks elsewhere still follow.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use common::{FakeDp, TestDescriptor};
use kvscheduler::{
    Dependency, Descriptor, KvError, ManualClock, Metadata, MetadataView, Retrieved, Scheduler,
    SchedulerConfig, Txn, TxnReport, ValueState,
};
use messages::proto::Empty;
use messages::value::value;
use messages::{Key, Value};

/// Pairs `a`<->`b`, `c`<->`d`: a value `veth/<end>` needs `veth/<peer>`.
fn peer(end: &str) -> &'static str {
    match end {
        "a" => "b",
        "b" => "a",
        "c" => "d",
        _ => "c",
    }
}

/// The kernel side: which pairs exist and the calls made.
#[derive(Debug, Default)]
struct Kernel {
    /// Ends that exist (both ends of a pair come and go together).
    ends: BTreeSet<String>,
    calls: Vec<String>,
    violations: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct Veth(Arc<Mutex<Kernel>>);

impl Veth {
    fn kernel(&self) -> std::sync::MutexGuard<'_, Kernel> {
        match self.0.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

fn end_of(key: &Key) -> &str {
    key.as_str().trim_start_matches("veth/")
}

impl Descriptor for Veth {
    fn name(&self) -> &str {
        "veth"
    }

    fn key_selector(&self, key: &Key) -> bool {
        key.has_prefix("veth/")
    }

    fn nb_key_prefix(&self) -> Option<&str> {
        Some("veth/")
    }

    fn dependencies(&self, key: &Key, _value: &Value) -> Vec<Dependency> {
        let mut deps = vec![Dependency::on_key(
            "veth-peer-exists",
            format!("veth/{}", peer(end_of(key))),
        )];
        if end_of(key) == "d" {
            deps.push(Dependency::on_key("namespace-exists", "ns/red"));
        }
        deps
    }

    fn create(
        &self,
        md: &MetadataView<'_>,
        key: &Key,
        _value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        let end = end_of(key);
        let peer_key = Key::from(format!("veth/{}", peer(end)));
        let mut k = self.kernel();
        // Both ends must be desired (the peer's value is known to the graph, even if it
        // is not created yet); the first end's create makes the pair.
        if md.applied(&peer_key).is_none() && k.ends.contains(end) {
            k.violations.push(format!("{end} created twice"));
        }
        if !k.ends.contains(end) {
            k.ends.insert(end.to_owned());
            k.ends.insert(peer(end).to_owned());
            k.calls.push(format!("create pair {end}"));
        } else {
            k.calls.push(format!("configure {end}"));
        }
        Ok(None)
    }

    fn delete(
        &self,
        _md: &MetadataView<'_>,
        key: &Key,
        _value: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        let end = end_of(key);
        let mut k = self.kernel();
        if k.ends.remove(end) {
            k.ends.remove(peer(end));
            k.calls.push(format!("delete pair {end}"));
        } else {
            k.calls.push(format!("{end} already gone"));
        }
        Ok(())
    }

    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        _correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        Ok(Some(
            self.kernel()
                .ends
                .iter()
                .map(|e| Retrieved {
                    key: Key::from(format!("veth/{e}")),
                    value: empty(),
                    metadata: None,
                    origin: kvscheduler::Origin::FromNb,
                })
                .collect(),
        ))
    }
}

fn empty() -> Value {
    value(Empty {})
}

fn setup() -> (Scheduler, Veth, FakeDp) {
    let mut s = Scheduler::new(
        SchedulerConfig {
            print_txn_summary: false,
            ..SchedulerConfig::default()
        },
        Arc::new(ManualClock::new(0)),
    );
    let veth = Veth::default();
    let dp = FakeDp::default();
    s.register(Arc::new(veth.clone())).expect("register veth");
    s.register(Arc::new(TestDescriptor::new("ns", "ns/", &dp)))
        .expect("register ns");
    (s, veth, dp)
}

fn commit(s: &mut Scheduler, txn: Txn) -> TxnReport {
    let r = s.commit(txn).expect("commit");
    assert!(r.is_ok(), "failed: {:?}", r.failed);
    r
}

fn state(s: &Scheduler, key: &str) -> ValueState {
    s.value_status(&Key::from(key)).state
}

#[test]
fn one_end_waits_and_the_second_creates_both() {
    let (mut s, veth, _) = setup();
    let r = commit(&mut s, Txn::nb().put("veth/a", empty()));
    assert_eq!(r.brief(), ["CREATE veth/a [NOOP IS-PENDING]"]);
    assert_eq!(state(&s, "veth/a"), ValueState::Pending);
    assert!(veth.kernel().ends.is_empty());

    let r = commit(&mut s, Txn::nb().put("veth/b", empty()));
    assert_eq!(
        r.brief(),
        ["CREATE veth/b", "CREATE veth/a [WAS-PENDING]"],
        "the arriving end is created first, then the waiting one"
    );
    assert_eq!(state(&s, "veth/a"), ValueState::Configured);
    assert_eq!(state(&s, "veth/b"), ValueState::Configured);
    assert_eq!(veth.kernel().calls, ["create pair b", "configure a"]);

    // Removing one end takes the other down first; it stays desired, PENDING.
    let r = commit(&mut s, Txn::nb().delete("veth/a"));
    assert_eq!(r.brief(), ["DELETE veth/b [IS-PENDING]", "DELETE veth/a"]);
    assert_eq!(state(&s, "veth/b"), ValueState::Pending);
    assert!(veth.kernel().ends.is_empty());

    // And it comes back with its peer.
    let r = commit(&mut s, Txn::nb().put("veth/a", empty()));
    assert_eq!(r.brief(), ["CREATE veth/a", "CREATE veth/b [WAS-PENDING]"]);
    assert!(veth.kernel().violations.is_empty());
}

#[test]
fn both_ends_in_one_transaction_in_either_order() {
    for (first, second) in [("veth/a", "veth/b"), ("veth/b", "veth/a")] {
        let (mut s, veth, _) = setup();
        let r = commit(&mut s, Txn::nb().put(first, empty()).put(second, empty()));
        assert_eq!(
            r.brief(),
            [
                format!("CREATE {first} [NOOP IS-PENDING]"),
                format!("CREATE {second}"),
                format!("CREATE {first} [WAS-PENDING]"),
            ]
        );
        assert_eq!(veth.kernel().ends.len(), 2);
        // A full resync of the same state changes nothing.
        let all = [(Key::from(first), empty()), (Key::from(second), empty())];
        let r = commit(&mut s, Txn::full_resync(all));
        assert!(r.brief().is_empty(), "{:?}", r.brief());
    }
}

#[test]
fn a_cycle_with_a_missing_outside_dependency_waits_for_it() {
    let (mut s, veth, _) = setup();
    // d also needs ns/red: neither end may be created before it exists.
    let r = commit(
        &mut s,
        Txn::nb().put("veth/c", empty()).put("veth/d", empty()),
    );
    assert_eq!(
        r.brief(),
        [
            "CREATE veth/c [NOOP IS-PENDING]",
            "CREATE veth/d [NOOP IS-PENDING]"
        ]
    );
    assert_eq!(s.value_status(&Key::from("veth/d")).details.len(), 2);
    let r = commit(&mut s, Txn::nb().put("ns/red", empty()));
    assert_eq!(
        r.brief(),
        [
            "CREATE ns/red",
            "CREATE veth/d [WAS-PENDING]",
            "CREATE veth/c [WAS-PENDING]"
        ]
    );
    // The namespace going takes both ends down, dependents first.
    let r = commit(&mut s, Txn::nb().delete("ns/red"));
    assert_eq!(
        r.brief(),
        [
            "DELETE veth/c [IS-PENDING]",
            "DELETE veth/d [IS-PENDING]",
            "DELETE ns/red"
        ]
    );
    assert!(veth.kernel().ends.is_empty());
    assert!(veth.kernel().violations.is_empty());
}

#[test]
fn a_dry_run_plans_the_cycle_without_touching_the_kernel() {
    let (mut s, veth, _) = setup();
    commit(&mut s, Txn::nb().put("veth/a", empty()));
    let plan = s
        .dry_run(&Txn::nb().put("veth/b", empty()))
        .expect("dry run");
    assert_eq!(
        plan.brief(),
        ["CREATE veth/b", "CREATE veth/a [WAS-PENDING]"]
    );
    assert!(veth.kernel().ends.is_empty());
}

#[test]
fn a_resync_repairs_a_pair_deleted_behind_the_schedulers_back() {
    let (mut s, veth, _) = setup();
    commit(
        &mut s,
        Txn::nb().put("veth/a", empty()).put("veth/b", empty()),
    );
    veth.kernel().ends.clear();
    let r = commit(&mut s, Txn::downstream_resync());
    assert_eq!(
        r.brief(),
        ["CREATE veth/a [WAS-MISSING]", "CREATE veth/b [WAS-MISSING]"]
    );
    assert_eq!(veth.kernel().ends.len(), 2, "{:?}", r.brief());
    assert_eq!(state(&s, "veth/a"), ValueState::Configured);
    assert_eq!(state(&s, "veth/b"), ValueState::Configured);
}

/// Two descriptors over one fake dataplane: `vpp/` values and `host/` values (host links
/// are observed, so they are OBTAINED).
fn scoped_setup() -> (Scheduler, FakeDp) {
    let mut s = Scheduler::new(
        SchedulerConfig {
            print_txn_summary: false,
            ..SchedulerConfig::default()
        },
        Arc::new(ManualClock::new(0)),
    );
    let dp = FakeDp::default();
    let mut vpp = TestDescriptor::new("vpp", "vpp/", &dp);
    vpp.deps = Box::new(|k, _| {
        if k.as_str() == "vpp/afpacket" {
            vec![Dependency::on_key("host-interface-exists", "host/eth7")]
        } else {
            Vec::new()
        }
    });
    let mut host = TestDescriptor::new("host", "host/", &dp);
    host.nb_prefix = None;
    let mut linux = TestDescriptor::new("linux", "linux/", &dp);
    linux.deps = Box::new(|_, _| Vec::new());
    s.register(Arc::new(vpp)).expect("register vpp");
    s.register(Arc::new(host)).expect("register host");
    s.register(Arc::new(linux)).expect("register linux");
    (s, dp)
}

#[test]
fn a_scoped_downstream_resync_reads_and_repairs_only_its_descriptors() {
    let (mut s, dp) = scoped_setup();
    commit(
        &mut s,
        Txn::nb()
            .put("vpp/loop0", empty())
            .put("linux/veth1", empty()),
    );
    // Both vanish behind the scheduler's back.
    dp.state().entries.clear();
    let r = commit(
        &mut s,
        Txn::downstream_resync().only_descriptors(["linux", "host"]),
    );
    assert_eq!(
        r.brief(),
        ["CREATE linux/veth1 [WAS-MISSING]"],
        "vpp was not re-read"
    );
    assert!(!dp.keys().contains(&"vpp/loop0".to_owned()));
    assert_eq!(state(&s, "vpp/loop0"), ValueState::Configured);

    let r = commit(&mut s, Txn::downstream_resync());
    assert_eq!(r.brief(), ["CREATE vpp/loop0 [WAS-MISSING]"]);
}

#[test]
fn values_outside_the_scope_that_a_scoped_resync_unblocks_still_follow() {
    let (mut s, dp) = scoped_setup();
    let r = commit(&mut s, Txn::nb().put("vpp/afpacket", empty()));
    assert_eq!(r.brief(), ["CREATE vpp/afpacket [NOOP IS-PENDING]"]);
    // The host link appears; the Linux watcher's scoped resync finds it.
    dp.insert(&Key::from("host/eth7"), empty(), true);
    let r = commit(&mut s, Txn::downstream_resync().only_descriptors(["host"]));
    assert_eq!(r.brief(), ["CREATE vpp/afpacket [WAS-PENDING]"]);
    assert_eq!(state(&s, "host/eth7"), ValueState::Obtained);
    // An unknown descriptor name scopes to nothing it could name.
    let r = commit(&mut s, Txn::downstream_resync().only_descriptors(["nope"]));
    assert!(r.brief().is_empty());
}
