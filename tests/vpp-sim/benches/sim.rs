//! The simulator's own cost per request, over the real socket (`cargo bench -p vpp-sim`):
//! N `create_loopback` then N `sw_interface_set_flags`, one at a time with binapi's client
//! (round trip per request), pipelined with binapi's client (many in flight), and pipelined
//! as raw frames written at once (no client-side work: the simulator's throughput).
//!
//! Prints one line per scenario; N comes from `SIM_BENCH_N` (default 10000, at most 16384
//! since loopback instances run out there). It is a plain binary, not a statistics harness.

use std::time::{Duration, Instant};

use binapi::codec::frame::{FrameCodec, encode_frame};
use binapi::codec::message::Header;
use binapi::vpp2306 as api;
use binapi::{Client, Config};
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio_util::codec::FramedRead;
use vpp_sim::SimHandle;

fn report(name: &str, n: usize, elapsed: Duration) {
    let per = elapsed.as_secs_f64() * 1e6 / n as f64;
    let rate = n as f64 / elapsed.as_secs_f64();
    println!("{name:<44} {n:>6} requests  {per:>8.2} us/request  {rate:>10.0} requests/s");
}

fn config(sim: &SimHandle) -> Config {
    let mut c = Config::new(sim.socket_path());
    c.health_interval = None;
    c.request_timeout = Duration::from_secs(60);
    c
}

fn up(idx: u32) -> api::SwInterfaceSetFlags {
    api::SwInterfaceSetFlags {
        sw_if_index: api::InterfaceIndex(idx),
        flags: api::IfStatusFlags(1),
    }
}

async fn one_at_a_time(sim: &SimHandle, n: usize) -> anyhow::Result<()> {
    let c = Client::connect(config(sim)).await?;
    let start = Instant::now();
    let mut idx = Vec::with_capacity(n);
    for _ in 0..n {
        idx.push(
            c.request(&api::CreateLoopback::default())
                .await?
                .sw_if_index
                .0,
        );
    }
    report(
        "create_loopback, one at a time (client)",
        n,
        start.elapsed(),
    );
    let start = Instant::now();
    for i in &idx {
        c.request(&up(*i)).await?;
    }
    report(
        "sw_interface_set_flags, one at a time (client)",
        n,
        start.elapsed(),
    );
    Ok(())
}

async fn pipelined_client(sim: &SimHandle, n: usize) -> anyhow::Result<()> {
    let c = Client::connect(config(sim)).await?;
    let start = Instant::now();
    let creates = futures::stream::iter(0..n)
        .map(|_| {
            let c = c.clone();
            async move { c.request(&api::CreateLoopback::default()).await }
        })
        .buffered(512)
        .collect::<Vec<_>>()
        .await;
    report(
        "create_loopback, pipelined (client, 512 in flight)",
        n,
        start.elapsed(),
    );
    let idx: Vec<u32> = creates
        .into_iter()
        .map(|r| r.map(|r| r.sw_if_index.0))
        .collect::<Result<_, _>>()?;
    let start = Instant::now();
    let flags = futures::stream::iter(idx)
        .map(|i| {
            let c = c.clone();
            async move { c.request(&up(i)).await }
        })
        .buffered(512)
        .collect::<Vec<_>>()
        .await;
    report(
        "sw_interface_set_flags, pipelined (client, 512 in flight)",
        n,
        start.elapsed(),
    );
    flags.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(())
}

/// Writes all frames at once and reads every reply: only the simulator works per request.
async fn pipelined_raw(sim: &SimHandle, n: usize) -> anyhow::Result<()> {
    let probe = Client::connect(config(sim)).await?;
    let table = probe.table().clone();
    probe.disconnect().await?;
    let stream = tokio::net::UnixStream::connect(sim.socket_path()).await?;
    let (read, mut write) = stream.into_split();
    let mut frames = FramedRead::new(read, FrameCodec::default());
    let mut hello = Vec::new();
    let create = binapi::messages::SockclntCreate {
        name: "bench".to_owned(),
    };
    encode_frame(&mut hello, 15, Header::default(), &create)?;
    write.write_all(&hello).await?;
    let reply = frames
        .next()
        .await
        .ok_or_else(|| anyhow::anyhow!("no handshake"))??;
    let (_, _, reply) =
        binapi::codec::message::decode_payload::<binapi::messages::SockclntCreateReply>(&reply)?;
    let handle = reply.index;
    let id = |name: &str| {
        table
            .id(name)
            .ok_or_else(|| anyhow::anyhow!("{name} not in table"))
    };
    let create_id = id("create_loopback_42bb5d22")?;
    let flags_id = id("sw_interface_set_flags_f5aec1b8")?;
    let base = sim.state()?.interfaces().count() as u32;
    let start = Instant::now();
    for i in 0..n {
        let mut out = Vec::new();
        let h = Header {
            client_index: handle,
            context: i as u32 + 1,
        };
        encode_frame(&mut out, flags_id, h, &up(0))?;
        write.write_all(&out).await?;
        frames
            .next()
            .await
            .ok_or_else(|| anyhow::anyhow!("closed"))??;
    }
    report(
        "sw_interface_set_flags, one at a time (raw frames)",
        n,
        start.elapsed(),
    );
    for (name, build) in [("create_loopback", 0), ("sw_interface_set_flags", 1)] {
        let mut out = Vec::new();
        for i in 0..n {
            let h = Header {
                client_index: handle,
                context: i as u32 + 1,
            };
            if build == 0 {
                encode_frame(&mut out, create_id, h, &api::CreateLoopback::default())?;
            } else {
                encode_frame(&mut out, flags_id, h, &up(base + i as u32))?;
            }
        }
        let start = Instant::now();
        write.write_all(&out).await?;
        for _ in 0..n {
            frames
                .next()
                .await
                .ok_or_else(|| anyhow::anyhow!("closed"))??;
        }
        report(
            &format!("{name}, pipelined (raw frames)"),
            n,
            start.elapsed(),
        );
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("SIM_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
        .min(16_384);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    for (name, f) in [
        ("one at a time", 0),
        ("pipelined client", 1),
        ("pipelined raw", 2),
    ] {
        let dir = tempfile::tempdir()?;
        let sim = SimHandle::start(dir.path(), "23.06")?;
        let r = match f {
            0 => rt.block_on(one_at_a_time(&sim, n)),
            1 => rt.block_on(pipelined_client(&sim, n)),
            _ => rt.block_on(pipelined_raw(&sim, n)),
        };
        r.map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    }
    Ok(())
}
