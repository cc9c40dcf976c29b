//! Client v2 end to end: the remote client writing to a real etcd that the `vpp-agent` binary
//! watches (vpp-sim checked with its CLI, the agent over REST: status, dump, history), the
//! local client driving an in-process agent and vpp-sim, a conflict between the local client
//! and a store, and bad input refused before anything is sent.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actors::agent::{Agent, AgentSpec};
use actors::client::{Client, ClientError, LocalClient, RemoteClient};
use actors::connector::Backoff;
use actors::msg::{DumpView, History, QueryDump, QueryHistory, SourceId};
use bytes::Bytes;
use common::{AgentProcess, BD, DEADLINE, FIB, FIB_MAC, TAP, cli, eventually, fib_macs};
use connectors::testkit::servers::EtcdServer;
use connectors::{
    AnyBackend, BackendOptions, EmbeddedOptions, EtcdBackend, EtcdOptions, KvBackend,
};
use kvscheduler::{Descriptor, Scheduler, SchedulerConfig, SystemClock};
use messages::proto::vpp_interfaces::{Interface, interface};
use messages::proto::vpp_l2::{BridgeDomain, FibEntry, bridge_domain, fib_entry};
use messages::{MicroserviceLabel, Registry};
use serde_json::Value as Json;
use vpp_sim::SimHandle;

fn tap(name: &str, enabled: bool) -> Interface {
    Interface {
        name: name.to_owned(),
        r#type: interface::Type::Tap.into(),
        enabled,
        ..Default::default()
    }
}

fn bd1() -> BridgeDomain {
    BridgeDomain {
        name: "bd1".to_owned(),
        interfaces: vec![bridge_domain::Interface {
            name: "tap1".to_owned(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn fib() -> FibEntry {
    FibEntry {
        phys_address: "62:89:C6:A3:6D:5C".to_owned(),
        bridge_domain: "bd1".to_owned(),
        outgoing_interface: "tap1".to_owned(),
        action: fib_entry::Action::Forward.into(),
        ..Default::default()
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// GET `path` from the agent's REST API as JSON, polling until `probe` accepts it.
async fn rest_until<T>(base: &str, path: &str, mut probe: impl FnMut(&Json) -> Option<T>) -> T {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + DEADLINE;
    let mut last = String::new();
    loop {
        if let Ok(r) = http.get(format!("{base}{path}")).send().await
            && let Ok(text) = r.text().await
        {
            if let Ok(json) = serde_json::from_str::<Json>(&text)
                && let Some(v) = probe(&json)
            {
                return v;
            }
            last = text;
        }
        assert!(
            Instant::now() < deadline,
            "timed out polling {path}; last answer: {last}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The keys of the executed operations of one recorded transaction (REST JSON).
fn executed_keys(txn: &Json) -> Vec<String> {
    txn["Executed"]
        .as_array()
        .map(|ops| {
            ops.iter()
                .filter_map(|o| o["Key"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_client_configures_the_agent_binary_in_one_transaction() {
    let etcd = EtcdServer::start().await.expect("etcd");
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = common::sim_in(dir.path());
    common::etcd_conf(dir.path(), etcd.endpoint());
    let label = common::label("clientv2remote");
    let port = free_port().to_string();
    let agent = AgentProcess::start(
        dir.path(),
        &label,
        &["--etcd-config", "etcd.conf", "--http-port", &port],
        "warn",
    );
    let base = format!("http://127.0.0.1:{port}");
    agent.resynced().await;

    let backend = EtcdBackend::connect(EtcdOptions::new([etcd.endpoint().to_owned()]))
        .await
        .expect("etcd client");
    let remote = RemoteClient::new(backend, MicroserviceLabel::new(&*label).expect("label"));
    let prefix = format!("/vnf-agent/{label}/");

    // A dry run plans the three writes and writes nothing.
    let change = || {
        remote
            .change()
            .put(&tap("tap1", true))
            .put(&bd1())
            .put(&fib())
    };
    let plan = change().dry_run().await.expect("dry run");
    assert!(plan.dry_run);
    let mut planned = plan.brief();
    planned.sort();
    assert_eq!(
        planned,
        [
            format!("PUT {prefix}{BD}"),
            format!("PUT {prefix}{FIB}"),
            format!("PUT {prefix}{TAP}")
        ]
    );
    let held = remote.backend().snapshot(&prefix).await.expect("snapshot");
    assert!(held.entries.is_empty(), "{held:?}");

    // The change: one etcd transaction, one agent transaction.
    let report = change().send().await.expect("change");
    assert!(report.atomic && !report.dry_run);
    assert!(report.revision.is_some_and(|r| r > 0), "{report:?}");
    eventually("the FIB entry in vpp-sim", || {
        fib_macs(&sim).contains(FIB_MAC)
    })
    .await;
    assert!(cli(&sim, "show interface").contains("tap0"));
    for key in [TAP, BD, FIB] {
        rest_until(&base, &format!("/scheduler/status?key={key}"), |j| {
            (j["value"]["state"] == "CONFIGURED").then_some(())
        })
        .await;
    }
    let dump = rest_until(
        &base,
        "/scheduler/dump?key-prefix=config/vpp/&view=NB",
        |j| j.as_array().cloned(),
    )
    .await;
    let mut dumped: Vec<&str> = dump.iter().filter_map(|kv| kv["Key"].as_str()).collect();
    dumped.sort_unstable();
    let mut expected = vec![BD, FIB, TAP];
    expected.sort_unstable();
    assert_eq!(dumped, expected);
    let history = rest_until(&base, "/scheduler/txn-history", |j| j.as_array().cloned()).await;
    let with_tap: Vec<&Json> = history
        .iter()
        .filter(|t| executed_keys(t).iter().any(|k| k == TAP))
        .collect();
    assert_eq!(
        with_tap.len(),
        1,
        "one transaction creates tap1: {history:?}"
    );
    let keys = executed_keys(with_tap[0]);
    for key in [BD, FIB] {
        assert!(
            keys.iter().any(|k| k == key),
            "{key} in tap1's transaction: {keys:?}"
        );
    }

    // A resync keeping tap1 only deletes the bridge domain and the FIB entry, in the store
    // and in VPP; a key of another kind under the prefix (not a model key) stays.
    let other = format!("{prefix}vpp/status/not-config");
    remote
        .backend()
        .put(&other, Bytes::from_static(b"x"))
        .await
        .expect("put");
    let report = remote
        .resync()
        .put(&tap("tap1", true))
        .send()
        .await
        .expect("resync");
    let mut written = report.brief();
    written.sort();
    assert_eq!(
        written,
        [
            format!("DELETE {prefix}{BD}"),
            format!("DELETE {prefix}{FIB}"),
            format!("PUT {prefix}{TAP}")
        ]
    );
    eventually("the bridge domain gone from vpp-sim", || {
        cli(&sim, "show bridge-domain").contains("no bridge-domains in use")
    })
    .await;
    assert!(!fib_macs(&sim).contains(FIB_MAC));
    let held = remote.backend().snapshot(&prefix).await.expect("snapshot");
    let keys: Vec<&String> = held.entries.keys().collect();
    assert_eq!(keys, [&format!("{prefix}{TAP}"), &other]);
}

/// vpp-sim, its VPP descriptors and the runtime their binary API client runs on.
struct Vpp {
    _dir: tempfile::TempDir,
    sim: SimHandle,
    rt: tokio::runtime::Runtime,
    descriptors: Vec<Arc<dyn Descriptor>>,
}

impl Vpp {
    fn start() -> Vpp {
        let dir = tempfile::tempdir().expect("tempdir");
        let sim = SimHandle::start(dir.path(), "23.06").expect("vpp-sim");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let cfg = binapi::Config::new(sim.socket_path());
        let (_client, api) = rt
            .block_on(async {
                tokio::time::timeout(
                    DEADLINE,
                    actors::vpp_conn::connect_vpp(cfg, rt.handle().clone(), Duration::from_secs(1)),
                )
                .await
            })
            .expect("connect to vpp-sim");
        let descriptors = vpp::descriptors::all(&vpp::ApiHandle::new(api));
        Vpp {
            _dir: dir,
            sim,
            rt,
            descriptors,
        }
    }

    /// Starts an in-process agent on these descriptors (inside an actix system).
    fn agent(&self, label: &str, stores: Vec<(SourceId, BackendOptions)>) -> Agent {
        let descriptors = self.descriptors.clone();
        Agent::start(AgentSpec {
            label: MicroserviceLabel::new(label).expect("label"),
            registry: Arc::new(Registry::builtin()),
            stores,
            scheduler: Arc::new(move || {
                let mut s = Scheduler::new(SchedulerConfig::default(), Arc::new(SystemClock));
                for d in &descriptors {
                    s.register(d.clone()).expect("register");
                }
                s
            }),
            retry: None,
            backoff: Backoff::default(),
            observers: Vec::new(),
            status_publishing: None,
        })
    }

    fn stop(self) {
        self.rt.shutdown_background();
    }
}

#[test]
fn local_client_configures_vpp_sim_in_process() {
    let vpp = Vpp::start();
    actix::System::new().block_on(async {
        let agent = vpp.agent(&common::label("clientv2local"), Vec::new());
        let local = LocalClient::new(&agent);
        let change = || {
            local
                .change()
                .put(&tap("tap1", true))
                .put(&bd1())
                .put(&fib())
        };

        let plan = change().dry_run().await.expect("dry run");
        assert!(plan.dry_run);
        let planned: Vec<String> = plan.brief();
        for key in [TAP, BD, FIB] {
            assert!(
                planned.iter().any(|op| op.contains(key)),
                "{key} planned: {planned:?}"
            );
        }
        assert!(!cli(&vpp.sim, "show interface").contains("tap0"));
        let nb = agent
            .scheduler
            .send(QueryDump {
                key_prefix: String::new(),
                view: DumpView::Nb,
            })
            .await
            .expect("mailbox")
            .unwrap_or_default();
        assert!(nb.is_empty(), "a dry run set nothing: {nb:?}");

        let report = change().send().await.expect("change");
        assert!(report.is_ok() && !report.dry_run, "{:?}", report.failed);
        let ops = report.brief();
        for key in [TAP, BD, FIB] {
            assert!(
                ops.iter().any(|op| op.contains(key)),
                "{key} executed: {ops:?}"
            );
        }
        // The report is the transaction's: the FIB entry is in VPP when it returns.
        assert!(fib_macs(&vpp.sim).contains(FIB_MAC));

        // Resync: only tap1 stays.
        let report = local
            .resync()
            .put(&tap("tap1", true))
            .send()
            .await
            .expect("resync");
        assert!(report.is_ok(), "{:?}", report.failed);
        assert!(cli(&vpp.sim, "show bridge-domain").contains("no bridge-domains in use"));
        assert!(!fib_macs(&vpp.sim).contains(FIB_MAC));
        assert!(cli(&vpp.sim, "show interface").contains("tap0"));
    });
    vpp.stop();
}

/// Whether vpp-sim has tap0 admin up.
fn tap0_up(sim: &SimHandle) -> bool {
    cli(sim, "show interface tap0").contains(" up ")
}

/// The NB value of `TAP` in the agent, as `enabled`.
async fn tap_enabled_in_nb(agent: &Agent) -> Option<bool> {
    let nb = agent
        .scheduler
        .send(QueryDump {
            key_prefix: TAP.to_owned(),
            view: DumpView::Nb,
        })
        .await
        .expect("mailbox")
        .unwrap_or_default();
    let kv = nb.first()?;
    let json = serde_json::to_value(kv).expect("json");
    Some(json["Value"]["ProtoMsgData"]["enabled"] == true)
}

#[test]
fn a_conflict_between_the_local_client_and_a_store_goes_to_the_most_recent() {
    let vpp = Vpp::start();
    actix::System::new().block_on(async {
        let etcd = EtcdServer::start().await.expect("etcd");
        let label = common::label("clientv2conflict");
        let options = EtcdOptions::new([etcd.endpoint().to_owned()]);
        let agent = vpp.agent(
            &label,
            vec![(SourceId::new("etcd"), BackendOptions::Etcd(options.clone()))],
        );
        let backend = EtcdBackend::connect(options).await.expect("etcd client");
        let store = RemoteClient::new(backend, MicroserviceLabel::new(&*label).expect("label"));
        let local = LocalClient::new(&agent);
        let status = |agent: &Agent| {
            let a = agent.scheduler.clone();
            async move {
                let s = a
                    .send(actors::msg::QueryValueStatus { key: TAP.into() })
                    .await
                    .expect("mailbox");
                s.value.state
            }
        };

        // The store sets tap1 down; the agent applies it.
        store
            .change()
            .put(&tap("tap1", false))
            .send()
            .await
            .expect("store put");
        let deadline = Instant::now() + DEADLINE;
        while status(&agent).await != kvscheduler::ValueState::Configured {
            assert!(Instant::now() < deadline, "tap1 from etcd not configured");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(tap_enabled_in_nb(&agent).await, Some(false));

        // The local client sets it up: the most recent wins, in status and in VPP.
        let report = local
            .change()
            .put(&tap("tap1", true))
            .send()
            .await
            .expect("local");
        assert!(report.is_ok(), "{:?}", report.failed);
        assert_eq!(tap_enabled_in_nb(&agent).await, Some(true));
        assert_eq!(status(&agent).await, kvscheduler::ValueState::Configured);
        assert!(tap0_up(&vpp.sim), "{}", cli(&vpp.sim, "show interface"));

        // The store changes it again (down): now the store's value wins.
        store
            .change()
            .put(&tap("tap1", false))
            .send()
            .await
            .expect("store put");
        let deadline = Instant::now() + DEADLINE;
        while tap_enabled_in_nb(&agent).await != Some(false) {
            assert!(
                Instant::now() < deadline,
                "the store's newer value did not win"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(!tap0_up(&vpp.sim), "{}", cli(&vpp.sim, "show interface"));
        // The local client withdrawing its value leaves the store's applied.
        local
            .change()
            .delete(&tap("tap1", true))
            .send()
            .await
            .expect("local delete");
        assert_eq!(tap_enabled_in_nb(&agent).await, Some(false));
        assert_eq!(status(&agent).await, kvscheduler::ValueState::Configured);
        store.resync().send().await.expect("clean up");
    });
    vpp.stop();
}

#[actix_rt::test]
async fn bad_input_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let label = MicroserviceLabel::new("clientv2bad").expect("label");
    let unknown = messages::proto::ligato::kvscheduler::ValueStatus::default();

    // Remote: nothing written.
    let db = dir.path().join("bad.db");
    let backend = AnyBackend::open(BackendOptions::Embedded(EmbeddedOptions::new(&db)))
        .await
        .expect("embedded");
    let remote = RemoteClient::new(backend, label.clone());
    remote
        .change()
        .put(&tap("tap1", true))
        .send()
        .await
        .expect("a good change");
    let before = remote
        .backend()
        .snapshot(&label.agent_prefix())
        .await
        .expect("snapshot");
    let err = remote
        .change()
        .put(&tap("tap2", true))
        .put(&unknown)
        .send()
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some(r#"no model is registered for message "ligato.kvscheduler.ValueStatus""#)
    );
    let err = remote
        .change()
        .delete_key("config/vpp/v9/nothing/y")
        .send()
        .await;
    assert!(
        matches!(&err, Err(ClientError::Model(_)))
            && err_text(&err).contains("config/vpp/v9/nothing/y"),
        "{}",
        err_text(&err)
    );
    let err = remote.resync().delete(&tap("tap1", true)).send().await;
    assert!(
        err_text(&err).contains("delete of config/vpp/v2/interfaces/tap1 in a resync"),
        "{}",
        err_text(&err)
    );
    let after = remote
        .backend()
        .snapshot(&label.agent_prefix())
        .await
        .expect("snapshot");
    assert_eq!(before.entries, after.entries);
    remote.backend().close().await.expect("close");

    // Local: no transaction reaches the scheduler.
    let agent = Agent::start(AgentSpec {
        label,
        registry: Arc::new(Registry::builtin()),
        stores: Vec::new(),
        scheduler: Arc::new(|| Scheduler::new(SchedulerConfig::default(), Arc::new(SystemClock))),
        retry: None,
        backoff: Backoff::default(),
        observers: Vec::new(),
        status_publishing: None,
    });
    let local = LocalClient::new(&agent);
    let err = local
        .change()
        .put(&tap("tap1", true))
        .put(&unknown)
        .send()
        .await;
    assert!(matches!(err, Err(ClientError::Model(_))));
    let history = agent
        .scheduler
        .send(QueryHistory {
            seq_num: None,
            since: None,
            until: None,
            text: false,
        })
        .await
        .expect("mailbox")
        .expect("history");
    match history {
        History::Many(txns) => assert!(txns.is_empty(), "{txns:?}"),
        other => panic!("unexpected {other:?}"),
    }
}

fn err_text<T>(r: &Result<T, ClientError>) -> String {
    r.as_ref()
        .err()
        .map(ToString::to_string)
        .unwrap_or_default()
}
