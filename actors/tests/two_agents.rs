//! Two agents with their own labels on one etcd, each programming its own vpp-sim: each
//! applies only the keys under its own `/vnf-agent/<label>/`, also for a change made after
//! both have converged (so "the other one was just slower" cannot pass for isolation).

mod common;

use std::collections::BTreeSet;

use common::{AgentProcess, KvStore, Store, eventually, fib, fib_macs};
use connectors::testkit::servers::EtcdServer;
use connectors::{EtcdBackend, EtcdOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_labels_on_one_etcd_each_program_only_their_own_vpp() {
    let etcd = EtcdServer::start().await.expect("etcd");
    let client = || async {
        EtcdBackend::connect(EtcdOptions::new([etcd.endpoint().to_owned()]))
            .await
            .expect("client")
    };
    let (dir1, dir2) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let (sim1, sim2) = (common::sim_in(dir1.path()), common::sim_in(dir2.path()));
    common::etcd_conf(dir1.path(), etcd.endpoint());
    common::etcd_conf(dir2.path(), etcd.endpoint());
    // One label a prefix of the other: `/vnf-agent/<l>/` must not match `/vnf-agent/<l>2/`.
    let l1 = common::label("vpp");
    let l2 = format!("{l1}2");
    let (s1, s2) = (
        KvStore::new(client().await, &l1),
        KvStore::new(client().await, &l2),
    );
    let args = ["--etcd-config", "etcd.conf"];
    let a1 = AgentProcess::start(dir1.path(), &l1, &args, "warn");
    let a2 = AgentProcess::start(dir2.path(), &l2, &args, "warn");
    a1.resynced().await;
    a2.resynced().await;

    common::put_bd_and_tap(&s1).await;
    common::put_bd_and_tap(&s2).await;
    let (k1, v1, m1) = fib(1);
    let (k2, v2, m2) = fib(2);
    s1.put(&k1, &v1).await;
    s2.put(&k2, &v2).await;
    eventually("vpp1 has its FIB entry", || fib_macs(&sim1).contains(&m1)).await;
    eventually("vpp2 has its FIB entry", || fib_macs(&sim2).contains(&m2)).await;
    assert_eq!(fib_macs(&sim1), BTreeSet::from([m1.clone()]));
    assert_eq!(fib_macs(&sim2), BTreeSet::from([m2.clone()]));

    // A later change for agent 2 only; once agent 2 has it, agent 1 must still not.
    let (k3, v3, m3) = fib(3);
    s2.put(&k3, &v3).await;
    eventually("vpp2 has the later entry", || fib_macs(&sim2).contains(&m3)).await;
    assert_eq!(fib_macs(&sim1), BTreeSet::from([m1]));
    assert_eq!(fib_macs(&sim2), BTreeSet::from([m2, m3]));
    assert!(
        !a1.stdout().contains(&k3),
        "agent 1 logged agent 2's key:\n{}",
        a1.stdout()
    );
}
