//! Benchmark: one read of every interface's counters from vpp-sim's stats segment
//! ([`vpp::stats::StatsReader::interfaces`]: header, directory, 17 counter vectors, names,
//! header again), with `VPP_BENCH_STATS_IFACES` loopbacks (default 1,000) that have seen
//! traffic. Prints the mean and the slowest of `VPP_BENCH_STATS_READS` reads (default 1,000)
//! after one connecting read. It deliberately measures the reader alone (no VPP dump, no store).

use std::time::{Duration, Instant};

use vpp::stats::StatsReader;
use vpp_sim::SimHandle;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let ifaces = env("VPP_BENCH_STATS_IFACES", 1000);
    let reads = env("VPP_BENCH_STATS_READS", 1000);
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = SimHandle::start(dir.path(), "23.06").expect("vpp-sim");
    for i in 0..ifaces {
        sim.cli("create loopback interface").expect("cli");
        sim.cli(&format!("test traffic loop{i} {} {}", i + 1, 100 * (i + 1)))
            .expect("cli");
    }
    let socket = sim.stats_socket_path().expect("stats socket").to_owned();
    let mut reader = StatsReader::new(&socket);
    // Deferred directory rewrites of a large segment land by the next heartbeat at the latest.
    let deadline = Instant::now() + Duration::from_secs(5);
    let connect = Instant::now();
    while reader.interfaces().expect("read").len() < ifaces + 1 {
        assert!(
            Instant::now() < deadline,
            "the segment never showed every interface"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "first complete read (connect included): {:?}",
        connect.elapsed()
    );
    let mut slowest = Duration::ZERO;
    let started = Instant::now();
    for _ in 0..reads {
        let t = Instant::now();
        let v = reader.interfaces().expect("read");
        assert_eq!(v.len(), ifaces + 1);
        slowest = slowest.max(t.elapsed());
    }
    let total = started.elapsed();
    println!(
        "{reads} reads of {} interfaces: mean {:?}, slowest {:?}",
        ifaces + 1,
        total / u32::try_from(reads.max(1)).unwrap_or(u32::MAX),
        slowest
    );
}
