//! Requests per second over the unix socket: `binapi::Client` control_pings one at a time and pipelined, next to
//! a raw-socket echo of the same frame sizes (26-byte request frames, 34-byte reply frames) in the same run.
//!
//! Run with `cargo bench -p vpp-agent-binapi`. The server answers every control_ping it reads, batching its
//! writes, on its own thread; clients run on a current-thread runtime. It deliberately measures the transport
//! only: the server does no VPP work and the numbers say nothing about a real VPP.

use binapi::codec::frame::{FrameCodec, encode_frame};
use binapi::codec::message::{Header, decode_header, decode_payload};
use binapi::messages::{ControlPing, ControlPingReply, SockclntCreate, SockclntCreateReply};
use binapi::types::MessageTableEntry;
use binapi::{Client, Config, HeaderShape, MessageTable, vpp2306};
use bytes::BytesMut;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::codec::Decoder;

const RUN: Duration = Duration::from_secs(2);
/// Rows are measured in interleaved slices so that load from other processes hits them alike.
const ROUNDS: u32 = 8;
const WINDOW: usize = 64;

fn table() -> MessageTable {
    MessageTable::for_release(&vpp2306::RELEASE, 0)
}

async fn serve(mut stream: UnixStream, table: MessageTable) -> std::io::Result<()> {
    let ping = table.id_of::<ControlPing>().unwrap_or_default();
    let pong = table.id_of::<ControlPingReply>().unwrap_or_default();
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut out = Vec::with_capacity(64 * 1024);
    let mut handshaken = false;
    loop {
        if stream.read_buf(&mut buf).await? == 0 {
            return Ok(());
        }
        out.clear();
        while let Ok(Some(payload)) = codec.decode(&mut buf) {
            if !handshaken {
                let Ok((_, h, _)) = decode_payload::<SockclntCreate>(&payload) else {
                    return Ok(());
                };
                let reply = SockclntCreateReply {
                    response: 0,
                    index: 0x8000_0001,
                    message_table: table
                        .entries()
                        .into_iter()
                        .map(|(index, name)| MessageTableEntry {
                            index,
                            name: name.to_string(),
                        })
                        .collect(),
                };
                let _ = encode_frame(&mut out, 16, h, &reply);
                handshaken = true;
                continue;
            }
            let Ok((id, h)) = decode_header(&payload, HeaderShape::Request) else {
                return Ok(());
            };
            if id == ping {
                let reply = ControlPingReply {
                    retval: 0,
                    client_index: h.client_index,
                    vpe_pid: 1,
                };
                let _ = encode_frame(&mut out, pong, h, &reply);
            }
        }
        stream.write_all(&out).await?;
    }
}

fn start_server(path: PathBuf) -> std::thread::JoinHandle<()> {
    let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = UnixListener::from_std(listener).expect("listener");
            while let Ok((s, _)) = listener.accept().await {
                tokio::spawn(serve(s, table()));
            }
        });
    })
}

/// A raw client: the handshake, then pre-encoded ping frames and fixed-size reads; no tasks, no maps.
async fn raw_rate(path: &Path, window: usize, run: Duration) -> f64 {
    let mut s = UnixStream::connect(path).await.expect("connect");
    let mut hello = Vec::new();
    let h = Header {
        client_index: 0,
        context: 1,
    };
    encode_frame(&mut hello, 15, h, &SockclntCreate { name: "raw".into() }).expect("encode");
    s.write_all(&hello).await.expect("write");
    let mut head = [0u8; 16];
    s.read_exact(&mut head).await.expect("reply header");
    let len = u32::from_be_bytes([head[8], head[9], head[10], head[11]]) as usize;
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.expect("reply body");

    let ping_id = table().id_of::<ControlPing>().expect("id");
    let mut frames = Vec::new();
    for i in 0..window {
        let h = Header {
            client_index: 0x8000_0001,
            context: i as u32 + 1,
        };
        encode_frame(&mut frames, ping_id, h, &ControlPing {}).expect("encode");
    }
    assert_eq!(frames.len(), 26 * window);
    let mut replies = vec![0u8; 34 * window];
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < run {
        s.write_all(&frames).await.expect("write");
        s.read_exact(&mut replies).await.expect("read");
        done += window as u64;
    }
    done as f64 / start.elapsed().as_secs_f64()
}

/// How the client keeps `window` requests in flight.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// `window` concurrent `Client::request` futures.
    Concurrent,
    /// One `Client::request_batch` of `window`.
    Batch,
}

async fn client_rate(path: &Path, window: usize, mode: Mode, run: Duration) -> f64 {
    let cfg = Config {
        health_interval: None,
        ..Config::new(path)
    };
    let client = Client::connect(cfg).await.expect("connect");
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < run {
        if window == 1 {
            client.ping().await.expect("ping");
        } else if mode == Mode::Batch {
            let pings = vec![ControlPing {}; window];
            for r in client.request_batch(&pings).await.expect("batch") {
                r.expect("ping");
            }
        } else {
            let pings = (0..window).map(|_| client.ping());
            for r in futures::future::join_all(pings).await {
                r.expect("ping");
            }
        }
        done += window as u64;
    }
    done as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    // `cargo test --benches` runs this too; keep that quick.
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.sock");
    let _server = start_server(path.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let slice = RUN / ROUNDS;
    let mut sums = [0.0f64; 5];
    for _ in 0..ROUNDS {
        sums[0] += rt.block_on(raw_rate(&path, 1, slice));
        sums[1] += rt.block_on(client_rate(&path, 1, Mode::Concurrent, slice));
        sums[2] += rt.block_on(raw_rate(&path, WINDOW, slice));
        sums[3] += rt.block_on(client_rate(&path, WINDOW, Mode::Concurrent, slice));
        sums[4] += rt.block_on(client_rate(&path, WINDOW, Mode::Batch, slice));
    }
    let [raw1, cli1, raw_n, cli_n, cli_b] = sums.map(|s| s / f64::from(ROUNDS));
    println!(
        "binapi transport, control_ping (26-byte request frame, 34-byte reply frame), {RUN:?} per row in {ROUNDS} interleaved slices"
    );
    println!("| mode | raw socket echo (req/s) | binapi Client (req/s) | client / raw |");
    println!("|---|---|---|---|");
    println!(
        "| one at a time | {raw1:.0} | {cli1:.0} | {:.2} |",
        cli1 / raw1
    );
    println!(
        "| pipelined, {WINDOW} concurrent `request` calls | {raw_n:.0} | {cli_n:.0} | {:.2} |",
        cli_n / raw_n
    );
    println!(
        "| pipelined, `request_batch` of {WINDOW} | {raw_n:.0} | {cli_b:.0} | {:.2} |",
        cli_b / raw_n
    );
}
