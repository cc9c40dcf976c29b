//! The extension example end to end: `vpp-agent-iptables` (the agent plus Ligato's iptables
//! rule chain) reading a fileDB file, with vpp-sim as its VPP, configures real iptables chains
//! in a network namespace this test creates (as root), checked with `iptables -S`: a chain
//! waits PENDING for its namespace and, another, for a Linux interface its rules name; it is
//! created with its rules when the namespace appears, repaired by a downstream resync after a
//! hand edit, replaced on an edit, a bad value is INVALID with its reason while the applied
//! chain stays, and removing the key removes the chain. The namespace is deleted at the end.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(30);
const KEY: &str = "config/linux/iptables/v2/rulechain/c1";
const WAITING: &str = "config/linux/iptables/v2/rulechain/c2";

/// A named network namespace, deleted on drop (with any link left in it).
struct Netns(String);

impl Netns {
    fn name_for_test() -> Self {
        let name = format!("exipt{}", std::process::id());
        let _ = ip(&["netns", "del", &name]);
        Netns(name)
    }

    fn create(&self) {
        let out = ip(&["netns", "add", &self.0]);
        assert!(out.status.success(), "ip netns add: {out:?}");
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.0]);
    }
}

fn ip(args: &[&str]) -> std::process::Output {
    Command::new("ip").args(args).output().expect("run ip")
}

/// `iptables -S VPPAGENT` inside the namespace, or "" when the namespace or chain is missing.
fn rules(ns: &Netns) -> String {
    let out = ip(&["netns", "exec", &ns.0, "iptables", "-w", "-S", "VPPAGENT"]);
    if out.status.success() {
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        String::new()
    }
}

/// The agent process, its stdout and stderr in files; killed on drop, the logs printed when
/// the test failed.
struct Agent {
    child: Child,
    logs: [PathBuf; 2],
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            for log in &self.logs {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                eprintln!("--- {} ---\n{text}", log.display());
            }
        }
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Writes the fileDB file with `value` under the test's key (if any) and the chain that waits
/// for an interface.
fn write_store(path: &Path, label: &str, ns: &str, value: Option<&str>) {
    let waiting = format!(
        r#"{{"name":"c2","namespace":{{"type":"NSID","reference":"{ns}"}},"interfaces":["nosuch"],"chain_type":"CUSTOM","chain_name":"WAITING","rules":["-i nosuch -j DROP"]}}"#
    );
    let mut data = vec![format!(
        r#"{{"key":"/vnf-agent/{label}/{WAITING}","value":{waiting}}}"#
    )];
    if let Some(v) = value {
        data.push(format!(
            r#"{{"key":"/vnf-agent/{label}/{KEY}","value":{v}}}"#
        ));
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{{\"data\":[{}]}}\n", data.join(","))).expect("write store");
    std::fs::rename(&tmp, path).expect("rename store");
}

async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn status(http: &reqwest::Client, port: u16, key: &str) -> String {
    let url = format!("http://127.0.0.1:{port}/scheduler/status?key={key}");
    match http.get(url).send().await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_chain_waits_for_its_namespace_then_follows_the_store() {
    let ns = Netns::name_for_test();
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = vpp_sim::SimHandle::start(dir.path(), "23.06").expect("vpp-sim");
    let store: PathBuf = dir.path().join("config.json");
    let label = format!("ipt{}", std::process::id());
    let value = |rules: &str| {
        format!(
            r#"{{"name":"c1","namespace":{{"type":"NSID","reference":"{}"}},"table":"FILTER","chain_type":"CUSTOM","chain_name":"VPPAGENT","rules":[{rules}]}}"#,
            ns.0
        )
    };
    let two_rules = r#""-s 10.1.1.1/32 -j DROP","-p tcp -m tcp --dport 22 -j ACCEPT""#;
    write_store(&store, &label, &ns.0, Some(&value(two_rules)));
    std::fs::write(
        dir.path().join("govpp.conf"),
        format!("binapi-socket-path: {}\n", sim.socket_path().display()),
    )
    .expect("govpp.conf");
    std::fs::write(
        dir.path().join("filedb.conf"),
        format!("configuration-paths: [\"{}\"]\n", store.display()),
    )
    .expect("filedb.conf");
    let port = free_port();
    let logs = [dir.path().join("stdout.log"), dir.path().join("stderr.log")];
    let file = |p: &Path| std::fs::File::create(p).expect("log file");
    let _agent = Agent {
        child: Command::new(env!("CARGO_BIN_EXE_vpp-agent-iptables"))
            .env_clear()
            .env("RUST_LOG", "warn")
            .args(["--config-dir", &dir.path().display().to_string()])
            .args([
                "--govpp-config",
                "govpp.conf",
                "--filedb-config",
                "filedb.conf",
            ])
            .args([
                "--microservice-label",
                &label,
                "--http-port",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(file(&logs[0]))
            .stderr(file(&logs[1]))
            .spawn()
            .expect("start vpp-agent-iptables"),
        logs,
    };
    let http = reqwest::Client::new();
    let wait_status = |key: &'static str, want: &'static [&'static str]| {
        let http = http.clone();
        async move {
            let mut last = String::new();
            let deadline = Instant::now() + DEADLINE;
            while !want.iter().all(|w| last.contains(w)) {
                assert!(Instant::now() < deadline, "{key} never {want:?}: {last}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                last = status(&http, port, key).await;
            }
        }
    };

    // The namespace does not exist yet: both chains wait.
    wait_status(KEY, &["PENDING"]).await;
    wait_status(WAITING, &["PENDING"]).await;
    assert!(rules(&ns).is_empty());

    // It appears: the chain is created in it with its rules, in order. The other chain still
    // waits for its interface.
    ns.create();
    eventually("the chain in the namespace", || {
        rules(&ns).contains("--dport 22")
    })
    .await;
    let listed = rules(&ns);
    let drop_at = listed.find("-s 10.1.1.1/32 -j DROP").expect("first rule");
    let ssh_at = listed.find("--dport 22 -j ACCEPT").expect("second rule");
    assert!(drop_at < ssh_at, "{listed}");
    wait_status(WAITING, &["PENDING", "nosuch"]).await;

    // Someone deletes a rule by hand; a downstream resync puts it back.
    let out = ip(&[
        "netns", "exec", &ns.0, "iptables", "-w", "-D", "VPPAGENT", "1",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(!rules(&ns).contains("10.1.1.1"));
    let resync = http
        .post(format!(
            "http://127.0.0.1:{port}/scheduler/downstream-resync"
        ))
        .send()
        .await
        .expect("downstream resync");
    assert!(resync.status().is_success());
    eventually("the rule repaired", || rules(&ns).contains("10.1.1.1/32")).await;

    // An edit replaces the rules.
    write_store(
        &store,
        &label,
        &ns.0,
        Some(&value(r#""-s 10.2.2.2/32 -j DROP""#)),
    );
    eventually("the edit applied", || {
        let r = rules(&ns);
        r.contains("10.2.2.2/32") && !r.contains("10.1.1.1")
    })
    .await;

    // A bad value (CUSTOM without a chain name) is INVALID with its reason.
    let bad = format!(
        r#"{{"name":"c1","namespace":{{"type":"NSID","reference":"{}"}},"chain_type":"CUSTOM","rules":[]}}"#,
        ns.0
    );
    write_store(&store, &label, &ns.0, Some(&bad));
    wait_status(KEY, &["INVALID", "chain_name"]).await;

    // The key goes: so does the chain.
    write_store(&store, &label, &ns.0, None);
    eventually("the chain removed", || rules(&ns).is_empty()).await;
    drop(sim);
}
