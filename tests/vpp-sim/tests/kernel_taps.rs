//! Kernel taps (run as root): with `kernel_taps` on, `tap_create_v2/v3` make a real kernel
//! device under the tap's host name (VPP's `tap<N>` by default), in `host_namespace`, with
//! `host_mac_addr`; `tap_delete_v2`, a restart and the simulator's end delete it. A name the
//! kernel refuses makes VPP refuse the tap, and the simulated tap is not kept. The binary
//! takes `--kernel-taps`, and a killed simulator leaves no device.
//!
//! Checked with `ip`; the namespaces are made and deleted by the test.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use binapi::vpp2306 as api;
use common::{client, rv};
use vpp_sim::state::NONE;
use vpp_sim::{Options, SimHandle};

use api::{InterfaceIndex, MacAddress};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A kernel name unique to this test process (at most 15 characters).
fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{prefix}{}{n}", std::process::id() % 10000)
}

fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// A namespace deleted on drop.
struct Ns(String);

impl Ns {
    fn new() -> Ns {
        let name = unique("vsimns");
        ip(&["netns", "add", &name]).expect("netns add");
        Ns(name)
    }

    fn link(&self, dev: &str) -> Option<String> {
        ip(&["-n", &self.0, "-o", "link", "show", "dev", dev]).ok()
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.0]);
    }
}

fn link(dev: &str) -> Option<String> {
    ip(&["-o", "link", "show", "dev", dev]).ok()
}

fn kernel_sim() -> (tempfile::TempDir, SimHandle) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = Options::new(dir.path().join("api.sock"), "23.06").expect("options");
    options.kernel_taps = true;
    options.stats_socket = None;
    let sim = SimHandle::start_with(options).expect("start vpp-sim");
    (dir, sim)
}

async fn gone(dev: &str) -> bool {
    common::eventually(Duration::from_secs(5), || async { link(dev).is_none() }).await
}

#[tokio::test]
async fn a_tap_is_a_kernel_device_for_as_long_as_the_tap_exists() {
    let (_d, sim) = kernel_sim();
    let c = client(&sim).await;
    let ns = Ns::new();
    let (named, in_ns) = (unique("vsimt"), unique("vsimn"));
    let mac = [0x02, 0x00, 0x00, 0x00, 0x5e, 0x01];
    let t_named = c
        .request(&api::TapCreateV2 {
            host_if_name_set: true,
            host_if_name: named.clone(),
            ..Default::default()
        })
        .await
        .expect("tap")
        .sw_if_index
        .0;
    let shown = link(&named).expect("the tap's host side exists");
    assert!(shown.contains("link/ether"), "a TAP, not a TUN: {shown}");

    let t_ns = c
        .request(&api::TapCreateV3 {
            host_if_name_set: true,
            host_if_name: in_ns.clone(),
            host_namespace_set: true,
            host_namespace: ns.0.clone(),
            host_mac_addr_set: true,
            host_mac_addr: MacAddress(mac),
            ..Default::default()
        })
        .await
        .expect("tap in a namespace")
        .sw_if_index
        .0;
    assert!(link(&in_ns).is_none(), "not in the default namespace");
    let shown = ns.link(&in_ns).expect("in its namespace");
    assert!(shown.contains("02:00:00:00:5e:01"), "{shown}");

    // VPP's default host name: tap<id>, here with an id nothing else uses.
    let id = 900 + std::process::id() % 100;
    let t_default = c
        .request(&api::TapCreateV2 {
            id,
            ..Default::default()
        })
        .await
        .expect("tap with the default name")
        .sw_if_index
        .0;
    let default_name = format!("tap{id}");
    assert!(link(&default_name).is_some());

    for t in [t_named, t_ns] {
        c.request(&api::TapDeleteV2 {
            sw_if_index: InterfaceIndex(t),
        })
        .await
        .expect("delete");
    }
    assert!(link(&named).is_none());
    assert!(ns.link(&in_ns).is_none());
    assert!(link(&default_name).is_some(), "the other tap stays");

    // A restart empties VPP: its taps' devices go with it.
    sim.restart().expect("restart");
    assert!(gone(&default_name).await, "a restart deletes the device");
    let _ = t_default;
}

#[tokio::test]
async fn a_name_the_kernel_refuses_fails_the_tap_and_the_end_of_the_simulator_cleans_up() {
    let (_d, sim) = kernel_sim();
    let c = client(&sim).await;
    let taken = unique("vsimx");
    // A veth holds the name: the kernel refuses a tap under it.
    let peer = format!("{taken}p");
    ip(&["link", "add", &taken, "type", "veth", "peer", "name", &peer]).expect("veth");
    let refused = c
        .request(&api::TapCreateV2 {
            host_if_name_set: true,
            host_if_name: taken.clone(),
            ..Default::default()
        })
        .await;
    let _ = ip(&["link", "del", &taken]);
    assert_eq!(rv(refused), -11, "SYSCALL_ERROR_1");
    let taps = c
        .dump(&api::SwInterfaceTapV2Dump {
            sw_if_index: InterfaceIndex(NONE),
        })
        .await
        .expect("dump");
    assert!(taps.is_empty(), "the refused tap is not kept: {taps:?}");

    let missing_ns = c
        .request(&api::TapCreateV2 {
            host_namespace_set: true,
            host_namespace: "vsim-no-such-ns".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(rv(missing_ns), -12);

    let kept = unique("vsimk");
    c.request(&api::TapCreateV2 {
        host_if_name_set: true,
        host_if_name: kept.clone(),
        ..Default::default()
    })
    .await
    .expect("tap");
    assert!(link(&kept).is_some());
    drop(c);
    drop(sim);
    assert!(gone(&kept).await, "the simulator's end deletes the device");
}

#[tokio::test]
async fn without_the_option_no_device_is_made() {
    let (_d, sim) = common::sim("23.06");
    let c = client(&sim).await;
    let name = unique("vsimo");
    c.request(&api::TapCreateV2 {
        host_if_name_set: true,
        host_if_name: name.clone(),
        ..Default::default()
    })
    .await
    .expect("tap");
    assert!(link(&name).is_none());
}

#[tokio::test]
async fn the_binary_flag_makes_devices_and_a_killed_simulator_leaves_none() {
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("api.sock");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vpp-sim"))
        .arg("--socket")
        .arg(&socket)
        .args(["--vpp-version", "23.06", "--no-stats", "--kernel-taps"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn vpp-sim");
    let up = common::eventually(Duration::from_secs(10), || async { socket.exists() }).await;
    if !up {
        let _ = child.kill();
        let _ = child.wait();
        panic!("vpp-sim did not create {}", socket.display());
    }
    let mut config = binapi::Config::new(&socket);
    config.health_interval = None;
    let c = binapi::Client::connect(config).await.expect("connect");
    let name = unique("vsimb");
    let made = c
        .request(&api::TapCreateV2 {
            host_if_name_set: true,
            host_if_name: name.clone(),
            ..Default::default()
        })
        .await;
    let exists = link(&name).is_some();
    // SIGKILL: no cleanup code runs, the kernel closes the tap's file.
    let _ = child.kill();
    let _ = child.wait();
    made.expect("tap");
    assert!(exists, "the device existed while vpp-sim ran");
    assert!(gone(&name).await, "a killed simulator leaves no device");
}
