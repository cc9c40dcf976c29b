//! Shared helpers of the whole-agent tests: the real `vpp-agent` binary started against
//! config files in a temp dir (its stdout, the transaction log, and its stderr, the log,
//! captured), polling with a deadline, vpp-sim's CLI, writers for the stores the agent
//! watches, and the seed walk-through's steps, checked in vpp-sim, for any of them.
//!
//! Deliberately not here: starting servers (the connectors testkit does) and fixed sleeps.

#![allow(dead_code)] // Each test binary uses its own subset.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use connectors::KvBackend;
use vpp_sim::SimHandle;

/// How long any one condition may take to hold.
pub const DEADLINE: Duration = Duration::from_secs(20);

pub const FIB: &str = "config/vpp/l2/v2/fib/bd1/mac/62:89:C6:A3:6D:5C";
pub const FIB_VALUE: &str = r#"{"phys_address":"62:89:C6:A3:6D:5C","bridge_domain":"bd1","outgoing_interface":"tap1","action":"FORWARD"}"#;
pub const FIB_MAC: &str = "62:89:c6:a3:6d:5c";
pub const BD: &str = "config/vpp/l2/v2/bridge-domain/bd1";
pub const BD_VALUE: &str = r#"{"name":"bd1","interfaces":[{"name":"tap1"}]}"#;
pub const TAP: &str = "config/vpp/v2/interfaces/tap1";
pub const TAP_VALUE: &str = r#"{"name":"tap1","type":"TAP","enabled":true}"#;

/// A label unique to this test process and `name` (tests run in parallel on shared servers).
pub fn label(name: &str) -> String {
    format!("{name}{}", std::process::id())
}

/// A running `vpp-agent`; killed (SIGKILL) on drop, its log printed if the test failed.
pub struct AgentProcess {
    child: Child,
    out: Arc<Mutex<String>>,
    err: Arc<Mutex<String>>,
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

impl AgentProcess {
    /// Starts the agent with `config_dir`, `label`, `--govpp-config govpp.conf` and `args`
    /// (e.g. `["--etcd-config", "etcd.conf"]`), logging at `rust_log`.
    pub fn start(config_dir: &Path, label: &str, args: &[&str], rust_log: &str) -> Self {
        Self::start_with_env(config_dir, label, args, &[("RUST_LOG", rust_log)])
    }

    /// [`AgentProcess::start`] with exactly the environment `env` (e.g. `RUST_LOG` and
    /// `LOG_FORMAT=json`).
    pub fn start_with_env(
        config_dir: &Path,
        label: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vpp-agent"))
            .env_clear()
            .args(["--config-dir", config_dir.to_str().expect("utf8")])
            .args([
                "--govpp-config",
                "govpp.conf",
                "--microservice-label",
                label,
            ])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vpp-agent");
        let out = capture(child.stdout.take().expect("stdout"));
        let err = capture(child.stderr.take().expect("stderr"));
        AgentProcess { child, out, err }
    }

    /// Its stdout so far: the start summary and the transaction log.
    pub fn stdout(&self) -> String {
        self.out.lock().expect("log").clone()
    }

    /// Its stderr so far: the tracing log.
    pub fn stderr(&self) -> String {
        self.err.lock().expect("log").clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running (`None`) or its exit status.
    pub fn try_exit(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    /// SIGKILL, then reap it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends `signal` (e.g. `"TERM"`) with kill(1).
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill -{signal} failed");
    }

    /// Waits (polling, with [`DEADLINE`]) for the process to exit.
    pub async fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(s) = self.try_exit() {
                return s;
            }
            assert!(Instant::now() < deadline, "the agent did not exit");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the initial resync's transaction in the log.
    pub async fn resynced(&self) {
        eventually("the initial resync", || {
            self.stdout().contains("#0 - NBTransaction")
        })
        .await;
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "--- agent {} stdout ---\n{}\n--- agent stderr ---\n{}",
                self.child.id(),
                self.stdout(),
                self.stderr()
            );
        }
    }
}

/// Polls `cond` every 50 ms until it holds; panics naming `what` after [`DEADLINE`].
pub async fn eventually(what: &str, cond: impl FnMut() -> bool) {
    eventually_within(what, DEADLINE, cond).await;
}

/// [`eventually`] with its own deadline.
pub async fn eventually_within(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `actual` until it equals `expected`; after [`DEADLINE`] panics showing both.
pub async fn converges<T: PartialEq + std::fmt::Debug>(
    what: &str,
    expected: &T,
    mut actual: impl FnMut() -> T,
) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let now = actual();
        if now == *expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for: {what}\nexpected: {expected:?}\nactual:   {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The text of a vpp-sim CLI command.
pub fn cli(sim: &SimHandle, cmd: &str) -> String {
    sim.cli(cmd).expect("cli").text
}

/// The MAC addresses in vpp-sim's L2 FIB (lowercase).
pub fn fib_macs(sim: &SimHandle) -> BTreeSet<String> {
    cli(sim, "show l2fib verbose")
        .split_whitespace()
        .filter(|w| w.len() == 17 && w.matches(':').count() == 5)
        .map(str::to_owned)
        .collect()
}

/// A temp dir holding vpp-sim's socket and the agent's `govpp.conf`, and the simulator.
pub fn sim_in(dir: &Path) -> SimHandle {
    let sim = SimHandle::start(dir, "23.06").expect("vpp-sim");
    write_config(
        dir,
        "govpp.conf",
        &format!("binapi-socket-path: {}\n", sim.socket_path().display()),
    );
    sim
}

pub fn write_config(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write config");
}

/// Writes `etcd.conf` naming `endpoint`.
pub fn etcd_conf(dir: &Path, endpoint: &str) {
    write_config(dir, "etcd.conf", &format!("endpoints: [\"{endpoint}\"]\n"));
}

/// What a walk-through drives: puts and deletes of keys relative to the agent prefix.
pub trait Store {
    fn put(&self, key: &str, value: &str) -> impl Future<Output = ()>;
    fn del(&self, key: &str) -> impl Future<Output = ()>;
}

/// A real redis-server, `redis.conf` in `dir` naming it, and a store writing under the prefix
/// of `label` (for agents started with `--redis-config redis.conf`).
pub async fn redis_store(
    dir: &Path,
    label: &str,
) -> (
    connectors::testkit::servers::RedisServer,
    KvStore<connectors::RedisBackend>,
) {
    let redis = connectors::testkit::servers::RedisServer::start()
        .await
        .expect("redis");
    write_config(
        dir,
        "redis.conf",
        &format!("endpoint: \"{}\"\n", redis.endpoint()),
    );
    let backend =
        connectors::RedisBackend::connect(connectors::RedisOptions::new(redis.endpoint()))
            .await
            .expect("client");
    (redis, KvStore::new(backend, label))
}

/// A store written through a connectors backend (etcd, redis) under `prefix`.
pub struct KvStore<B> {
    pub backend: B,
    pub prefix: String,
}

impl<B: KvBackend> KvStore<B> {
    pub fn new(backend: B, label: &str) -> Self {
        KvStore {
            backend,
            prefix: format!("/vnf-agent/{label}/"),
        }
    }
}

impl<B: KvBackend> Store for KvStore<B> {
    async fn put(&self, key: &str, value: &str) {
        let k = format!("{}{key}", self.prefix);
        self.backend
            .put(&k, Bytes::copy_from_slice(value.as_bytes()))
            .await
            .unwrap_or_else(|e| panic!("put {k}: {e}"));
    }

    async fn del(&self, key: &str) {
        let k = format!("{}{key}", self.prefix);
        self.backend
            .delete(&k)
            .await
            .unwrap_or_else(|e| panic!("delete {k}: {e}"));
    }
}

/// A fileDB configuration file in Ligato's format, rewritten whole on every change:
/// alternately in place and as an editor does (a hidden temp file renamed over it).
pub struct FileStore {
    pub path: PathBuf,
    prefix: String,
    keys: Mutex<BTreeMap<String, String>>,
    writes: Mutex<u32>,
}

impl FileStore {
    pub fn new(path: PathBuf, label: &str) -> Self {
        FileStore {
            path,
            prefix: format!("/vnf-agent/{label}/"),
            keys: Mutex::new(BTreeMap::new()),
            writes: Mutex::new(0),
        }
    }

    fn write(&self) {
        let data: Vec<String> = self
            .keys
            .lock()
            .expect("keys")
            .iter()
            .map(|(k, v)| format!(r#"{{"key":"{}{k}","value":{v}}}"#, self.prefix))
            .collect();
        let text = format!("{{\"data\":[\n{}\n]}}\n", data.join(",\n"));
        let mut writes = self.writes.lock().expect("writes");
        *writes += 1;
        if writes.is_multiple_of(2) {
            let name = self.path.file_name().expect("name").to_string_lossy();
            let tmp = self.path.with_file_name(format!(".{name}.swp"));
            std::fs::write(&tmp, text).expect("write temp");
            std::fs::rename(&tmp, &self.path).expect("rename");
        } else {
            std::fs::write(&self.path, text).expect("write");
        }
    }
}

impl Store for FileStore {
    async fn put(&self, key: &str, value: &str) {
        self.keys
            .lock()
            .expect("keys")
            .insert(key.to_owned(), value.to_owned());
        self.write();
    }

    async fn del(&self, key: &str) {
        self.keys.lock().expect("keys").remove(key);
        self.write();
    }
}

/// The last executed-operations block of the transaction log that mentions every one of
/// `keys`, once the agent has printed it (the log is read from a pipe, and host events may add
/// other transactions after it).
async fn txn_with(agent: &AgentProcess, keys: &[&str]) -> String {
    let needles: Vec<String> = keys.iter().map(|k| format!("key: {k}\n")).collect();
    let mut found = String::new();
    eventually(&format!("a transaction with {keys:?}"), || {
        let text = agent.stdout();
        match text
            .split("executed operations")
            .skip(1)
            .filter(|b| needles.iter().all(|n| b.contains(n.as_str())))
            .last()
        {
            Some(b) => {
                found = b.to_owned();
                true
            }
            None => false,
        }
    })
    .await;
    found
}

/// The seed's walk-through ("Configuration Order using the Ligato vpp-agent") driven through
/// `store`, each step checked in vpp-sim and in the transaction log. The agent must have
/// finished its initial resync with none of the three keys set.
pub async fn seed_walkthrough(agent: &AgentProcess, sim: &SimHandle, store: &impl Store) {
    // 1. The FIB entry first: pending, nothing in VPP.
    store.put(FIB, FIB_VALUE).await;
    eventually("FIB pending", || {
        agent.stdout().contains(&format!(
            "CREATE [NOOP IS-PENDING]:\n          - key: {FIB}"
        ))
    })
    .await;
    assert!(!fib_macs(sim).contains(FIB_MAC));

    // 2. The bridge domain: created, its membership of tap1 pending.
    store.put(BD, BD_VALUE).await;
    eventually("BD in VPP", || {
        cli(sim, "show bridge-domain").contains("    1   ")
    })
    .await;
    eventually("membership pending", || {
        agent.stdout().contains(
            "CREATE [DERIVED NOOP IS-PENDING]:\n          - key: vpp/bd/bd1/interface/tap1",
        )
    })
    .await;
    assert!(!fib_macs(sim).contains(FIB_MAC));

    // 3. The TAP interface: interface, membership and FIB in that order, one transaction.
    store.put(TAP, TAP_VALUE).await;
    eventually("FIB in VPP", || fib_macs(sim).contains(FIB_MAC)).await;
    let txn = txn_with(agent, &[TAP, "vpp/bd/bd1/interface/tap1", FIB]).await;
    let i = txn.find(&format!("key: {TAP}")).expect("tap created");
    let m = txn
        .find("key: vpp/bd/bd1/interface/tap1")
        .expect("membership created");
    let f = txn.find(&format!("key: {FIB}")).expect("fib created");
    assert!(
        i < m && m < f,
        "order in one transaction: interface, membership, FIB:\n{txn}"
    );
    assert!(cli(sim, "show interface").contains("tap0"));

    // 4. The BD deleted: FIB first, then membership, then the BD; both pending again.
    store.del(BD).await;
    eventually("BD gone from VPP", || {
        cli(sim, "show bridge-domain").contains("no bridge-domains in use")
    })
    .await;
    assert!(!fib_macs(sim).contains(FIB_MAC), "no stale FIB entry left");
    let txn = txn_with(agent, &[FIB, "vpp/bd/bd1/interface/tap1", BD]).await;
    let f = txn.find(&format!("key: {FIB}")).expect("fib deleted");
    let m = txn
        .find("key: vpp/bd/bd1/interface/tap1")
        .expect("membership deleted");
    let b = txn.find(&format!("key: {BD}")).expect("bd deleted");
    assert!(f < m && m < b, "order: FIB, membership, BD:\n{txn}");

    // 5. The BD back: everything re-created.
    store.put(BD, BD_VALUE).await;
    eventually("FIB back", || fib_macs(sim).contains(FIB_MAC)).await;
    assert!(cli(sim, "show interface").contains("tap0"));
}

/// A static FIB entry of `bd1` on `tap1` for MAC `02:00:00:00:00:<n>` (hex): its key, value
/// and MAC. Static, because a resync leaves dynamic entries alone as learned ones (Ligato's
/// rule), so only static ones make "VPP matches the store exactly" checkable.
pub fn fib(n: u8) -> (String, String, String) {
    let mac = format!("02:00:00:00:00:{n:02x}");
    let key = format!("config/vpp/l2/v2/fib/bd1/mac/{mac}");
    let value = format!(
        r#"{{"phys_address":"{mac}","bridge_domain":"bd1","outgoing_interface":"tap1","action":"FORWARD","static_config":true}}"#
    );
    (key, value, mac)
}

/// Puts the TAP and BD the [`fib`] entries need.
pub async fn put_bd_and_tap(store: &impl Store) {
    store.put(TAP, TAP_VALUE).await;
    store.put(BD, BD_VALUE).await;
}
