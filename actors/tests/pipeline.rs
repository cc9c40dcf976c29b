//! The actor pipeline end to end against a real etcd (started by the connectors testkit, or
//! the one in `VPP_AGENT_TEST_ETCD`): store → connector → watcher → orchestrator →
//! scheduler → a recording descriptor standing in for VPP. Checks resync on start, changes,
//! deletes, label filtering, unknown models, undecodable values kept aside, and that the
//! previous value of a key survives a broken update.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actors::agent::{Agent, AgentSpec};
use actors::connector::Backoff;
use actors::msg::SourceId;
use actors::orchestrator::QueryInvalid;
use actors::scheduler::SchedulerFactory;
use bytes::Bytes;
use connectors::testkit::servers::EtcdServer;
use connectors::{BackendOptions, EtcdBackend, EtcdOptions, KvBackend};
use kvscheduler::{
    Descriptor, KvError, Metadata, MetadataView, Scheduler, SchedulerConfig, SystemClock,
};
use messages::{Key, MicroserviceLabel, Value};

/// Records create/delete of VPP interfaces, as `op key name`.
struct Recorder {
    log: Arc<Mutex<Vec<String>>>,
}

impl Descriptor for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }
    fn key_selector(&self, key: &Key) -> bool {
        key.has_prefix("config/vpp/v2/interfaces/")
    }
    fn create(
        &self,
        _: &MetadataView<'_>,
        key: &Key,
        _: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        self.log.lock().expect("lock").push(format!("create {key}"));
        Ok(None)
    }
    fn delete(
        &self,
        _: &MetadataView<'_>,
        key: &Key,
        _: &Value,
        _: Option<&Metadata>,
    ) -> Result<(), KvError> {
        self.log.lock().expect("lock").push(format!("delete {key}"));
        Ok(())
    }
}

async fn eventually<F: Fn() -> bool>(what: &str, cond: F) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn unique_label() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    format!("t{}", n % 1_000_000_000)
}

#[actix_rt::test]
async fn etcd_changes_reach_the_descriptors_in_order() {
    let server = EtcdServer::start().await.expect("etcd");
    let writer = EtcdBackend::connect(EtcdOptions::new([server.endpoint().to_owned()]))
        .await
        .expect("writer");
    let label = unique_label();
    let p = format!("/vnf-agent/{label}/");
    let put = |k: String, v: &'static str| {
        let w = &writer;
        async move {
            w.put(&k, Bytes::from_static(v.as_bytes()))
                .await
                .expect("put")
        }
    };
    // Present before the agent starts: picked up by the resync.
    put(
        format!("{p}config/vpp/v2/interfaces/loop1"),
        r#"{"name":"loop1","type":"SOFTWARE_LOOPBACK"}"#,
    )
    .await;
    // Another agent's key and a key of no model: ignored.
    put(
        "/vnf-agent/other/config/vpp/v2/interfaces/x".into(),
        r#"{"name":"x"}"#,
    )
    .await;
    put(format!("{p}config/vpp/v9/nothing/y"), r#"{}"#).await;

    let log = Arc::new(Mutex::new(Vec::new()));
    let recorder = Arc::new(Recorder { log: log.clone() });
    let factory: SchedulerFactory = Arc::new(move || {
        let mut s = Scheduler::new(SchedulerConfig::default(), Arc::new(SystemClock));
        s.register(recorder.clone()).expect("register");
        s
    });
    let agent = Agent::start(AgentSpec {
        label: MicroserviceLabel::new(label.clone()).expect("label"),
        registry: Arc::new(messages::Registry::builtin()),
        stores: vec![(
            SourceId::new("etcd"),
            BackendOptions::Etcd(EtcdOptions::new([server.endpoint().to_owned()])),
        )],
        scheduler: factory,
        retry: None,
        backoff: Backoff::default(),
        observers: Vec::new(),
        status_publishing: Some(Duration::from_millis(50)),
    });
    let snapshot = |log: &Arc<Mutex<Vec<String>>>| log.lock().expect("lock").clone();
    eventually("resync creates loop1", || {
        snapshot(&log) == ["create config/vpp/v2/interfaces/loop1"]
    })
    .await;

    put(
        format!("{p}config/vpp/v2/interfaces/tap1"),
        r#"{"name":"tap1","type":"TAP"}"#,
    )
    .await;
    eventually("tap1 created", || snapshot(&log).len() == 2).await;

    // A broken update of loop1 is rejected and loop1 stays; a mismatched key too.
    put(
        format!("{p}config/vpp/v2/interfaces/loop1"),
        r#"{"name":"loop1","colour":"red"}"#,
    )
    .await;
    put(
        format!("{p}config/vpp/v2/interfaces/tap9"),
        r#"{"name":"if1"}"#,
    )
    .await;
    let orchestrator = agent.orchestrator.clone();
    let mut invalid = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while invalid.len() < 2 {
        assert!(
            Instant::now() < deadline,
            "invalid values not reported: {invalid:?}"
        );
        invalid = orchestrator.send(QueryInvalid).await.expect("query");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let text = format!("{invalid:?}");
    assert!(text.contains("colour"), "{text}");
    assert!(text.contains("does not match its value"), "{text}");

    writer
        .delete(&format!("{p}config/vpp/v2/interfaces/tap1"))
        .await
        .expect("delete");
    eventually("tap1 deleted", || {
        snapshot(&log).last().map(String::as_str) == Some("delete config/vpp/v2/interfaces/tap1")
    })
    .await;
    assert_eq!(
        snapshot(&log),
        [
            "create config/vpp/v2/interfaces/loop1",
            "create config/vpp/v2/interfaces/tap1",
            "delete config/vpp/v2/interfaces/tap1",
        ],
        "loop1 must never be deleted by its broken update, and other labels never applied"
    );
}
