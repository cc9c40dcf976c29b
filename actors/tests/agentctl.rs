//! `agentctl` through the real binaries: `vpp-agent` watching a real etcd, serving REST and
//! gRPC and programming vpp-sim, driven and read with `agentctl` (kvdb put, config update over
//! gRPC with and without --dry-run, values, dump, status, history, resync, vpp cli, metrics,
//! model, report), and bad input (unknown model, malformed or wrongly typed
//! values, an unknown flag, an unreachable agent) answered with a clear message and the
//! documented exit code, changing nothing.
//!
//! Deliberately not here: the REST API's own semantics (rest.rs) and the scheduler's.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{AgentProcess, DEADLINE, TAP, TAP_VALUE, cli};
use connectors::testkit::servers::EtcdServer;
use serde_json::Value as Json;

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Runs agentctl with a clean environment and `args`.
fn agentctl(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .env_clear()
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("run agentctl")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// An agent and the agentctl flags that reach it and its store.
struct Setup {
    _etcd: EtcdServer,
    dir: tempfile::TempDir,
    sim: vpp_sim::SimHandle,
    agent: AgentProcess,
    /// `--label L -e ETCD --http-port P --grpc-port G`.
    flags: Vec<String>,
}

impl Setup {
    async fn start(name: &str) -> Self {
        let etcd = EtcdServer::start().await.expect("etcd");
        let dir = tempfile::tempdir().expect("tempdir");
        let sim = common::sim_in(dir.path());
        common::etcd_conf(dir.path(), etcd.endpoint());
        let label = common::label(name);
        let port = free_port().to_string();
        let grpc_port = free_port().to_string();
        let agent = AgentProcess::start(
            dir.path(),
            &label,
            &[
                "--etcd-config",
                "etcd.conf",
                "--http-port",
                &port,
                "--grpc-port",
                &grpc_port,
            ],
            "warn",
        );
        let flags = vec![
            "--label".to_owned(),
            label,
            "-e".to_owned(),
            etcd.endpoint().to_owned(),
            "--http-port".to_owned(),
            port,
            "--grpc-port".to_owned(),
            grpc_port,
        ];
        Setup {
            _etcd: etcd,
            dir,
            sim,
            agent,
            flags,
        }
    }

    /// agentctl with this agent's flags, then `args`.
    fn ctl(&self, args: &[&str]) -> Output {
        let mut all: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        all.extend_from_slice(args);
        agentctl(self.dir.path(), &all)
    }

    /// agentctl that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let o = self.ctl(args);
        assert!(
            o.status.success(),
            "agentctl {args:?}: {:?}\nstdout: {}\nstderr: {}",
            o.status.code(),
            stdout(&o),
            stderr(&o)
        );
        stdout(&o)
    }

    /// agentctl `-o json ARGS` that must succeed, parsed.
    fn json(&self, args: &[&str]) -> Json {
        let mut all = vec!["-o", "json"];
        all.extend_from_slice(args);
        let out = self.ok(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    }

    /// Polls `agentctl -o json ARGS` until `cond` holds.
    async fn until(&self, what: &str, args: &[&str], cond: impl Fn(&Json) -> bool) -> Json {
        let deadline = std::time::Instant::now() + DEADLINE;
        loop {
            let mut all = vec!["-o", "json"];
            all.extend_from_slice(args);
            let o = self.ctl(&all);
            if o.status.success()
                && let Ok(v) = serde_json::from_slice::<Json>(&o.stdout)
                && cond(&v)
            {
                return v;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}: last {args:?}: {}{}",
                stdout(&o),
                stderr(&o)
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// The exit code and stderr of a failing agentctl run.
fn failure(o: &Output) -> (i32, String) {
    assert!(!o.status.success(), "expected a failure: {}", stdout(o));
    (o.status.code().unwrap_or(-1), stderr(o))
}

fn state_of(values: &Json, key: &str) -> Option<String> {
    values.as_array()?.iter().find_map(|v| {
        (v["value"]["key"] == key).then(|| v["value"]["state"].as_str().unwrap_or("").to_owned())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agentctl_drives_and_reads_an_agent() {
    let s = Setup::start("ctl").await;
    let ready = s
        .until("readiness", &["status"], |v| v["ready"] == true)
        .await;
    assert_eq!(ready["version"]["App"], "vpp-agent");
    s.agent.resynced().await;

    // Apply over the store, read back the value state.
    s.ok(&["kvdb", "put", TAP, TAP_VALUE]);
    assert_eq!(s.ok(&["kvdb", "get", TAP]).trim(), TAP_VALUE);
    assert!(
        s.ok(&["kvdb", "list"])
            .contains(&format!("{TAP} {TAP_VALUE}"))
    );
    let values = s
        .until("tap1 configured", &["values", "vpp.interfaces"], |v| {
            state_of(v, TAP).as_deref() == Some("CONFIGURED")
        })
        .await;
    let keys: Vec<&str> = values
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|s| s["value"]["key"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        keys.iter()
            .all(|k| k.starts_with("config/vpp/v2/interfaces/")),
        "{values}"
    );
    let table = s.ok(&["values"]);
    assert!(table.starts_with("MODEL"), "{table}");
    assert!(
        table.lines().any(|l| l.starts_with("vpp.interfaces")
            && l.contains("tap1")
            && l.contains("CONFIGURED")),
        "{table}"
    );

    // Dump: raw JSON, values as YAML and JSON, and the table.
    let dump = s.json(&["dump", "vpp.interfaces"]);
    let tap = dump
        .as_array()
        .and_then(|d| d.iter().find(|i| i["Key"] == TAP))
        .unwrap_or_else(|| panic!("{TAP} not dumped: {dump}"));
    assert_eq!(tap["Value"]["ProtoMsgData"]["name"], "tap1");
    let yaml = s.ok(&["dump", "-f", "yaml", "vpp.interfaces", "--view", "NB"]);
    assert!(yaml.contains("name: tap1"), "{yaml}");
    let as_json: Json = serde_json::from_str(&s.ok(&["dump", "-f", "json", "all"])).expect("json");
    let tap = as_json
        .as_array()
        .and_then(|d| d.iter().find(|i| i["key"] == TAP))
        .unwrap_or_else(|| panic!("{TAP} not dumped: {as_json}"));
    assert_eq!(tap["value"]["type"], "TAP", "{as_json}");
    assert_eq!(tap["model"], "vpp.interfaces", "{as_json}");
    assert!(s.ok(&["dump", "vpp.*"]).contains("tap1"));

    // History: the table, one transaction as JSON, and Ligato's text log.
    let history = s.json(&["config", "history"]);
    let last = history
        .as_array()
        .and_then(|h| h.last())
        .expect("a transaction")
        .clone();
    assert!(last["Executed"].to_string().contains(TAP), "{last}");
    let seq = last["SeqNum"].as_u64().expect("SeqNum").to_string();
    assert_eq!(
        s.json(&["config", "history", &seq])["SeqNum"],
        last["SeqNum"]
    );
    assert!(s.ok(&["config", "history"]).starts_with("SEQ"));
    assert!(
        s.ok(&["config", "history", "--details"])
            .contains("Transaction #0:"),
        "text history"
    );

    // VPP through the agent: the same text as the simulator's own CLI.
    let shown = s.ok(&["vpp", "cli", "show", "interface"]);
    assert_eq!(shown.trim_end(), cli(&s.sim, "show interface").trim_end());
    assert!(shown.contains("tap"), "{shown}");
    assert!(s.ok(&["vpp", "info"]).contains("23.06"));
    assert_eq!(
        s.json(&["vpp", "cli", "show version"])["command"],
        "show version"
    );

    // Status, metrics, models.
    let status = s.ok(&["status"]);
    assert!(status.contains("OK (ready)"), "{status}");
    assert!(status.contains("1 CONFIGURED"), "{status}");
    assert!(status.contains("etcd connected"), "{status}");
    assert!(s.ok(&["metrics"]).contains("vpp_agent_ready"));
    let ready = s.json(&["metrics", "get", "vpp_agent_ready"]);
    assert_eq!(ready["samples"]["vpp_agent_ready"], 1.0, "{ready}");
    assert!(s.ok(&["model", "list"]).contains("vpp.l2.bridge-domain"));

    // A downstream resync changes nothing that is in sync.
    let resync = s.json(&["config", "resync"]);
    assert_eq!(
        resync["TxnType"].as_str().map(|t| t.is_empty()),
        Some(false)
    );
    let after = s.json(&["values", "vpp.interfaces"]);
    assert_eq!(state_of(&after, TAP).as_deref(), Some("CONFIGURED"));

    report_has_every_section(&s);
    bad_input_changes_nothing(&s);
}

fn report_has_every_section(s: &Setup) {
    let log = s.dir.path().join("agent.log");
    std::fs::write(&log, s.agent.stderr()).expect("log");
    let archive = s.dir.path().join("report.tar.gz");
    let out = s.ok(&[
        "report",
        "--out",
        archive.to_str().expect("utf8"),
        "--log",
        log.to_str().expect("utf8"),
        "--etcd-config",
        "etcd.conf",
        "--govpp-config",
        "govpp.conf",
    ]);
    assert!(out.contains("0 failed"), "{out}");
    let names = actors::agentctl::report::list_archive(&archive).expect("archive");
    let mut expected: Vec<String> = [
        "report.txt",
        "versions.txt",
        "agent/version.json",
        "agent/status.json",
        "agent/values.txt",
        "agent/values.json",
        "agent/config-nb.yaml",
        "agent/configuration.yaml",
        "agent/dump-cached.json",
        "agent/txn-history.txt",
        "agent/txn-history-table.txt",
        "agent/txn-history.json",
        "agent/graph.dot",
        "agent/metrics.txt",
        "agent/agent.log",
        "agentctl/config-files/etcd.conf",
        "agentctl/config-files/govpp.conf",
    ]
    .iter()
    .map(|n| (*n).to_owned())
    .collect();
    expected.extend(
        actors::agentctl::report::VPP_SHOW
            .iter()
            .map(|c| actors::agentctl::report::vpp_file(c)),
    );
    for name in &expected {
        let full = format!("{}/{name}", actors::agentctl::report::ROOT);
        assert!(names.contains(&full), "{full} missing from {names:?}");
    }
    assert!(
        !names.iter().any(|n| n.ends_with(".error.txt")),
        "{names:?}"
    );

    // A report of an agent that is not there is still a report, of error files.
    let port = free_port().to_string();
    let empty = s.dir.path().join("empty.tgz");
    let o = agentctl(
        s.dir.path(),
        &[
            "--http-port",
            &port,
            "report",
            "--out",
            empty.to_str().expect("utf8"),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("sections failed"), "{}", stderr(&o));
    let names = actors::agentctl::report::list_archive(&empty).expect("archive");
    assert!(
        names
            .iter()
            .any(|n| n.ends_with("agent/graph.dot.error.txt")),
        "{names:?}"
    );
}

fn bad_input_changes_nothing(s: &Setup) {
    let keys_before = s.ok(&["kvdb", "list"]);
    let history_before = s.json(&["config", "history"]);
    let bd = "config/vpp/l2/v2/bridge-domain/bd9";
    for (args, code, says) in [
        (
            vec!["kvdb", "put", "config/vpp/v9/nothing/x", "{}"],
            1,
            "config/vpp/v9/nothing/x",
        ),
        (vec!["kvdb", "put", bd, "{\"name\": \"bd9\""], 1, bd),
        (
            vec!["kvdb", "put", bd, r#"{"name":"bd9","flood":"lots"}"#],
            1,
            "flood",
        ),
        (
            vec!["dump", "vpp.nothing"],
            2,
            "unknown model \"vpp.nothing\"",
        ),
        (vec!["values", "--bogus"], 2, "--bogus"),
        (vec!["--timeout", "soon", "status"], 2, "--timeout"),
        (vec!["config", "history", "seven"], 2, "seven"),
    ] {
        let (got, err) = failure(&s.ctl(&args));
        assert_eq!(got, code, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let bad_import = s.dir.path().join("bad.txt");
    std::fs::write(
        &bad_import,
        format!("{bd} {{\"name\":\"bd9\"}}\nconfig/vpp/v2/interfaces/x {{\"name\":\"y\"}}\n"),
    )
    .expect("write");
    let (got, err) = failure(&s.ctl(&["import", bad_import.to_str().expect("utf8")]));
    assert_eq!(got, 1, "{err}");
    assert!(err.contains("config/vpp/v2/interfaces/x"), "{err}");

    // An agent that is not there: one line naming the address, exit 1.
    let port = free_port().to_string();
    let o = agentctl(s.dir.path(), &["--http-port", &port, "values"]);
    let (got, err) = failure(&o);
    assert_eq!(got, 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "cannot reach the agent at http://127.0.0.1:{port}"
        )),
        "{err}"
    );

    assert_eq!(s.ok(&["kvdb", "list"]), keys_before);
    assert_eq!(s.json(&["config", "history"]), history_before);
}

const LOOP1: &str = "config/vpp/v2/interfaces/loop1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agentctl_applies_config_over_grpc() {
    let s = Setup::start("ctlgrpc").await;
    s.until("readiness", &["status"], |v| v["ready"] == true)
        .await;
    s.agent.resynced().await;
    let file = |name: &str, text: &str| {
        let p = s.dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.to_str().expect("utf8").to_owned()
    };
    let update = file(
        "loop1.yaml",
        "vpp_config:\n  interfaces:\n    - {name: loop1, type: SOFTWARE_LOOPBACK, enabled: true, ip_addresses: [10.10.0.1/24]}\n",
    );
    let before_get = s.ok(&["config", "get", "-f", "json"]);
    let before_history = s.json(&["config", "history"]);

    // A dry run prints the plan and changes nothing.
    let plan = s.ok(&["config", "update", "--dry-run", &update]);
    assert!(plan.contains("nothing applied"), "{plan}");
    assert!(
        plan.lines()
            .any(|l| l.starts_with("CREATE") && l.contains(LOOP1)),
        "{plan}"
    );
    let plan = s.json(&["config", "update", "--dry-run", &update]);
    assert_eq!(plan["dry_run"], true, "{plan}");
    assert_eq!(s.ok(&["config", "get", "-f", "json"]), before_get);
    assert_eq!(s.json(&["config", "history"]), before_history);
    assert!(!cli(&s.sim, "show interface").contains("loop0"));

    // Bad input: refused before anything is sent, nothing changes.
    let bad = [
        (
            file("syntax.yaml", "vpp_config: {interfaces: [\n"),
            "syntax.yaml",
        ),
        (file("model.yaml", "vpp_config: {tunnels: []}\n"), "tunnels"),
        (
            file(
                "types.json",
                r#"{"vpp_config":{"interfaces":[{"name":"l","mtu":"big"}]}}"#,
            ),
            "mtu",
        ),
    ];
    for (path, says) in &bad {
        let (code, err) = failure(&s.ctl(&["config", "update", path]));
        assert_eq!(code, 1, "{path}: {err}");
        assert!(err.contains(says), "{path}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let (code, err) = failure(&s.ctl(&["config", "update", "/nonexistent.yaml"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("/nonexistent.yaml"), "{err}");
    assert_eq!(s.ok(&["config", "get", "-f", "json"]), before_get);
    assert_eq!(s.json(&["config", "history"]), before_history);

    // Applied for real: read back over gRPC, REST and in VPP.
    let done = s.ok(&["config", "update", &update]);
    assert!(done.contains("update applied"), "{done}");
    assert!(
        done.lines()
            .any(|l| l.starts_with(LOOP1) && l.contains("CONFIGURED")),
        "{done}"
    );
    let got = s.ok(&["config", "get"]);
    assert!(got.contains("name: loop1"), "{got}");
    let retrieved = s.json(&["config", "retrieve"]);
    assert!(retrieved.to_string().contains("loop1"), "{retrieved}");
    let values = s.json(&["values", "vpp.interfaces"]);
    assert_eq!(state_of(&values, LOOP1).as_deref(), Some("CONFIGURED"));
    assert!(cli(&s.sim, "show interface").contains("loop0"));
    let history = s.json(&["config", "history"]);
    assert!(
        history
            .as_array()
            .and_then(|h| h.last())
            .is_some_and(|t| t["Executed"].to_string().contains(LOOP1)),
        "{history}"
    );
    let note = s.ok(&["--timeout", "20s", "config", "watch", "--max", "1"]);
    let note: Json = serde_json::from_str(&note).unwrap_or_else(|e| panic!("{e}: {note}"));
    assert!(note["next_idx"].as_u64().is_some_and(|n| n >= 1), "{note}");

    // --replace: everything set over gRPC becomes the file's content.
    let loop2 = file(
        "loop2.json",
        r#"{"vpp_config":{"interfaces":[{"name":"loop2","type":"SOFTWARE_LOOPBACK"}]}}"#,
    );
    s.ok(&["config", "update", "--replace", &loop2]);
    let values = s.json(&["values", "vpp.interfaces"]);
    assert_eq!(state_of(&values, LOOP1), None, "{values}");
    assert_eq!(
        state_of(&values, "config/vpp/v2/interfaces/loop2").as_deref(),
        Some("CONFIGURED"),
        "{values}"
    );

    // Delete over gRPC.
    let deleted = s.ok(&["config", "delete", &loop2]);
    assert!(deleted.contains("delete applied"), "{deleted}");
    let values = s.json(&["values", "vpp.interfaces"]);
    assert_eq!(
        state_of(&values, "config/vpp/v2/interfaces/loop2"),
        None,
        "{values}"
    );
    let shown = cli(&s.sim, "show interface");
    assert!(
        !shown.contains("loop0") && !shown.contains("loop1"),
        "{shown}"
    );

    // No gRPC server there: one line naming it, exit 1.
    let port = free_port().to_string();
    let o = agentctl(s.dir.path(), &["--grpc-port", &port, "config", "get"]);
    let (code, err) = failure(&o);
    assert_eq!(code, 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "cannot reach the agent at grpc://127.0.0.1:{port}"
        )),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agentctl_reads_its_flags_from_the_environment_and_sends_basic_auth() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _sim = common::sim_in(dir.path());
    let port = free_port();
    common::write_config(
        dir.path(),
        "http.conf",
        &format!("endpoint: 127.0.0.1:{port}\nclient-basic-auth: [\"admin:secret\"]\n"),
    );
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    common::write_config(
        dir.path(),
        "filedb.conf",
        &format!("configuration-paths: [\"{}\"]\n", data.display()),
    );
    let agent = AgentProcess::start(
        dir.path(),
        &common::label("ctlauth"),
        &[
            "--filedb-config",
            "filedb.conf",
            "--http-config",
            "http.conf",
        ],
        "warn",
    );
    agent.resynced().await;
    let run = |env: &[(&str, &str)], args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_agentctl"))
            .env_clear()
            .envs(env.iter().copied())
            .current_dir(dir.path())
            .args(args)
            .output()
            .expect("run agentctl")
    };
    let port = port.to_string();
    let deadline = std::time::Instant::now() + DEADLINE;
    let status = loop {
        let o = run(
            &[
                ("AGENT_HOST", "127.0.0.1"),
                ("AGENTCTL_HTTP_BASIC_AUTH", "admin:secret"),
            ],
            &["--http-port", &port, "-o", "json", "status"],
        );
        if o.status.success()
            && let Ok(v) = serde_json::from_slice::<Json>(&o.stdout)
            && v["ready"] == true
        {
            break v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "status: {}{}",
            stdout(&o),
            stderr(&o)
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(status["agent"], format!("http://127.0.0.1:{port}"));

    // Wrong or missing credentials: the agent's 401, named, exit 1.
    for env in [&[("AGENTCTL_HTTP_BASIC_AUTH", "admin:wrong")][..], &[]] {
        let (code, err) = failure(&run(env, &["--http-port", &port, "values"]));
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("http 401"), "{err}");
        assert!(err.contains("--http-basic-auth"), "{err}");
    }
    // The flag wins over the env var.
    let o = run(
        &[("AGENTCTL_HTTP_BASIC_AUTH", "admin:wrong")],
        &[
            "--http-port",
            &port,
            "--http-basic-auth",
            "admin:secret",
            "values",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // AGENT_HOST names the agent: a host with nothing listening is reported as such.
    let (code, err) = failure(&run(
        &[("AGENT_HOST", "127.0.0.2")],
        &["--http-port", &port, "status"],
    ));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "cannot reach the agent at http://127.0.0.2:{port}"
        )),
        "{err}"
    );
}
