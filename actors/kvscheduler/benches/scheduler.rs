//! Scheduler benchmark against a no-op dataplane (`cargo bench -p vpp-agent-kvscheduler`):
//! (a) full resync of N independent values, (b) an N-long dependency chain submitted leaf
//! first, one value per transaction and all in one, (c) deleting the root of an N-value
//! dependency tree (fan-out 10) and of an N-long chain; for N = 1k, 10k, 100k, printing time
//! per value so that flatness is visible, plus resident memory per value after (a).
//!
//! It times with `std::time::Instant`, best of a few runs; it is not a statistical harness.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kvscheduler::{
    Dependency, Descriptor, KvError, Metadata, MetadataView, Retrieved, Scheduler,
    SchedulerConfig, SystemClock, Txn,
};
use messages::value::{downcast, value};
use messages::{Key, Value};

#[derive(Clone, PartialEq, prost::Message)]
struct Item {
    #[prost(string, tag = "1")]
    parent: String,
    #[prost(uint32, tag = "2")]
    data: u32,
}

impl prost::Name for Item {
    const NAME: &'static str = "Item";
    const PACKAGE: &'static str = "bench";
}

/// Accepts everything, stores nothing; retrieve reports an empty dataplane.
struct Noop;

impl Descriptor for Noop {
    fn name(&self) -> &str {
        "noop"
    }
    fn key_selector(&self, _key: &Key) -> bool {
        true
    }
    fn dependencies(&self, _key: &Key, v: &Value) -> Vec<Dependency> {
        match downcast::<Item>(&**v) {
            Some(i) if !i.parent.is_empty() => {
                vec![Dependency::on_key("parent", i.parent.as_str())]
            }
            _ => Vec::new(),
        }
    }
    fn create(&self, _: &MetadataView<'_>, _: &Key, _: &Value) -> Result<Option<Metadata>, KvError> {
        Ok(None)
    }
    fn delete(&self, _: &MetadataView<'_>, _: &Key, _: &Value, _: Option<&Metadata>) -> Result<(), KvError> {
        Ok(())
    }
    fn retrieve(&self, _: &MetadataView<'_>, _: &[(Key, Value)]) -> Result<Option<Vec<Retrieved>>, KvError> {
        Ok(Some(Vec::new()))
    }
}

fn scheduler() -> Scheduler {
    let mut s = Scheduler::new(
        SchedulerConfig {
            print_txn_summary: false,
            ..SchedulerConfig::default()
        },
        Arc::new(SystemClock),
    );
    if let Err(e) = s.register(Arc::new(Noop)) {
        panic!("register: {e}");
    }
    s
}

fn key(i: usize) -> Key {
    Key::from(format!("bench/value/{i:07}"))
}

fn item(parent: Option<usize>) -> Value {
    value(Item {
        parent: parent.map(|p| key(p).to_string()).unwrap_or_default(),
        data: 1,
    })
}

fn commit(s: &mut Scheduler, txn: Txn) -> usize {
    match s.commit(txn) {
        Ok(r) if r.is_ok() => r.ops().len(),
        Ok(r) => panic!("failed ops: {:?}", r.failed),
        Err(e) => panic!("commit: {e}"),
    }
}

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Runs `f` (which returns the number of operations) `runs` times on fresh state, keeping the
/// best time.
fn best(runs: usize, mut f: impl FnMut() -> (Duration, usize)) -> (Duration, usize) {
    (0..runs).map(|_| f()).min_by_key(|(d, _)| *d).unwrap_or_default()
}

fn resync(n: usize) -> (Duration, usize) {
    let mut s = scheduler();
    let values: Vec<(Key, Value)> = (0..n).map(|i| (key(i), item(None))).collect();
    let t = Instant::now();
    let ops = commit(&mut s, Txn::full_resync(values));
    (t.elapsed(), ops)
}

fn chain_per_txn(n: usize) -> (Duration, usize) {
    let mut s = scheduler();
    let t = Instant::now();
    let mut ops = 0;
    for i in (0..n).rev() {
        let parent = i.checked_sub(1);
        ops += commit(&mut s, Txn::nb().put(key(i), item(parent)));
    }
    (t.elapsed(), ops)
}

fn chain_one_txn(n: usize) -> (Duration, usize) {
    let mut s = scheduler();
    let mut txn = Txn::nb();
    for i in (0..n).rev() {
        txn = txn.put(key(i), item(i.checked_sub(1)));
    }
    let t = Instant::now();
    let ops = commit(&mut s, txn);
    (t.elapsed(), ops)
}

fn delete_root(n: usize, fanout: usize) -> (Duration, usize) {
    let mut s = scheduler();
    let values: Vec<(Key, Value)> = (0..n)
        .map(|i| {
            let parent = if i == 0 { None } else { Some((i - 1) / fanout) };
            (key(i), item(parent))
        })
        .collect();
    commit(&mut s, Txn::full_resync(values));
    let t = Instant::now();
    let ops = commit(&mut s, Txn::nb().delete(key(0)));
    (t.elapsed(), ops)
}

fn report(name: &str, n: usize, (d, ops): (Duration, usize)) {
    let per = d.as_nanos() as f64 / n as f64;
    println!(
        "{name:<34} n={n:>7}  total {:>9.1} ms  per value {:>7.2} µs  ops {ops}",
        d.as_secs_f64() * 1e3,
        per / 1e3
    );
}

fn main() {
    // Memory first, in a fresh process, before other runs leave freed pages behind.
    let n = 100_000;
    let before = rss_bytes();
    let mut s = scheduler();
    let values: Vec<(Key, Value)> = (0..n).map(|i| (key(i), item(None))).collect();
    commit(&mut s, Txn::full_resync(values));
    let after = rss_bytes();
    println!(
        "memory after full resync of {n} values (history on): {} bytes per value",
        after.saturating_sub(before) / n
    );
    drop(s);

    let sizes = [1_000, 10_000, 100_000];
    for &n in &sizes {
        report("(a) full resync, independent", n, best(3, || resync(n)));
    }
    for &n in &sizes {
        report("(b) chain leaf first, txn per value", n, best(3, || chain_per_txn(n)));
    }
    for &n in &sizes {
        report("(b) chain leaf first, one txn", n, best(3, || chain_one_txn(n)));
    }
    for &n in &sizes {
        report("(c) delete root, tree fan-out 10", n, best(3, || delete_root(n, 10)));
    }
    for &n in &sizes {
        report("(c) delete root, chain", n, best(3, || delete_root(n, 1)));
    }
}
