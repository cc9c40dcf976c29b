//! The seed's walk-through ("Configuration Order using the Ligato vpp-agent") through the real
//! binaries: `vpp-agent` watching a real etcd and programming vpp-sim, driven by etcd puts and
//! deletes, each step checked in vpp-sim's `show` output and in the transaction log; then a
//! VPP restart that the agent repairs without being restarted.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use connectors::testkit::servers::EtcdServer;
use connectors::{EtcdBackend, EtcdOptions, KvBackend};
use vpp_sim::SimHandle;

struct AgentProcess {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_agent(dir: &std::path::Path, label: &str) -> AgentProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vpp-agent"))
        .args(["--config-dir", dir.to_str().expect("utf8")])
        .args(["--etcd-config", "etcd.conf", "--govpp-config", "govpp.conf"])
        .args(["--microservice-label", label])
        .env_remove("ETCD_CONFIG")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start vpp-agent");
    let log = Arc::new(Mutex::new(String::new()));
    let stdout = child.stdout.take().expect("stdout");
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let mut l = sink.lock().expect("log");
            l.push_str(&line);
            l.push('\n');
        }
    });
    AgentProcess { child, log }
}

async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn cli(sim: &SimHandle, cmd: &str) -> String {
    sim.cli(cmd).expect("cli").text
}

const FIB: &str = "config/vpp/l2/v2/fib/bd1/mac/62:89:C6:A3:6D:5C";
const BD: &str = "config/vpp/l2/v2/bridge-domain/bd1";
const TAP: &str = "config/vpp/v2/interfaces/tap1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_walkthrough_over_etcd_into_vpp_sim() {
    let etcd = EtcdServer::start().await.expect("etcd");
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = SimHandle::start(dir.path(), "23.06").expect("vpp-sim");
    std::fs::write(
        dir.path().join("etcd.conf"),
        format!("endpoints: [\"{}\"]\n", etcd.endpoint()),
    )
    .expect("etcd.conf");
    std::fs::write(
        dir.path().join("govpp.conf"),
        format!("binapi-socket-path: {}\n", sim.socket_path().display()),
    )
    .expect("govpp.conf");
    let label = format!("seed{}", std::process::id());
    let p = format!("/vnf-agent/{label}/");
    let etcdctl = EtcdBackend::connect(EtcdOptions::new([etcd.endpoint().to_owned()]))
        .await
        .expect("client");
    let put = |k: &'static str, v: &'static str| {
        let (c, key) = (&etcdctl, format!("{p}{k}"));
        async move {
            c.put(&key, Bytes::from_static(v.as_bytes()))
                .await
                .expect("put")
        }
    };
    let del = |k: &'static str| {
        let (c, key) = (&etcdctl, format!("{p}{k}"));
        async move { c.delete(&key).await.expect("delete") }
    };

    let agent = start_agent(dir.path(), &label);
    let log = |a: &AgentProcess| a.log.lock().expect("log").clone();
    eventually("the initial resync", || {
        log(&agent).contains("#0 - NBTransaction")
    })
    .await;

    // 1. The FIB entry first: pending, nothing in VPP.
    put(FIB, r#"{"phys_address":"62:89:C6:A3:6D:5C","bridge_domain":"bd1","outgoing_interface":"tap1","action":"FORWARD"}"#).await;
    eventually("FIB pending", || log(&agent).contains("CREATE [NOOP IS-PENDING]:\n          - key: config/vpp/l2/v2/fib/bd1/mac/62:89:C6:A3:6D:5C")).await;
    assert!(!cli(&sim, "show l2fib verbose").contains("62:89:c6:a3:6d:5c"));

    // 2. The bridge domain: created, its membership of tap1 pending.
    put(BD, r#"{"name":"bd1","interfaces":[{"name":"tap1"}]}"#).await;
    eventually("BD in VPP", || {
        cli(&sim, "show bridge-domain").contains("    1   ")
    })
    .await;
    eventually("membership pending", || {
        log(&agent).contains(
            "CREATE [DERIVED NOOP IS-PENDING]:\n          - key: vpp/bd/bd1/interface/tap1",
        )
    })
    .await;
    assert!(!cli(&sim, "show l2fib verbose").contains("62:89:c6:a3:6d:5c"));

    // 3. The TAP interface: interface, membership and FIB in that order, one transaction.
    put(TAP, r#"{"name":"tap1","type":"TAP","enabled":true}"#).await;
    eventually("FIB in VPP", || {
        cli(&sim, "show l2fib verbose").contains("62:89:c6:a3:6d:5c")
    })
    .await;
    let text = log(&agent);
    let txn = &text[text.rfind("executed operations").expect("executed")..];
    let i = txn.find(&format!("key: {TAP}")).expect("tap created");
    let m = txn
        .find("key: vpp/bd/bd1/interface/tap1")
        .expect("membership created");
    let f = txn.find(&format!("key: {FIB}")).expect("fib created");
    assert!(
        i < m && m < f,
        "order in one transaction: interface, membership, FIB:\n{txn}"
    );
    assert!(cli(&sim, "show interface").contains("tap0"));

    // 4. The BD deleted: FIB first, then membership, then the BD; both pending again.
    del(BD).await;
    eventually("BD gone from VPP", || {
        cli(&sim, "show bridge-domain").contains("no bridge-domains in use")
    })
    .await;
    assert!(
        !cli(&sim, "show l2fib verbose").contains("62:89:c6:a3:6d:5c"),
        "no stale FIB entry left"
    );
    let text = log(&agent);
    let txn = &text[text.rfind("executed operations").expect("executed")..];
    let f = txn.find(&format!("key: {FIB}")).expect("fib deleted");
    let m = txn
        .find("key: vpp/bd/bd1/interface/tap1")
        .expect("membership deleted");
    let b = txn.find(&format!("key: {BD}")).expect("bd deleted");
    assert!(f < m && m < b, "order: FIB, membership, BD:\n{txn}");

    // 5. The BD back: everything re-created.
    put(BD, r#"{"name":"bd1","interfaces":[{"name":"tap1"}]}"#).await;
    eventually("FIB back", || {
        cli(&sim, "show l2fib verbose").contains("62:89:c6:a3:6d:5c")
    })
    .await;

    // 6. VPP restarts empty: the agent reconnects and re-applies everything by itself.
    sim.restart().expect("restart");
    eventually("FIB after VPP restart", || {
        cli(&sim, "show l2fib verbose").contains("62:89:c6:a3:6d:5c")
    })
    .await;
    assert!(cli(&sim, "show interface").contains("tap0"));
}
