//! The seed's walk-through through the other stores the agent watches: a real redis written
//! through the connectors' redis backend, and a fileDB directory edited as a user would (the
//! file rewritten in place, and by an editor's write-to-temp and rename), each step checked in
//! vpp-sim. The etcd walk-through is `seed_walkthrough.rs`.

mod common;

use common::{AgentProcess, FileStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_walkthrough_over_redis_into_vpp_sim() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = common::sim_in(dir.path());
    let label = common::label("seedredis");
    let (_redis, store) = common::redis_store(dir.path(), &label).await;
    let agent = AgentProcess::start(
        dir.path(),
        &label,
        &["--redis-config", "redis.conf"],
        "warn",
    );
    agent.resynced().await;
    common::seed_walkthrough(&agent, &sim, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_walkthrough_over_filedb_edits_into_vpp_sim() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = common::sim_in(dir.path());
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    common::write_config(
        dir.path(),
        "filedb.conf",
        &format!("configuration-paths: [\"{}\"]\n", data.display()),
    );
    let label = common::label("seedfiledb");
    let store = FileStore::new(data.join("config.json"), &label);
    let agent = AgentProcess::start(
        dir.path(),
        &label,
        &["--filedb-config", "filedb.conf"],
        "warn",
    );
    agent.resynced().await;
    common::seed_walkthrough(&agent, &sim, &store).await;
}
