//! The `vpp-sim` binary end to end: it listens on `--socket`, `vpp-sim ctl` prints CLI
//! replies and exits non-zero on a refused command, `--fail` reaches the wire, and SIGHUP is
//! a VPP restart (clients dropped, socket back, empty state). SIGTERM stops it and removes
//! the socket.
//!
//! Library-level behaviour is tested in `server.rs`; this file only checks the process.

mod common;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use binapi::vpp2306 as api;
use common::{eventually, rv};

const WAIT: Duration = Duration::from_secs(10);

struct Sim {
    child: Child,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(socket: &Path, extra: &[&str]) -> Sim {
    let child = Command::new(env!("CARGO_BIN_EXE_vpp-sim"))
        .arg("--socket")
        .arg(socket)
        .args(["--vpp-version", "23.06"])
        .args(extra)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn vpp-sim");
    let up = eventually(WAIT, || async { socket.exists() }).await;
    assert!(up, "vpp-sim did not create {}", socket.display());
    Sim { child }
}

fn ctl(socket: &Path, cmd: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vpp-sim"))
        .arg("ctl")
        .arg("--socket")
        .arg(socket)
        .arg(cmd)
        .output()
        .expect("run vpp-sim ctl")
}

fn signal(sim: &Sim, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &sim.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

async fn client(socket: &Path) -> binapi::Client {
    let mut c = binapi::Config::new(socket);
    c.health_interval = None;
    binapi::Client::connect(c).await.expect("connect")
}

#[tokio::test]
async fn ctl_prints_replies_and_fails_on_a_refused_command() {
    let dir = tempfile::tempdir().expect("dir");
    let socket = dir.path().join("api.sock");
    let _sim = start(&socket, &[]).await;
    let out = ctl(&socket, "create loopback interface");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "loop0\n");
    let out = ctl(&socket, "show interface");
    assert!(String::from_utf8_lossy(&out.stdout).contains("loop0"));
    let out = ctl(&socket, "show frobnicate");
    assert!(!out.status.success(), "a non-zero retval is a failing exit");
    assert!(String::from_utf8_lossy(&out.stdout).contains("unknown input"));
}

#[tokio::test]
async fn fail_flag_reaches_the_wire() {
    let dir = tempfile::tempdir().expect("dir");
    let socket = dir.path().join("api.sock");
    let _sim = start(&socket, &["--fail", "create_loopback:1=-31"]).await;
    let c = client(&socket).await;
    assert_eq!(rv(c.request(&api::CreateLoopback::default()).await), -31);
    assert_eq!(rv(c.request(&api::CreateLoopback::default()).await), 0);
}

#[tokio::test]
async fn sighup_restarts_with_empty_state_and_sigterm_removes_the_socket() {
    let dir = tempfile::tempdir().expect("dir");
    let socket = dir.path().join("api.sock");
    let mut sim = start(&socket, &[]).await;
    let c = client(&socket).await;
    c.request(&api::CreateLoopback::default())
        .await
        .expect("loop0");
    signal(&sim, "-HUP");
    assert!(
        eventually(WAIT, || async { c.is_closed() }).await,
        "client dropped"
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    let fresh = loop {
        let mut cfg = binapi::Config::new(&socket);
        cfg.health_interval = None;
        match binapi::Client::connect(cfg).await {
            Ok(c) => break c,
            Err(e) if tokio::time::Instant::now() >= deadline => {
                panic!("the socket did not come back: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    };
    let ifaces = fresh
        .dump(&api::SwInterfaceDump {
            sw_if_index: api::InterfaceIndex(u32::MAX),
            ..Default::default()
        })
        .await
        .expect("dump");
    assert_eq!(ifaces.len(), 1, "only local0 after the restart");
    signal(&sim, "-TERM");
    let status = sim.child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
    assert!(!socket.exists(), "the socket is removed on exit");
}
