//! Client v2 walk-through: configures an in-process agent driving vpp-sim with the local
//! client (a dry run, the change, a resync), then writes config with the remote client to a
//! KV store: etcd when `ETCD_ENDPOINTS` is set (the agent watches it and applies the change),
//! otherwise the embedded store in a temp dir (read back and decoded).
//!
//! `cargo run -p vpp-agent-actors --example client-v2`; exits non-zero when a step fails or
//! vpp-sim does not converge within 20 s.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actors::agent::{Agent, AgentSpec};
use actors::client::{Client, LocalClient, RemoteClient, RemoteReport};
use actors::connector::Backoff;
use actors::msg::{QueryValueStatus, SourceId};
use anyhow::{Context, bail};
use connectors::{AnyBackend, BackendOptions, EmbeddedOptions, EtcdOptions, KvBackend};
use kvscheduler::{Scheduler, SchedulerConfig, SystemClock, TxnReport};
use messages::proto::vpp_interfaces::{Interface, interface};
use messages::proto::vpp_l2::{BridgeDomain, FibEntry, bridge_domain, fib_entry};
use messages::{Key, MicroserviceLabel, Registry};
use vpp_sim::SimHandle;

const DEADLINE: Duration = Duration::from_secs(20);

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => {
            println!("client-v2 example: all steps converged");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("client-v2 example failed: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let sim = SimHandle::start(dir.path(), "23.06").context("start vpp-sim")?;
    // The descriptors block on VPP requests from the scheduler thread: the binary API client
    // runs on its own runtime, as in the agent binary.
    let vpp_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let cfg = binapi::Config::new(sim.socket_path());
    let (_vpp_client, api) = vpp_rt
        .block_on(async {
            tokio::time::timeout(
                DEADLINE,
                actors::vpp_conn::connect_vpp(cfg, vpp_rt.handle().clone(), Duration::from_secs(1)),
            )
            .await
        })
        .context("connect to vpp-sim")?;
    let descriptors = vpp::descriptors::all(&vpp::ApiHandle::new(api));
    let etcd: Option<Vec<String>> = std::env::var("ETCD_ENDPOINTS")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .map(|e| e.split(',').map(|s| s.trim().to_owned()).collect());
    let label = MicroserviceLabel::new(format!("client-v2-{}", std::process::id()))?;

    actix::System::new().block_on(async move {
        let factory: actors::scheduler::SchedulerFactory = Arc::new(move || {
            let mut s = Scheduler::new(SchedulerConfig::default(), Arc::new(SystemClock));
            for d in &descriptors {
                if let Err(e) = s.register(d.clone()) {
                    eprintln!("descriptor not registered: {e}");
                }
            }
            s
        });
        let stores = match &etcd {
            Some(endpoints) => vec![(
                SourceId::new("etcd"),
                BackendOptions::Etcd(EtcdOptions::new(endpoints.clone())),
            )],
            None => Vec::new(),
        };
        let agent = Agent::start(AgentSpec {
            label: label.clone(),
            registry: Arc::new(Registry::builtin()),
            stores,
            scheduler: factory,
            retry: None,
            backoff: Backoff::default(),
            observers: Vec::new(),
            status_publishing: None,
        });
        local_client(&agent, &sim).await?;
        match etcd {
            Some(endpoints) => remote_etcd(&agent, &sim, &label, endpoints).await,
            None => remote_embedded(&label, &dir.path().join("client-v2.db")).await,
        }
    })
}

fn tap(name: &str) -> Interface {
    Interface {
        name: name.to_owned(),
        r#type: interface::Type::Tap.into(),
        enabled: true,
        ..Default::default()
    }
}

fn loopback(name: &str, ip: &str) -> Interface {
    Interface {
        name: name.to_owned(),
        r#type: interface::Type::SoftwareLoopback.into(),
        enabled: true,
        ip_addresses: vec![ip.to_owned()],
        ..Default::default()
    }
}

fn bridge_domain(name: &str, members: &[&str]) -> BridgeDomain {
    BridgeDomain {
        name: name.to_owned(),
        forward: true,
        learn: true,
        interfaces: members
            .iter()
            .map(|m| bridge_domain::Interface {
                name: (*m).to_owned(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

const MAC: &str = "62:89:c6:a3:6d:5c";

fn fib() -> FibEntry {
    FibEntry {
        phys_address: MAC.to_owned(),
        bridge_domain: "bd1".to_owned(),
        outgoing_interface: "tap1".to_owned(),
        action: fib_entry::Action::Forward.into(),
        ..Default::default()
    }
}

fn print_report(what: &str, r: &TxnReport) {
    let kind = if r.dry_run { "planned" } else { "executed" };
    println!("{what}: transaction #{} ({kind}):", r.seq_num);
    for op in r.brief() {
        println!("    {op}");
    }
    for f in &r.failed {
        println!("    FAILED {}: {}", f.key, f.error);
    }
}

fn print_remote(what: &str, r: &RemoteReport) {
    let how = if r.dry_run {
        "planned only".to_owned()
    } else {
        let revision = r.revision.map_or("none".to_owned(), |n| n.to_string());
        let atomic = if r.atomic {
            "one store transaction"
        } else {
            "sequential writes"
        };
        format!("{atomic}, store revision {revision}")
    };
    println!("{what}: {} store write(s), {how}:", r.ops.len());
    for op in r.brief() {
        println!("    {op}");
    }
}

/// Polls vpp-sim's CLI until `cond` holds on the output of `cmd`.
async fn converge(
    sim: &SimHandle,
    what: &str,
    cmd: &str,
    cond: impl Fn(&str) -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let text = sim.cli(cmd).map(|r| r.text).unwrap_or_default();
        if cond(&text) {
            println!("    vpp-sim: {what}");
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("vpp-sim did not converge within {DEADLINE:?}: {what}; `{cmd}` says:\n{text}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn local_client(agent: &Agent, sim: &SimHandle) -> anyhow::Result<()> {
    println!("== local client (in-process, source `local`)");
    let local = LocalClient::new(agent);
    let change = || {
        local
            .change()
            .put(&tap("tap1"))
            .put(&loopback("loop1", "10.10.1.1/24"))
            .put(&bridge_domain("bd1", &["tap1"]))
            .put(&fib())
    };
    let plan = change().dry_run().await?;
    print_report("dry run of the change", &plan);
    if !plan.dry_run || plan.ops().is_empty() {
        bail!("the dry run planned nothing");
    }
    if sim.cli("show interface")?.text.contains("tap0") {
        bail!("the dry run created an interface");
    }

    let report = change().send().await?;
    print_report("change", &report);
    if !report.is_ok() {
        bail!("the change failed: {:?}", report.failed);
    }
    converge(sim, "tap0 and loop0 exist", "show interface", |t| {
        t.contains("tap0") && t.contains("loop0")
    })
    .await?;
    converge(sim, "bridge domain 1 exists", "show bridge-domain", |t| {
        t.contains("    1   ")
    })
    .await?;
    converge(
        sim,
        "the FIB entry is in the L2 FIB",
        "show l2fib verbose",
        |t| t.to_lowercase().contains(MAC),
    )
    .await?;

    // A resync replaces all of the local client's config: loop1 is left out, so deleted.
    let report = local
        .resync()
        .put(&tap("tap1"))
        .put(&bridge_domain("bd1", &["tap1"]))
        .put(&fib())
        .send()
        .await?;
    print_report("resync without loop1", &report);
    if !report.is_ok() {
        bail!("the resync failed: {:?}", report.failed);
    }
    converge(sim, "loop0 is gone, tap0 stays", "show interface", |t| {
        t.contains("tap0") && !t.contains("loop0")
    })
    .await?;

    // Bad input: a message of no registered model is refused before anything is sent.
    let bad = local
        .change()
        .put(&messages::proto::ligato::kvscheduler::ValueStatus::default())
        .send()
        .await;
    match bad {
        Err(e) => println!("a value of no model is refused: {e}"),
        Ok(r) => bail!("a value of no model was accepted: {:?}", r.brief()),
    }
    Ok(())
}

async fn remote_etcd(
    agent: &Agent,
    sim: &SimHandle,
    label: &MicroserviceLabel,
    endpoints: Vec<String>,
) -> anyhow::Result<()> {
    println!(
        "== remote client (etcd {endpoints:?}, prefix {})",
        label.agent_prefix()
    );
    let backend = AnyBackend::open(BackendOptions::Etcd(EtcdOptions::new(endpoints))).await?;
    let remote = RemoteClient::new(backend, label.clone());
    let change = || {
        remote
            .change()
            .put(&loopback("loop2", "10.10.2.1/24"))
            .put(&tap("tap2"))
    };
    print_remote("dry run", &change().dry_run().await?);
    let report = change().send().await?;
    print_remote("change", &report);
    converge(
        sim,
        "the agent applied loop2 and tap2 from etcd",
        "show interface",
        |t| t.contains("loop") && t.contains("tap0") && t.contains("tap1"),
    )
    .await?;
    let key = Key::from("config/vpp/v2/interfaces/loop2");
    let deadline = Instant::now() + DEADLINE;
    loop {
        let status = agent
            .scheduler
            .send(QueryValueStatus { key: key.clone() })
            .await?;
        if status.value.state == kvscheduler::ValueState::Configured {
            println!("    agent status of {key}: CONFIGURED");
            break;
        }
        if Instant::now() >= deadline {
            bail!("{key} not configured: {status:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Clean up this label's config (the label is unique to this run).
    let report = remote.resync().send().await?;
    print_remote("resync to nothing", &report);
    remote.backend().close().await?;
    Ok(())
}

async fn remote_embedded(label: &MicroserviceLabel, db: &Path) -> anyhow::Result<()> {
    println!(
        "== remote client (embedded store {}, prefix {}; set ETCD_ENDPOINTS to have the agent apply it)",
        db.display(),
        label.agent_prefix()
    );
    let backend = AnyBackend::open(BackendOptions::Embedded(EmbeddedOptions::new(db))).await?;
    let remote = RemoteClient::new(backend, label.clone());
    let report = remote
        .change()
        .put(&tap("tap2"))
        .put(&bridge_domain("bd2", &["tap2"]))
        .send()
        .await?;
    print_remote("change", &report);
    let plan = remote.resync().put(&tap("tap2")).dry_run().await?;
    print_remote("dry run of a resync keeping tap2 only", &plan);
    let report = remote.resync().put(&tap("tap2")).send().await?;
    print_remote("resync keeping tap2 only", &report);
    let snapshot = remote.backend().snapshot(&label.agent_prefix()).await?;
    let registry = Registry::builtin();
    let mut keys = Vec::new();
    for (store_key, bytes) in &snapshot.entries {
        let key = label
            .strip_prefix(store_key)
            .context("a key of another label")?;
        let value = registry.decode_json(key.as_str(), bytes)?;
        println!(
            "    stored {store_key} = {}",
            String::from_utf8_lossy(bytes)
        );
        if value.is_some() {
            keys.push(key.to_string());
        }
    }
    if keys != ["config/vpp/v2/interfaces/tap2"] {
        bail!("the store holds {keys:?}, expected tap2 only");
    }
    remote.backend().close().await?;
    Ok(())
}
