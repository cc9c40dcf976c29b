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
