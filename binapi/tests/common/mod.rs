//! A small fake VPP for transport tests: a unix-socket server built on `binapi::server` that does the handshake
//! with a release's message table and answers a few messages (control_ping, show_version, loopbacks,
//! sw_interface_dump, sockclnt_delete) the way VPP does, plus knobs for faults (silent messages, held replies).
//!
//! It deliberately models no real VPP state beyond a loopback counter; the project's vpp-sim will replace it.
#![allow(dead_code)]

use binapi::release::Release;
use binapi::server::{Incoming, ServerConn, client_handle};
use binapi::{MessageTable, vpp2306};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UnixListener;
use tokio::task::{JoinHandle, JoinSet};

pub const VPE_PID: u32 = 4242;

/// How the fake behaves.
#[derive(Debug, Clone)]
pub struct Options {
    pub release: &'static Release,
    /// Shift of the non-memclnt id blocks, as another plugin load order would give.
    pub offset: u16,
    /// Message names that get no answer (VPP's silence for unknown ids and bad client indexes).
    pub silent: Vec<&'static str>,
    /// Hold this many create_loopback replies and send them in reverse order.
    pub hold: usize,
}

impl Options {
    pub fn new(release: &'static Release) -> Self {
        Self {
            release,
            offset: 0,
            silent: Vec::new(),
            hold: 0,
        }
    }
}

/// A running fake VPP; dropping it (or [`FakeVpp::stop`]) closes every connection.
#[derive(Debug)]
pub struct FakeVpp {
    pub path: PathBuf,
    pub table: Arc<MessageTable>,
    task: JoinHandle<()>,
}

impl FakeVpp {
    pub async fn start(path: &Path, opts: Options) -> FakeVpp {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path).expect("bind fake vpp socket");
        let table = Arc::new(MessageTable::for_release(opts.release, opts.offset));
        let t = table.clone();
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            let mut registration = 0;
            while let Ok((stream, _)) = listener.accept().await {
                registration += 1;
                let (t, opts) = (t.clone(), opts.clone());
                conns.spawn(async move {
                    if let Ok(conn) =
                        ServerConn::accept(stream, t, client_handle(registration)).await
                    {
                        let _ = serve(conn, opts).await;
                    }
                });
            }
        });
        FakeVpp {
            path: path.to_path_buf(),
            table,
            task,
        }
    }

    /// Kills the server and all its connections, like a VPP crash.
    pub fn stop(self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for FakeVpp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut conn: ServerConn, opts: Options) -> Result<(), binapi::Error> {
    let mut next_loop = 1u32;
    let mut held: Vec<(u32, vpp2306::CreateLoopbackReply)> = Vec::new();
    while let Some(req) = conn.recv().await? {
        let name = req.name_crc.as_deref().unwrap_or("");
        if opts
            .silent
            .iter()
            .any(|s| name.rsplit_once('_').map(|(n, _)| n) == Some(*s))
        {
            continue;
        }
        let ctx = req.header()?.context;
        if req.is::<vpp2306::ControlPing>() {
            let reply = vpp2306::ControlPingReply {
                retval: 0,
                client_index: conn.client_index(),
                vpe_pid: VPE_PID,
            };
            conn.send(ctx, &reply).await?;
        } else if req.is::<vpp2306::ShowVersion>() {
            let reply = vpp2306::ShowVersionReply {
                program: "vpe".into(),
                version: format!("{}-fake", opts.release.version),
                ..Default::default()
            };
            conn.send(ctx, &reply).await?;
        } else if req.is::<vpp2306::CreateLoopback>() {
            let (_, m): (_, vpp2306::CreateLoopback) = req.decode()?;
            // Answer with the MAC's last byte so a test can tell which request a reply belongs to.
            let reply = vpp2306::CreateLoopbackReply {
                retval: 0,
                sw_if_index: binapi::types::InterfaceIndex(
                    u32::from(m.mac_address.0[5]) + 1000 * next_loop,
                ),
            };
            next_loop += 1;
            if opts.hold > 0 {
                held.push((ctx, reply));
                if held.len() == opts.hold {
                    while let Some((c, r)) = held.pop() {
                        conn.queue(c, &r)?;
                    }
                    conn.flush().await?;
                }
            } else {
                conn.send(ctx, &reply).await?;
            }
        } else if req.is::<vpp2306::DeleteLoopback>() {
            let (_, m): (_, vpp2306::DeleteLoopback) = req.decode()?;
            let retval = if m.sw_if_index.0 < next_loop * 1000 {
                0
            } else {
                -2
            };
            conn.send(ctx, &vpp2306::DeleteLoopbackReply { retval })
                .await?;
        } else if req.is::<vpp2306::SwInterfaceDump>() {
            let (_, m): (_, vpp2306::SwInterfaceDump) = req.decode()?;
            let count = if m.name_filter_valid { 0 } else { 3 };
            for i in 0..count {
                let d = vpp2306::SwInterfaceDetails {
                    sw_if_index: binapi::types::InterfaceIndex(i),
                    interface_name: if i == 0 {
                        "local0".into()
                    } else {
                        format!("loop{}", i - 1)
                    },
                    ..Default::default()
                };
                conn.queue(ctx, &d)?;
            }
            conn.flush().await?;
        } else if req.is::<vpp2306::WantInterfaceEvents>() {
            let (_, m): (_, vpp2306::WantInterfaceEvents) = req.decode()?;
            conn.send(ctx, &vpp2306::WantInterfaceEventsReply { retval: 0 })
                .await?;
            if m.enable_disable != 0 {
                for i in 1..=2 {
                    let event = vpp2306::SwInterfaceEvent {
                        pid: m.pid,
                        sw_if_index: binapi::types::InterfaceIndex(i),
                        flags: binapi::types::IfStatusFlags::IF_STATUS_API_FLAG_ADMIN_UP,
                        deleted: false,
                    };
                    conn.queue(0, &event)?;
                }
                conn.flush().await?;
            }
        } else if req.is::<vpp2306::SockclntDelete>() {
            conn.send(ctx, &vpp2306::SockclntDeleteReply { response: 1 })
                .await?;
            return Ok(());
        }
    }
    Ok(())
}

/// Accepts one connection, does the handshake with `table`, and hands the connection to `script`.
pub async fn raw_peer<F, Fut>(path: &Path, table: MessageTable, script: F) -> JoinHandle<()>
where
    F: FnOnce(ServerConn) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path).expect("bind raw peer");
    let table = Arc::new(table);
    tokio::spawn(async move {
        if let Ok((stream, _)) = listener.accept().await
            && let Ok(conn) = ServerConn::accept(stream, table, client_handle(1)).await
        {
            script(conn).await;
        }
    })
}

/// Reads requests until one named `name` arrives and returns it.
pub async fn wait_for(conn: &mut ServerConn, name: &str) -> Option<Incoming> {
    while let Ok(Some(req)) = conn.recv().await {
        if req
            .name_crc
            .as_deref()
            .and_then(|n| n.rsplit_once('_'))
            .map(|(n, _)| n)
            == Some(name)
        {
            return Some(req);
        }
    }
    None
}

/// A client configuration for tests: short timeouts, no background health check.
pub fn config(path: &Path) -> binapi::Config {
    binapi::Config {
        request_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
        health_interval: None,
        ..binapi::Config::new(path)
    }
}

/// Upper bound for anything a test waits for.
pub const DEADLINE: Duration = Duration::from_secs(10);
