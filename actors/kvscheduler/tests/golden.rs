//! Golden scenarios: every folder under `tests/golden/` holds a `scenario.yaml` (initial
//! dataplane, then steps: transactions with expected operations, flags, final states and
//! dataplane contents). Adding a folder adds a test; one test function runs them all and
//! fails listing every broken scenario.
//!
//! It checks only what the YAML states, plus two invariants after every step: the fake
//! dataplane saw no forbidden operation, and a dry-run changed nothing.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{FailRule, FakeDp};
use kvscheduler::{ManualClock, RetryPolicy, Scheduler, SchedulerConfig, Txn, TxnReport};
use messages::Key;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    #[allow(dead_code)]
    description: String,
    #[serde(default)]
    dataplane: Vec<DpItem>,
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DpItem {
    key: String,
    #[serde(default)]
    value: Option<serde_json::Value>,
    #[serde(default)]
    obtained: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KvItem {
    key: String,
    #[serde(default)]
    value: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fail {
    key: String,
    error: String,
    #[serde(default)]
    retriable: bool,
    #[serde(default = "one")]
    times: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    name: String,
    /// nb, full_resync, upstream_resync, downstream_resync, retry
    kind: String,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    advance_secs: u64,
    #[serde(default)]
    retry: bool,
    #[serde(default)]
    revert: bool,
    #[serde(default)]
    values: Vec<KvItem>,
    #[serde(default)]
    dp_fail: Vec<Fail>,
    /// Changes made behind the agent's back before the step.
    #[serde(default)]
    dp_drift: Vec<DpItem>,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    ops: Vec<String>,
    #[serde(default)]
    states: BTreeMap<String, String>,
    #[serde(default)]
    details: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    dataplane: Option<Vec<String>>,
    #[serde(default)]
    failed: Vec<String>,
    /// The executed operations in Ligato's text layout, indented by 6.
    #[serde(default)]
    log: Option<String>,
}

fn value_of(key: &str, v: Option<serde_json::Value>) -> Result<Option<messages::Value>, String> {
    v.map(|j| common::models::parse_value(key, j)).transpose()
}

fn run_step(s: &mut Scheduler, dp: &FakeDp, clock: &ManualClock, step: Step) -> Result<(), String> {
    clock.advance(Duration::from_secs(step.advance_secs));
    for f in step.dp_fail {
        dp.state().fail.insert(
            Key::from(f.key),
            FailRule {
                error: f.error,
                retriable: f.retriable,
                times: f.times,
            },
        );
    }
    for d in step.dp_drift {
        match value_of(&d.key, d.value)? {
            Some(v) => dp.insert(&Key::from(d.key), v, d.obtained),
            None => {
                dp.state().entries.remove(d.key.as_str());
            }
        }
    }
    let mut values = Vec::new();
    for kv in step.values {
        let v = value_of(&kv.key, kv.value)?;
        values.push((Key::from(kv.key), v));
    }
    let puts = || {
        values
            .iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
            .collect::<Vec<_>>()
    };
    let mut txn = match step.kind.as_str() {
        "nb" => {
            let mut t = Txn::nb();
            t.values = values.clone();
            t
        }
        "full_resync" => Txn::full_resync(puts()),
        "upstream_resync" => Txn::upstream_resync(puts()),
        "downstream_resync" => Txn::downstream_resync(),
        "retry" => Txn::nb(),
        other => return Err(format!("unknown step kind {other}")),
    };
    if step.retry {
        txn = txn.with_retry(RetryPolicy::default());
    }
    if step.revert {
        txn = txn.revert_on_failure();
    }
    let dp_before = dp.keys();
    let status_before = s.status_by_prefix("").map_err(|e| e.to_string())?;
    let reports: Vec<TxnReport> = if step.kind == "retry" {
        s.run_due_retries()
    } else if step.dry_run {
        vec![s.dry_run(&txn).map_err(|e| e.to_string())?]
    } else {
        vec![s.commit(txn).map_err(|e| e.to_string())?]
    };
    let ops: Vec<String> = reports.iter().flat_map(|r| r.brief()).collect();
    let mut errs = Vec::new();
    if ops != step.expect.ops {
        errs.push(format!(
            "ops:\n  expected {:#?}\n  got {:#?}",
            step.expect.ops, ops
        ));
    }
    if step.dry_run {
        if dp.keys() != dp_before {
            errs.push("dry-run changed the dataplane".to_owned());
        }
        if s.status_by_prefix("").map_err(|e| e.to_string())? != status_before {
            errs.push("dry-run changed value states".to_owned());
        }
    }
    // The cheap gauge count agrees with the full status listing.
    let mut listed: Vec<i32> = s
        .status_by_prefix("")
        .map_err(|e| e.to_string())?
        .iter()
        .map(|b| b.value.state as i32)
        .collect();
    let mut counted: Vec<i32> = s.top_level_states().map(|st| st as i32).collect();
    listed.sort_unstable();
    counted.sort_unstable();
    if listed != counted {
        errs.push(format!(
            "top_level_states {counted:?} differ from status_by_prefix(\"\") {listed:?}"
        ));
    }
    for (k, want) in &step.expect.states {
        let got = s.value_status(&Key::from(k.as_str())).state.as_str_name();
        if got != want {
            errs.push(format!("state of {k}: expected {want}, got {got}"));
        }
    }
    for (k, want) in &step.expect.details {
        let got = s.value_status(&Key::from(k.as_str())).details;
        if &got != want {
            errs.push(format!("details of {k}: expected {want:?}, got {got:?}"));
        }
    }
    if let Some(want) = &step.expect.dataplane {
        let got = dp.keys();
        if &got != want {
            errs.push(format!("dataplane:\n  expected {want:#?}\n  got {got:#?}"));
        }
    }
    let failed: Vec<String> = reports
        .iter()
        .flat_map(|r| r.failed.iter().map(|f| f.key.to_string()))
        .collect();
    if failed != step.expect.failed {
        errs.push(format!(
            "failed: expected {:?}, got {failed:?}",
            step.expect.failed
        ));
    }
    if let (Some(want), Some(r)) = (&step.expect.log, reports.first()) {
        let got = kvscheduler::log::ops(r.ops(), 6);
        if got.trim_end() != want.trim_end() {
            errs.push(format!("log:\n--- expected\n{want}\n--- got\n{got}"));
        }
    }
    let violations = std::mem::take(&mut dp.state().violations);
    if !violations.is_empty() {
        errs.push(format!("forbidden dataplane operations: {violations:?}"));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(format!("step {:?}: {}", step.name, errs.join("\n")))
    }
}

fn run_scenario(dir: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(dir.join("scenario.yaml")).map_err(|e| e.to_string())?;
    let sc: Scenario = serde_saphyr::from_str(&text).map_err(|e| e.to_string())?;
    let clock = Arc::new(ManualClock::new(1_577_872_800));
    let mut s = Scheduler::new(SchedulerConfig::default(), clock.clone());
    let dp = FakeDp::default();
    common::models::register_all(&mut s, &dp).map_err(|e| e.to_string())?;
    for item in sc.dataplane {
        let v = value_of(&item.key, item.value)?.ok_or("dataplane item without value")?;
        dp.insert(&Key::from(item.key), v, item.obtained);
    }
    for step in sc.steps {
        run_step(&mut s, &dp, &clock, step)?;
    }
    Ok(())
}

#[test]
fn golden_scenarios() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    assert!(
        !dirs.is_empty(),
        "no golden scenarios under {}",
        root.display()
    );
    let mut failures = Vec::new();
    for d in &dirs {
        let name = d
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match run_scenario(d) {
            Ok(()) => println!("golden {name} ... ok"),
            Err(e) => {
                println!("golden {name} ... FAILED");
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    if !failures.is_empty() {
        eprintln!("\n{}", failures.join("\n\n"));
        panic!(
            "{} of {} golden scenarios failed",
            failures.len(),
            dirs.len()
        );
    }
    println!("{} golden scenarios passed", dirs.len());
}
