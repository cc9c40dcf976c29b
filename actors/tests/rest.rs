//! The REST API through the real binaries: `vpp-agent` watching a real etcd and programming
//! vpp-sim, read over HTTP (status, history, timeline, graph, dump, metrics, `/vpp/command`),
//! bad requests answering 400/404 with Ligato's error shape and changing nothing, and basic
//! auth refusing a wrong password.
//!
//! Deliberately not here: the scheduler's own semantics (kvscheduler's tests).

mod common;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::time::Instant;

use common::{AgentProcess, DEADLINE, KvStore, Store, TAP, TAP_VALUE, cli};
use connectors::testkit::servers::EtcdServer;
use connectors::{EtcdBackend, EtcdOptions};
use serde_json::Value as Json;

/// A port that was free a moment ago (the agent binds it).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Polls `probe` every 50 ms until it returns `Some`; panics naming `what` after [`DEADLINE`].
async fn poll<T, F: Future<Output = Option<T>>>(what: &str, mut probe: impl FnMut() -> F) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    fn new(port: u16) -> Self {
        Api {
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        }
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        (r.status().as_u16(), r.text().await.expect("body"))
    }

    async fn get_json(&self, path: &str) -> (u16, Json) {
        let (status, body) = self.get(path).await;
        let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
        (status, json)
    }

    async fn post(&self, path: &str, body: &str) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .body(body.to_owned())
            .header("content-type", "application/json")
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        (r.status().as_u16(), r.text().await.expect("body"))
    }

    /// Waits until the server answers at all.
    async fn serving(&self) {
        poll("the rest server", || async {
            let r = self
                .http
                .get(format!("{}/liveness", self.base))
                .send()
                .await;
            r.ok().filter(|r| r.status().as_u16() == 200)
        })
        .await;
    }

    /// The samples of `/metrics`, by name with labels (`name{a="b"}`), each line checked.
    async fn metrics(&self) -> BTreeMap<String, f64> {
        let (status, body) = self.get("/metrics").await;
        assert_eq!(status, 200);
        parse_prometheus(&body)
    }
}

/// A line-by-line parser of the Prometheus text format: every line is a comment (`# HELP`,
/// `# TYPE` with a known type) or `name[{labels}] value`, and every sample has a TYPE.
fn parse_prometheus(body: &str) -> BTreeMap<String, f64> {
    let mut typed = BTreeMap::new();
    let mut samples = BTreeMap::new();
    for line in body.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            typed.insert(name.to_owned(), kind.to_owned());
        } else if line.starts_with("# HELP ") || line.is_empty() {
        } else {
            let (series, value) = line.rsplit_once(' ').expect("sample line");
            let name = series.split('{').next().expect("name");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                "bad metric name in {line}"
            );
            if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
                assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
            }
            assert!(typed.contains_key(name), "sample before its TYPE: {line}");
            let v: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
            samples.insert(series.to_owned(), v);
        }
    }
    samples
}

fn error_of(body: &str) -> String {
    let json: Json = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    json["Error"]
        .as_str()
        .unwrap_or_else(|| panic!("no Error in {body}"))
        .to_owned()
}

struct Setup {
    _etcd: EtcdServer,
    _dir: tempfile::TempDir,
    sim: vpp_sim::SimHandle,
    store: KvStore<EtcdBackend>,
    agent: AgentProcess,
    api: Api,
}

async fn setup(name: &str, http_conf: Option<&dyn Fn(u16) -> String>) -> Setup {
    let etcd = EtcdServer::start().await.expect("etcd");
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = common::sim_in(dir.path());
    common::etcd_conf(dir.path(), etcd.endpoint());
    let label = common::label(name);
    let store = KvStore::new(
        EtcdBackend::connect(EtcdOptions::new([etcd.endpoint().to_owned()]))
            .await
            .expect("client"),
        &label,
    );
    let port = free_port();
    let port_arg = port.to_string();
    let mut args = vec!["--etcd-config", "etcd.conf"];
    if let Some(conf) = http_conf {
        common::write_config(dir.path(), "http.conf", &conf(port));
        args.extend(["--http-config", "http.conf"]);
    } else {
        args.extend(["--http-port", &port_arg]);
    }
    let agent = start_agent(dir.path(), &label, &args);
    let api = Api::new(port);
    Setup {
        _etcd: etcd,
        _dir: dir,
        sim,
        store,
        agent,
        api,
    }
}

fn start_agent(dir: &Path, label: &str, args: &[&str]) -> AgentProcess {
    AgentProcess::start(dir, label, args, "warn")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_api_shows_what_the_agent_did() {
    let s = setup("rest", None).await;
    let api = &s.api;
    api.serving().await;

    // Readiness turns 200 once the first resync is applied.
    poll("readiness", || async {
        (api.get("/readiness").await.0 == 200).then_some(())
    })
    .await;
    s.agent.resynced().await;

    let (status, version) = api.get_json("/info/version").await;
    assert_eq!(status, 200);
    assert_eq!(version["App"], "vpp-agent");
    assert!(version["Version"].as_str().is_some_and(|v| !v.is_empty()));

    let before = api.metrics().await;
    for name in [
        "vpp_agent_transactions_total",
        "vpp_agent_pending_values",
        "vpp_agent_failed_values",
        "vpp_agent_ready",
    ] {
        assert!(before.contains_key(name), "{name} missing: {before:?}");
    }
    assert_eq!(before["vpp_agent_ready"], 1.0);

    s.store.put(TAP, TAP_VALUE).await;
    let status_path = format!("/scheduler/status?key={TAP}");
    let tap_status = poll("tap1 configured", || async {
        let (code, json) = api.get_json(&status_path).await;
        assert_eq!(code, 200);
        (json["value"]["state"] == "CONFIGURED").then_some(json)
    })
    .await;
    assert_eq!(tap_status["value"]["key"], TAP);

    let (code, statuses) = api
        .get_json("/scheduler/status?key-prefix=config/vpp/v2/interfaces/")
        .await;
    assert_eq!(code, 200);
    let keys: Vec<&str> = statuses
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|s| s["value"]["key"].as_str())
        .collect();
    assert!(keys.contains(&TAP), "{keys:?}");
    assert!(keys.is_sorted(), "{keys:?}");

    // History: all, one by seq-num, and as text.
    let (code, history) = api.get_json("/scheduler/txn-history").await;
    assert_eq!(code, 200);
    let history = history.as_array().expect("array").clone();
    let last = history.last().expect("a transaction");
    let seq = last["SeqNum"].as_u64().expect("SeqNum");
    assert!(
        last["Executed"].to_string().contains(TAP),
        "last txn: {last}"
    );
    let (code, one) = api
        .get_json(&format!("/scheduler/txn-history?seq-num={seq}"))
        .await;
    assert_eq!(code, 200);
    assert_eq!(one["SeqNum"].as_u64(), Some(seq));
    let (code, text) = api.get("/scheduler/txn-history?format=text").await;
    assert_eq!(code, 200);
    assert!(text.contains("Transaction #0:"), "{text}");
    assert!(text.contains(TAP), "{text}");
    let (code, none) = api.get_json("/scheduler/txn-history?since=1&until=2").await;
    assert_eq!(code, 200);
    assert_eq!(none, serde_json::json!([]));

    let (code, timeline) = api
        .get_json(&format!("/scheduler/key-timeline?key={TAP}"))
        .await;
    assert_eq!(code, 200);
    let timeline = timeline.as_array().expect("array");
    assert!(!timeline.is_empty());
    assert_eq!(timeline[0]["Key"], TAP);

    let (code, graph) = api.get_json("/scheduler/graph-snapshot").await;
    assert_eq!(code, 200);
    assert!(
        graph
            .as_array()
            .expect("array")
            .iter()
            .any(|n| n["Key"] == TAP && n["Flags"]["value-state"] == "CONFIGURED"),
        "{graph}"
    );
    let (code, flags) = api
        .get_json("/scheduler/flag-stats?flag=value-state&prefix=config/vpp/v2/interfaces/")
        .await;
    assert_eq!(code, 200);
    assert!(flags["TotalCount"].as_u64() >= Some(1), "{flags}");
    assert!(
        flags["PerValueCount"]["CONFIGURED"].as_u64() >= Some(1),
        "{flags}"
    );
    let (code, dot) = api.get("/scheduler/graph-snapshot?format=dot").await;
    assert_eq!(code, 200);
    assert!(dot.starts_with("digraph"), "{dot}");

    for view in ["NB", "SB", "cached"] {
        let (code, dump) = api
            .get_json(&format!(
                "/scheduler/dump?key-prefix=config/vpp/v2/interfaces/&view={view}"
            ))
            .await;
        assert_eq!(code, 200);
        let tap = dump
            .as_array()
            .expect("array")
            .iter()
            .find(|kv| kv["Key"] == TAP)
            .unwrap_or_else(|| panic!("{view}: no {TAP} in {dump}"));
        assert_eq!(
            tap["Value"]["ProtoMsgName"],
            "ligato.vpp.interfaces.Interface"
        );
        assert_eq!(tap["Value"]["ProtoMsgData"]["name"], "tap1");
    }

    let (code, index) = api.get_json("/scheduler/dump").await;
    assert_eq!(code, 200);
    assert_eq!(index["Views"], serde_json::json!(["SB", "NB", "cached"]));
    assert!(
        index["KeyPrefixes"]
            .as_array()
            .expect("array")
            .contains(&Json::from("config/vpp/v2/interfaces/")),
        "{index}"
    );
    let descriptor = index["Descriptors"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(Json::as_str)
        .find(|d| d.contains("interface") && !d.contains("linux"))
        .expect("the vpp interface descriptor")
        .to_owned();
    let (code, by_descriptor) = api
        .get_json(&format!("/scheduler/status?descriptor={descriptor}"))
        .await;
    assert_eq!(code, 200);
    assert!(by_descriptor.to_string().contains(TAP), "{by_descriptor}");

    // The CLI through the agent, against vpp-sim.
    let (code, out) = api
        .post("/vpp/command", r#"{"vppclicommand":"show interface"}"#)
        .await;
    assert_eq!(code, 200, "{out}");
    let out: String = serde_json::from_str(&out).expect("a json string");
    assert!(out.contains("tap0"), "{out}");
    assert_eq!(out, cli(&s.sim, "show interface"));

    let after = api.metrics().await;
    assert!(after["vpp_agent_transactions_total"] > before["vpp_agent_transactions_total"]);
    let created = r#"vpp_agent_operations_total{operation="CREATE",outcome="ok"}"#;
    assert!(after.get(created).is_some_and(|n| *n >= 1.0), "{after:?}");
    assert_eq!(after[r#"vpp_agent_connector_up{connector="etcd"}"#], 1.0);
    assert_eq!(after["vpp_agent_failed_values"], 0.0);

    // A downstream resync over REST answers its record.
    let (code, resync) = api.post("/scheduler/downstream-resync", "").await;
    assert_eq!(code, 200, "{resync}");
    let resync: Json = serde_json::from_str(&resync).expect("json");
    assert_eq!(resync["ResyncType"], "DownstreamResync");
    assert!(resync["SeqNum"].as_u64() > Some(seq));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_answer_the_error_shape_and_change_nothing() {
    let s = setup("restbad", None).await;
    let api = &s.api;
    api.serving().await;
    s.agent.resynced().await;
    let (_, status_before) = api.get("/scheduler/status").await;
    let (_, history_before) = api.get_json("/scheduler/txn-history").await;

    for (path, code, needle) in [
        ("/scheduler/txn-history?seq-num=abc", 400, "seq-num"),
        ("/scheduler/txn-history?seq-num=99999", 404, "99999"),
        ("/scheduler/txn-history?since=yesterday", 400, "since"),
        ("/scheduler/txn-history?format=xml", 400, "format"),
        ("/scheduler/key-timeline", 400, "key"),
        ("/scheduler/flag-stats", 400, "flag"),
        (
            "/scheduler/status?key-prefix=no/such/prefix/",
            404,
            "unknown key prefix",
        ),
        ("/scheduler/dump?key-prefix=", 400, "key-prefix"),
        (
            "/scheduler/dump?descriptor=no-such",
            404,
            "unknown descriptor",
        ),
        (
            "/scheduler/dump?key-prefix=no/such/prefix/",
            404,
            "unknown key prefix",
        ),
        (
            "/scheduler/dump?key-prefix=config/vpp/v2/interfaces/&view=XX",
            400,
            "view",
        ),
        ("/scheduler/graph-snapshot?format=svg", 400, "format"),
    ] {
        let (status, body) = api.get(path).await;
        assert_eq!(status, code, "{path}: {body}");
        let msg = error_of(&body);
        assert!(msg.contains(needle), "{path}: {msg}");
        assert!(
            msg.starts_with(|c: char| c.is_ascii_lowercase()),
            "{path}: error text is lowercase: {msg}"
        );
    }

    for body in ["", "{}", r#"{"vppclicommand":""}"#, "not json"] {
        let (status, answer) = api.post("/vpp/command", body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            serde_json::from_str::<String>(&answer).expect("a json string"),
            "400 Bad request: vppclicommand parameter missing or empty\n"
        );
    }

    // Nothing changed: the same values and states, and no new transaction other than the
    // downstream resyncs the agent runs by itself when the host's links change.
    assert_eq!(api.get("/scheduler/status").await.1, status_before);
    let (_, history_after) = api.get_json("/scheduler/txn-history").await;
    let (before, after) = (
        history_before.as_array().expect("array"),
        history_after.as_array().expect("array"),
    );
    assert_eq!(after[..before.len()], before[..]);
    for txn in &after[before.len()..] {
        assert_eq!(txn["ResyncType"], "DownstreamResync", "{txn}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_refuses_a_wrong_password() {
    let conf =
        |port: u16| format!("endpoint: 127.0.0.1:{port}\nclient-basic-auth: [\"admin:secret\"]\n");
    let s = setup("restauth", Some(&conf)).await;
    let api = &s.api;
    let url = format!("{}/scheduler/status", api.base);
    let code = poll("the rest server", || async {
        let r = api.http.get(&url).send().await.ok()?;
        Some(r.status().as_u16())
    })
    .await;
    assert_eq!(code, 401, "no credentials");
    for (user, pass, want) in [
        ("admin", "wrong", 401),
        ("other", "secret", 401),
        ("admin", "secret", 200),
    ] {
        let r = api
            .http
            .get(&url)
            .basic_auth(user, Some(pass))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status().as_u16(), want, "{user}:{pass}");
        if want == 401 {
            assert_eq!(error_of(&r.text().await.expect("body")), "unauthorized");
        }
    }
    let (code, _) = api.get("/liveness").await;
    assert_eq!(code, 401, "liveness is behind auth too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_answer_while_the_store_is_unreachable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _sim = common::sim_in(dir.path());
    // Nothing listens on this port: the connector keeps retrying, no resync ever comes.
    common::etcd_conf(dir.path(), &format!("127.0.0.1:{}", free_port()));
    let port = free_port();
    let port_arg = port.to_string();
    let label = common::label("restdown");
    let _agent = start_agent(
        dir.path(),
        &label,
        &["--etcd-config", "etcd.conf", "--http-port", &port_arg],
    );
    let api = Api::new(port);
    api.serving().await;

    let (code, body) = api.get_json("/readiness").await;
    assert_eq!(code, 500, "not ready before the first resync: {body}");
    assert_eq!(body["state"], 0);
    let metrics = poll("the connector state in metrics", || async {
        let m = api.metrics().await;
        m.contains_key(r#"vpp_agent_connector_up{connector="etcd"}"#)
            .then_some(m)
    })
    .await;
    assert_eq!(metrics[r#"vpp_agent_connector_up{connector="etcd"}"#], 0.0);
    assert_eq!(metrics["vpp_agent_ready"], 0.0);
    let (code, body) = api.get_json("/liveness").await;
    assert_eq!(code, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_set_by_a_store_and_over_the_api_is_a_visible_conflict() {
    let s = setup("conflict", None).await;
    s.api.serving().await;
    s.agent.resynced().await;
    let key = "config/vpp/v2/interfaces/loop9";
    s.store
        .put(
            key,
            r#"{"name":"loop9","type":"SOFTWARE_LOOPBACK","enabled":true,"mtu":1500}"#,
        )
        .await;
    poll("loop9 from etcd configured", || async {
        let (_, body) = s.api.get(&format!("/scheduler/status?key={key}")).await;
        body.contains("CONFIGURED").then_some(())
    })
    .await;
    let (_, none) = s.api.get_json("/orchestrator/conflicts").await;
    assert_eq!(none, serde_json::json!([]), "one source, no conflict");

    // The same interface through /configuration (the grpc source), with another MTU.
    let r = s
        .api
        .http
        .put(format!("{}/configuration", s.api.base))
        .header("content-type", "application/yaml")
        .body("vppConfig:\n  interfaces:\n    - {name: loop9, type: SOFTWARE_LOOPBACK, enabled: true, mtu: 1400}\n")
        .send()
        .await
        .expect("PUT /configuration");
    assert_eq!(r.status().as_u16(), 200, "{:?}", r.text().await);
    let (status, conflicts) = s.api.get_json("/orchestrator/conflicts").await;
    assert_eq!(status, 200);
    assert_eq!(
        conflicts,
        serde_json::json!([{
            "key": key,
            "applied_from": "grpc",
            "sources": ["etcd", "grpc"],
            "values_differ": true,
        }])
    );
    // The store changes it again: the most recent change wins.
    s.store
        .put(
            key,
            r#"{"name":"loop9","type":"SOFTWARE_LOOPBACK","enabled":true,"mtu":1300}"#,
        )
        .await;
    poll("etcd's value applied again", || async {
        let (_, c) = s.api.get_json("/orchestrator/conflicts").await;
        (c[0]["applied_from"] == "etcd").then_some(())
    })
    .await;
}

/// `curl` against the agent's HTTPS endpoint: (exit success, body).
fn curl(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new("curl")
        .args(["-s", "--max-time", "5"])
        .args(args)
        .output()
        .expect("run curl");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_client_certificates() {
    let pki = connectors::testkit::pki::TestPki::generate().expect("pki");
    let (ca, cert, key) = (
        pki.ca.display().to_string(),
        pki.client_cert.display().to_string(),
        pki.client_key.display().to_string(),
    );
    let conf = |port: u16| {
        format!(
            "endpoint: 127.0.0.1:{port}\nserver-cert-file: {}\nserver-key-file: {}\nclient-cert-files: [\"{}\"]\n",
            pki.server_cert.display(),
            pki.server_key.display(),
            pki.ca.display()
        )
    };
    let s = setup("https", Some(&conf)).await;
    let base = s.api.base.replace("http://", "https://");
    let liveness = format!("{base}/liveness");
    // A client with a certificate signed by the configured CA gets answers.
    poll("the https server", || async {
        let (ok, body) = curl(&["--cacert", &ca, "--cert", &cert, "--key", &key, &liveness]);
        (ok && body.contains("\"state\"")).then_some(())
    })
    .await;
    let (ok, body) = curl(&[
        "--cacert",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
        &format!("{base}/info/version"),
    ]);
    assert!(ok && body.contains("vpp-agent"), "{body}");
    // No client certificate, a server not trusted, or plain HTTP: refused.
    assert!(
        !curl(&["--cacert", &ca, &liveness]).0,
        "no client certificate"
    );
    let other = pki.other_ca.display().to_string();
    assert!(
        !curl(&[
            "--cacert", &other, "--cert", &cert, "--key", &key, &liveness
        ])
        .0,
        "server certificate not signed by the CA the client trusts"
    );
    let (_, plain) = curl(&[&format!("{}/liveness", s.api.base)]);
    assert!(!plain.contains("\"state\""), "plain HTTP served: {plain}");
}

#[test]
fn a_missing_certificate_file_is_named() {
    let cfg = actors::rest::ServerConfig {
        endpoint: "127.0.0.1:0".into(),
        basic_auth: Vec::new(),
        server_cert_file: "/nonexistent/server.pem".into(),
        server_key_file: "/nonexistent/server.key".into(),
        client_cert_files: Vec::new(),
    };
    let err = actors::rest::tls::server_config(&cfg)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("server-cert-file /nonexistent/server.pem"),
        "{err}"
    );
}
