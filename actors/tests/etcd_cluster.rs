//! etcd as a 3-member cluster on loopback (as users run it in production): the agent is given
//! all three client URLs, the member it holds a connection to is killed, and the agent
//! carries on through the other two: changes made afterwards reach vpp-sim, which ends up
//! holding exactly what etcd holds, with nothing VPP already had created again.
//!
//! Deliberately not here: TLS, and losing quorum (two members down stops etcd itself).

mod common;

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{AgentProcess, KvStore, Store, converges, fib, fib_macs};
use connectors::{EtcdBackend, EtcdOptions, KvBackend};
use tokio::process::{Child, Command};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

struct Cluster {
    members: Vec<Option<Child>>,
    clients: Vec<u16>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    async fn start() -> Cluster {
        let dir = tempfile::tempdir().expect("tempdir");
        let clients: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let peers: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let initial: Vec<String> = peers
            .iter()
            .enumerate()
            .map(|(i, p)| format!("m{i}=http://127.0.0.1:{p}"))
            .collect();
        let members = (0..3)
            .map(|i| {
                let c = format!("http://127.0.0.1:{}", clients[i]);
                let p = format!("http://127.0.0.1:{}", peers[i]);
                let log = std::fs::File::create(dir.path().join(format!("m{i}.log"))).expect("log");
                Some(
                    Command::new("etcd")
                        .args(["--name", &format!("m{i}")])
                        .arg("--data-dir")
                        .arg(dir.path().join(format!("m{i}")))
                        .args(["--listen-client-urls", &c, "--advertise-client-urls", &c])
                        .args([
                            "--listen-peer-urls",
                            &p,
                            "--initial-advertise-peer-urls",
                            &p,
                        ])
                        .args(["--initial-cluster", &initial.join(",")])
                        .args(["--initial-cluster-state", "new", "--log-level", "warn"])
                        // Fast leader election after a kill.
                        .args(["--heartbeat-interval", "50", "--election-timeout", "500"])
                        .stdout(log.try_clone().expect("log"))
                        .stderr(log)
                        .kill_on_drop(true)
                        .spawn()
                        .expect("etcd (Debian package etcd-server)"),
                )
            })
            .collect();
        let cluster = Cluster {
            members,
            clients,
            _dir: dir,
        };
        // Ready once a write through each member succeeds (the cluster has a leader).
        for i in 0..3 {
            writable(&[cluster.endpoint(i)]).await;
        }
        cluster
    }

    fn endpoint(&self, i: usize) -> String {
        format!("127.0.0.1:{}", self.clients[i])
    }

    async fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.members[i].take() {
            c.kill().await.expect("kill member");
        }
    }
}

/// A client of `endpoints`, once a write through them succeeds (a leader is elected).
async fn writable(endpoints: &[String]) -> EtcdBackend {
    let deadline = Instant::now() + common::DEADLINE;
    loop {
        let mut o = EtcdOptions::new(endpoints.to_vec());
        o.dial_timeout = Duration::from_millis(500);
        if let Ok(c) = EtcdBackend::connect(o).await
            && c.put("/cluster-ready", "1".into()).await.is_ok()
        {
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "etcd cluster not writable through {endpoints:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Client ports of established TCP connections of process `pid` (from /proc).
fn connected_ports(pid: u32) -> BTreeSet<u16> {
    let inodes: BTreeSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter_map(|l| {
                    let s = l.to_string_lossy().into_owned();
                    Some(s.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    let table = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // rem_address is field 2 (hex ip:port), st field 3 (01 = established), inode field 9.
            if f.len() < 10 || f[3] != "01" || !inodes.contains(f[9]) {
                return None;
            }
            u16::from_str_radix(f[2].split(':').nth(1)?, 16).ok()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_carries_on_when_its_etcd_member_is_killed() {
    let mut cluster = Cluster::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = common::sim_in(dir.path());
    let all: Vec<String> = (0..3)
        .map(|i| format!("\"{}\"", cluster.endpoint(i)))
        .collect();
    common::write_config(
        dir.path(),
        "etcd.conf",
        &format!("endpoints: [{}]\n", all.join(", ")),
    );
    let label = common::label("cluster");
    let agent = AgentProcess::start(dir.path(), &label, &["--etcd-config", "etcd.conf"], "info");
    agent.resynced().await;
    let mut expected = BTreeSet::new();
    {
        let store = KvStore::new(
            EtcdBackend::connect(EtcdOptions::new([
                cluster.endpoint(0),
                cluster.endpoint(1),
                cluster.endpoint(2),
            ]))
            .await
            .expect("client"),
            &label,
        );
        common::put_bd_and_tap(&store).await;
        for n in 1..=4 {
            let (k, v, m) = fib(n);
            store.put(&k, &v).await;
            expected.insert(m);
        }
    }
    converges("before the kill", &expected, || fib_macs(&sim)).await;

    let ports = connected_ports(agent.pid());
    let victim = (0..3)
        .find(|i| ports.contains(&cluster.clients[*i]))
        .unwrap_or_else(|| panic!("the agent holds no etcd connection: {ports:?}"));
    cluster.kill(victim).await;
    let rest: Vec<String> = (0..3)
        .filter(|i| *i != victim)
        .map(|i| cluster.endpoint(i))
        .collect();
    let store = KvStore::new(writable(&rest).await, &label);
    for n in [1u8, 2] {
        let (k, _, m) = fib(n);
        store.del(&k).await;
        expected.remove(&m);
    }
    for n in [5u8, 6] {
        let (k, v, m) = fib(n);
        store.put(&k, &v).await;
        expected.insert(m);
    }
    converges("after the kill", &expected, || fib_macs(&sim)).await;
    let log = agent.stdout();
    for key in (1..=6).map(|n| fib(n).0).chain([common::TAP.to_owned()]) {
        let n = log
            .matches(&format!("CREATE:\n          - key: {key}\n"))
            .count();
        assert!(n <= 1, "{key} created {n} times:\n{log}");
    }
}
