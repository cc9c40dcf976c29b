//! A loopback TCP proxy in front of a test server that can cut every connection and refuse
//! new ones ([`TcpProxy::cut`]) and then let them through again ([`TcpProxy::restore`]): a
//! deterministic "network outage" between a backend and its store while a second, direct
//! client keeps writing.
//!
//! Deliberately not here: latency or bandwidth shaping, and anything but 127.0.0.1.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
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
        let st = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(mut guard) = st.lock() else { return };
                if guard.cut {
                    drop(client);
                    continue;
                }
                guard.conns.retain(|h| !h.is_finished());
                guard.conns.push(tokio::spawn(pipe(client, upstream)));
            }
        });
        Ok(TcpProxy {
            addr,
            state,
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

async fn pipe(mut client: TcpStream, upstream: SocketAddr) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    // Ends when either side closes; the task is aborted on cut, which drops both sockets.
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}
