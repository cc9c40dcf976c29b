//! The seed's walk-through ("Configuration Order using the Ligato vpp-agent") through the real
//! binaries: `vpp-agent` watching a real etcd and programming vpp-sim, driven by etcd puts and
//! deletes, each step checked in vpp-sim's `show` output and in the transaction log; then a
//! VPP restart that the agent repairs without being restarted.
//!
//! The same walk-through through redis and fileDB is in `other_stores.rs`.

mod common;

use common::{AgentProcess, FIB_MAC, KvStore, cli, eventually, fib_macs};
use connectors::testkit::servers::EtcdServer;
use connectors::{EtcdBackend, EtcdOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_walkthrough_over_etcd_into_vpp_sim() {
    let etcd = EtcdServer::start().await.expect("etcd");
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = common::sim_in(dir.path());
    common::etcd_conf(dir.path(), etcd.endpoint());
    let label = common::label("seed");
    let store = KvStore::new(
        EtcdBackend::connect(EtcdOptions::new([etcd.endpoint().to_owned()]))
            .await
            .expect("client"),
        &label,
    );

    let agent = AgentProcess::start(dir.path(), &label, &["--etcd-config", "etcd.conf"], "warn");
    agent.resynced().await;
    common::seed_walkthrough(&agent, &sim, &store).await;

    // 6. VPP restarts empty: the agent reconnects and re-applies everything by itself.
    sim.restart().expect("restart");
    eventually("FIB after VPP restart", || fib_macs(&sim).contains(FIB_MAC)).await;
    assert!(cli(&sim, "show interface").contains("tap0"));
}
