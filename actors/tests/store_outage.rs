//! The store going away under a running agent: the connection to etcd cut (a TCP proxy
//! between them) while a direct client keeps changing keys, and a private etcd stopped,
//! restarted and changed while the agent reconnects. Each time the agent reconnects, resyncs,
//! and vpp-sim ends up holding exactly the FIB entries etcd holds, without anything VPP
//! already had being created again.

mod common;

use std::collections::BTreeSet;

use common::{AgentProcess, KvStore, Store, converges, eventually, fib, fib_macs};
use connectors::testkit::proxy::TcpProxy;
use connectors::testkit::servers::EtcdServer;
use connectors::{EtcdBackend, EtcdOptions};

async fn client(endpoint: &str, label: &str) -> KvStore<EtcdBackend> {
    KvStore::new(
        EtcdBackend::connect(EtcdOptions::new([endpoint.to_owned()]))
            .await
            .expect("client"),
        label,
    )
}

/// Puts the TAP, the BD and FIB entries `range`; returns their MACs.
async fn seed(store: &impl Store, range: std::ops::RangeInclusive<u8>) -> BTreeSet<String> {
    common::put_bd_and_tap(store).await;
    let mut macs = BTreeSet::new();
    for n in range {
        let (k, v, m) = fib(n);
        store.put(&k, &v).await;
        macs.insert(m);
    }
    macs
}

/// Whether the agent has logged that it lost its store.
fn lost_store(agent: &AgentProcess) -> bool {
    let log = agent.stderr();
    log.contains("Store trouble") || log.contains("Connector failed")
}

/// Each of `keys` was created at most once over the agent's life.
fn created_once(agent: &AgentProcess, keys: &[String]) {
    let log = agent.stdout();
    for key in keys {
        let n = log
            .matches(&format!("CREATE:\n          - key: {key}\n"))
            .count();
        assert!(n <= 1, "{key} created {n} times:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_connection_to_etcd_resyncs_to_exactly_what_etcd_holds() {
    let etcd = EtcdServer::start().await.expect("etcd");
    let proxy = TcpProxy::start(etcd.addr().expect("addr"))
        .await
        .expect("proxy");
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = common::sim_in(dir.path());
    common::etcd_conf(dir.path(), &proxy.addr().to_string());
    let label = common::label("cut");
    let store = client(etcd.endpoint(), &label).await;
    let agent = AgentProcess::start(dir.path(), &label, &["--etcd-config", "etcd.conf"], "info");
    agent.resynced().await;
    let mut expected = seed(&store, 1..=6).await;
    converges("before the cut", &expected, || fib_macs(&sim)).await;

    proxy.cut();
    // Changes while the agent cannot see etcd: before and after it noticed.
    for n in [1u8, 2] {
        let (k, _, m) = fib(n);
        store.del(&k).await;
        expected.remove(&m);
    }
    eventually("the agent notices the cut", || lost_store(&agent)).await;
    for n in [7u8, 8] {
        let (k, v, m) = fib(n);
        store.put(&k, &v).await;
        expected.insert(m);
    }
    let (k3, _, m3) = fib(3);
    store.del(&k3).await;
    expected.remove(&m3);
    assert_eq!(
        fib_macs(&sim).len(),
        6,
        "nothing changed in VPP during the cut"
    );

    proxy.restore();
    converges("after the cut", &expected, || fib_macs(&sim)).await;
    let keys: Vec<String> = (1..=8)
        .map(|n| fib(n).0)
        .chain([common::TAP.into()])
        .collect();
    created_once(&agent, &keys);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_etcd_restarted_and_changed_resyncs_to_exactly_what_etcd_holds() {
    let mut etcd = EtcdServer::start_private().await.expect("etcd");
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = common::sim_in(dir.path());
    common::etcd_conf(dir.path(), etcd.endpoint());
    let label = common::label("stopped");
    let agent = AgentProcess::start(dir.path(), &label, &["--etcd-config", "etcd.conf"], "info");
    agent.resynced().await;
    let mut expected = {
        let store = client(etcd.endpoint(), &label).await;
        seed(&store, 1..=6).await
    };
    converges("before the stop", &expected, || fib_macs(&sim)).await;

    etcd.stop().await.expect("stop etcd");
    eventually("the agent notices etcd is gone", || lost_store(&agent)).await;
    etcd.restart().await.expect("restart etcd");
    // Changes right after the restart, racing with the agent's reconnect and resync.
    let store = client(etcd.endpoint(), &label).await;
    for n in [1u8, 4] {
        let (k, _, m) = fib(n);
        store.del(&k).await;
        expected.remove(&m);
    }
    for n in [9u8, 10] {
        let (k, v, m) = fib(n);
        store.put(&k, &v).await;
        expected.insert(m);
    }
    converges("after the restart", &expected, || fib_macs(&sim)).await;
    let keys: Vec<String> = (1..=10)
        .map(|n| fib(n).0)
        .chain([common::TAP.into()])
        .collect();
    created_once(&agent, &keys);
    assert!(!agent.stderr().contains("panicked"), "{}", agent.stderr());
}
