//! The cost of message traces on the etcd-put-to-VPP latency (issue 13): three release
//! `vpp-agent` binaries in one run, each with its own vpp-sim 23.06 on one etcd, differing
//! only in tracing:
//!
//! - `off`: `LOG_LEVEL=off`, `TXN_TRACES=0` (no span is enabled anywhere);
//! - `info+json`: `LOG_LEVEL=info`, `LOG_FORMAT=json`, the trace store on (the default set-up
//!   with JSON logs: every span is built, formatted and kept for `/scheduler/txn-trace`);
//! - `debug-vpp+json`: as `info+json` plus `vpp=debug`, one JSON log line per VPP request.
//!
//! Part 1 times the CPU cost of one put's spans (the same names, targets and fields as the
//! agent's, through [`actors::trace::layers`], the log to a sink) on one thread, which the
//! machine's load hardly disturbs. Part 2 measures the latency:
//! puts go round-robin over the three agents (a put, then its `create_loopback` arrival in
//! that agent's vpp-sim, then the next agent), so drift in machine load hits all three alike.
//! Sizes: `TRACE_BENCH_CHANGES` puts per agent (default 300). It asserts only that the runs
//! converged; CI only compiles it. The etcd is `VPP_AGENT_TEST_ETCD` or a private one.
//!
//! Deliberately not here: the bench helper's broader end-to-end numbers (`agent_e2e.rs`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use connectors::testkit::servers::EtcdServer;
use connectors::{EtcdBackend, EtcdOptions, KvBackend};
use tokio::sync::mpsc;
use vpp_sim::{Handled, SimHandle};

const DEADLINE: Duration = Duration::from_secs(120);
const CREATE: &str = "create_loopback";
/// No request for this long after a `create_loopback`: the change's transaction is done.
const QUIET: Duration = Duration::from_millis(3);

/// One agent under test.
struct Agent {
    name: &'static str,
    label: String,
    child: Child,
    stdout: Arc<std::sync::Mutex<String>>,
    log_lines: Arc<AtomicU64>,
    sim: SimHandle,
    hook: mpsc::UnboundedReceiver<Handled>,
    latencies: Vec<Duration>,
    _dir: tempfile::TempDir,
}

impl Agent {
    fn start(name: &'static str, env: &[(&str, &str)], etcd: &str) -> Agent {
        let dir = tempfile::tempdir().expect("tmp");
        let sim = SimHandle::start(dir.path(), "23.06").expect("vpp-sim");
        let write = |file: &str, text: String| {
            std::fs::write(dir.path().join(file), text).expect("write config");
        };
        write(
            "govpp.conf",
            format!("binapi-socket-path: {}\n", sim.socket_path().display()),
        );
        write("etcd.conf", format!("endpoints: [\"{etcd}\"]\n"));
        write("linux-ifplugin.conf", "disabled: true\n".to_owned());
        let label = format!("tr{}{}", name.replace(['+', '-'], ""), std::process::id());
        let mut child = Command::new(env!("CARGO_BIN_EXE_vpp-agent"))
            .env_clear()
            .envs(env.iter().copied())
            .args(["--config-dir", dir.path().to_str().expect("utf-8")])
            .args(["--govpp-config", "govpp.conf", "--etcd-config", "etcd.conf"])
            .args(["--linux-ifplugin-config", "linux-ifplugin.conf"])
            .args(["--microservice-label", &label, "--http-port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vpp-agent");
        let stdout = Arc::new(std::sync::Mutex::new(String::new()));
        let sink = stdout.clone();
        let out = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let mut s = sink.lock().expect("stdout");
                s.push_str(&line);
                s.push('\n');
            }
        });
        // The log is read as fast as it comes (as a log shipper would) and only counted.
        let log_lines = Arc::new(AtomicU64::new(0));
        let count = log_lines.clone();
        let err = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            let mut r = BufReader::new(err);
            let mut buf = Vec::new();
            while r.read_until(b'\n', &mut buf).unwrap_or(0) > 0 {
                count.fetch_add(1, Ordering::Relaxed);
                buf.clear();
            }
        });
        let hook = sim.watch_requests().expect("hook");
        Agent {
            name,
            label,
            child,
            stdout,
            log_lines,
            sim,
            hook,
            latencies: Vec::new(),
            _dir: dir,
        }
    }

    async fn resynced(&self) {
        let deadline = Instant::now() + DEADLINE;
        while !self.stdout.lock().expect("stdout").contains("#0 - ") {
            assert!(
                Instant::now() < deadline,
                "{}: no initial resync",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// One put; its latency is until vpp-sim sees the `create_loopback`.
    async fn put(&mut self, etcd: &EtcdBackend, i: usize) {
        while self.hook.try_recv().is_ok() {}
        let key = format!("/vnf-agent/{}/config/vpp/v2/interfaces/lo{i}", self.label);
        let value = format!(r#"{{"name":"lo{i}","type":"SOFTWARE_LOOPBACK","enabled":true}}"#);
        let t0 = Instant::now();
        etcd.put(&key, Bytes::from(value)).await.expect("put");
        let deadline = tokio::time::Instant::now() + DEADLINE;
        let at = loop {
            match tokio::time::timeout_at(deadline, self.hook.recv()).await {
                Ok(Some(h)) if h.name == CREATE => break h.at,
                Ok(Some(_)) => {}
                Ok(None) => panic!("{}: vpp-sim stopped", self.name),
                Err(_) => panic!("{}: lo{i} never reached vpp-sim", self.name),
            }
        };
        while let Ok(Some(_)) = tokio::time::timeout(QUIET, self.hook.recv()).await {}
        self.latencies.push(at.saturating_duration_since(t0));
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn pcts(v: &[Duration]) -> (f64, f64, f64) {
    let mut v = v.to_vec();
    v.sort();
    let at = |p: usize| ms(v[(v.len() * p / 100).min(v.len() - 1)]);
    (at(50), at(99), ms(v[v.len() - 1]))
}

/// The spans (and, at debug, log lines) the agent makes for one loopback put, as it makes
/// them: same names, targets and fields, two VPP requests.
fn one_change(i: u64) {
    use tracing::field::Empty;
    let root = tracing::info_span!(target: "actors::connector", "connector_change",
        connector = "etcd", revision = i, key = Empty);
    root.record("key", "config/vpp/v2/interfaces/lo1");
    let w = tracing::info_span!(target: "actors::watcher", parent: &root, "watcher_change",
        connector = "etcd");
    let o = tracing::info_span!(target: "actors::orchestrator", parent: &w,
        "orchestrator_change", connector = "etcd");
    let t = tracing::info_span!(target: "actors::scheduler", parent: &o, "scheduler_txn",
        txn_seq = i);
    let _t = t.enter();
    let op = tracing::info_span!(target: "actors::trace::descriptor", "descriptor_op",
        descriptor = "vpp-interface", op = "create", key = "config/vpp/v2/interfaces/lo1",
        error = Empty);
    let _op = op.enter();
    for (n, msg) in ["create_loopback", "sw_interface_set_flags"]
        .into_iter()
        .enumerate()
    {
        let r = tracing::info_span!(target: "vpp::handler", "vpp_request", msg,
            vpp_version = "23.06", context = Empty, retval = Empty, latency_us = Empty,
            error = Empty);
        r.in_scope(|| {
            tracing::Span::current().record("context", i * 2 + n as u64);
        });
        r.record("latency_us", 300u64);
        r.record("retval", 0i32);
        r.in_scope(|| tracing::debug!(target: "vpp::handler", "VPP request answered."));
    }
}

/// CPU time of [`one_change`] under each set-up, in µs per change (one thread, log to a sink).
fn span_cost(rounds: u64) -> Vec<(&'static str, f64)> {
    use tracing_subscriber::layer::SubscriberExt;
    let setups = [
        ("off", "off", 0),
        ("info+json", "info", 100),
        ("debug-vpp+json", "info,vpp=debug", 100),
    ];
    setups
        .into_iter()
        .map(|(name, filter, txn_traces)| {
            let opts = actors::trace::LogOptions {
                filter: filter.to_owned(),
                format: actors::trace::LogFormat::Json,
                txn_traces,
                otlp: false,
            };
            let (layers, _guard) = actors::trace::layers(&opts, std::io::sink).expect("layers");
            let sub = tracing_subscriber::registry().with(layers);
            let us = tracing::subscriber::with_default(sub, || {
                (0..rounds / 10).for_each(one_change);
                let t0 = Instant::now();
                (0..rounds).for_each(one_change);
                t0.elapsed().as_secs_f64() * 1e6 / rounds as f64
            });
            (name, us)
        })
        .collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // Part 1: the CPU cost of one change's spans, free of the machine's scheduling noise.
    let cost = span_cost(20_000);
    println!(
        "traces: CPU time of one loopback put's spans and log lines (20000 rounds, one thread)"
    );
    for (name, us) in &cost {
        println!("  {name:<15} {us:.2} µs per change");
    }

    let n: usize = std::env::var("TRACE_BENCH_CHANGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let server = EtcdServer::start().await.expect("etcd");
    let etcd = EtcdBackend::connect(EtcdOptions::new([server.endpoint().to_owned()]))
        .await
        .expect("etcd client");
    let mut agents = vec![
        Agent::start(
            "off",
            &[("LOG_LEVEL", "off"), ("TXN_TRACES", "0")],
            server.endpoint(),
        ),
        Agent::start(
            "info+json",
            &[("LOG_LEVEL", "info"), ("LOG_FORMAT", "json")],
            server.endpoint(),
        ),
        Agent::start(
            "debug-vpp+json",
            &[("LOG_LEVEL", "info,vpp=debug"), ("LOG_FORMAT", "json")],
            server.endpoint(),
        ),
    ];
    for a in &agents {
        a.resynced().await;
    }
    // Part 2: put -> VPP latency of three agents, round-robin.
    let started = Instant::now();
    for i in 0..n {
        // Rotate who goes first, so no agent always follows the same one.
        let k = agents.len();
        for j in 0..k {
            agents[(i + j) % k].put(&etcd, i).await;
        }
    }
    let total = started.elapsed();
    println!(
        "traces: {n} sequential loopback puts per agent, round-robin over {} agents ({total:.2?} in all)",
        agents.len()
    );
    let (_, off99, _) = pcts(&agents[0].latencies);
    let (off50, _, _) = pcts(&agents[0].latencies);
    for a in &agents {
        let interfaces = a.sim.state().expect("state").interfaces().count();
        assert_eq!(interfaces, n + 1, "{}: every loopback and local0", a.name);
        let (p50, p99, max) = pcts(&a.latencies);
        println!(
            "  {:<15} put -> vpp-sim create_loopback: p50 {p50:.3} ms ({:+.1}%)  p99 {p99:.3} ms ({:+.1}%)  max {max:.3} ms  log lines {}",
            a.name,
            (p50 / off50 - 1.0) * 100.0,
            (p99 / off99 - 1.0) * 100.0,
            a.log_lines.load(Ordering::Relaxed),
        );
    }
    for (name, us) in &cost[1..] {
        println!(
            "  {name}: span CPU time per change is {:.1}% of the off agent's p50",
            us / 1e3 / off50 * 100.0
        );
    }
}
