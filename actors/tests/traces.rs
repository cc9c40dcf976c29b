//! Message traces through the real `vpp-agent` binary, a real etcd and vpp-sim: one etcd put
//! is one trace whose spans cover every actor hop in order (connector → watcher →
//! orchestrator → scheduler transaction → descriptor operation → VPP request), read from the
//! JSON log; `GET /scheduler/txn-trace` returns the same tree, `agentctl trace` prints it; and (feature `otlp`) the spans
//! reach an OTLP collector double with one trace id and the same parent chain.
//!
//! Deliberately not here: the trace store's own bookkeeping (unit tests in `actors::trace`).

mod common;

use std::time::Instant;

use common::{AgentProcess, DEADLINE, KvStore, Store, TAP, TAP_VALUE, cli};
use connectors::testkit::servers::EtcdServer;
use connectors::{EtcdBackend, EtcdOptions};
use serde_json::Value as Json;

/// The hops of one KV change, root first.
const HOPS: [&str; 6] = [
    "connector_change",
    "watcher_change",
    "orchestrator_change",
    "scheduler_txn",
    "descriptor_op",
    "vpp_request",
];

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The JSON log lines of VPP requests made for the change of `key` (their span list starts at
/// the store event of that key).
fn vpp_request_lines(log: &str, key: &str) -> Vec<Json> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .filter(|j| j["fields"]["message"] == "VPP request answered.")
        .filter(|j| j["spans"][0]["name"] == "connector_change" && j["spans"][0]["key"] == key)
        .collect()
}

struct Setup {
    agent: AgentProcess,
    store: KvStore<EtcdBackend>,
    sim: vpp_sim::SimHandle,
    port: u16,
    _etcd: EtcdServer,
    _dir: tempfile::TempDir,
}

/// An agent on etcd and vpp-sim, logging JSON with VPP requests at debug, REST on a free port.
async fn setup(name: &str, extra_env: &[(&str, &str)]) -> Setup {
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
    let mut env = vec![("LOG_FORMAT", "json"), ("LOG_LEVEL", "info,vpp=debug")];
    env.extend_from_slice(extra_env);
    let agent = AgentProcess::start_with_env(
        dir.path(),
        &label,
        &["--etcd-config", "etcd.conf", "--http-port", &port_arg],
        &env,
    );
    agent.resynced().await;
    Setup {
        agent,
        store,
        sim,
        port,
        _etcd: etcd,
        _dir: dir,
    }
}

/// Puts the TAP interface and waits for its trace in the JSON log; returns those lines.
async fn put_tap_and_trace(s: &Setup) -> Vec<Json> {
    s.store.put(TAP, TAP_VALUE).await;
    common::eventually("tap1 in vpp-sim", || {
        cli(&s.sim, "show interface").contains("tap")
    })
    .await;
    let mut lines = Vec::new();
    common::eventually("the VPP requests of the put in the JSON log", || {
        lines = vpp_request_lines(&s.agent.stderr(), TAP);
        !lines.is_empty()
    })
    .await;
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_etcd_put_is_one_trace_across_every_actor_in_order() {
    let s = setup("traces", &[]).await;
    let lines = put_tap_and_trace(&s).await;

    for line in &lines {
        let spans = line["spans"].as_array().expect("span list");
        let names: Vec<&str> = spans.iter().filter_map(|s| s["name"].as_str()).collect();
        assert_eq!(names, HOPS, "{line}");
        assert_eq!(spans[0]["connector"], "etcd", "{line}");
        assert_eq!(spans[1]["connector"], "etcd", "{line}");
        assert_eq!(spans[2]["connector"], "etcd", "{line}");
        assert!(spans[3]["txn_seq"].is_u64(), "{line}");
        assert!(spans[4]["key"].is_string(), "{line}");
        assert!(spans[4]["op"].is_string(), "{line}");
        let req = &spans[5];
        assert!(req["msg"].as_str().is_some_and(|m| !m.is_empty()), "{line}");
        assert!(req["context"].is_u64(), "{line}");
        assert!(req["latency_us"].is_u64(), "{line}");
        assert_eq!(req["vpp_version"], "23.06", "{line}");
        assert!(req.get("error").is_none(), "{line}");
        // The current span is the VPP request.
        assert_eq!(line["span"]["name"], "vpp_request", "{line}");
    }
    // One trace: every request of the put belongs to the same store event and transaction.
    assert!(
        lines
            .iter()
            .any(|l| l["spans"][4]["key"] == TAP && l["spans"][4]["op"] == "create"),
        "no VPP request under the create of {TAP}"
    );
    let roots: std::collections::BTreeSet<String> =
        lines.iter().map(|l| l["spans"][0].to_string()).collect();
    assert_eq!(roots.len(), 1, "{roots:?}");
    let seqs: std::collections::BTreeSet<u64> = lines
        .iter()
        .filter_map(|l| l["spans"][3]["txn_seq"].as_u64())
        .collect();
    assert_eq!(seqs.len(), 1, "{seqs:?}");
    let contexts: std::collections::BTreeSet<u64> = lines
        .iter()
        .filter_map(|l| l["spans"][5]["context"].as_u64())
        .collect();
    assert_eq!(
        contexts.len(),
        lines.len(),
        "each request has its own context"
    );

    // The REST endpoint returns the same tree for that transaction.
    let seq = *seqs.iter().next().expect("txn_seq");
    let http = reqwest::Client::new();
    let url = format!(
        "http://127.0.0.1:{}/scheduler/txn-trace?seq-num={seq}",
        s.port
    );
    let start = Instant::now();
    let tree: Json = loop {
        let r = http.get(&url).send().await.expect("GET txn-trace");
        if r.status() == 200 {
            break r.json().await.expect("json");
        }
        assert_eq!(r.status(), 404, "only 404 while the trace is not finished");
        assert!(start.elapsed() < DEADLINE, "no trace of transaction {seq}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(tree["name"], "connector_change");
    assert_eq!(tree["fields"]["key"], TAP);
    // Down the hops to the create of the key, and the same VPP requests as logged.
    let mut node = &tree;
    for hop in &HOPS[1..5] {
        let child = node["children"]
            .as_array()
            .and_then(|c| {
                c.iter().find(|c| {
                    c["name"] == *hop && (*hop != "descriptor_op" || c["fields"]["key"] == TAP)
                })
            })
            .unwrap_or_else(|| panic!("no {hop} under {}: {tree}", node["name"]));
        if *hop == "scheduler_txn" {
            assert_eq!(child["fields"]["txn_seq"], seq);
        }
        node = child;
    }
    fn requests(node: &Json, out: &mut Vec<(String, u64)>) {
        if node["name"] == "vpp_request" {
            out.push((
                node["fields"]["msg"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                node["fields"]["context"].as_u64().unwrap_or_default(),
            ));
        }
        for c in node["children"].as_array().into_iter().flatten() {
            requests(c, out);
        }
    }
    let mut in_tree = Vec::new();
    requests(&tree, &mut in_tree);
    in_tree.sort();
    let mut logged: Vec<(String, u64)> = lines
        .iter()
        .map(|l| {
            (
                l["spans"][5]["msg"].as_str().unwrap_or_default().to_owned(),
                l["spans"][5]["context"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    logged.sort();
    assert_eq!(
        in_tree, logged,
        "the tree's VPP requests are the logged ones"
    );

    // agentctl prints the same tree, indented by depth.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .env_clear()
        .args([
            "--http-port",
            &s.port.to_string(),
            "trace",
            &seq.to_string(),
        ])
        .output()
        .expect("run agentctl");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (depth, hop) in HOPS.iter().enumerate() {
        let prefix = format!("{}{hop} [", "  ".repeat(depth));
        assert!(
            text.lines().any(|l| l.starts_with(&prefix)),
            "no {prefix:?} line in:\n{text}"
        );
    }
    assert!(text.contains(&format!("txn_seq={seq}")), "{text}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .env_clear()
        .args(["--http-port", &s.port.to_string(), "trace", "999999"])
        .output()
        .expect("run agentctl");
    assert_eq!(out.status.code(), Some(1), "an unknown transaction fails");

    // An unknown transaction is a 404 in Ligato's error shape; a bad seq-num a 400.
    let r = http
        .get(format!(
            "http://127.0.0.1:{}/scheduler/txn-trace?seq-num=999999",
            s.port
        ))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 404);
    let body: Json = r.json().await.expect("json");
    assert!(body["Error"].as_str().is_some_and(|e| e.contains("999999")));
    let r = http
        .get(format!(
            "http://127.0.0.1:{}/scheduler/txn-trace?seq-num=x",
            s.port
        ))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 400);
    s.store.del(TAP).await;
}

/// The traces of transactions 0 to 19 the agent keeps, polled until `done` holds for them.
async fn kept_traces(port: u16, done: impl Fn(&[(u64, Json)]) -> bool) -> Vec<(u64, Json)> {
    let start = Instant::now();
    loop {
        let mut traces = Vec::new();
        for seq in 0..20u64 {
            let url = format!("http://127.0.0.1:{port}/scheduler/txn-trace?seq-num={seq}");
            let r = reqwest::get(&url).await.expect("GET txn-trace");
            if r.status() == 200 {
                traces.push((seq, r.json().await.expect("json")));
            }
        }
        if done(&traces) {
            return traces;
        }
        assert!(start.elapsed() < DEADLINE, "traces kept: {traces:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_transaction_is_a_trace_of_its_own() {
    let s = setup("retrytrace", &[]).await;
    // The first create fails with a transient retval, so the scheduler retries it.
    s.sim
        .fail(vpp_sim::FailSpec {
            name: "create_loopback".to_owned(),
            count: Some(1),
            retval: -77,
        })
        .expect("fail knob");
    let key = "config/vpp/v2/interfaces/lo7";
    s.store
        .put(
            key,
            r#"{"name":"lo7","type":"SOFTWARE_LOOPBACK","enabled":true}"#,
        )
        .await;
    common::eventually("lo7 in vpp-sim after the retry", || {
        cli(&s.sim, "show interface").contains("loop")
    })
    .await;
    // The change's transaction and the retry's, found among the kept traces by their roots
    // (a Linux host event may add downstream resyncs in between, so no fixed numbers).
    let traces = kept_traces(s.port, |t| {
        t.iter().any(|(_, j)| j["name"] == "scheduler_retry")
    })
    .await;
    let (_, change) = traces
        .iter()
        .find(|(_, j)| j["name"] == "connector_change" && j["fields"]["key"] == key)
        .expect("the change's trace");
    assert!(
        change.to_string().contains("\"retval\":-77"),
        "the failed request's retval in the change's trace: {change}"
    );
    let (seq, retry) = traces
        .iter()
        .find(|(_, j)| j["name"] == "scheduler_retry")
        .expect("the retry's trace");
    assert_eq!(retry["fields"]["txn_seq"], *seq);
    let op = &retry["children"][0];
    assert_eq!(op["name"], "descriptor_op", "{retry}");
    assert_eq!(op["fields"]["key"], key);
    assert_eq!(
        op["children"][0]["fields"]["msg"], "create_loopback",
        "{retry}"
    );
    assert_eq!(op["children"][0]["fields"]["retval"], 0, "{retry}");
}

#[cfg(feature = "otlp")]
mod otlp {
    //! A tiny OTLP/HTTP collector double: accepts `POST /v1/traces` with protobuf bodies and
    //! keeps the decoded spans. Test double only: no gzip, no gRPC, one request at a time per
    //! connection.

    use std::sync::{Arc, Mutex};

    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value;
    use opentelemetry_proto::tonic::trace::v1::Span;
    use prost::Message;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

    use super::*;

    #[derive(Clone, Default)]
    struct Collector(Arc<Mutex<Vec<Span>>>);

    impl Collector {
        async fn start(self) -> u16 {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let port = listener.local_addr().expect("addr").port();
            tokio::spawn(async move {
                while let Ok((conn, _)) = listener.accept().await {
                    tokio::spawn(self.clone().serve(conn));
                }
            });
            port
        }

        async fn serve(self, conn: tokio::net::TcpStream) {
            let mut conn = BufReader::new(conn);
            loop {
                let mut request_line = String::new();
                if conn.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                    return;
                }
                let mut length = 0usize;
                loop {
                    let mut h = String::new();
                    if conn.read_line(&mut h).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let h = h.trim_end();
                    if h.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                if conn.read_exact(&mut body).await.is_err() {
                    return;
                }
                let ok = request_line.starts_with("POST /v1/traces ");
                if ok && let Ok(req) = ExportTraceServiceRequest::decode(body.as_slice()) {
                    let mut spans = self.0.lock().expect("spans");
                    for r in req.resource_spans {
                        for s in r.scope_spans {
                            spans.extend(s.spans);
                        }
                    }
                }
                let status = if ok { "200 OK" } else { "404 Not Found" };
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n"
                );
                if conn.get_mut().write_all(reply.as_bytes()).await.is_err() {
                    return;
                }
            }
        }

        fn spans(&self) -> Vec<Span> {
            self.0.lock().expect("spans").clone()
        }
    }

    fn attr(span: &Span, key: &str) -> Option<String> {
        span.attributes.iter().find(|a| a.key == key).and_then(|a| {
            match a.value.as_ref()?.value.as_ref()? {
                any_value::Value::StringValue(s) => Some(s.clone()),
                any_value::Value::IntValue(i) => Some(i.to_string()),
                other => Some(format!("{other:?}")),
            }
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_put_s_spans_reach_an_otlp_collector_as_one_trace() {
        let collector = Collector::default();
        let port = collector.clone().start().await;
        let endpoint = format!("http://127.0.0.1:{port}");
        let s = setup(
            "otlp",
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
                ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ],
        )
        .await;
        put_tap_and_trace(&s).await;
        let mut chain = Vec::new();
        common::eventually("the put's spans at the collector", || {
            let spans = collector.spans();
            // The VPP requests of the put, walked up to their root by parent ids.
            chain = spans
                .iter()
                .filter(|sp| sp.name == "vpp_request")
                .filter_map(|leaf| {
                    let mut path = vec![leaf.clone()];
                    while !path.last()?.parent_span_id.is_empty() {
                        let parent = &path.last()?.parent_span_id;
                        path.push(spans.iter().find(|p| &p.span_id == parent)?.clone());
                    }
                    path.reverse();
                    (attr(&path[0], "key").as_deref() == Some(TAP)).then_some(path)
                })
                .next()
                .unwrap_or_default();
            !chain.is_empty()
        })
        .await;
        let names: Vec<&str> = chain.iter().map(|sp| sp.name.as_str()).collect();
        assert_eq!(names, HOPS);
        assert!(
            chain.iter().all(|sp| sp.trace_id == chain[0].trace_id),
            "one trace id"
        );
        assert!(attr(&chain[3], "txn_seq").is_some());
        assert_eq!(attr(&chain[4], "key").as_deref(), Some(TAP));
        assert_eq!(attr(&chain[5], "vpp_version").as_deref(), Some("23.06"));
        assert!(attr(&chain[5], "context").is_some());
        assert_eq!(
            collector
                .spans()
                .iter()
                .filter(
                    |sp| sp.name == "connector_change" && attr(sp, "key").as_deref() == Some(TAP)
                )
                .count(),
            1,
            "one root span for the put"
        );
    }
}
