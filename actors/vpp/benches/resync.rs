//! Benchmark: 10,000 loopback interfaces (each enabled, with one address) plus 50,000 routes
//! through them, applied as one full resync into vpp-sim over its unix socket (23.06), next to
//! a raw replay of the same binapi requests, one at a time, on a second simulator in the same
//! run (the floor). Prints wall time, ratio, request counts and resident memory.
//!
//! It then times an agent restart: a new scheduler resyncs the same values over the now
//! configured VPP (every retrieve dump, no change expected). Sizes come from `VPP_BENCH_IFACES` and `VPP_BENCH_ROUTES`. It deliberately measures
//! sequential requests (one in flight), as the scheduler issues them; the simulators run in
//! this process, so memory is reported as deltas around each run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use binapi::vpp2306 as rel;
use kvscheduler::{ManualClock, Scheduler, SchedulerConfig, Txn};
use messages::Value;
use messages::proto::vpp_interfaces::Interface;
use messages::proto::vpp_interfaces::interface::Type;
use messages::proto::vpp_l3::Route;
use tokio::runtime::Runtime;
use vpp::ApiHandle;
use vpp_sim::SimHandle;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// (VmRSS, VmHWM) in KiB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn addr(i: usize) -> [u8; 4] {
    [10, (i / 256) as u8, (i % 256) as u8, 1]
}

fn dst(r: usize) -> [u8; 4] {
    [
        100 + (r / 65536) as u8,
        ((r / 256) % 256) as u8,
        (r % 256) as u8,
        0,
    ]
}

fn config(ifaces: usize, routes: usize) -> Vec<(messages::Key, Value)> {
    let mut out: Vec<(messages::Key, Value)> = Vec::with_capacity(ifaces + routes);
    for i in 0..ifaces {
        let a = addr(i);
        let v: Value = Arc::new(Interface {
            name: format!("lo{i}"),
            r#type: Type::SoftwareLoopback as i32,
            enabled: true,
            ip_addresses: vec![format!("{}.{}.{}.{}/24", a[0], a[1], a[2], a[3])],
            ..Default::default()
        });
        out.push((messages::registry::builtin().key_of(&*v).expect("key"), v));
    }
    for r in 0..routes {
        let i = r % ifaces.max(1);
        let (a, d) = (addr(i), dst(r));
        let v: Value = Arc::new(Route {
            dst_network: format!("{}.{}.{}.{}/24", d[0], d[1], d[2], d[3]),
            next_hop_addr: format!("{}.{}.{}.254", a[0], a[1], a[2]),
            outgoing_interface: format!("lo{i}"),
            ..Default::default()
        });
        out.push((messages::registry::builtin().key_of(&*v).expect("key"), v));
    }
    out
}

fn start(rt_dir: &tempfile::TempDir, name: &str) -> SimHandle {
    let dir = rt_dir.path().join(name);
    std::fs::create_dir_all(&dir).expect("dir");
    SimHandle::start(&dir, "23.06").expect("vpp-sim")
}

fn client(rt: &Runtime, sim: &SimHandle) -> binapi::Client {
    let mut c = binapi::Config::new(sim.socket_path());
    c.health_interval = None;
    c.request_timeout = Duration::from_secs(60);
    rt.block_on(binapi::Client::connect(c)).expect("connect")
}

/// The requests the agent sends, sent directly: per interface create, tag, one-interface
/// dump, admin up, table 0 for IPv4, address; then every route.
async fn replay(c: &binapi::Client, ifaces: usize, routes: usize) -> Result<usize, binapi::Error> {
    let mut requests = 0;
    let mut idx = Vec::with_capacity(ifaces);
    for i in 0..ifaces {
        let r = c
            .request(&rel::CreateLoopback {
                mac_address: rel::MacAddress([0; 6]),
            })
            .await?;
        let sw = r.sw_if_index;
        idx.push(sw);
        c.request(&rel::SwInterfaceTagAddDel {
            is_add: true,
            sw_if_index: sw,
            tag: format!("lo{i}"),
        })
        .await?;
        c.dump(&rel::SwInterfaceDump {
            sw_if_index: sw,
            name_filter_valid: false,
            name_filter: String::new(),
        })
        .await?;
        c.request(&rel::SwInterfaceSetFlags {
            sw_if_index: sw,
            flags: rel::IfStatusFlags::IF_STATUS_API_FLAG_ADMIN_UP,
        })
        .await?;
        c.request(&rel::SwInterfaceSetTable {
            sw_if_index: sw,
            is_ipv6: false,
            vrf_id: 0,
        })
        .await?;
        let a = addr(i);
        c.request(&rel::SwInterfaceAddDelAddress {
            sw_if_index: sw,
            is_add: true,
            del_all: false,
            prefix: rel::Prefix::new(std::net::Ipv4Addr::from(a).into(), 24),
        })
        .await?;
        requests += 6;
    }
    for r in 0..routes {
        let i = r % ifaces.max(1);
        let mut nh = [0u8; 16];
        let a = addr(i);
        nh[..4].copy_from_slice(&[a[0], a[1], a[2], 254]);
        let path = rel::FibPath {
            sw_if_index: idx[i].0,
            table_id: 0,
            weight: 1,
            nh: rel::FibPathNh {
                address: rel::AddressUnion(nh),
                ..Default::default()
            },
            ..Default::default()
        };
        c.request(&rel::IpRouteAddDel {
            is_add: true,
            is_multipath: true,
            route: rel::IpRoute {
                table_id: 0,
                stats_index: 0,
                prefix: rel::Prefix::new(std::net::Ipv4Addr::from(dst(r)).into(), 24),
                paths: vec![path],
            },
        })
        .await?;
        requests += 1;
    }
    Ok(requests)
}

fn main() {
    let ifaces = env("VPP_BENCH_IFACES", 10_000);
    let routes = env("VPP_BENCH_ROUTES", 50_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let values = config(ifaces, routes);

    // The floor: the same requests, sent directly.
    let sim_raw = start(&dir, "raw");
    let c = client(&rt, &sim_raw);
    let (rss0, _) = memory();
    let t = Instant::now();
    let requests = rt.block_on(replay(&c, ifaces, routes)).expect("replay");
    let raw = t.elapsed();
    let (rss1, _) = memory();

    // The agent: one full resync through the scheduler and the 23.06 handler.
    let sim = start(&dir, "agent");
    let c = client(&rt, &sim);
    let api = rt
        .block_on(vpp::connect(c, rt.handle().clone()))
        .expect("handler");
    let handle = ApiHandle::new(api);
    let config = SchedulerConfig {
        print_txn_summary: false,
        record_transaction_history: false,
        ..SchedulerConfig::default()
    };
    let mut s = Scheduler::new(config, Arc::new(ManualClock::new(1_700_000_000)));
    vpp::descriptors::register_all(&mut s, &handle).expect("register");
    let (rss2, _) = memory();
    let t = Instant::now();
    let report = s.commit(Txn::full_resync(values.clone())).expect("resync");
    let agent = t.elapsed();
    let (rss3, _) = memory();
    assert!(report.is_ok(), "{:?}", report.failed.first());
    let ops = report.ops().len();
    let vpp_state = sim.state().expect("state");
    assert_eq!(vpp_state.interfaces().count(), ifaces + 1);

    // An agent restart: a new scheduler resyncs the same values over the configured VPP.
    let mut again = Scheduler::new(
        SchedulerConfig {
            print_txn_summary: false,
            record_transaction_history: false,
            ..SchedulerConfig::default()
        },
        Arc::new(ManualClock::new(1_700_000_000)),
    );
    vpp::descriptors::register_all(&mut again, &handle).expect("register");
    let t = Instant::now();
    let report = again
        .commit(Txn::full_resync(values))
        .expect("restart resync");
    let restart = t.elapsed();
    assert!(report.is_ok(), "{:?}", report.failed.first());
    let changed = report
        .ops()
        .iter()
        .filter(|o| !o.noop && !o.brief().contains("OBTAINED"))
        .count();
    let (_, hwm) = memory();

    println!("vpp resync benchmark (vpp-sim 23.06 over its unix socket, one request in flight)");
    println!("  objects: {ifaces} interfaces + {routes} routes ({ops} scheduler operations)");
    println!(
        "  raw replay:   {:>8.3} s  {requests} requests ({:.1} us/request)",
        raw.as_secs_f64(),
        raw.as_secs_f64() * 1e6 / requests.max(1) as f64
    );
    println!("  agent resync: {:>8.3} s", agent.as_secs_f64());
    println!(
        "  ratio agent/raw: {:.2}",
        agent.as_secs_f64() / raw.as_secs_f64()
    );
    println!(
        "  restart resync over the configured vpp (all dumps, nothing to change): {:.3} s, {changed} changing operations",
        restart.as_secs_f64()
    );
    println!(
        "  rss delta: raw replay {} MiB, agent resync {} MiB (both include the simulator's own state); peak rss {} MiB",
        (rss1.saturating_sub(rss0)) / 1024,
        (rss3.saturating_sub(rss2)) / 1024,
        hwm / 1024
    );
}
