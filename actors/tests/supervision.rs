//! A connector that fails over and over (a redis endpoint nothing listens on) next to a
//! working etcd: its supervisor restarts it with a growing back-off, logged as JSON with
//! `retry_in_ms`, while the etcd connector never fails and its changes reach vpp-sim.

mod common;

use common::{AgentProcess, FIB, FIB_MAC, FIB_VALUE, KvStore, Store, eventually, fib_macs};
use connectors::testkit::servers::EtcdServer;
use connectors::{EtcdBackend, EtcdOptions};

/// `retry_in_ms` of each "Connector failed" line of `connector`, in order.
fn retries(log: &str, connector: &str) -> Vec<u64> {
    log.lines()
        .filter(|l| l.contains("Connector failed"))
        .filter(|l| l.contains(&format!("\"connector\":\"{connector}\"")))
        .filter_map(|l| {
            let rest = &l[l.find("\"retry_in_ms\":")? + "\"retry_in_ms\":".len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_connector_backs_off_while_etcd_keeps_working() {
    let etcd = EtcdServer::start().await.expect("etcd");
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = common::sim_in(dir.path());
    common::etcd_conf(dir.path(), etcd.endpoint());
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    common::write_config(dir.path(), "redis.conf", &format!("endpoint: \"{dead}\"\n"));
    let label = common::label("backoff");
    let store = KvStore::new(
        EtcdBackend::connect(EtcdOptions::new([etcd.endpoint().to_owned()]))
            .await
            .expect("client"),
        &label,
    );
    let agent = AgentProcess::start_with_env(
        dir.path(),
        &label,
        &["--etcd-config", "etcd.conf", "--redis-config", "redis.conf"],
        &[("RUST_LOG", "info"), ("LOG_FORMAT", "json")],
    );
    agent.resynced().await;
    common::put_bd_and_tap(&store).await;
    store.put(FIB, FIB_VALUE).await;
    eventually("etcd's changes in VPP", || fib_macs(&sim).contains(FIB_MAC)).await;

    eventually("four restarts of the redis connector", || {
        retries(&agent.stderr(), "redis").len() >= 4
    })
    .await;
    let delays = retries(&agent.stderr(), "redis");
    assert!(
        delays.windows(2).take(3).all(|w| w[0] < w[1]),
        "the back-off does not grow: {delays:?}"
    );
    // etcd kept working all along, and still does.
    assert_eq!(retries(&agent.stderr(), "etcd"), Vec::<u64>::new());
    store.del(FIB).await;
    eventually("etcd's delete in VPP", || !fib_macs(&sim).contains(FIB_MAC)).await;
}
