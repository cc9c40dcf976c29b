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
    Dependency, Descriptor, KvError, Metadata, MetadataView, Retrieved, Scheduler, SchedulerConfig,
    SystemClock, Txn,
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
    fn create(
        &self,
        _: &MetadataView<'_>,
        _: &Key,
        _: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        Ok(None)
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
    fn retrieve(
        &self,
        _: &MetadataView<'_>,
        _: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
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

/// CPU time of this thread in nanoseconds (`/proc/thread-self/schedstat`). Unlike wall time
/// it leaves out what other processes on a busy machine take from us; its resolution here is
/// the scheduler tick (4 ms), so it only means something for the larger sizes.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Wall and CPU time of a measured section (ordered by wall time).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Took {
    wall: Duration,
    cpu: Duration,
}

struct Timer(Instant, u64);

impl Timer {
    fn start() -> Self {
        Timer(Instant::now(), cpu_ns())
    }
    fn stop(&self) -> Took {
        Took {
            wall: self.0.elapsed(),
            cpu: Duration::from_nanos(cpu_ns().saturating_sub(self.1)),
        }
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
fn best(runs: usize, mut f: impl FnMut() -> (Took, usize)) -> (Took, usize) {
    (0..runs)
        .map(|_| f())
        .min_by_key(|(d, _)| *d)
        .unwrap_or_default()
}

fn resync(n: usize) -> (Took, usize) {
    let mut s = scheduler();
    let values: Vec<(Key, Value)> = (0..n).map(|i| (key(i), item(None))).collect();
    let t = Timer::start();
    let ops = commit(&mut s, Txn::full_resync(values));
    (t.stop(), ops)
}

fn chain_per_txn(n: usize) -> (Took, usize) {
    let mut s = scheduler();
    let t = Timer::start();
    let mut ops = 0;
    for i in (0..n).rev() {
        let parent = i.checked_sub(1);
        ops += commit(&mut s, Txn::nb().put(key(i), item(parent)));
    }
    (t.stop(), ops)
}

fn chain_one_txn(n: usize) -> (Took, usize) {
    let mut s = scheduler();
    let mut txn = Txn::nb();
    for i in (0..n).rev() {
        txn = txn.put(key(i), item(i.checked_sub(1)));
    }
    let t = Timer::start();
    let ops = commit(&mut s, txn);
    (t.stop(), ops)
}

fn delete_root(n: usize, fanout: usize) -> (Took, usize) {
    let mut s = scheduler();
    let values: Vec<(Key, Value)> = (0..n)
        .map(|i| {
            let parent = if i == 0 { None } else { Some((i - 1) / fanout) };
            (key(i), item(parent))
        })
        .collect();
    commit(&mut s, Txn::full_resync(values));
    let t = Timer::start();
    let ops = commit(&mut s, Txn::nb().delete(key(0)));
    (t.stop(), ops)
}

/// `cargo bench -p vpp-agent-kvscheduler -- <word>` runs only the cases whose name contains it.
fn selected(name: &str) -> bool {
    let words: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    words.is_empty() || words.iter().any(|w| name.contains(w.as_str()))
}

fn report(name: &str, n: usize, (t, ops): (Took, usize)) {
    let per = |d: Duration| d.as_nanos() as f64 / n as f64 / 1e3;
    println!(
        "{name:<36} n={n:>7}  wall {:>7.1} ms {:>6.2} µs/value   cpu {:>7.1} ms {:>6.2} µs/value   ops {ops}",
        t.wall.as_secs_f64() * 1e3,
        per(t.wall),
        t.cpu.as_secs_f64() * 1e3,
        per(t.cpu),
    );
}

fn main() {
    if !selected("memory") {
        return run_cases();
    }
    // Memory first, in a fresh process, before other runs leave freed pages behind. Both
    // schedulers stay alive so the second cannot reuse the first one's freed memory.
    let n = 100_000;
    let mut kept = Vec::new();
    for history in [true, false] {
        let before = rss_bytes();
        let mut s = scheduler();
        if !history {
            s = Scheduler::new(
                SchedulerConfig {
                    print_txn_summary: false,
                    record_transaction_history: false,
                    ..SchedulerConfig::default()
                },
                Arc::new(SystemClock),
            );
            if let Err(e) = s.register(Arc::new(Noop)) {
                panic!("register: {e}");
            }
        }
        let values: Vec<(Key, Value)> = (0..n).map(|i| (key(i), item(None))).collect();
        commit(&mut s, Txn::full_resync(values));
        let after = rss_bytes();
        println!(
            "memory after full resync of {n} values (history {}): {} bytes per value (values and keys included)",
            if history { "on" } else { "off" },
            after.saturating_sub(before) / n
        );
        kept.push(s);
    }
    drop(kept);
    run_cases();
}

fn run_cases() {
    let sizes = [1_000, 10_000, 100_000];
    type Case = (&'static str, fn(usize) -> (Took, usize));
    let cases: [Case; 5] = [
        ("(a) full resync, independent", resync),
        ("(b) chain leaf first, txn per value", chain_per_txn),
        ("(b) chain leaf first, one txn", chain_one_txn),
        ("(c) delete root, tree fan-out 10", |n| delete_root(n, 10)),
        ("(c) delete root, chain", |n| delete_root(n, 1)),
    ];
    for (name, f) in cases {
        if !selected(name) {
            continue;
        }
        for &n in &sizes {
            // Small sizes are cheap: more attempts make the best one less noisy.
            let runs = (100_000 / n).clamp(3, 20);
            report(name, n, best(runs, || f(n)));
        }
    }
}
