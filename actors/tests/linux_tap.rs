//! TAP_TO_VPP end to end (run as root): the real `vpp-agent` against vpp-sim with kernel
//! taps, configured through a fileDB file. A VPP TAP interface and its Linux side in a test
//! namespace get their host name, MAC, MTU, address and a route (checked with `ip -n`); a
//! route deleted by hand comes back with a downstream resync over REST; a host event (a link
//! appearing) answers with a resync that does not dump VPP; deleting the VPP side takes the
//! Linux side's configuration down first. Nothing is left behind: the namespace is deleted by
//! the test and the tap goes with vpp-sim's tap.

mod common;

use std::process::Command;

use common::{AgentProcess, FileStore, Store, eventually};
use vpp_sim::{Options, SimHandle};

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

/// A network namespace, deleted on drop.
struct Ns(String);

impl Ns {
    fn new(name: String) -> Ns {
        ip(&["netns", "add", &name]).expect("netns add");
        Ns(name)
    }

    fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", self.0.as_str()];
        all.extend_from_slice(args);
        ip(&all).unwrap_or_default()
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.0]);
    }
}

/// A veth in the default namespace, deleted on drop.
struct Veth(String);

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = ip(&["link", "del", &self.0]);
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

async fn post(port: u16, path: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"))
        .status()
        .as_u16()
}

/// The executed operations of the last transaction naming both keys: their positions.
fn order_in_last_txn(log: &str, first: &str, second: &str) -> Option<(usize, usize)> {
    let (a, b) = (format!("key: {first}\n"), format!("key: {second}\n"));
    log.split("executed operations")
        .skip(1)
        .filter(|block| block.contains(&a) && block.contains(&b))
        .last()
        .and_then(|block| Some((block.find(&a)?, block.find(&b)?)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tap_to_vpp_end_to_end_with_a_kernel_tap() {
    let pid = std::process::id() % 10000;
    let ns = Ns::new(format!("vpa-lt{pid}"));
    let (vpp_host, linux_host) = (format!("vtp{pid}"), format!("ltp{pid}"));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut options = Options::new(dir.path().join("api.sock"), "23.06").expect("options");
    options.kernel_taps = true;
    options.stats_socket = None;
    let sim = SimHandle::start_with(options).expect("vpp-sim");
    common::write_config(
        dir.path(),
        "govpp.conf",
        &format!("binapi-socket-path: {}\n", sim.socket_path().display()),
    );
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    common::write_config(
        dir.path(),
        "filedb.conf",
        &format!("configuration-paths: [\"{}\"]\n", data.display()),
    );
    let label = common::label("lintap");
    let store = FileStore::new(data.join("config.json"), &label);
    let port = free_port();
    let agent = AgentProcess::start(
        dir.path(),
        &label,
        &[
            "--filedb-config",
            "filedb.conf",
            "--http-port",
            &port.to_string(),
        ],
        "warn",
    );
    agent.resynced().await;

    let vpp_key = "config/vpp/v2/interfaces/tap1";
    let linux_key = "config/linux/interfaces/v2/interface/ltap1";
    let route_key = "config/linux/l3/v2/route/10.92.0.0/24/ltap1";
    store
        .put(
            vpp_key,
            &format!(
                r#"{{"name":"tap1","type":"TAP","enabled":true,"tap":{{"host_if_name":"{vpp_host}"}}}}"#
            ),
        )
        .await;
    store
        .put(
            linux_key,
            &format!(
                r#"{{"name":"ltap1","type":"TAP_TO_VPP","namespace":{{"type":"NSID","reference":"{}"}},"host_if_name":"{linux_host}","enabled":true,"ip_addresses":["10.91.0.1/24"],"phys_address":"02:00:00:00:91:01","mtu":1400,"tap":{{"vpp_tap_if_name":"tap1"}}}}"#,
                ns.0
            ),
        )
        .await;
    store
        .put(
            route_key,
            r#"{"outgoing_interface":"ltap1","dst_network":"10.92.0.0/24","gw_addr":"10.91.0.254"}"#,
        )
        .await;

    eventually("the route in the namespace", || {
        ns.ip(&["route", "show", "10.92.0.0/24"])
            .contains("via 10.91.0.254")
    })
    .await;
    let link = ns.ip(&["-o", "link", "show", "dev", &linux_host]);
    assert!(
        link.contains("02:00:00:00:91:01") && link.contains("mtu 1400") && link.contains(",UP"),
        "{link}"
    );
    assert!(
        ns.ip(&["-o", "addr", "show", "dev", &linux_host])
            .contains("10.91.0.1/24")
    );
    assert!(
        ip(&["link", "show", "dev", &vpp_host]).is_err(),
        "moved out of the default namespace and renamed"
    );

    // Someone deletes the route: a downstream resync puts it back.
    ns.ip(&["route", "del", "10.92.0.0/24"]);
    assert!(ns.ip(&["route", "show", "10.92.0.0/24"]).trim().is_empty());
    assert_eq!(post(port, "/scheduler/downstream-resync").await, 200);
    eventually("the route repaired", || {
        ns.ip(&["route", "show", "10.92.0.0/24"])
            .contains("via 10.91.0.254")
    })
    .await;

    // A host event (a link appears) runs a resync scoped to Linux: VPP is not dumped.
    let mut requests = sim.watch_requests().expect("watch");
    let host_events = |log: &str| log.matches("Description: linux host changed").count();
    let before = host_events(&agent.stdout());
    let veth = Veth(format!("lte{pid}"));
    ip(&[
        "link",
        "add",
        &veth.0,
        "type",
        "veth",
        "peer",
        "name",
        &format!("ltf{pid}"),
    ])
    .expect("veth");
    eventually("a resync for the host event", || {
        host_events(&agent.stdout()) > before
    })
    .await;
    let mut dumps = Vec::new();
    while let Ok(h) = requests.try_recv() {
        if h.name.ends_with("_dump") {
            dumps.push(h.name);
        }
    }
    assert!(dumps.is_empty(), "VPP dumped for a host event: {dumps:?}");
    drop(veth);

    // Deleting the VPP side takes the Linux side down first; the tap goes with VPP's.
    store.del(vpp_key).await;
    eventually("the linux side removed before the vpp side", || {
        order_in_last_txn(&agent.stdout(), linux_key, vpp_key).is_some_and(|(l, v)| l < v)
    })
    .await;
    eventually("the tap gone from the namespace", || {
        ns.ip(&["-o", "link", "show", "dev", &linux_host])
            .trim()
            .is_empty()
    })
    .await;
    assert!(ip(&["link", "show", "dev", &vpp_host]).is_err());
    drop(agent);
    drop(sim);
    drop(ns);
    assert!(
        ip(&["netns", "list"]).is_ok_and(|l| !l.contains(&format!("vpa-lt{pid}"))),
        "namespace left behind"
    );
}
