//! A loopback TCP proxy in front of a test server that can cut every connection and refuse
//! new ones ([`TcpProxy::cut`]) and then let them through again ([`TcpProxy::restore`]): a
//! deterministic "network outage" between a backend and its store while a second, direct
//! client keeps writing. It can also freeze traffic without closing anything
//! ([`TcpProxy::freeze`]): a silent partition, which only health checks detect.
//!
//! Deliberately not here: latency or bandwidth shaping, and anything but 127.0.0.1.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::TestResult;

#[derive(Default)]
struct State {
    cut: bool,
    conns: Vec<JoinHandle<()>>,
}

/// The proxy; dropping it stops it.
#[derive(Debug)]
pub struct TcpProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    frozen: watch::Sender<bool>,
    accept: JoinHandle<()>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("cut", &self.cut)
            .finish_non_exhaustive()
    }
}

impl TcpProxy {
    /// Starts a proxy on a free loopback port forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> TestResult<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let (frozen, frozen_rx) = watch::channel(false);
        let st = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(mut guard) = st.lock() else { return };
                if guard.cut {
                    drop(client);
                    continue;
                }
                guard.conns.retain(|h| !h.is_finished());
                guard
                    .conns
                    .push(tokio::spawn(pipe(client, upstream, frozen_rx.clone())));
            }
        });
        Ok(TcpProxy {
            addr,
            state,
            frozen,
            accept,
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every proxied connection and refuses new ones until [`TcpProxy::restore`].
    pub fn cut(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.cut = true;
            for conn in s.conns.drain(..) {
                conn.abort();
            }
        }
    }

    /// Stops forwarding bytes in both directions but keeps every connection open.
    pub fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    /// Forwards bytes again after [`TcpProxy::freeze`].
    pub fn thaw(&self) {
        self.frozen.send_replace(false);
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.cut = false;
        }
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn pipe(client: TcpStream, upstream: SocketAddr, frozen: watch::Receiver<bool>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    // Ends when both directions end; the task is aborted on cut, which drops both sockets.
    tokio::join!(copy(cr, sw, frozen.clone()), copy(sr, cw, frozen));
}

async fn copy(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if frozen.wait_for(|f| !*f).await.is_err() {
            return;
        }
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // Bytes read just before a freeze are held until the thaw.
        if frozen.wait_for(|f| !*f).await.is_err() || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
