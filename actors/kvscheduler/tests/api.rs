//! The scheduler's public surface beyond ordering: the text log and its sink, the JSON shapes
//! of records and statuses, status queries by key and prefix, history with its age limit,
//! timelines, graph export, metadata shared between descriptors, transaction simulation,
//! retry timing, unimplemented values and registration errors.
//!
//! Ordering semantics are covered by the golden scenarios and the property test.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{FailRule, FakeDp, TestDescriptor};
use kvscheduler::{
    Descriptor, KvError, ManualClock, Metadata, MetadataView, RetryPolicy, Scheduler,
    SchedulerConfig, Txn, ValueState,
};
use messages::proto::vpp_interfaces::{Interface, interface::Type};
use messages::proto::vpp_l2::{BridgeDomain, bridge_domain};
use messages::value::value;
use messages::{Key, Value};
use pretty_assertions::assert_eq;
use serde_json::json;

const IF1: &str = "config/vpp/v2/interfaces/if1";
const BD1: &str = "config/vpp/l2/v2/bridge-domain/bd1";

fn iface(name: &str) -> Value {
    value(Interface {
        name: name.into(),
        r#type: Type::Tap as i32,
        enabled: true,
        ..Default::default()
    })
}

fn bd(name: &str, ifaces: &[&str]) -> Value {
    value(BridgeDomain {
        name: name.into(),
        interfaces: ifaces
            .iter()
            .map(|i| bridge_domain::Interface {
                name: (*i).into(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    })
}

fn setup(config: SchedulerConfig) -> (Scheduler, FakeDp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(1_577_872_800));
    let mut s = Scheduler::new(config, clock.clone());
    let dp = FakeDp::default();
    assert!(common::models::register_all(&mut s, &dp).is_ok());
    (s, dp, clock)
}

fn commit(s: &mut Scheduler, txn: Txn) -> kvscheduler::TxnReport {
    match s.commit(txn) {
        Ok(r) => r,
        Err(e) => panic!("commit failed: {e}"),
    }
}

#[test]
fn text_log_goes_to_the_sink_in_ligato_layout() {
    let (mut s, _dp, clock) = setup(SchedulerConfig::default());
    let out = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = out.clone();
    s.set_log_sink(Box::new(move |t| {
        if let Ok(mut v) = sink.lock() {
            v.push(t.to_owned());
        }
        clock.advance(Duration::from_micros(7_130));
    }));
    commit(&mut s, Txn::nb().put(IF1, iface("if1")));
    let blocks = out.lock().map(|v| v.clone()).unwrap_or_default();
    assert_eq!(blocks.len(), 2, "header and footer");
    for line in blocks.iter().flat_map(|b| b.lines()) {
        let boxed = ['+', '|', 'o', 'x'].iter().any(|c| line.starts_with(*c));
        if boxed {
            assert_eq!(line.chars().count(), 120, "{line:?}");
        }
    }
    let header = &blocks[0];
    let first = header.lines().nth(1).unwrap_or_default();
    assert!(first.starts_with("| #0 - NBTransaction "), "{first}");
    assert!(header.contains("  * transaction arguments:\n      - seqNum: 0\n      - type: NB Transaction\n      - values:\n          - key: config/vpp/v2/interfaces/if1\n            val: { name:\"if1\" type:TAP enabled:true }\n"), "{header}");
    let footer = &blocks[1];
    assert!(footer.contains("  * executed operations (2020-01-01 10:00:00 +0000 UTC -> 2020-01-01 10:00:00.00713 +0000 UTC, dur: 7.1ms):\n      1. CREATE:\n          - key: config/vpp/v2/interfaces/if1\n"), "{footer}");
    let took = footer
        .lines()
        .find(|l| l.starts_with('|'))
        .unwrap_or_default();
    assert!(took.starts_with("| #0 - NBTransaction "), "{took}");
    assert!(took.ends_with(" took 7.1ms |"), "{took}");
}

#[test]
fn no_text_log_when_disabled() {
    let (mut s, _dp, _clock) = setup(SchedulerConfig {
        print_txn_summary: false,
        ..SchedulerConfig::default()
    });
    let out = Arc::new(Mutex::new(0usize));
    let sink = out.clone();
    s.set_log_sink(Box::new(move |_| {
        if let Ok(mut n) = sink.lock() {
            *n += 1;
        }
    }));
    commit(&mut s, Txn::nb().put(IF1, iface("if1")));
    assert_eq!(out.lock().map(|n| *n).unwrap_or(99), 0);
}

#[test]
fn records_and_statuses_serialise_in_ligato_json_shapes() {
    let (mut s, _dp, _clock) = setup(SchedulerConfig::default());
    let r = commit(&mut s, Txn::nb().put(BD1, bd("bd1", &["if1"])));
    let j = serde_json::to_value(&*r.record).unwrap_or_default();
    assert_eq!(j["SeqNum"], json!(0));
    assert_eq!(j["TxnType"], json!("NBTransaction"));
    assert_eq!(j["Start"], json!("2020-01-01T10:00:00Z"));
    assert!(j.get("ResyncType").is_none());
    assert_eq!(j["Values"][0]["Key"], json!(BD1));
    assert_eq!(j["Values"][0]["Origin"], json!(1));
    assert_eq!(
        j["Values"][0]["Value"],
        json!({"ProtoMsgName": "ligato.vpp.l2.BridgeDomain",
               "ProtoMsgData": {"name": "bd1", "interfaces": [{"name": "if1"}]}})
    );
    assert_eq!(
        j["Executed"][1],
        json!({"Operation": "CREATE", "Key": "vpp/bd/bd1/interface/if1", "NewState": "PENDING",
               "NewValue": {"ProtoMsgName": "ligato.vpp.l2.BridgeDomain.Interface",
                            "ProtoMsgData": {"name": "if1"}},
               "NOOP": true, "IsDerived": true})
    );
    let st = serde_json::to_value(s.status(&Key::from(BD1))).unwrap_or_default();
    assert_eq!(
        st,
        json!({"value": {"key": BD1, "state": "CONFIGURED", "last_operation": "CREATE"},
               "derived_values": [{"key": "vpp/bd/bd1/interface/if1", "state": "PENDING",
                                   "last_operation": "CREATE", "details": ["interface-exists"]}]})
    );
    let proto = s.status(&Key::from(BD1)).to_proto();
    assert_eq!(proto.derived_values[0].state, ValueState::Pending as i32);
    let unknown = serde_json::to_value(s.status(&Key::from("config/none"))).unwrap_or_default();
    assert_eq!(unknown, json!({"value": {"key": "config/none"}}));
}

#[test]
fn status_by_prefix_lists_top_level_values_sorted() {
    let (mut s, _dp, _clock) = setup(SchedulerConfig::default());
    commit(
        &mut s,
        Txn::nb()
            .put("config/vpp/v2/interfaces/b", iface("b"))
            .put("config/vpp/v2/interfaces/a", iface("a"))
            .put(BD1, bd("bd1", &["a"])),
    );
    let keys = |p: &str| -> Vec<String> {
        s.status_by_prefix(p)
            .map(|v| v.iter().map(|b| b.value.key.to_string()).collect())
            .unwrap_or_default()
    };
    assert_eq!(
        keys("config/vpp/v2/interfaces/"),
        vec!["config/vpp/v2/interfaces/a", "config/vpp/v2/interfaces/b"]
    );
    assert_eq!(
        keys("").len(),
        3,
        "derived values are listed under their parent"
    );
    assert_eq!(
        s.status_by_prefix("config/vpp/v2/interfaces/zzz")
            .map(|v| v.len()),
        Ok(0)
    );
    assert_eq!(
        s.status_by_prefix("nonsense/"),
        Err(KvError::UnknownKeyPrefix("nonsense/".into()))
    );
}

#[test]
fn history_is_numbered_queryable_and_trimmed_by_age() {
    let (mut s, _dp, clock) = setup(SchedulerConfig {
        transaction_history_age_limit: Duration::from_secs(60),
        ..SchedulerConfig::default()
    });
    commit(&mut s, Txn::nb().put(IF1, iface("if1")));
    clock.advance(Duration::from_secs(30));
    commit(&mut s, Txn::nb().put(BD1, bd("bd1", &["if1"])));
    let seqs: Vec<u64> = s.history(None, None).iter().map(|t| t.seq_num).collect();
    assert_eq!(seqs, vec![0, 1]);
    assert_eq!(s.txn(1).map(|t| t.executed.len()), Ok(2));
    let text = s.history_text(None, None);
    assert!(
        text.starts_with("Transaction #0:\n    * transaction arguments:\n"),
        "{text}"
    );
    assert!(text.contains("\n\nTransaction #1:\n"), "{text}");
    clock.advance(Duration::from_secs(45));
    commit(&mut s, Txn::nb().delete(BD1));
    let seqs: Vec<u64> = s.history(None, None).iter().map(|t| t.seq_num).collect();
    assert_eq!(seqs, vec![1, 2], "txn #0 is older than the limit");
    assert_eq!(s.txn(0).map(|t| t.seq_num), Err(KvError::TxnNotRecorded(0)));
}

#[test]
fn timeline_follows_a_value_through_its_states() {
    let (mut s, _dp, clock) = setup(SchedulerConfig::default());
    let bdif = Key::from("vpp/bd/bd1/interface/if1");
    commit(&mut s, Txn::nb().put(BD1, bd("bd1", &["if1"])));
    clock.advance(Duration::from_secs(1));
    commit(&mut s, Txn::nb().put(IF1, iface("if1")));
    clock.advance(Duration::from_secs(1));
    commit(&mut s, Txn::nb().delete(BD1));
    let line = s.timeline(&bdif);
    let states: Vec<&str> = line
        .iter()
        .map(|n| n.flags.get("value-state").map_or("", |s| s.as_str()))
        .collect();
    assert_eq!(states, vec!["PENDING", "CONFIGURED"]);
    assert_eq!(line[0].until, Some(line[1].since));
    assert!(line[1].until.is_some(), "closed when the value was removed");
    assert_eq!(line[1].flags.get("derived").map(|s| s.as_str()), Some(BD1));
    assert_eq!(
        line[1].flags.get("descriptor").map(|s| s.as_str()),
        Some("vpp-bd-interface")
    );
    let j = serde_json::to_value(&line[0]).unwrap_or_default();
    assert_eq!(j["Key"], json!("vpp/bd/bd1/interface/if1"));
    assert_eq!(j["Since"], json!("2020-01-01T10:00:00Z"));
}

#[test]
fn graph_exports_dependency_and_derivation_edges() {
    let (mut s, _dp, _clock) = setup(SchedulerConfig::default());
    commit(
        &mut s,
        Txn::nb()
            .put(IF1, iface("if1"))
            .put(BD1, bd("bd1", &["if1", "if2"])),
    );
    let j = s.graph_json();
    let nodes = j.as_array().cloned().unwrap_or_default();
    let node = |k: &str| {
        nodes
            .iter()
            .find(|n| n["Key"] == json!(k))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        node(BD1)["Targets"][0],
        json!({"Relation": "derives", "Label": "vpp/bd/bd1/interface/if1",
               "ExpectedKey": "vpp/bd/bd1/interface/if1",
               "MatchingKeys": ["vpp/bd/bd1/interface/if1"]})
    );
    assert_eq!(
        node("vpp/bd/bd1/interface/if2")["Targets"][0],
        json!({"Relation": "depends-on", "Label": "interface-exists",
               "ExpectedKey": "config/vpp/v2/interfaces/if2", "MatchingKeys": []})
    );
    assert_eq!(node(IF1)["Flags"]["value-state"], json!("CONFIGURED"));
    let dot = s.graph_dot();
    assert!(dot.starts_with("digraph kvscheduler {"), "{dot}");
    assert!(dot.contains("\"vpp/bd/bd1/interface/if1\" -> \"config/vpp/v2/interfaces/if1\" [label=\"interface-exists\", style=solid];"), "{dot}");
    assert!(dot.contains("\"config/vpp/l2/v2/bridge-domain/bd1\" -> \"vpp/bd/bd1/interface/if1\" [label=\"\", style=dashed];"), "{dot}");
    assert!(
        dot.contains("color=red"),
        "a missing dependency is drawn in red: {dot}"
    );
}

/// Reads the `u32` metadata (a sw_if_index) the interface descriptor produced.
struct NeedsIndex;

impl Descriptor for NeedsIndex {
    fn name(&self) -> &str {
        "needs-index"
    }
    fn key_selector(&self, key: &Key) -> bool {
        key.has_prefix("test/uses/")
    }
    fn dependencies(&self, _: &Key, _: &Value) -> Vec<kvscheduler::Dependency> {
        vec![kvscheduler::Dependency::on_key("interface-exists", IF1)]
    }
    fn create(
        &self,
        md: &MetadataView<'_>,
        _: &Key,
        _: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        let idx = md
            .get_as::<u32>("vpp-interface", &Key::from(IF1))
            .ok_or_else(|| KvError::fatal("no sw_if_index"))?;
        assert_eq!(md.all("vpp-interface").len(), 1);
        Ok(Some(Arc::new(*idx + 100)))
    }
    fn delete(
        &self,
        _: &MetadataView<'_>,
        _: &Key,
        _: &Value,
        _: Option<&Metadata>,
    ) -> Result<(), KvError> {
        Ok(())
    }
}

#[test]
fn descriptors_read_each_others_metadata() {
    let (mut s, _dp, _clock) = setup(SchedulerConfig::default());
    assert!(s.register(Arc::new(NeedsIndex)).is_ok());
    let r = commit(
        &mut s,
        Txn::nb()
            .put("test/uses/x", value(messages::proto::Empty {}))
            .put(IF1, iface("if1")),
    );
    assert!(r.is_ok(), "{:?}", r.failed);
    let md = s
        .metadata(&Key::from("test/uses/x"))
        .and_then(|m| m.downcast_ref::<u32>());
    assert_eq!(md, Some(&101));
}

#[test]
fn simulation_records_planned_operations_before_executing() {
    let (mut s, _dp, _clock) = setup(SchedulerConfig {
        enable_txn_simulation: true,
        ..SchedulerConfig::default()
    });
    let out = Arc::new(Mutex::new(String::new()));
    let sink = out.clone();
    s.set_log_sink(Box::new(move |t| {
        if let Ok(mut o) = sink.lock() {
            o.push_str(t);
        }
    }));
    let r = commit(&mut s, Txn::nb().put(IF1, iface("if1")));
    assert!(r.record.with_simulation);
    assert_eq!(r.record.planned.len(), 1);
    assert_eq!(r.record.executed.len(), 1);
    let log = out.lock().map(|o| o.clone()).unwrap_or_default();
    assert!(
        log.contains("  * planned operations:\n      1. CREATE:\n"),
        "{log}"
    );
}

#[test]
fn retry_is_due_after_the_backoff_and_runs_as_a_numbered_retry_txn() {
    let (mut s, dp, clock) = setup(SchedulerConfig::default());
    dp.state().fail.insert(
        Key::from(IF1),
        FailRule {
            error: "busy".into(),
            retriable: true,
            times: 1,
        },
    );
    let policy = RetryPolicy {
        period: Duration::from_millis(500),
        ..RetryPolicy::default()
    };
    let r = commit(&mut s, Txn::nb().put(IF1, iface("if1")).with_retry(policy));
    assert_eq!(r.failed.len(), 1);
    assert_eq!(
        s.value_status(&Key::from(IF1)).error,
        "busy",
        "the error is reported in the status"
    );
    let due = s.next_retry_due();
    assert_eq!(
        due.and_then(|d| d.duration_since(r.record.stop).ok()),
        Some(Duration::from_millis(500))
    );
    assert!(s.run_due_retries().is_empty());
    clock.advance(Duration::from_millis(500));
    let retries = s.run_due_retries();
    assert_eq!(retries.len(), 1);
    assert_eq!(retries[0].seq_num, 1);
    assert_eq!(retries[0].record.retry_for_txn, 0);
    assert_eq!(retries[0].record.retry_attempt, 1);
    assert_eq!(
        s.value_status(&Key::from(IF1)).state,
        ValueState::Configured
    );
    assert_eq!(s.next_retry_due(), None);
}

#[test]
fn unimplemented_values_and_duplicate_descriptors() {
    let (mut s, dp, _clock) = setup(SchedulerConfig::default());
    let r = commit(&mut s, Txn::nb().put("config/unknown/x", iface("x")));
    assert_eq!(
        r.brief(),
        vec!["CREATE config/unknown/x [NOOP UNIMPLEMENTED]"]
    );
    assert_eq!(
        s.value_status(&Key::from("config/unknown/x")).state,
        ValueState::Unimplemented
    );
    let again = s.register(Arc::new(TestDescriptor::new(
        "vpp-interface",
        "config/x/",
        &dp,
    )));
    assert_eq!(
        again,
        Err(KvError::DuplicateDescriptor("vpp-interface".into()))
    );
    assert_eq!(s.descriptors().len(), 7);
}

#[test]
fn scheduler_can_move_to_an_actor_thread() {
    fn assert_send<T: Send + 'static>() {}
    assert_send::<Scheduler>();
}

#[test]
fn statuses_touched_by_a_transaction_are_listed_once_in_order() {
    let (mut s, _dp, _clock) = setup(SchedulerConfig::default());
    commit(&mut s, Txn::nb().put(BD1, bd("bd1", &["if1"])));
    let r = commit(&mut s, Txn::nb().put(IF1, iface("if1")));
    let got: Vec<(String, ValueState)> = s
        .statuses_touched_by(&r)
        .into_iter()
        .map(|v| (v.key.to_string(), v.state))
        .collect();
    assert_eq!(
        got,
        vec![
            (IF1.to_owned(), ValueState::Configured),
            (
                "vpp/bd/bd1/interface/if1".to_owned(),
                ValueState::Configured
            ),
        ]
    );
}

/// Retrieves one value without saying where it came from.
struct SbOnly;

impl Descriptor for SbOnly {
    fn name(&self) -> &str {
        "sb-only"
    }
    fn key_selector(&self, key: &Key) -> bool {
        key.has_prefix("vpp/interface/local0/link-state/")
    }
    fn create(
        &self,
        _: &MetadataView<'_>,
        _: &Key,
        _: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        Err(KvError::fatal("read-only"))
    }
    fn delete(
        &self,
        _: &MetadataView<'_>,
        _: &Key,
        _: &Value,
        _: Option<&Metadata>,
    ) -> Result<(), KvError> {
        Err(KvError::fatal("read-only"))
    }
    fn retrieve(
        &self,
        _: &MetadataView<'_>,
        _: &[(Key, Value)],
    ) -> Result<Option<Vec<kvscheduler::Retrieved>>, KvError> {
        Ok(Some(vec![kvscheduler::Retrieved {
            key: Key::from("vpp/interface/local0/link-state/UP"),
            value: value(messages::proto::Empty {}),
            metadata: None,
            origin: kvscheduler::Origin::Unknown,
        }]))
    }
}

#[test]
fn retrieved_values_of_descriptors_without_nb_prefix_are_obtained() {
    let (mut s, _dp, _clock) = setup(SchedulerConfig::default());
    assert!(s.register(Arc::new(SbOnly)).is_ok());
    let r = commit(&mut s, Txn::full_resync(Vec::new()));
    assert!(r.is_ok(), "{:?}", r.failed);
    assert_eq!(r.brief(), Vec::<String>::new());
    let key = Key::from("vpp/interface/local0/link-state/UP");
    assert_eq!(s.value_status(&key).state, ValueState::Obtained);
    let r = commit(&mut s, Txn::downstream_resync());
    assert_eq!(r.brief(), Vec::<String>::new());
    assert_eq!(s.value_status(&key).state, ValueState::Obtained);
}

/// Interfaces whose MAC address compares case-insensitively, as a descriptor's equivalence.
struct CaseInsensitiveMac(FakeDp);

impl Descriptor for CaseInsensitiveMac {
    fn name(&self) -> &str {
        "mac-interface"
    }
    fn key_selector(&self, key: &Key) -> bool {
        key.has_prefix("test/mac/")
    }
    fn equivalent(&self, _: &Key, old: &Value, new: &Value) -> bool {
        let mac = |v: &Value| {
            messages::value::downcast::<Interface>(&**v).map(|i| i.phys_address.to_lowercase())
        };
        mac(old) == mac(new)
    }
    fn can_update(&self) -> bool {
        true
    }
    fn create(
        &self,
        _: &MetadataView<'_>,
        key: &Key,
        value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        self.0.create(key, value, Vec::new()).map(|_| None)
    }
    fn update(
        &self,
        _: &MetadataView<'_>,
        key: &Key,
        _: &Value,
        new: &Value,
        _: Option<&Metadata>,
    ) -> Result<Option<Metadata>, KvError> {
        self.0.update(key, new, Vec::new()).map(|_| None)
    }
    fn delete(
        &self,
        _: &MetadataView<'_>,
        key: &Key,
        _: &Value,
        _: Option<&Metadata>,
    ) -> Result<(), KvError> {
        self.0.delete(key)
    }
}

#[test]
fn descriptor_equivalence_decides_what_is_a_change() {
    let (mut s, dp, _clock) = setup(SchedulerConfig::default());
    assert!(s.register(Arc::new(CaseInsensitiveMac(dp.clone()))).is_ok());
    let mac = |m: &str| {
        value(Interface {
            name: "m".into(),
            phys_address: m.into(),
            ..Default::default()
        })
    };
    let r = commit(
        &mut s,
        Txn::nb().put("test/mac/m", mac("AA:BB:CC:00:00:01")),
    );
    assert_eq!(r.brief(), vec!["CREATE test/mac/m"]);
    let r = commit(
        &mut s,
        Txn::nb().put("test/mac/m", mac("aa:bb:cc:00:00:01")),
    );
    assert_eq!(r.brief(), Vec::<String>::new(), "same MAC in another case");
    let r = commit(
        &mut s,
        Txn::nb().put("test/mac/m", mac("aa:bb:cc:00:00:02")),
    );
    assert_eq!(r.brief(), vec!["UPDATE test/mac/m"]);
    assert_eq!(dp.state().calls.len(), 2);
}

#[test]
fn resync_and_retry_headers_name_their_kind() {
    let (mut s, dp, clock) = setup(SchedulerConfig::default());
    let out = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = out.clone();
    s.set_log_sink(Box::new(move |t| {
        if let Ok(mut v) = sink.lock() {
            v.push(t.to_owned());
        }
    }));
    commit(
        &mut s,
        Txn::full_resync(vec![(Key::from(IF1), iface("if1"))]),
    );
    dp.state().fail.insert(
        Key::from(BD1),
        FailRule {
            error: "busy".into(),
            retriable: true,
            times: 1,
        },
    );
    commit(
        &mut s,
        Txn::nb()
            .put(BD1, bd("bd1", &[]))
            .with_retry(RetryPolicy::default()),
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(s.run_due_retries().len(), 1);
    commit(&mut s, Txn::downstream_resync());
    let blocks = out.lock().map(|v| v.clone()).unwrap_or_default();
    let headers: Vec<&String> = blocks.iter().step_by(2).collect();
    assert_eq!(headers.len(), 4);
    let line = |h: &str| h.lines().nth(1).unwrap_or_default().to_owned();
    assert!(
        line(headers[0]).ends_with(" FullResync |"),
        "{}",
        headers[0]
    );
    assert!(headers[0].contains("      - type: NB Transaction, Full Resync\n"));
    assert!(
        line(headers[2]).ends_with(" retrying failed TXN #1 (attempt 1) |"),
        "{}",
        headers[2]
    );
    assert!(headers[2].contains("      - type: Retry Transaction (for txn #1, attempt #1)\n"));
    assert!(
        line(headers[3]).ends_with(" DownstreamResync |"),
        "{}",
        headers[3]
    );
    assert!(headers[3].contains("      - type: NB Transaction, SB Sync\n"));
    assert!(
        !headers[3].contains("- values:"),
        "no values for an SB sync"
    );
    let failed = &blocks[3];
    assert!(
        failed.contains("      1. CREATE [FAILED]:\n          - key: config/vpp/l2/v2/bridge-domain/bd1\n          - value: { name:\"bd1\" }\n          - error: busy\n"),
        "{failed}"
    );
}
