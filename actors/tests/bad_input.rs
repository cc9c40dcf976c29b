//! Bad input reaching a running agent: values that are not JSON (new keys and over a key
//! already applied), values with unknown fields or naming another key, keys of no known
//! model, keys of another label, 2 MiB values, and a fileDB file that does not parse. Each is
//! reported on stderr naming its key or file (or, for keys that are not this agent's,
//! ignored), the agent keeps running without a panic, and the other keys stay applied in
//! vpp-sim. A later valid change is applied, which shows that the bad input has been handled
//! (changes are applied in order). A broken config file at start-up (exit 2 naming the file)
//! is in `vpp_agent_cli.rs`.

mod common;

use std::collections::BTreeSet;

use common::{
    AgentProcess, BD, FIB, FIB_MAC, FIB_VALUE, FileStore, KvStore, Store, cli, converges,
    eventually, fib, fib_macs,
};
use connectors::testkit::servers::EtcdServer;
use connectors::{EtcdBackend, EtcdOptions};
use vpp_sim::SimHandle;

/// Lines of the agent's log that mention `needle`.
fn log_lines(agent: &AgentProcess, needle: &str) -> Vec<String> {
    agent
        .stderr()
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_owned)
        .collect()
}

/// The rejection of `key` is logged, naming the key.
fn rejected(agent: &AgentProcess, key: &str) -> bool {
    log_lines(agent, key)
        .iter()
        .any(|l| l.contains("Rejected a value that does not decode"))
}

fn still_running(agent: &mut AgentProcess) {
    assert_eq!(agent.try_exit(), None, "the agent exited");
    assert!(!agent.stderr().contains("panicked"), "{}", agent.stderr());
}

/// The seed's three keys, applied.
async fn seed(store: &impl Store, sim: &SimHandle) {
    common::put_bd_and_tap(store).await;
    store.put(FIB, FIB_VALUE).await;
    eventually("the seed in VPP", || fib_macs(sim).contains(FIB_MAC)).await;
}

/// The seed is still applied, and a later valid change gets through.
async fn others_undisturbed(store: &impl Store, sim: &SimHandle, sentinel: u8) {
    let (k, v, m) = fib(sentinel);
    store.put(&k, &v).await;
    converges(
        "the seed and the later change in VPP",
        &BTreeSet::from([FIB_MAC.to_owned(), m]),
        || fib_macs(sim),
    )
    .await;
    assert!(cli(sim, "show interface").contains("tap0"));
    assert!(cli(sim, "show bridge-domain").contains("    1   "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_values_and_foreign_keys_in_etcd_are_reported_and_disturb_nothing() {
    let etcd = EtcdServer::start().await.expect("etcd");
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = common::sim_in(dir.path());
    common::etcd_conf(dir.path(), etcd.endpoint());
    let label = common::label("bad");
    let connect = || async {
        EtcdBackend::connect(EtcdOptions::new([etcd.endpoint().to_owned()]))
            .await
            .expect("client")
    };
    let store = KvStore::new(connect().await, &label);
    let other = KvStore::new(connect().await, &format!("{label}other"));
    let mut agent = AgentProcess::start(
        dir.path(),
        &label,
        &["--etcd-config", "etcd.conf"],
        "info,actors::watcher=debug",
    );
    agent.resynced().await;
    seed(&store, &sim).await;

    let not_json = "config/vpp/l2/v2/bridge-domain/bd2";
    store.put(not_json, "this is not json").await;
    // Over a key already applied: the applied value stays.
    store.put(BD, "{\"name\":").await;
    let unknown_field = "config/vpp/l2/v2/bridge-domain/bd3";
    store
        .put(unknown_field, r#"{"name":"bd3","colour":"blue"}"#)
        .await;
    let mismatch = "config/vpp/l2/v2/bridge-domain/bd4";
    store.put(mismatch, r#"{"name":"bd5"}"#).await;
    let unknown_model = "config/vpp/v9/widgets/w1";
    store.put(unknown_model, r#"{"name":"w1"}"#).await;
    // Another agent's keys, valid ones: not this agent's business.
    let (ok, ov, om) = fib(0x77);
    other.put(common::TAP, common::TAP_VALUE).await;
    other.put(BD, common::BD_VALUE).await;
    other.put(&ok, &ov).await;

    others_undisturbed(&store, &sim, 1).await;
    assert!(
        !fib_macs(&sim).contains(&om),
        "another label's FIB entry applied"
    );
    for key in [not_json, BD, unknown_field, mismatch] {
        assert!(
            rejected(&agent, key),
            "{key} not reported:\n{}",
            agent.stderr()
        );
    }
    assert!(
        log_lines(&agent, unknown_model)
            .iter()
            .any(|l| l.contains("no known model")),
        "{unknown_model} not reported:\n{}",
        agent.stderr()
    );
    assert!(
        !agent.stderr().contains(&format!("{label}other")) && !agent.stdout().contains(&ok),
        "another label's keys reached the agent"
    );
    assert_eq!(
        cli(&sim, "show bridge-domain").matches("\n    ").count(),
        1,
        "only bd1 exists:\n{}",
        cli(&sim, "show bridge-domain")
    );

    // The broken BD fixed: applied again as a change (its FIB entries never went away).
    store.put(BD, common::BD_VALUE).await;
    store.put(not_json, r#"{"name":"bd2"}"#).await;
    eventually("bd2 created once fixed", || {
        cli(&sim, "show bridge-domain").matches("\n    ").count() == 2
    })
    .await;
    assert!(fib_macs(&sim).contains(FIB_MAC));
    still_running(&mut agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_mib_values_in_redis_are_applied_or_rejected_without_disturbing_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = common::sim_in(dir.path());
    let label = common::label("big");
    let (_redis, store) = common::redis_store(dir.path(), &label).await;
    let mut agent = AgentProcess::start(
        dir.path(),
        &label,
        &["--redis-config", "redis.conf"],
        "info",
    );
    agent.resynced().await;
    seed(&store, &sim).await;

    let two_mib = 2 << 20;
    // Valid JSON of 2 MiB (whitespace): a bridge domain like any other.
    let big_valid = "config/vpp/l2/v2/bridge-domain/bd2";
    let pad = " ".repeat(two_mib);
    store
        .put(big_valid, &format!(r#"{{"name":"bd2"{pad}}}"#))
        .await;
    // 2 MiB that is not JSON.
    let big_garbage = "config/vpp/l2/v2/bridge-domain/bd3";
    store.put(big_garbage, &"x".repeat(two_mib)).await;

    others_undisturbed(&store, &sim, 1).await;
    assert_eq!(
        cli(&sim, "show bridge-domain").matches("\n    ").count(),
        2,
        "bd1 and the big bd2:\n{}",
        cli(&sim, "show bridge-domain")
    );
    assert!(rejected(&agent, big_garbage), "{}", agent.stderr());
    let longest = agent.stderr().lines().map(str::len).max().unwrap_or(0);
    assert!(
        longest < 64 * 1024,
        "the log repeats the 2 MiB value ({longest} bytes in one line)"
    );
    still_running(&mut agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filedb_file_that_does_not_parse_is_reported_and_its_last_content_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = common::sim_in(dir.path());
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    common::write_config(
        dir.path(),
        "filedb.conf",
        &format!("configuration-paths: [\"{}\"]\n", data.display()),
    );
    let label = common::label("brokenfile");
    let store = FileStore::new(data.join("config.json"), &label);
    let mut agent = AgentProcess::start(
        dir.path(),
        &label,
        &["--filedb-config", "filedb.conf"],
        "info",
    );
    agent.resynced().await;
    seed(&store, &sim).await;

    std::fs::write(&store.path, "{\"data\":[\n{\"key\": oops\n").expect("break the file");
    let name = store.path.display().to_string();
    eventually("the broken file reported", || {
        log_lines(&agent, &name)
            .iter()
            .any(|l| l.contains("cannot parse"))
    })
    .await;
    assert!(
        fib_macs(&sim).contains(FIB_MAC),
        "the last good content stays"
    );
    assert!(cli(&sim, "show interface").contains("tap0"));

    // Fixed, with one more entry: applied, nothing lost.
    others_undisturbed(&store, &sim, 1).await;
    still_running(&mut agent);
}
