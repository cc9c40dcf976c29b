//! The gRPC ConfiguratorService and REST `/configuration` through the real binaries:
//! `vpp-agent` (an empty fileDB store, gRPC and REST on free ports) programming vpp-sim,
//! driven with the generated tonic client: update, get, dump, notify, dry run, a failing value
//! reported per item, bad input refused with nothing changed, full resync, delete; then the
//! same config over `PUT/GET /configuration`.
//!
//! Deliberately not here: the conversion rules (unit tests in `actors::grpc::convert`) and a
//! client we did not write (tests/grpc/check.py).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use actors::grpc::proto::configurator_service_client::ConfiguratorServiceClient;
use actors::grpc::proto::{
    Config, DeleteRequest, DumpRequest, GetRequest, NotifyRequest, UpdateRequest,
};
use actors::grpc::{client, convert};
use common::{AgentProcess, DEADLINE, cli};
use messages::Registry;
use tonic::transport::Channel;

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn registry() -> &'static Registry {
    messages::registry::builtin()
}

fn config(yaml: &str) -> Config {
    convert::config_from_text(registry(), yaml).unwrap_or_else(|e| panic!("{e}"))
}

/// The keys of a Config, sorted.
fn keys(config: &Config) -> Vec<String> {
    let mut k: Vec<String> = convert::config_to_values(registry(), config)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|(k, _)| k.as_str().to_owned())
        .collect();
    k.sort();
    k
}

struct Setup {
    dir: tempfile::TempDir,
    sim: vpp_sim::SimHandle,
    _agent: AgentProcess,
    grpc: ConfiguratorServiceClient<Channel>,
    http: String,
}

async fn setup(name: &str) -> Setup {
    setup_with(name, None, &client::ConnectOptions::default()).await
}

/// Writes grpc.conf into the temp dir: its text and the endpoint to dial.
type GrpcConf = dyn Fn(&Path) -> (String, String);

/// The agent with gRPC from `grpc_conf` (given the temp dir, returns the file's text and the
/// endpoint to dial), or on a free port with `--grpc-port`.
async fn setup_with(
    name: &str,
    grpc_conf: Option<&GrpcConf>,
    opts: &client::ConnectOptions,
) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = common::sim_in(dir.path());
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    common::write_config(
        dir.path(),
        "filedb.conf",
        &format!("configuration-paths: [\"{}\"]\n", data.display()),
    );
    let http_port = free_port();
    let h = http_port.to_string();
    let mut args = vec!["--filedb-config", "filedb.conf", "--http-port", &h];
    let (grpc_arg, endpoint) = match grpc_conf {
        Some(conf) => {
            let (text, endpoint) = conf(dir.path());
            common::write_config(dir.path(), "grpc.conf", &text);
            (
                ["--grpc-config".to_owned(), "grpc.conf".to_owned()],
                endpoint,
            )
        }
        None => {
            let port = free_port();
            (
                ["--grpc-port".to_owned(), port.to_string()],
                format!("127.0.0.1:{port}"),
            )
        }
    };
    args.extend(grpc_arg.iter().map(String::as_str));
    let agent = AgentProcess::start(dir.path(), &common::label(name), &args, "warn");
    agent.resynced().await;
    let start = Instant::now();
    let grpc = loop {
        match client::connect_with(&endpoint, opts).await {
            Ok(c) => break c,
            Err(e) => {
                assert!(start.elapsed() < DEADLINE, "grpc not serving: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    Setup {
        dir,
        sim,
        _agent: agent,
        grpc,
        http: format!("http://127.0.0.1:{http_port}"),
    }
}

async fn get(c: &mut ConfiguratorServiceClient<Channel>) -> Config {
    c.get(GetRequest {})
        .await
        .unwrap_or_else(|e| panic!("get: {e}"))
        .into_inner()
        .config
        .unwrap_or_default()
}

const LOOP1_BD1: &str = "vpp_config:
  interfaces:
    - {name: loop1, type: SOFTWARE_LOOPBACK, enabled: true, ip_addresses: [10.10.0.1/24]}
  bridge_domains:
    - {name: bd1, interfaces: [{name: loop1, bridged_virtual_interface: true}]}
";

const LOOP1: &str = "config/vpp/v2/interfaces/loop1";
const BD1: &str = "config/vpp/l2/v2/bridge-domain/bd1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configurator_service_drives_vpp() {
    let mut s = setup("grpc").await;
    let c = &mut s.grpc;

    // Notify from index 0, only loop1: its creation is the first one to pass.
    let filter = actors::grpc::proto::Notification {
        notification: Some(
            actors::grpc::proto::notification::Notification::VppNotification(
                messages::proto::ligato::vpp::Notification {
                    interface: Some(messages::proto::vpp_interfaces::InterfaceNotification {
                        r#type: 0,
                        state: Some(messages::proto::vpp_interfaces::InterfaceState {
                            name: "loop1".to_owned(),
                            ..Default::default()
                        }),
                    }),
                },
            ),
        ),
    };
    let mut notes = c
        .notify(NotifyRequest {
            idx: 0,
            filters: vec![filter],
        })
        .await
        .unwrap_or_else(|e| panic!("notify: {e}"))
        .into_inner();

    // A dry run plans, applies nothing.
    let req = UpdateRequest {
        update: Some(config(LOOP1_BD1)),
        ..Default::default()
    };
    let plan = c
        .update(client::dry_run(req.clone()))
        .await
        .unwrap_or_else(|e| panic!("dry run: {e}"))
        .into_inner();
    assert!(plan.dry_run);
    assert_eq!(plan.txn_seq, 0);
    assert!(
        plan.ops
            .iter()
            .any(|o| o.operation == "CREATE" && o.key == LOOP1),
        "{plan:?}"
    );
    assert!(
        keys(&get(c).await).is_empty(),
        "a dry run changed the config"
    );
    assert!(!cli(&s.sim, "show interface").contains("loop0"));

    // Update: both configured, one transaction, a result per value.
    let done = c
        .update(req)
        .await
        .unwrap_or_else(|e| panic!("update: {e}"))
        .into_inner();
    assert!(done.txn_seq > 0 && !done.dry_run);
    let results: Vec<(&str, &str, &str)> = done
        .results
        .iter()
        .map(|r| (r.key.as_str(), r.state.as_str(), r.error.as_str()))
        .collect();
    assert_eq!(
        results,
        [(LOOP1, "CONFIGURED", ""), (BD1, "CONFIGURED", "")]
    );
    assert!(cli(&s.sim, "show interface").contains("loop0"));
    assert!(cli(&s.sim, "show bridge-domain").contains("    1   "));

    // Get (NB) and Dump (SB) show both.
    assert_eq!(keys(&get(c).await), [BD1, LOOP1]);
    let dump = c
        .dump(DumpRequest {})
        .await
        .unwrap_or_else(|e| panic!("dump: {e}"))
        .into_inner()
        .dump
        .unwrap_or_default();
    // SB: also what VPP had before (local0, its default routes and tables).
    let dumped = keys(&dump);
    assert!(
        [BD1, LOOP1, "config/vpp/v2/interfaces/local0"]
            .iter()
            .all(|k| dumped.iter().any(|d| d == k)),
        "{dumped:?}"
    );

    // The notification of loop1 coming up.
    let first = tokio::time::timeout(DEADLINE, notes.message())
        .await
        .expect("a notification in time")
        .unwrap_or_else(|e| panic!("notify stream: {e}"))
        .expect("stream open");
    use messages::proto::vpp_interfaces::interface_state::Status;
    let state = |n: &actors::grpc::proto::NotifyResponse| match n
        .notification
        .as_ref()
        .and_then(|n| n.notification.as_ref())
    {
        Some(actors::grpc::proto::notification::Notification::VppNotification(v)) => v
            .interface
            .as_ref()
            .and_then(|i| i.state.clone())
            .unwrap_or_default(),
        _ => Default::default(),
    };
    let up = state(&first);
    assert!(first.next_idx >= 1);
    assert_eq!(
        (up.name.as_str(), up.admin_status, up.oper_status),
        ("loop1", Status::Up as i32, Status::Up as i32),
        "{first:?}"
    );
    // VPP's own name and index come from VPP.
    assert!(up.internal_name.starts_with("loop"), "{up:?}");

    // A change made in VPP behind the agent's back is notified too (VPP is polled).
    cli(
        &s.sim,
        &format!("set interface state {} down", up.internal_name),
    );
    let down = loop {
        let n = tokio::time::timeout(DEADLINE, notes.message())
            .await
            .expect("a notification in time")
            .unwrap_or_else(|e| panic!("notify stream: {e}"))
            .expect("stream open");
        assert_eq!(state(&n).name, "loop1", "filtered: {n:?}");
        if state(&n).admin_status == Status::Down as i32 {
            break n;
        }
    };
    assert!(down.next_idx > first.next_idx, "{down:?}");

    // A failing value: ABORTED naming its key; the good one is applied, results per item.
    let bad = UpdateRequest {
        update: Some(config(
            "vpp_config:
  interfaces: [{name: loop2, type: SOFTWARE_LOOPBACK, enabled: true}]
  bridge_domains: [{name: bdbad, mac_age: 300}]
",
        )),
        ..Default::default()
    };
    let status = c.update(bad).await.expect_err("a failed transaction");
    assert_eq!(status.code(), tonic::Code::Aborted, "{status:?}");
    assert!(
        status
            .message()
            .contains("config/vpp/l2/v2/bridge-domain/bdbad"),
        "{status:?}"
    );
    let outcome = client::failed_outcome(&status).expect("outcome in the details");
    let errors: Vec<(&str, bool)> = outcome
        .results
        .iter()
        .map(|r| (r.key.as_str(), r.error.is_empty()))
        .collect();
    assert_eq!(
        errors,
        [
            ("config/vpp/v2/interfaces/loop2", true),
            ("config/vpp/l2/v2/bridge-domain/bdbad", false)
        ]
    );

    // Bad input (a value without a name): INVALID_ARGUMENT naming the field, nothing changed.
    let before = keys(&get(c).await);
    let nameless = UpdateRequest {
        update: Some(config("vpp_config: {interfaces: [{mtu: 1500}]}")),
        ..Default::default()
    };
    let status = c.update(nameless).await.expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(
        status.message().contains("vpp_config.interfaces[0]"),
        "{status:?}"
    );
    assert_eq!(keys(&get(c).await), before);

    // Full resync: the gRPC source's share becomes loop3 only.
    let resync = UpdateRequest {
        update: Some(config(
            "vpp_config: {interfaces: [{name: loop3, type: SOFTWARE_LOOPBACK}]}",
        )),
        full_resync: true,
        ..Default::default()
    };
    c.update(resync)
        .await
        .unwrap_or_else(|e| panic!("resync: {e}"));
    assert_eq!(keys(&get(c).await), ["config/vpp/v2/interfaces/loop3"]);
    assert!(cli(&s.sim, "show bridge-domain").contains("no bridge-domains in use"));

    // Delete.
    let deleted = c
        .delete(DeleteRequest {
            delete: Some(config("vpp_config: {interfaces: [{name: loop3}]}")),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("delete: {e}"))
        .into_inner();
    assert_eq!(deleted.results.len(), 1);
    assert_eq!(deleted.results[0].state, "REMOVED");
    assert!(keys(&get(c).await).is_empty());
    assert!(!cli(&s.sim, "show interface").contains("loop"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_configuration_round_trip() {
    let mut s = setup("restconf").await;
    let http = reqwest::Client::new();
    let url = format!("{}/configuration", s.http);
    let put = |body: &'static str, query: &'static str| {
        let http = http.clone();
        let url = format!("{url}{query}");
        async move {
            let r = http
                .put(url)
                .body(body)
                .send()
                .await
                .unwrap_or_else(|e| panic!("put: {e}"));
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        }
    };
    let get_yaml = || {
        let http = http.clone();
        let url = url.clone();
        async move {
            http.get(url)
                .send()
                .await
                .unwrap_or_else(|e| panic!("get: {e}"))
                .text()
                .await
                .unwrap_or_default()
        }
    };

    // PUT YAML (lowerCamel names, as Ligato's example), then GET it back as YAML.
    let (code, body) = put(
        "vppConfig:\n  interfaces:\n    - {name: loop1, type: SOFTWARE_LOOPBACK, enabled: true, ipAddresses: [10.10.0.1/24]}\n",
        "",
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains(LOOP1), "{body}");
    let yaml = get_yaml().await;
    assert!(yaml.starts_with("vpp_config:"), "{yaml}");
    assert_eq!(keys(&config(&yaml)), [LOOP1]);
    assert!(cli(&s.sim, "show interface").contains("loop0"));

    // Bad input: 400 naming the model or field; nothing changed.
    for (bad, needle) in [
        ("vpp_config: {acls: [{name: a}]}", "acls"),
        (
            r#"{"vpp_config":{"interfaces":[{"name":"x","mtu":"big"}]}}"#,
            "vpp_config.interfaces[0].mtu",
        ),
        ("vpp_config: [unclosed", "yaml"),
    ] {
        let (code, body) = put(bad, "").await;
        assert_eq!(code, 400, "{bad}: {body}");
        assert!(body.contains(needle), "{bad}: {body}");
    }
    assert_eq!(keys(&config(&get_yaml().await)), [LOOP1]);

    // Dry run, then replace: loop2 only.
    let (code, body) = put(
        "{\"vpp_config\":{\"interfaces\":[{\"name\":\"loop2\",\"type\":\"SOFTWARE_LOOPBACK\"}]}}",
        "?replace&dry-run=true",
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"dry_run\":true"), "{body}");
    assert_eq!(keys(&config(&get_yaml().await)), [LOOP1]);
    let (code, body) = put(
        "{\"vpp_config\":{\"interfaces\":[{\"name\":\"loop2\",\"type\":\"SOFTWARE_LOOPBACK\"}]}}",
        "?replace",
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        keys(&config(&get_yaml().await)),
        ["config/vpp/v2/interfaces/loop2"]
    );
    // The same source as gRPC: Get sees it.
    assert_eq!(
        keys(&get(&mut s.grpc).await),
        ["config/vpp/v2/interfaces/loop2"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_done_answers_once_the_value_is_no_longer_pending() {
    let s = setup("grpcwait").await;
    let fib = "vpp_config: {fibs: [{phys_address: 02:00:00:00:00:01, bridge_domain: bd1, outgoing_interface: loop1, action: FORWARD, static_config: true}]}";
    let fib_key = "config/vpp/l2/v2/fib/bd1/mac/02:00:00:00:00:01";
    // Pending past the client's deadline: the call ends with it (the value stays desired).
    let mut req = tonic::Request::new(UpdateRequest {
        update: Some(config(fib)),
        wait_done: true,
        ..Default::default()
    });
    req.set_timeout(Duration::from_millis(300));
    let err = s
        .grpc
        .clone()
        .update(req)
        .await
        .expect_err("pending past the deadline");
    assert!(
        matches!(
            err.code(),
            tonic::Code::Cancelled | tonic::Code::DeadlineExceeded
        ),
        "{err:?}"
    );

    // The same value again (unchanged, still pending): this call waits for it.
    let mut waiter = s.grpc.clone();
    let req = UpdateRequest {
        update: Some(config(fib)),
        wait_done: true,
        ..Default::default()
    };
    let waiting = tokio::spawn(async move { waiter.update(req).await });

    // Once the FIB entry is desired (and pending), give it what it waits for.
    let mut c = s.grpc.clone();
    let start = Instant::now();
    while !keys(&get(&mut c).await).iter().any(|k| k == fib_key) {
        assert!(start.elapsed() < DEADLINE, "the FIB entry was not applied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!waiting.is_finished(), "wait_done answered while pending");
    c.update(UpdateRequest {
        update: Some(config(LOOP1_BD1)),
        ..Default::default()
    })
    .await
    .unwrap_or_else(|e| panic!("update: {e}"));

    let done = tokio::time::timeout(DEADLINE, waiting)
        .await
        .expect("wait_done answered in time")
        .expect("task")
        .unwrap_or_else(|e| panic!("wait_done update: {e}"))
        .into_inner();
    let states: Vec<(&str, &str)> = done
        .results
        .iter()
        .map(|r| (r.key.as_str(), r.state.as_str()))
        .collect();
    assert_eq!(states, [(fib_key, "CONFIGURED")]);
    assert!(common::fib_macs(&s.sim).contains("02:00:00:00:00:01"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_socket_and_tls_endpoints() {
    // A unix socket with the configured permissions.
    let unix = |dir: &Path| {
        let sock = dir.join("grpc.sock");
        (
            format!(
                "endpoint: {}\nnetwork: unix\npermission: 660\n",
                sock.display()
            ),
            format!("unix:{}", sock.display()),
        )
    };
    let mut s = setup_with("grpcunix", Some(&unix), &client::ConnectOptions::default()).await;
    assert!(keys(&get(&mut s.grpc).await).is_empty());
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.dir.path().join("grpc.sock"))
            .expect("socket")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o660);
    }

    // TLS with client certificates required (ca-files).
    let pki = connectors::testkit::pki::TestPki::generate().expect("pki");
    let port = free_port();
    let conf = format!(
        "endpoint: 127.0.0.1:{port}\ncert-file: {}\nkey-file: {}\nca-files: [\"{}\"]\n",
        pki.server_cert.display(),
        pki.server_key.display(),
        pki.ca.display()
    );
    let tls_conf = move |_: &Path| (conf.clone(), format!("127.0.0.1:{port}"));
    let opts = client::ConnectOptions {
        tls: true,
        ca_file: Some(pki.ca.clone()),
        cert_file: Some(pki.client_cert.clone()),
        key_file: Some(pki.client_key.clone()),
        server_name: Some("localhost".to_owned()),
    };
    let mut s = setup_with("grpctls", Some(&tls_conf), &opts).await;
    s.grpc
        .update(UpdateRequest {
            update: Some(config(LOOP1_BD1)),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("update over tls: {e}"));
    assert_eq!(keys(&get(&mut s.grpc).await), [BD1, LOOP1]);
    // Plain text, or TLS without a client certificate, gets no answer.
    let plain_refused = match client::connect(&format!("127.0.0.1:{port}")).await {
        Ok(mut c) => c.get(GetRequest {}).await.is_err(),
        Err(_) => true,
    };
    assert!(plain_refused, "a plain-text client was served");
    let no_cert = client::ConnectOptions {
        cert_file: None,
        key_file: None,
        ..opts.clone()
    };
    let refused = match client::connect_with(&format!("127.0.0.1:{port}"), &no_cert).await {
        Ok(mut c) => c.get(GetRequest {}).await.is_err(),
        Err(_) => true,
    };
    assert!(refused, "a client without a certificate was served");
}
