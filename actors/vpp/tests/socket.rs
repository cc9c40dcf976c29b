//! End to end through the real binapi client and vpp-sim's unix socket, for each shipped
//! release (21.01, 23.06, 25.06): `connect` picks that release's handler, the seed's
//! walk-through and the 50-object scenario run over the wire, and after a VPP restart the
//! agent reconnects, swaps the handler and a downstream resync configures everything again.
//!
//! The tests own a tokio runtime for the client and call descriptors from the test thread,
//! as the scheduler's own thread does in the agent. No fixed sleeps: waits poll a deadline.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use kvscheduler::Txn;
use tokio::runtime::Runtime;
use vpp::{ApiHandle, VppApi};
use vpp_sim::SimHandle;

const RELEASES: [&str; 3] = ["21.01", "23.06", "25.06"];

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn start(version: &str) -> (tempfile::TempDir, SimHandle) {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = SimHandle::start(dir.path(), version).expect("start vpp-sim");
    (dir, sim)
}

/// Connects as the agent does: retrying while the socket is not there yet (vpp-sim's
/// `restart` returns just before its new socket is bound).
fn client(rt: &Runtime, sim: &SimHandle) -> binapi::Client {
    let mut c = binapi::Config::new(sim.socket_path());
    c.health_interval = None;
    let backoff = binapi::transport::Backoff {
        initial: Duration::from_millis(5),
        max: Duration::from_millis(100),
        deadline: Duration::from_secs(10),
    };
    rt.block_on(binapi::transport::connect_with_retry(c, backoff))
        .expect("connect")
}

fn handler(rt: &Runtime, sim: &SimHandle) -> (binapi::Client, Arc<dyn VppApi>) {
    let c = client(rt, sim);
    let api = rt
        .block_on(vpp::connect(c.clone(), rt.handle().clone()))
        .expect("a handler fits");
    (c, api)
}

fn state(sim: &SimHandle) -> vpp_sim::state::Vpp {
    sim.state().expect("sim state")
}

#[test]
fn connect_picks_each_releases_handler() {
    let rt = runtime();
    for v in RELEASES {
        let (_dir, sim) = start(v);
        let (_c, api) = handler(&rt, &sim);
        assert_eq!(api.release(), v);
        assert!(
            api.show_version()
                .expect("show_version")
                .version
                .starts_with(v)
        );
        let text = api.cli_inband("show version").expect("cli");
        assert!(text.contains(v), "{text}");
    }
}

#[test]
fn blocking_calls_from_inside_the_runtime_are_refused() {
    let rt = runtime();
    let (_dir, sim) = start("23.06");
    let (_c, api) = handler(&rt, &sim);
    let err = rt
        .block_on(async { api.show_version() })
        .expect_err("would block a runtime thread");
    assert_eq!(err.kind(), vpp::ErrorKind::Runtime);
}

#[test]
fn seed_walkthrough_over_the_socket_for_each_release() {
    let rt = runtime();
    for v in RELEASES {
        let (_dir, sim) = start(v);
        let (_c, api) = handler(&rt, &sim);
        let mut s = scheduler(&ApiHandle::new(api));
        scenarios::walkthrough(&mut s, &|c| sim.cli(c).expect("cli").text, &|| state(&sim));
    }
}

#[test]
fn fifty_objects_over_the_socket_for_each_release() {
    let rt = runtime();
    for (n, v) in RELEASES.iter().enumerate() {
        let (_d1, a) = start(v);
        let (_d2, b) = start(v);
        let (_c1, api_a) = handler(&rt, &a);
        let (_c2, api_b) = handler(&rt, &b);
        scenarios::mixed(
            (&ApiHandle::new(api_a), &|| state(&a)),
            (&ApiHandle::new(api_b), &|| state(&b)),
            42 + n as u64,
        );
    }
}

#[test]
fn vpp_restart_is_repaired_by_reconnect_and_downstream_resync() {
    let rt = runtime();
    for v in RELEASES {
        let (_dir, sim) = start(v);
        let (c, api) = handler(&rt, &sim);
        let handle = ApiHandle::new(api);
        let mut s = scheduler(&handle);
        let config = scenarios::fifty_objects();
        let report = s
            .commit(Txn::full_resync(config.iter().map(|v| (key(v), v.clone()))))
            .expect("resync");
        assert!(report.is_ok(), "{v}: {:#?}", report.failed);
        let good = snapshot(&state(&sim));

        sim.restart().expect("restart");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !c.is_closed() {
            assert!(
                Instant::now() < deadline,
                "{v}: the client never saw the restart"
            );
            std::thread::yield_now();
        }
        assert_ne!(snapshot(&state(&sim)), good);
        let (_c2, api) = handler(&rt, &sim);
        handle.replace(api);
        let report = s.commit(Txn::downstream_resync()).expect("resync");
        assert!(report.is_ok(), "{v}: {:#?}", report.failed);
        assert_eq!(snapshot(&state(&sim)), good, "{v}");
    }
}

#[test]
fn restart_resync_over_the_socket_changes_nothing_for_each_release() {
    let rt = runtime();
    for v in RELEASES {
        let (_dir, sim) = start(v);
        let (_c, api) = handler(&rt, &sim);
        let handle = ApiHandle::new(api);
        let config = scenarios::fifty_objects();
        let mut s = scheduler(&handle);
        let report = s
            .commit(Txn::full_resync(config.iter().map(|v| (key(v), v.clone()))))
            .expect("resync");
        assert!(report.is_ok(), "{v}: {:#?}", report.failed);
        let good = snapshot(&state(&sim));

        // A new agent over a new connection: every dump decodes and matches.
        let (_c2, api) = handler(&rt, &sim);
        let mut again = scheduler(&ApiHandle::new(api));
        let report = again
            .commit(Txn::full_resync(config.iter().map(|v| (key(v), v.clone()))))
            .expect("resync");
        let changes: Vec<String> = report
            .brief()
            .into_iter()
            .filter(|o| !o.contains("NOOP"))
            .collect();
        assert!(changes.is_empty(), "{v}: {changes:#?}");
        assert_eq!(snapshot(&state(&sim)), good, "{v}");
    }
}

#[test]
fn every_interface_kind_round_trips_through_each_handler() {
    use vpp::api::{Mac, MemifSpec, NONE, TapSpec, Vxlan};
    let rt = runtime();
    for v in RELEASES {
        let (_dir, sim) = start(v);
        let (_c, api) = handler(&rt, &sim);
        let tap = api
            .create_tap(&TapSpec {
                host_if_name: "vpp-tap".into(),
                tag: "t".into(),
                ..Default::default()
            })
            .expect("tap");
        let taps = api.dump_taps().expect("taps");
        assert_eq!(taps.len(), 1, "{v}");
        assert_eq!(taps[0].host_if_name, "vpp-tap");
        assert_eq!(
            api.dump_interface(tap).expect("dump").map(|d| d.tag),
            Some("t".to_owned())
        );
        api.add_memif_socket(3, "/run/x.sock").expect("socket");
        let m = api
            .create_memif(&MemifSpec {
                socket_id: 3,
                id: 4,
                master: true,
                ..Default::default()
            })
            .expect("memif");
        assert_eq!(api.dump_memifs().expect("memifs")[0].socket_id, 3, "{v}");
        let mac: Mac = "02:00:00:00:00:42".parse().expect("mac");
        let af = api.create_af_packet("eth9", Some(mac)).expect("af_packet");
        assert_eq!(
            api.dump_af_packets().expect("afp")[0].host_if_name,
            "eth9",
            "{v}"
        );
        let spec = Vxlan {
            sw_if_index: NONE,
            src: "192.0.2.1".parse().expect("ip"),
            dst: "192.0.2.2".parse().expect("ip"),
            vni: 77,
            mcast_sw_if_index: NONE,
            encap_vrf_id: 0,
        };
        let vx = api.add_vxlan(&spec).expect("vxlan");
        let tunnels = api.dump_vxlans().expect("vxlans");
        assert_eq!((tunnels[0].sw_if_index, tunnels[0].vni), (vx, 77), "{v}");
        let ifaces = api.dump_interfaces().expect("interfaces");
        assert_eq!(ifaces.len(), 5, "{v}: local0 plus four");
        assert_eq!(
            ifaces.iter().find(|d| d.sw_if_index == af).map(|d| d.mac),
            Some(mac)
        );
        api.delete_vxlan(&spec).expect("del vxlan");
        api.delete_af_packet("eth9").expect("del af_packet");
        api.delete_memif(m).expect("del memif");
        api.delete_tap(tap).expect("del tap");
        assert_eq!(api.dump_interfaces().expect("interfaces").len(), 1, "{v}");
        // VPP's refusals come back as retval errors that name the message.
        let err = api.delete_loopback(4242).expect_err("no such loopback");
        assert_eq!(err.retval_code(), Some(-2), "{v}");
        assert!(err.to_string().starts_with("delete_loopback: "), "{err}");
    }
}

#[test]
fn each_handler_sends_its_releases_message_variant() {
    use vpp::api::{BridgeDomainSpec, IpTable, MemifSpec, NONE, TapSpec, Vxlan};
    use vpp_sim::server::FailSpec;
    let expected = [
        (
            "21.01",
            [
                "tap_create_v2",
                "bridge_domain_add_del",
                "memif_socket_filename_add_del",
                "memif_create",
                "af_packet_create",
                "vxlan_add_del_tunnel",
                "ip_table_add_del",
            ],
        ),
        (
            "23.06",
            [
                "tap_create_v3",
                "bridge_domain_add_del_v2",
                "memif_socket_filename_add_del_v2",
                "memif_create_v2",
                "af_packet_create_v3",
                "vxlan_add_del_tunnel_v3",
                "ip_table_add_del",
            ],
        ),
        (
            "25.06",
            [
                "tap_create_v3",
                "bridge_domain_add_del_v2",
                "memif_socket_filename_add_del_v2",
                "memif_create_v2",
                "af_packet_create_v3",
                "vxlan_add_del_tunnel_v3",
                "ip_table_add_del_v2",
            ],
        ),
    ];
    let rt = runtime();
    for (v, names) in expected {
        let (_dir, sim) = start(v);
        let (_c, api) = handler(&rt, &sim);
        for name in names {
            sim.fail(FailSpec {
                name: name.to_owned(),
                count: Some(1),
                retval: -99,
            })
            .expect("fault knob");
        }
        let vx = Vxlan {
            sw_if_index: NONE,
            src: "192.0.2.1".parse().expect("ip"),
            dst: "192.0.2.2".parse().expect("ip"),
            vni: 1,
            mcast_sw_if_index: NONE,
            encap_vrf_id: 0,
        };
        let errors = [
            api.create_tap(&TapSpec::default()).err(),
            api.add_bridge_domain(&BridgeDomainSpec {
                bd_id: 1,
                ..Default::default()
            })
            .err(),
            api.add_memif_socket(1, "/run/x.sock").err(),
            api.create_memif(&MemifSpec::default()).err(),
            api.create_af_packet("eth0", None).err(),
            api.add_vxlan(&vx).err(),
            api.add_del_ip_table(
                &IpTable {
                    table_id: 5,
                    is_ipv6: false,
                    name: String::new(),
                },
                true,
            )
            .err(),
        ];
        for (name, err) in names.iter().zip(errors) {
            let err = err.unwrap_or_else(|| panic!("{v}: {name} did not fail"));
            assert_eq!(err.retval_code(), Some(-99), "{v}: {err}");
            assert!(
                err.to_string().starts_with(&format!("{name}: ")),
                "{v}: expected {name}, got {err}"
            );
        }
    }
}
