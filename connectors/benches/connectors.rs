//! `cargo bench -p vpp-agent-connectors`: per backend, 10,000 puts
//! observed through the backend's own watch (throughput and put-to-event latency, 64 puts in
//! flight) and a 10,000-key snapshot read; next to `etcdctl` and `redis-benchmark` on the same
//! servers where they are installed. Prints a Markdown table for BENCHMARKS.md.
//!
//! Servers are private (started by the testkit on loopback). The Consul double runs in this
//! process and shares its two cores. fileDB is measured by file edits (agent puts go to the
//! status file, which is not watched).
//!
//! Deliberately not here: statistics beyond one run per backend (the numbers are for
//! comparison within one run on one machine), and any network but loopback.

use std::time::{Duration, Instant};

use connectors::testkit::compliance::json;
use connectors::testkit::consul_double::ConsulDouble;
use connectors::testkit::servers::{EtcdServer, RedisServer};
use connectors::testkit::{TestResult, unique_prefix};
use connectors::{
    ConsulBackend, ConsulOptions, EmbeddedBackend, EmbeddedOptions, EtcdBackend, EtcdOptions,
    FileDbBackend, FileDbOptions, KvBackend, Snapshot, WatchEvent,
};
use futures::StreamExt;

const N: usize = 10_000;
const IN_FLIGHT: usize = 64;

struct Row {
    store: String,
    what: String,
    result: String,
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// 10,000 puts with 64 in flight, each observed through a watch started before them.
async fn puts_through_watch<B: KvBackend>(
    b: &B,
    prefix: &str,
) -> TestResult<(f64, Duration, Duration)> {
    let mut watch = b.watch(prefix, b.snapshot(prefix).await?).await?;
    let observer = tokio::spawn({
        let prefix = prefix.to_owned();
        async move {
            let mut arrived = vec![None; N];
            let mut seen = 0;
            while seen < N {
                match watch.next().await {
                    Some(WatchEvent::Changes(batch)) | Some(WatchEvent::Resynced(batch)) => {
                        let now = Instant::now();
                        for c in batch.changes {
                            if let Some(i) = c
                                .key
                                .strip_prefix(&prefix)
                                .and_then(|k| k.strip_prefix('k'))
                                .and_then(|n| n.parse::<usize>().ok())
                                && i < N
                                && arrived[i].is_none()
                            {
                                arrived[i] = Some(now);
                                seen += 1;
                            }
                        }
                    }
                    Some(_) => {}
                    None => break,
                }
            }
            arrived
        }
    });
    let start = Instant::now();
    let mut puts = futures::stream::iter((0..N).map(|i| async move {
        let t = Instant::now();
        b.put(&format!("{prefix}k{i}"), json(i))
            .await
            .map(|()| (i, t))
    }))
    .buffer_unordered(IN_FLIGHT);
    let mut started = vec![start; N];
    while let Some(r) = puts.next().await {
        let (i, t) = r?;
        started[i] = t;
    }
    let arrived = tokio::time::timeout(Duration::from_secs(300), observer).await??;
    let mut lat = Vec::with_capacity(N);
    let mut last = start;
    for (i, a) in arrived.iter().enumerate() {
        let a = a.ok_or_else(|| format!("put {i} never observed"))?;
        last = last.max(a);
        lat.push(a.saturating_duration_since(started[i]));
    }
    lat.sort();
    let rate = N as f64 / last.duration_since(start).as_secs_f64();
    Ok((rate, pct(&lat, 0.5), pct(&lat, 0.99)))
}

async fn snapshot_time<B: KvBackend>(b: &B, prefix: &str) -> TestResult<Duration> {
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let s: Snapshot = b.snapshot(prefix).await?;
        times.push(t.elapsed());
        if s.entries.len() != N {
            return Err(format!("snapshot had {} keys", s.entries.len()).into());
        }
    }
    times.sort();
    Ok(times[2])
}

async fn bench_backend<B: KvBackend>(
    rows: &mut Vec<Row>,
    name: &str,
    b: &B,
    prefix: &str,
) -> TestResult {
    let (rate, p50, p99) = puts_through_watch(b, prefix).await?;
    rows.push(Row {
        store: name.into(),
        what: format!("10k puts ({IN_FLIGHT} in flight) seen by its watch"),
        result: format!(
            "{rate:.0} puts/s; put-to-event p50 {}, p99 {}",
            ms(p50),
            ms(p99)
        ),
    });
    let snap = snapshot_time(b, prefix).await?;
    rows.push(Row {
        store: name.into(),
        what: "10k-key snapshot (median of 5)".into(),
        result: ms(snap),
    });
    Ok(())
}

async fn tool(
    rows: &mut Vec<Row>,
    store: &str,
    what: &str,
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
) {
    let t = Instant::now();
    let out = tokio::process::Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .await;
    let elapsed = t.elapsed();
    let result = match out {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            // redis-benchmark redraws its progress line with `\r`; keep the final text.
            let last = text
                .split(['\n', '\r'])
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or_default()
                .trim()
                .to_owned();
            if program == "redis-benchmark" {
                last
            } else {
                format!("{} ({} bytes out)", ms(elapsed), o.stdout.len())
            }
        }
        Ok(o) => format!(
            "failed: {}",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .next()
                .unwrap_or_default()
        ),
        Err(e) => format!("not run: {e}"),
    };
    rows.push(Row {
        store: store.into(),
        what: what.into(),
        result,
    });
}

async fn filedb(rows: &mut Vec<Row>) -> TestResult {
    let dir = tempfile::tempdir()?;
    let prefix = unique_prefix();
    let b = FileDbBackend::open(FileDbOptions::new([dir.path()])).await?;
    let mut watch = b.watch(&prefix, Snapshot::empty()).await?;
    // One file edit that adds 10,000 keys.
    let data: Vec<_> = (0..N)
        .map(|i| serde_json::json!({"key": format!("{prefix}k{i}"), "value": {"n": i}}))
        .collect();
    let text = serde_json::to_vec(&serde_json::json!({ "data": data }))?;
    let t = Instant::now();
    std::fs::write(dir.path().join("big.json.tmp~"), &text)?;
    std::fs::rename(
        dir.path().join("big.json.tmp~"),
        dir.path().join("big.json"),
    )?;
    let mut seen = 0;
    while seen < N {
        match tokio::time::timeout(Duration::from_secs(60), watch.next()).await? {
            Some(WatchEvent::Changes(batch)) | Some(WatchEvent::Resynced(batch)) => {
                seen += batch.changes.len()
            }
            Some(_) => {}
            None => return Err("fileDB watch ended".into()),
        }
    }
    rows.push(Row {
        store: "fileDB".into(),
        what: "one edit adding 10k keys, until all seen by the watch (50 ms debounce)".into(),
        result: ms(t.elapsed()),
    });
    // 100 single-key edits, one after the other, each until seen.
    let mut lat = Vec::new();
    for i in 0..100 {
        let body = format!(r#"{{"data":[{{"key":"{prefix}edit","value":{{"n":{i}}}}}]}}"#);
        let t = Instant::now();
        std::fs::write(dir.path().join("edit.json.tmp~"), body)?;
        std::fs::rename(
            dir.path().join("edit.json.tmp~"),
            dir.path().join("edit.json"),
        )?;
        loop {
            match tokio::time::timeout(Duration::from_secs(10), watch.next()).await? {
                Some(WatchEvent::Changes(batch))
                    if batch.changes.iter().any(|c| c.key.ends_with("edit")) =>
                {
                    break;
                }
                Some(_) => {}
                None => return Err("fileDB watch ended".into()),
            }
        }
        lat.push(t.elapsed());
    }
    lat.sort();
    rows.push(Row {
        store: "fileDB".into(),
        what: "100 single-key edits (write + rename), edit-to-event".into(),
        result: format!("p50 {}, p99 {}", ms(pct(&lat, 0.5)), ms(pct(&lat, 0.99))),
    });
    let snap = snapshot_time(&b, &prefix).await;
    let snap = match snap {
        Ok(d) => ms(d),
        Err(_) => {
            // The view holds 10,001 keys under the prefix (the edit key too).
            let t = Instant::now();
            let s = b.snapshot(&prefix).await?;
            format!("{} ({} keys)", ms(t.elapsed()), s.entries.len())
        }
    };
    rows.push(Row {
        store: "fileDB".into(),
        what: "10k-key snapshot".into(),
        result: snap,
    });
    Ok(())
}

async fn run() -> TestResult<Vec<Row>> {
    let mut rows = Vec::new();

    let etcd = EtcdServer::start_private().await?;
    let b = EtcdBackend::connect(EtcdOptions::new([etcd.endpoint().to_owned()])).await?;
    let p = etcd.prefix().to_owned();
    bench_backend(&mut rows, "etcd", &b, &p).await?;
    tool(
        &mut rows,
        "etcd",
        "etcdctl get --prefix of the same 10k keys (one process)",
        "etcdctl",
        &[
            "--endpoints",
            etcd.endpoint(),
            "get",
            "--prefix",
            &p,
            "-w",
            "json",
        ],
        &[("ETCDCTL_API", "3")],
    )
    .await;

    let redis = RedisServer::start_private("KA").await?;
    let b =
        connectors::RedisBackend::connect(connectors::RedisOptions::new(redis.endpoint())).await?;
    let p = redis.prefix().to_owned();
    bench_backend(&mut rows, "redis", &b, &p).await?;
    let port = redis
        .endpoint()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    tool(
        &mut rows,
        "redis",
        "redis-benchmark -t set -n 10000 -c 64 (same server, notifications on)",
        "redis-benchmark",
        &[
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "set",
            "-n",
            "10000",
            "-c",
            "64",
            "-q",
        ],
        &[],
    )
    .await;
    tool(
        &mut rows,
        "redis",
        "redis-benchmark -t get -n 10000 -c 64",
        "redis-benchmark",
        &[
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "get",
            "-n",
            "10000",
            "-c",
            "64",
            "-q",
        ],
        &[],
    )
    .await;

    let double = ConsulDouble::start().await?;
    let b = ConsulBackend::connect(ConsulOptions::new(double.addr().to_string())).await?;
    bench_backend(
        &mut rows,
        "consul (KV double, in process)",
        &b,
        &unique_prefix(),
    )
    .await?;

    let dir = tempfile::tempdir()?;
    let b = EmbeddedBackend::open(EmbeddedOptions::new(dir.path().join("agent.db"))).await?;
    bench_backend(
        &mut rows,
        "embedded (redb, fsync per group commit)",
        &b,
        &unique_prefix(),
    )
    .await?;

    filedb(&mut rows).await?;
    Ok(rows)
}

fn main() -> TestResult {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let rows = rt.block_on(run())?;
    println!("| store | measurement | result |");
    println!("|---|---|---|");
    for r in rows {
        println!("| {} | {} | {} |", r.store, r.what, r.result);
    }
    Ok(())
}
