//! The `vpp-agent` binary with its store behind TLS: an `--etcd-config` and a
//! `--redis-config` naming a CA, a client certificate and key (mutual TLS; Redis also with a
//! password) against real etcd and redis-server started with TLS from a throwaway PKI, each
//! applying a key into vpp-sim; and an `etcd.conf` whose CA did not sign the server's
//! certificate, which the agent's log must explain.
//!
//! Deliberately not here: the TLS cases of the connectors themselves
//! (`connectors/tests/tls.rs`).

mod common;

use std::path::Path;

use common::{AgentProcess, BD, BD_VALUE, FIB, FIB_MAC, FIB_VALUE, KvStore, Store, TAP, TAP_VALUE};
use connectors::testkit::pki::{ClientAuth, TestPki};
use connectors::testkit::servers::{EtcdServer, RedisServer};
use connectors::{EtcdBackend, RedisBackend};

fn p(path: &Path) -> String {
    path.display().to_string()
}

async fn apply_one_fib_entry(store: &impl Store, sim: &vpp_sim::SimHandle) {
    store.put(TAP, TAP_VALUE).await;
    store.put(BD, BD_VALUE).await;
    store.put(FIB, FIB_VALUE).await;
    common::eventually("the FIB entry in vpp-sim", || {
        common::fib_macs(sim).contains(FIB_MAC)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_applies_a_key_from_etcd_over_mutual_tls() {
    let pki = TestPki::generate().expect("pki");
    let etcd = EtcdServer::start_tls(&pki, ClientAuth::Required)
        .await
        .expect("etcd with TLS");
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = common::sim_in(dir.path());
    common::write_config(
        dir.path(),
        "etcd.conf",
        &format!(
            "endpoints: [\"{}\"]\ninsecure-transport: false\nca-file: {}\ncert-file: {}\nkey-file: {}\n",
            etcd.endpoint(),
            p(&pki.ca),
            p(&pki.client_cert),
            p(&pki.client_key)
        ),
    );
    let label = common::label("tlsetcd");
    let store = KvStore::new(
        EtcdBackend::connect(etcd.client_options())
            .await
            .expect("client"),
        &label,
    );
    let agent = AgentProcess::start(dir.path(), &label, &["--etcd-config", "etcd.conf"], "warn");
    agent.resynced().await;
    apply_one_fib_entry(&store, &sim).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_applies_a_key_from_redis_over_mutual_tls_with_a_password() {
    let pki = TestPki::generate().expect("pki");
    let redis = RedisServer::start_tls(&pki, ClientAuth::Required, &["--requirepass", "s3cret"])
        .await
        .expect("redis with TLS");
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = common::sim_in(dir.path());
    common::write_config(
        dir.path(),
        "redis.conf",
        &format!(
            "endpoint: \"{}\"\npassword: s3cret\ntls:\n  enabled: true\n  ca-file: {}\n  cert-file: {}\n  key-file: {}\n",
            redis.endpoint(),
            p(&pki.ca),
            p(&pki.client_cert),
            p(&pki.client_key)
        ),
    );
    let label = common::label("tlsredis");
    let store = KvStore::new(
        RedisBackend::connect(redis.client_options())
            .await
            .expect("client"),
        &label,
    );
    let agent = AgentProcess::start(
        dir.path(),
        &label,
        &["--redis-config", "redis.conf"],
        "warn",
    );
    agent.resynced().await;
    apply_one_fib_entry(&store, &sim).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_explains_an_etcd_ca_that_did_not_sign_the_server() {
    let pki = TestPki::generate().expect("pki");
    let etcd = EtcdServer::start_tls(&pki, ClientAuth::None)
        .await
        .expect("etcd with TLS");
    let dir = tempfile::tempdir().expect("tempdir");
    let _sim = common::sim_in(dir.path());
    common::write_config(
        dir.path(),
        "etcd.conf",
        &format!(
            "endpoints: [\"{}\"]\nca-file: {}\n",
            etcd.endpoint(),
            p(&pki.other_ca)
        ),
    );
    let label = common::label("tlswrongca");
    let agent = AgentProcess::start(dir.path(), &label, &["--etcd-config", "etcd.conf"], "warn");
    let expected = format!("etcd tls handshake with {} failed", etcd.endpoint());
    common::eventually("the certificate error in the agent's log", || {
        let log = agent.stderr();
        log.contains(&expected) && log.contains("not signed by the configured CA")
    })
    .await;
}
