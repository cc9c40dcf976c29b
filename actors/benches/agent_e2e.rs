//! End-to-end benchmark of the running agent (issue 9): the release `vpp-agent` binary on a
//! private etcd (Debian's `etcd`, started by the connectors testkit) and vpp-sim 23.06
//! instances inside this process, whose request hook ([`vpp_sim::SimHandle::watch_requests`])
//! timestamps each request's arrival on the simulator's main thread.
//!
//! Three parts, in one run:
//! 1. Latency: sequential puts of new loopbacks; per put, the time until a plain etcd watcher
//!    in this process sees it and the time until the agent's `create_loopback` reaches
//!    vpp-sim; "agent adds" is the difference per change.
//! 2. Resync: keys written before the agent starts; time from spawning the agent until
//!    vpp-sim has every interface admin up, and the resync transaction's own duration from
//!    the agent's transaction log.
//! 3. Fleet: agents with labels vpp1..vpp<N>, each with its own vpp-sim, on one etcd; all their
//!    keys written at once in etcd transactions; time until every vpp-sim holds its config,
//!    and the agents' total RSS.
//!
//! Sizes come from env vars (`VPP_BENCH_CHANGES`, `VPP_BENCH_RESYNC_KEYS`,
//! `VPP_BENCH_AGENTS`, `VPP_BENCH_FLEET_KEYS`); `VPP_BENCH_ONLY=latency,resync,fleet` picks
//! parts. It is not a test: it asserts only that the runs converged, and CI only compiles it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use connectors::testkit::servers::EtcdServer;
use etcd_client::{Client, Txn, TxnOp, WatchOptions};
use tokio::sync::mpsc;
use vpp_sim::{Handled, SimHandle};

/// How long any phase may take before the bench gives up.
const DEADLINE: Duration = Duration::from_secs(300);
/// The request that shows a loopback put reached VPP.
const CREATE: &str = "create_loopback";
/// The request that completes an enabled loopback's configuration (admin up).
const ADMIN_UP: &str = "sw_interface_set_flags";
/// No request for this long after a change's `create_loopback`: its transaction is done.
const QUIET: Duration = Duration::from_millis(3);

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn key(label: &str, i: usize) -> String {
    format!("/vnf-agent/{label}/config/vpp/v2/interfaces/lo{i}")
}

fn value(i: usize) -> String {
    format!(r#"{{"name":"lo{i}","type":"SOFTWARE_LOOPBACK","enabled":true}}"#)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// p50, p99 and max of `v` (sorted in place), in ms.
fn pcts(v: &mut [Duration]) -> (f64, f64, f64) {
    v.sort();
    let at = |p: usize| ms(v[(v.len() * p / 100).min(v.len() - 1)]);
    (at(50), at(99), ms(v[v.len() - 1]))
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The load average line, for the report.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// A running agent (SIGKILLed on drop) with its stdout (the transaction log) captured.
struct Agent {
    child: Child,
    out: Arc<Mutex<String>>,
    err: Arc<Mutex<String>>,
    label: String,
    _dir: tempfile::TempDir,
}

fn capture(stream: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let buf = Arc::new(Mutex::new(String::new()));
    let sink = buf.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut l = sink.lock().expect("log");
            l.push_str(&line);
            l.push('\n');
        }
    });
    buf
}

impl Agent {
    /// Writes the config files next to `sim`'s socket dir and spawns the release binary:
    /// etcd at `endpoint`, REST on a free port, the Linux plugin off (no host interfaces
    /// in the measurement), logging at warn.
    fn start(sim: &SimHandle, endpoint: &str, label: &str) -> Agent {
        let dir = tempfile::tempdir().expect("tmp");
        let write = |name: &str, text: String| {
            std::fs::write(dir.path().join(name), text).expect("write config");
        };
        write(
            "govpp.conf",
            format!("binapi-socket-path: {}\n", sim.socket_path().display()),
        );
        write("etcd.conf", format!("endpoints: [\"{endpoint}\"]\n"));
        write("linux-ifplugin.conf", "disabled: true\n".to_owned());
        let mut child = Command::new(env!("CARGO_BIN_EXE_vpp-agent"))
            .env_clear()
            .env("RUST_LOG", "warn")
            .args(["--config-dir", path_str(dir.path())])
            .args(["--govpp-config", "govpp.conf"])
            .args(["--etcd-config", "etcd.conf"])
            .args(["--linux-ifplugin-config", "linux-ifplugin.conf"])
            .args(["--microservice-label", label, "--http-port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vpp-agent");
        let out = capture(child.stdout.take().expect("stdout"));
        let err = capture(child.stderr.take().expect("stderr"));
        Agent {
            child,
            out,
            err,
            label: label.to_owned(),
            _dir: dir,
        }
    }

    fn stdout(&self) -> String {
        self.out.lock().expect("log").clone()
    }

    /// The duration of transaction `#seq` from its footer (`took <go duration>`), once printed.
    fn took(&self, seq: u64) -> Option<Duration> {
        let needle = format!("#{seq} - ");
        self.stdout()
            .lines()
            .filter(|l| l.contains(&needle))
            .find_map(|l| l.split("took ").nth(1))
            .and_then(|d| go_duration(d.trim_end_matches(['|', ' '])))
    }

    async fn resynced(&self) {
        wait("the initial resync", || self.took(0).is_some()).await;
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The agent's warnings and errors, for diagnosis.
        let err = self.err.lock().expect("log");
        for line in err.lines().take(5) {
            eprintln!("agent {}: {line}", self.label);
        }
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// Go's duration text as the transaction log prints it (`1.2345s`, `12.3ms`, `450µs`).
fn go_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = s.strip_suffix("µs").or_else(|| s.strip_suffix("us")) {
        (n, 1e-6)
    } else if let Some(n) = s.strip_suffix("ns") {
        (n, 1e-9)
    } else if let Some(n) = s.strip_suffix('s') {
        if let Some((m, sec)) = n.split_once('m') {
            let m: f64 = m.parse().ok()?;
            let sec: f64 = sec.parse().ok()?;
            return Some(Duration::from_secs_f64(m * 60.0 + sec));
        }
        (n, 1.0)
    } else {
        return None;
    };
    num.parse::<f64>()
        .ok()
        .map(|v| Duration::from_secs_f64(v * scale))
}

/// Polls `cond` every 10 ms until it holds; panics naming `what` after [`DEADLINE`].
async fn wait(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The next request named `name` from `rx` (others are skipped).
async fn next_named(rx: &mut mpsc::UnboundedReceiver<Handled>, name: &str) -> Handled {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(h)) if h.name == name => return h,
            Ok(Some(_)) => {}
            Ok(None) => panic!("vpp-sim stopped"),
            Err(_) => panic!("timed out waiting for {name} in vpp-sim"),
        }
    }
}

/// Waits until `n` requests named `name` have arrived; returns the last one's arrival time
/// and how many requests of each name arrived until then.
async fn count_named(
    rx: &mut mpsc::UnboundedReceiver<Handled>,
    name: &str,
    n: usize,
) -> (Instant, BTreeMap<&'static str, usize>) {
    let mut last = Instant::now();
    let mut names = BTreeMap::new();
    let mut seen = 0;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while seen < n {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(h)) => {
                *names.entry(h.name).or_default() += 1;
                if h.name == name {
                    seen += 1;
                    last = h.at;
                }
            }
            Ok(None) => panic!("vpp-sim stopped"),
            Err(_) => panic!("timed out waiting for {n} {name} in vpp-sim ({seen} seen)"),
        }
    }
    (last, names)
}

/// Puts `keys` (label, index) through etcd transactions of up to 100 puts (etcd's default
/// limit is 128 operations per transaction), all in flight at once on one client.
async fn put_all(client: &Client, items: &[(String, usize)]) {
    let txns = items.chunks(100).map(|chunk| {
        let mut c = client.clone();
        let ops: Vec<TxnOp> = chunk
            .iter()
            .map(|(label, i)| TxnOp::put(key(label, *i), value(*i), None))
            .collect();
        async move { c.txn(Txn::new().and_then(ops)).await.expect("etcd txn") }
    });
    futures::future::join_all(txns).await;
}

async fn latency(etcd: &EtcdServer, client: &Client, n: usize) {
    let label = "lat";
    let dir = tempfile::tempdir().expect("tmp");
    let sim = SimHandle::start(dir.path(), "23.06").expect("vpp-sim");
    let agent = Agent::start(&sim, etcd.endpoint(), label);
    agent.resynced().await;
    let mut hook = sim.watch_requests().expect("hook");

    // A plain etcd watcher on the agent's prefix, stamping each event as it arrives.
    let (seen_tx, mut seen) = mpsc::unbounded_channel::<(String, Instant)>();
    let mut ws = client
        .clone()
        .watch(
            format!("/vnf-agent/{label}/"),
            Some(WatchOptions::new().with_prefix()),
        )
        .await
        .expect("etcd watch");
    tokio::spawn(async move {
        while let Ok(Some(resp)) = ws.message().await {
            let at = Instant::now();
            for ev in resp.events() {
                if let Some(k) = ev.kv().and_then(|kv| kv.key_str().ok()) {
                    let _ = seen_tx.send((k.to_owned(), at));
                }
            }
        }
    });

    let mut kv = client.clone();
    let (mut etcd_lat, mut agent_lat, mut adds) = (Vec::new(), Vec::new(), Vec::new());
    let started = Instant::now();
    for i in 0..n {
        let k = key(label, i);
        let t0 = Instant::now();
        kv.put(k.as_str(), value(i), None).await.expect("put");
        let (wk, tw) = tokio::time::timeout(DEADLINE, seen.recv())
            .await
            .expect("etcd watch event")
            .expect("etcd watch open");
        assert_eq!(wk, k, "etcd watch saw another key");
        let tv = next_named(&mut hook, CREATE).await.at;
        // Let the change's transaction finish before the next put.
        while let Ok(Some(_)) = tokio::time::timeout(QUIET, hook.recv()).await {}
        etcd_lat.push(tw.saturating_duration_since(t0));
        agent_lat.push(tv.saturating_duration_since(t0));
        adds.push(tv.saturating_duration_since(tw));
    }
    let total = started.elapsed();
    let interfaces = sim.state().expect("state").interfaces().count();
    assert_eq!(interfaces, n + 1, "vpp-sim holds every loopback and local0");
    let (e50, e99, emax) = pcts(&mut etcd_lat);
    let (a50, a99, amax) = pcts(&mut agent_lat);
    let (d50, d99, dmax) = pcts(&mut adds);
    println!(
        "latency: {n} sequential loopback puts ({total:.2?} in all), load {}",
        load()
    );
    println!("  put -> plain etcd watcher:    p50 {e50:.3} ms  p99 {e99:.3} ms  max {emax:.3} ms");
    println!(
        "  put -> vpp-sim create_loopback: p50 {a50:.3} ms  p99 {a99:.3} ms  max {amax:.3} ms"
    );
    println!("  agent adds (per change):      p50 {d50:.3} ms  p99 {d99:.3} ms  max {dmax:.3} ms");
    println!("  agent RSS after: {} KiB", rss_kib(agent.child.id()));
}

async fn resync(etcd: &EtcdServer, client: &Client, n: usize) {
    let label = "resync";
    let items: Vec<(String, usize)> = (0..n).map(|i| (label.to_owned(), i)).collect();
    let w = Instant::now();
    put_all(client, &items).await;
    let written = w.elapsed();
    let dir = tempfile::tempdir().expect("tmp");
    let sim = SimHandle::start(dir.path(), "23.06").expect("vpp-sim");
    let mut hook = sim.watch_requests().expect("hook");
    let t0 = Instant::now();
    let agent = Agent::start(&sim, etcd.endpoint(), label);
    let first = next_named(&mut hook, CREATE).await.at;
    let (done, names) = count_named(&mut hook, ADMIN_UP, n).await;
    let up = sim
        .state()
        .expect("state")
        .interfaces()
        .filter(|i| i.admin_up && i.tag.starts_with("lo"))
        .count();
    assert_eq!(up, n, "vpp-sim holds every loopback, admin up");
    let t_first = first.saturating_duration_since(t0);
    let t_done = done.saturating_duration_since(t0);
    wait("the resync transaction's footer", || {
        agent.took(0).is_some()
    })
    .await;
    let took = agent.took(0).unwrap_or_default();
    println!(
        "resync: {n} keys written before the agent starts (in {written:.2?}), load {}",
        load()
    );
    println!(
        "  agent start -> first create_loopback in vpp-sim: {:.1} ms",
        ms(t_first)
    );
    println!(
        "  agent start -> vpp-sim holds all {n} interfaces (admin up): {:.1} ms",
        ms(t_done)
    );
    println!(
        "  resync transaction #0 (agent's log, 'took'): {:.1} ms",
        ms(took)
    );
    println!("  requests vpp-sim handled (after the first create_loopback): {names:?}");
    println!("  agent RSS after: {} KiB", rss_kib(agent.child.id()));
}

async fn fleet(etcd: &EtcdServer, client: &Client, agents: usize, keys: usize) {
    let mut sims = Vec::new();
    let mut fleet = Vec::new();
    let mut dirs = Vec::new();
    for a in 1..=agents {
        let dir = tempfile::tempdir().expect("tmp");
        let sim = SimHandle::start(dir.path(), "23.06").expect("vpp-sim");
        fleet.push(Agent::start(&sim, etcd.endpoint(), &format!("vpp{a}")));
        sims.push(sim);
        dirs.push(dir);
    }
    for agent in &fleet {
        agent.resynced().await;
    }
    let idle: u64 = fleet.iter().map(|a| rss_kib(a.child.id())).sum();
    // One task per simulator, counting its admin-ups until it holds its config.
    let mut waits = Vec::new();
    for sim in &sims {
        let mut hook = sim.watch_requests().expect("hook");
        waits.push(tokio::spawn(async move {
            count_named(&mut hook, ADMIN_UP, keys).await.0
        }));
    }
    let items: Vec<(String, usize)> = (1..=agents)
        .flat_map(|a| (0..keys).map(move |i| (format!("vpp{a}"), i)))
        .collect();
    let t0 = Instant::now();
    put_all(client, &items).await;
    let written = t0.elapsed();
    let mut ends = Vec::new();
    for w in waits {
        ends.push(w.await.expect("counter").saturating_duration_since(t0));
    }
    for (a, sim) in sims.iter().enumerate() {
        let up = sim
            .state()
            .expect("state")
            .interfaces()
            .filter(|i| i.admin_up && i.tag.starts_with("lo"))
            .count();
        assert_eq!(up, keys, "vpp{} holds its config", a + 1);
    }
    let rss: Vec<u64> = fleet.iter().map(|a| rss_kib(a.child.id())).collect();
    let total: u64 = rss.iter().sum();
    ends.sort();
    println!(
        "fleet: {agents} agents x {keys} keys = {} keys written at once in {:.1} ms (txns of 100), load {}",
        agents * keys,
        ms(written),
        load()
    );
    println!(
        "  write start -> vpp-sim holds its config: first agent {:.1} ms, median {:.1} ms, all {:.1} ms",
        ms(ends[0]),
        ms(ends[ends.len() / 2]),
        ms(ends[ends.len() - 1])
    );
    println!(
        "  agents' RSS: idle {:.1} MiB total; after convergence {:.1} MiB total ({:.1} MiB per agent, max {:.1} MiB)",
        idle as f64 / 1024.0,
        total as f64 / 1024.0,
        total as f64 / 1024.0 / agents as f64,
        *rss.iter().max().unwrap_or(&0) as f64 / 1024.0
    );
}

fn main() {
    // `cargo bench` passes `--bench`; any other word filters like the other benches do.
    let only = std::env::var("VPP_BENCH_ONLY").unwrap_or_else(|_| "latency,resync,fleet".into());
    let runs = |part: &str| only.split(',').any(|p| p.trim() == part);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let etcd = EtcdServer::start_private().await.expect("etcd");
        let client = Client::connect([etcd.endpoint()], None)
            .await
            .expect("etcd client");
        println!(
            "vpp-agent end to end: etcd at {}, vpp-sim 23.06, load {}",
            etcd.endpoint(),
            load()
        );
        if runs("latency") {
            latency(&etcd, &client, env_usize("VPP_BENCH_CHANGES", 1000)).await;
        }
        if runs("resync") {
            resync(&etcd, &client, env_usize("VPP_BENCH_RESYNC_KEYS", 10_000)).await;
        }
        if runs("fleet") {
            fleet(
                &etcd,
                &client,
                env_usize("VPP_BENCH_AGENTS", 20),
                env_usize("VPP_BENCH_FLEET_KEYS", 500),
            )
            .await;
        }
    });
}
