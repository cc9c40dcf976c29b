//! Runs the one compliance suite (`connectors::testkit::compliance`) against every backend:
//! etcd and redis as real servers (private, or from `VPP_AGENT_TEST_ETCD` /
//! `VPP_AGENT_TEST_REDIS`), Consul as the KV double, embedded and fileDB in temp dirs.
//!
//! Deliberately not here: store-specific cases (see the per-backend test files).

use connectors::testkit::TestResult;
use connectors::testkit::compliance::run_all;
use connectors::testkit::harness::{
    ConsulHarness, EmbeddedHarness, EtcdHarness, FileDbHarness, RedisHarness,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_passes_the_compliance_suite() -> TestResult {
    run_all(&mut EtcdHarness::start().await?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_passes_the_compliance_suite() -> TestResult {
    run_all(&mut RedisHarness::start().await?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consul_passes_the_compliance_suite() -> TestResult {
    run_all(&mut ConsulHarness::start().await?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_passes_the_compliance_suite() -> TestResult {
    run_all(&mut EmbeddedHarness::start().await?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filedb_passes_the_compliance_suite() -> TestResult {
    run_all(&mut FileDbHarness::start().await?).await
}

/// The run-time choice of store goes through `AnyBackend` with the same semantics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_backend_dispatches_to_the_chosen_store() -> TestResult {
    use connectors::testkit::DEADLINE;
    use connectors::testkit::compliance::{follow, json};
    use connectors::{AnyBackend, BackendOptions, EmbeddedOptions, KvBackend, Store};

    let dir = tempfile::tempdir()?;
    let options = BackendOptions::Embedded(EmbeddedOptions::new(dir.path().join("agent.db")));
    let b = AnyBackend::open(options).await?;
    assert_eq!(b.store(), Store::Embedded);
    let p = "/vnf-agent/any/";
    let mut f = follow(&b, p).await?;
    b.put("/vnf-agent/any/k", json(1)).await?;
    f.until("k through AnyBackend", DEADLINE, |v| {
        v.get("/vnf-agent/any/k").is_some()
    })
    .await?;
    assert_eq!(b.list(p).await?.len(), 1);
    b.delete("/vnf-agent/any/k").await?;
    assert_eq!(b.get("/vnf-agent/any/k").await?, None);
    b.close().await?;
    Ok(())
}
