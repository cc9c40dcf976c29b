//! The agent killed with SIGKILL (no graceful stop) while a large transaction is in flight,
//! then started again against the same etcd and the same vpp-sim, which still holds what the
//! first run applied: the restart's resync converges on exactly what etcd holds, including
//! the changes made while no agent ran, without creating anything twice. And SIGTERM: the
//! transaction in hand finishes, the agent exits 0, and VPP keeps its configuration.

mod common;

use std::collections::BTreeSet;

use common::{AgentProcess, KvStore, Store, cli, converges, eventually, fib, fib_macs};
use connectors::testkit::servers::EtcdServer;
use connectors::{EtcdBackend, EtcdOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_killed_mid_transaction_converges_when_started_again() {
    let etcd = EtcdServer::start().await.expect("etcd");
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = common::sim_in(dir.path());
    common::etcd_conf(dir.path(), etcd.endpoint());
    let label = common::label("killed");
    let store = KvStore::new(
        EtcdBackend::connect(EtcdOptions::new([etcd.endpoint().to_owned()]))
            .await
            .expect("client"),
        &label,
    );
    let args = ["--etcd-config", "etcd.conf"];
    let mut agent = AgentProcess::start(dir.path(), &label, &args, "warn");
    agent.resynced().await;
    common::put_bd_and_tap(&store).await;
    let (k0, v0, m0) = fib(0);
    store.put(&k0, &v0).await;
    eventually("the first FIB entry", || fib_macs(&sim).contains(&m0)).await;

    // Many entries, and the kill as soon as the first of them reaches VPP.
    let mut expected = BTreeSet::from([m0]);
    for n in 1..=40 {
        let (k, v, m) = fib(n);
        store.put(&k, &v).await;
        expected.insert(m);
    }
    eventually("the batch under way", || fib_macs(&sim).len() > 1).await;
    agent.kill();
    let applied = fib_macs(&sim);
    let tap_before = cli(&sim, "show interface tap0");

    // While no agent runs: some entries go, one comes, one is replaced by another MAC.
    for n in [0u8, 1, 2, 40] {
        let (k, _, m) = fib(n);
        store.del(&k).await;
        expected.remove(&m);
    }
    let (k, v, m) = fib(50);
    store.put(&k, &v).await;
    expected.insert(m);

    drop(agent);
    let agent = AgentProcess::start(dir.path(), &label, &args, "warn");
    converges("vpp-sim matches etcd after the restart", &expected, || {
        fib_macs(&sim)
    })
    .await;
    agent.resynced().await;
    // The restart's resync keeps what VPP has: the TAP (and with it the BD) are neither
    // deleted nor re-created.
    assert_eq!(cli(&sim, "show interface tap0"), tap_before);
    for key in [common::TAP, common::BD] {
        assert!(
            !agent
                .stdout()
                .contains(&format!("DELETE:\n          - key: {key}")),
            "{key} was deleted by the restart's resync:\n{}",
            agent.stdout()
        );
    }
    let interfaces = cli(&sim, "show interface");
    assert_eq!(
        interfaces.matches("tap").count(),
        1,
        "the TAP was created twice:\n{interfaces}"
    );
    assert_eq!(
        cli(&sim, "show bridge-domain").matches("\n    ").count(),
        1,
        "one bridge domain:\n{}",
        cli(&sim, "show bridge-domain")
    );
    // Entries the first run applied and etcd still holds were not re-created.
    let txn = agent.stdout();
    let kept = applied.intersection(&expected).next();
    if let Some(mac) = kept {
        assert!(
            !txn.contains(&format!(
                "CREATE:\n          - key: config/vpp/l2/v2/fib/bd1/mac/{mac}"
            )),
            "{mac} was already in VPP but re-created:\n{txn}"
        );
    }
    assert!(!agent.stderr().contains("panicked"), "{}", agent.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_transaction_in_hand_and_exits_0() {
    let etcd = EtcdServer::start().await.expect("etcd");
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = common::sim_in(dir.path());
    common::etcd_conf(dir.path(), etcd.endpoint());
    let label = common::label("term");
    let store = KvStore::new(
        EtcdBackend::connect(EtcdOptions::new([etcd.endpoint().to_owned()]))
            .await
            .expect("client"),
        &label,
    );
    let mut agent =
        AgentProcess::start(dir.path(), &label, &["--etcd-config", "etcd.conf"], "info");
    agent.resynced().await;
    common::put_bd_and_tap(&store).await;
    for n in 1..=40 {
        let (k, v, _) = fib(n);
        store.put(&k, &v).await;
    }
    eventually("the batch under way", || !fib_macs(&sim).is_empty()).await;
    agent.signal("TERM");
    let status = agent.wait_exit().await;
    assert_eq!(status.code(), Some(0), "{}", agent.stderr());
    // Every transaction that started also finished: each header has its closing line.
    let log = agent.stdout();
    let started = log
        .lines()
        .filter(|l| l.starts_with("| #") && !l.contains(" took "))
        .count();
    let finished = log
        .lines()
        .filter(|l| l.starts_with("| #") && l.contains(" took "))
        .count();
    assert!(started > 0);
    assert_eq!(started, finished, "a transaction was cut short:\n{log}");
    assert!(
        agent
            .stderr()
            .contains("Stopping: finishing the transaction in hand."),
        "{}",
        agent.stderr()
    );
    // VPP keeps what was applied: a stop is not a delete.
    assert!(cli(&sim, "show interface").contains("tap0"));
}
