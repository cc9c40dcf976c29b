//! The stats publisher through the real binary: `vpp-agent` watching a real etcd and
//! programming vpp-sim, whose stats segment it reads. Traffic made in vpp-sim (its
//! simulator-only `test traffic` command) shows up as Ligato's interface state in etcd and on
//! `/metrics`; with telemetry disabled nothing is published; without a stats socket (or when
//! it goes away) configuration still applies.
//!
//! Deliberately not here: the segment layout (the reader's unit tests against vpp-sim, and
//! `tests/vpp-sim/papi/stats_check.py` with VPP's own client).

mod common;

use std::path::Path;

use common::{AgentProcess, KvStore, Store, TAP, TAP_VALUE, cli, eventually, write_config};
use connectors::testkit::servers::EtcdServer;
use connectors::{EtcdBackend, EtcdOptions, KvBackend};
use serde_json::Value as Json;

const LOOP: &str = "config/vpp/v2/interfaces/loop1";
const LOOP_VALUE: &str = r#"{"name":"loop1","type":"SOFTWARE_LOOPBACK","enabled":true}"#;

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

struct Setup {
    _etcd: EtcdServer,
    dir: tempfile::TempDir,
    sim: vpp_sim::SimHandle,
    store: KvStore<EtcdBackend>,
    label: String,
    port: u16,
}

/// etcd, vpp-sim, and the agent's config files; `stats` is the govpp `stats-socket-path`
/// (`None`: vpp-sim's own), `telemetry` the telemetry.conf text.
async fn setup(name: &str, stats: Option<&Path>, telemetry: &str) -> Setup {
    let etcd = EtcdServer::start().await.expect("etcd");
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = vpp_sim::SimHandle::start(dir.path(), "23.06").expect("vpp-sim");
    let stats = stats
        .map(Path::to_path_buf)
        .or_else(|| sim.stats_socket_path().map(Path::to_path_buf))
        .expect("stats socket");
    write_config(
        dir.path(),
        "govpp.conf",
        &format!(
            "binapi-socket-path: {}\nstats-socket-path: {}\n",
            sim.socket_path().display(),
            stats.display()
        ),
    );
    common::etcd_conf(dir.path(), etcd.endpoint());
    write_config(dir.path(), "telemetry.conf", telemetry);
    let port = free_port();
    let backend = EtcdBackend::connect(EtcdOptions::new([etcd.endpoint().to_owned()]))
        .await
        .expect("etcd client");
    let label = common::label(name);
    let store = KvStore::new(backend, &label);
    Setup {
        _etcd: etcd,
        dir,
        sim,
        store,
        label,
        port,
    }
}

impl Setup {
    fn agent(&self) -> AgentProcess {
        let port = self.port.to_string();
        AgentProcess::start(
            self.dir.path(),
            &self.label,
            &[
                "--etcd-config",
                "etcd.conf",
                "--telemetry-config",
                "telemetry.conf",
                "--http-port",
                &port,
            ],
            "info",
        )
    }

    async fn state(&self, name: &str) -> Option<Json> {
        let key = format!("{}vpp/status/v2/interface/{name}", self.store.prefix);
        let v = self.store.backend.get(&key).await.expect("etcd get")?;
        Some(serde_json::from_slice(&v).expect("state json"))
    }

    async fn metrics(&self) -> String {
        let url = format!("http://127.0.0.1:{}/metrics", self.port);
        match reqwest::get(&url).await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until `poll` returns `Some`.
    async fn until<T, F: std::future::Future<Output = Option<T>>>(
        &self,
        what: &str,
        mut poll: impl FnMut() -> F,
    ) -> T {
        let start = std::time::Instant::now();
        loop {
            if let Some(v) = poll().await {
                return v;
            }
            assert!(
                start.elapsed() < common::DEADLINE,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

fn sim_has(sim: &vpp_sim::SimHandle, tag: &str) -> bool {
    sim.state()
        .is_ok_and(|s| s.interfaces().any(|i| i.tag == tag))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traffic_in_vpp_sim_reaches_the_store_and_metrics() {
    let s = setup("stats", None, "polling-interval: 1100ms\n").await;
    s.store.put(LOOP, LOOP_VALUE).await;
    let agent = s.agent();
    agent.resynced().await;
    eventually("loop1 in vpp-sim", || sim_has(&s.sim, "loop1")).await;
    let internal = s
        .sim
        .state()
        .expect("state")
        .interfaces()
        .find(|i| i.tag == "loop1")
        .map(|i| i.name.clone())
        .expect("loop1");
    let reply = s
        .sim
        .cli(&format!("test traffic {internal} 10 1000"))
        .expect("cli");
    assert_eq!(reply.retval, 0, "{}", reply.text);

    let state = s
        .until("loop1's counters in etcd", || async {
            s.state("loop1")
                .await
                .filter(|j| j["statistics"]["in_packets"] == "10")
        })
        .await;
    assert_eq!(state["name"], "loop1");
    assert_eq!(state["internal_name"], internal.as_str());
    assert_eq!(state["type"], "SOFTWARE_LOOPBACK");
    assert_eq!(state["admin_status"], "UP");
    assert_eq!(state["statistics"]["in_bytes"], "1000");
    assert_eq!(state["statistics"]["out_packets"], "10");

    let line = format!(
        "vpp_interface_rx_bytes_total{{interface=\"loop1\",internal_name=\"{internal}\",sw_if_index=\"1\"}} 1000"
    );
    s.until("loop1's counters on /metrics", || async {
        s.metrics().await.lines().any(|l| l == line).then_some(())
    })
    .await;

    // Counters keep moving: the store follows.
    assert_eq!(
        s.sim
            .cli(&format!("test traffic {internal} 5 500 rx"))
            .expect("cli")
            .retval,
        0
    );
    s.until("the moved counter in etcd", || async {
        s.state("loop1")
            .await
            .filter(|j| j["statistics"]["in_packets"] == "15")
    })
    .await;

    // The interface removed: its state key goes away.
    s.store.del(LOOP).await;
    s.until("loop1's state deleted", || async {
        s.state("loop1").await.is_none().then_some(())
    })
    .await;
    drop(agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_published_when_telemetry_is_disabled() {
    let s = setup(
        "statsoff",
        None,
        "polling-interval: 1100ms\ndisabled: true\n",
    )
    .await;
    s.store.put(LOOP, LOOP_VALUE).await;
    let agent = s.agent();
    agent.resynced().await;
    eventually("loop1 in vpp-sim", || sim_has(&s.sim, "loop1")).await;
    assert_eq!(cli(&s.sim, "test traffic loop0 10 1000"), "");
    // Configuration still flows: a second interface arrives while stats would have been polled.
    s.store.put(TAP, TAP_VALUE).await;
    eventually("tap1 in vpp-sim", || sim_has(&s.sim, "tap1")).await;
    s.until("the stats publisher's disabled notice", || async {
        agent
            .stderr()
            .contains("Interface stats are not polled")
            .then_some(())
    })
    .await;
    let all = s
        .store
        .backend
        .list(&format!("{}vpp/status/", s.store.prefix))
        .await
        .expect("list");
    assert!(all.is_empty(), "published while disabled: {all:?}");
    assert!(
        !s.metrics().await.contains("vpp_interface_"),
        "metrics while disabled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_vanishing_stats_socket_does_not_disturb_configuration() {
    let missing = tempfile::tempdir().expect("tempdir");
    let nowhere = missing.path().join("stats.sock");
    let s = setup("statsgone", Some(&nowhere), "polling-interval: 1100ms\n").await;
    s.store.put(LOOP, LOOP_VALUE).await;
    let agent = s.agent();
    agent.resynced().await;
    eventually("loop1 in vpp-sim", || sim_has(&s.sim, "loop1")).await;
    s.until("the failed read logged", || async {
        agent.stderr().contains("Stats not read").then_some(())
    })
    .await;
    s.store.put(TAP, TAP_VALUE).await;
    eventually("tap1 in vpp-sim while stats fail", || {
        sim_has(&s.sim, "tap1")
    })
    .await;
    let all = s
        .store
        .backend
        .list(&format!("{}vpp/status/", s.store.prefix))
        .await
        .expect("list");
    assert!(all.is_empty(), "{all:?}");

    // A working agent whose stats socket goes away keeps configuring too.
    let t = setup("statsvanish", None, "polling-interval: 1100ms\n").await;
    t.store.put(LOOP, LOOP_VALUE).await;
    let agent2 = t.agent();
    agent2.resynced().await;
    t.until("loop1's state in etcd", || async { t.state("loop1").await })
        .await;
    std::fs::remove_file(t.sim.stats_socket_path().expect("stats socket")).expect("rm");
    t.until("the failed read logged", || async {
        agent2.stderr().contains("Stats not read").then_some(())
    })
    .await;
    t.store.put(TAP, TAP_VALUE).await;
    eventually("tap1 in vpp-sim without stats", || sim_has(&t.sim, "tap1")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_publishers_naming_another_store_keep_state_out_of_etcd() {
    let s = setup("statspubs", None, "polling-interval: 1100ms\n").await;
    write_config(
        s.dir.path(),
        "vpp-ifplugin.conf",
        "status-publishers: [redis]\n",
    );
    s.store.put(LOOP, LOOP_VALUE).await;
    let port = s.port.to_string();
    let agent = AgentProcess::start(
        s.dir.path(),
        &s.label,
        &[
            "--etcd-config",
            "etcd.conf",
            "--telemetry-config",
            "telemetry.conf",
            "--vpp-ifplugin-config",
            "vpp-ifplugin.conf",
            "--http-port",
            &port,
        ],
        "info",
    );
    agent.resynced().await;
    eventually("loop1 in vpp-sim", || sim_has(&s.sim, "loop1")).await;
    assert_eq!(cli(&s.sim, "test traffic loop0 7 700"), "");
    // The publisher polls (the counters reach /metrics) ...
    s.until("loop1's counters on /metrics", || async {
        s.metrics()
            .await
            .lines()
            .any(|l| {
                l.starts_with("vpp_interface_rx_packets_total{interface=\"loop1\"")
                    && l.ends_with(" 7")
            })
            .then_some(())
    })
    .await;
    // ... but etcd is not one of the status publishers.
    let all = s
        .store
        .backend
        .list(&format!("{}vpp/status/", s.store.prefix))
        .await
        .expect("list");
    assert!(all.is_empty(), "{all:?}");
}
