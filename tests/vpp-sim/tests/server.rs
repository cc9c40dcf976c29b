//! The server's protocol behaviour over the real socket: VPP's silence rules (unknown id,
//! truncated message, wrong client index), strict per-connection order, garbage dropping
//! only its own connection, several clients at once, sockclnt_delete, interface events, the
//! fault knobs, restarts, and every shipped release's table.
//!
//! Dataplane rules are in `api_interfaces.rs` and `api_l2_ip.rs`.

mod common;

use std::time::{Duration, Instant};

use binapi::codec::frame::encode_frame;
use binapi::codec::message::{Header, HeaderShape, Message, MessageKind, Request};
use binapi::vpp2306 as api;
use binapi::{CodecError, Reader, Wire};
use common::{Raw, client, config, eventually, rv, sim};
use vpp_sim::server::TableError;
use vpp_sim::{FailSpec, Options, SimError, SimHandle};

const WAIT: Duration = Duration::from_secs(5);

/// `sw_interface_set_vxlan_bypass`: in 23.06's table, but not handled by the simulator.
#[derive(Debug, Clone, Default, PartialEq)]
struct VxlanBypass {
    sw_if_index: u32,
    is_ipv6: bool,
    enable: bool,
}

impl Wire for VxlanBypass {
    fn wire_len(&self) -> usize {
        6
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        self.sw_if_index.encode(out)?;
        self.is_ipv6.encode(out)?;
        self.enable.encode(out)
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(VxlanBypass {
            sw_if_index: u32::decode(r)?,
            is_ipv6: bool::decode(r)?,
            enable: bool::decode(r)?,
        })
    }
}

impl Message for VxlanBypass {
    const NAME: &'static str = "sw_interface_set_vxlan_bypass";
    const CRC: &'static str = "65247409";
    const NAME_CRC: &'static str = "sw_interface_set_vxlan_bypass_65247409";
    const KIND: MessageKind = MessageKind::Request;
    const SHAPE: HeaderShape = HeaderShape::Request;
}

impl Request for VxlanBypass {
    type Reply = api::SwInterfaceSetFlagsReply;
}

async fn expect_ping(raw: &mut Raw, context: u32) {
    let h = raw.handle;
    raw.send(h, context, &api::ControlPing::default()).await;
    let p = raw.recv(WAIT).await.expect("ping reply");
    let (header, reply) = raw.decode::<api::ControlPingReply>(&p);
    assert_eq!((header.context, reply.client_index), (context, h));
}

#[tokio::test]
async fn an_unhandled_message_times_out_that_call_only() {
    let (_d, sim) = sim("23.06");
    let mut cfg = config(&sim);
    cfg.request_timeout = Duration::from_millis(300);
    let c = binapi::Client::connect(cfg).await.expect("connect");
    let err = c
        .request(&VxlanBypass::default())
        .await
        .expect_err("no reply");
    assert!(matches!(err, binapi::Error::Timeout { .. }), "{err}");
    c.ping().await.expect("the connection still works");
}

#[tokio::test]
async fn unknown_ids_truncated_messages_and_foreign_client_indexes_get_no_reply() {
    let (_d, sim) = sim("23.06");
    let mut raw = Raw::connect(&sim).await;
    let h = raw.handle;
    // an id outside the table
    let mut frame = Vec::new();
    encode_frame(
        &mut frame,
        0xfff0,
        Header {
            client_index: h,
            context: 1,
        },
        &api::ControlPing::default(),
    )
    .expect("encode");
    raw.send_bytes(&frame).await;
    // a create_loopback cut short (its MAC is missing)
    let id = raw.table.id_of::<api::CreateLoopback>().expect("id");
    let mut short = Vec::new();
    binapi::codec::frame::put_frame_header(&mut short, 12);
    short.extend_from_slice(&id.to_be_bytes());
    short.extend_from_slice(&h.to_be_bytes());
    short.extend_from_slice(&2u32.to_be_bytes());
    short.extend_from_slice(&[2, 0]);
    raw.send_bytes(&short).await;
    // a create_loopback with another client's index
    raw.send(h + 1, 3, &api::CreateLoopback::default()).await;
    // answers come in order, so the ping's reply being the next frame proves that none of
    // the three was answered
    expect_ping(&mut raw, 4).await;
    assert_eq!(
        sim.state().expect("state").interfaces().count(),
        1,
        "nothing was created"
    );
}

#[tokio::test]
async fn one_connection_is_answered_strictly_in_order() {
    let (_d, sim) = sim("23.06");
    let mut raw = Raw::connect(&sim).await;
    let h = raw.handle;
    let ids = |m: &str| raw.table.id(m).expect("id");
    let mut frames = Vec::new();
    let hdr = |context| Header {
        client_index: h,
        context,
    };
    encode_frame(
        &mut frames,
        ids(api::CreateLoopback::NAME_CRC),
        hdr(1),
        &api::CreateLoopback::default(),
    )
    .expect("enc");
    let up = api::SwInterfaceSetFlags {
        sw_if_index: api::InterfaceIndex(1),
        flags: api::IfStatusFlags(1),
    };
    encode_frame(
        &mut frames,
        ids(api::SwInterfaceSetFlags::NAME_CRC),
        hdr(2),
        &up,
    )
    .expect("enc");
    let dump = api::SwInterfaceDump {
        sw_if_index: api::InterfaceIndex(u32::MAX),
        ..Default::default()
    };
    encode_frame(
        &mut frames,
        ids(api::SwInterfaceDump::NAME_CRC),
        hdr(3),
        &dump,
    )
    .expect("enc");
    encode_frame(
        &mut frames,
        ids(api::ControlPing::NAME_CRC),
        hdr(4),
        &api::ControlPing::default(),
    )
    .expect("enc");
    raw.send_bytes(&frames).await;
    let mut contexts = Vec::new();
    for _ in 0..5 {
        let p = raw.recv(WAIT).await.expect("answer");
        let (_, header) =
            binapi::codec::message::decode_header(&p, HeaderShape::Reply).expect("header");
        contexts.push(header.context);
        if contexts.len() == 2 {
            assert_eq!(
                raw.decode::<api::SwInterfaceSetFlagsReply>(&p).1.retval,
                0,
                "the loopback existed"
            );
        }
        if contexts.len() == 4 {
            let (_, d) = raw.decode::<api::SwInterfaceDetails>(&p);
            assert_eq!((d.interface_name.as_str(), d.flags.0), ("loop0", 3));
        }
    }
    assert_eq!(
        contexts,
        [1, 2, 3, 3, 4],
        "reply, reply, two details, ping reply"
    );
}

#[tokio::test]
async fn garbage_drops_only_that_connection() {
    let (_d, sim) = sim("23.06");
    let good = client(&sim).await;
    for bad_len in [u32::MAX, 1] {
        let mut raw = Raw::connect(&sim).await;
        let mut garbage = vec![0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0];
        garbage.extend_from_slice(&bad_len.to_be_bytes());
        garbage.extend_from_slice(&[0, 0, 0, 0, 1, 2, 3]);
        raw.send_bytes(&garbage).await;
        assert!(
            raw.closed(WAIT).await,
            "length {bad_len:#x} drops the connection"
        );
        good.ping().await.expect("others are still served");
    }
    let again = client(&sim).await;
    again.ping().await.expect("new connections too");
}

#[tokio::test]
async fn several_clients_at_once_get_their_own_handles_and_answers() {
    let (_d, sim) = sim("23.06");
    let mut clients = Vec::new();
    for _ in 0..8 {
        clients.push(client(&sim).await);
    }
    let mut handles: Vec<u32> = clients.iter().map(|c| c.client_index()).collect();
    handles.sort_unstable();
    handles.dedup();
    assert_eq!(handles.len(), 8);
    let tasks: Vec<_> = clients
        .iter()
        .map(|c| {
            let c = c.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                for _ in 0..25 {
                    got.push(
                        c.request(&api::CreateLoopback::default())
                            .await
                            .expect("create")
                            .sw_if_index
                            .0,
                    );
                }
                got
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    all.sort_unstable();
    assert_eq!(all, (1..=200).collect::<Vec<u32>>(), "every index once");
}

#[tokio::test]
async fn sockclnt_delete_answers_one_and_closes_unknown_index_gets_minus_one() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    c.disconnect().await.expect("response 1");
    let mut raw = Raw::connect(&sim).await;
    let h = raw.handle;
    raw.send(h, 1, &api::SockclntDelete { index: 0x8000_0fff })
        .await;
    let p = raw.recv(WAIT).await.expect("reply");
    assert_eq!(raw.decode::<api::SockclntDeleteReply>(&p).1.response, -1);
    expect_ping(&mut raw, 2).await;
    raw.send(h, 3, &api::SockclntDelete { index: h }).await;
    let p = raw.recv(WAIT).await.expect("reply");
    assert_eq!(raw.decode::<api::SockclntDeleteReply>(&p).1.response, 1);
    assert!(
        raw.closed(WAIT).await,
        "the connection closes after the reply"
    );
}

#[tokio::test]
async fn interface_events_reach_subscribers() {
    let (_d, sim) = sim("23.06");
    let mut raw = Raw::connect(&sim).await;
    let h = raw.handle;
    let want = api::WantInterfaceEvents {
        enable_disable: 1,
        pid: 4242,
    };
    raw.send(h, 1, &want).await;
    let p = raw.recv(WAIT).await.expect("reply");
    assert_eq!(raw.decode::<api::WantInterfaceEventsReply>(&p).1.retval, 0);
    raw.send(h, 2, &want).await;
    let p = raw.recv(WAIT).await.expect("reply");
    assert_eq!(
        raw.decode::<api::WantInterfaceEventsReply>(&p).1.retval,
        -31,
        "twice"
    );
    let c = client(&sim).await;
    let lo = c
        .request(&api::CreateLoopback::default())
        .await
        .expect("loop")
        .sw_if_index;
    let up = api::SwInterfaceSetFlags {
        sw_if_index: lo,
        flags: api::IfStatusFlags(1),
    };
    c.request(&up).await.expect("up");
    c.request(&api::DeleteLoopback { sw_if_index: lo })
        .await
        .expect("delete");
    let mut events = Vec::new();
    while events.len() < 3 {
        let p = raw.recv(WAIT).await.expect("event");
        let (header, ev) = raw.decode::<api::SwInterfaceEvent>(&p);
        assert_eq!((header.client_index, ev.pid), (h, 4242));
        events.push((ev.sw_if_index.0, ev.flags.0, ev.deleted));
    }
    assert_eq!(events, [(1, 0, false), (1, 3, false), (1, 3, true)]);
}

#[tokio::test]
async fn fail_knob_refuses_with_the_retval_and_leaves_the_state_alone() {
    let dir = tempfile::tempdir().expect("dir");
    let mut options = Options::new(dir.path().join("api.sock"), "23.06").expect("options");
    options.fail = vec!["create_loopback:1=-31".parse().expect("spec")];
    let sim = SimHandle::start_with(options).expect("start");
    let c = client(&sim).await;
    assert_eq!(rv(c.request(&api::CreateLoopback::default()).await), -31);
    assert_eq!(
        sim.state().expect("state").interfaces().count(),
        1,
        "nothing created"
    );
    assert_eq!(
        rv(c.request(&api::CreateLoopback::default()).await),
        0,
        "count used up"
    );
    sim.fail("sw_interface_set_flags".parse().expect("spec"))
        .expect("knob");
    let up = api::SwInterfaceSetFlags {
        sw_if_index: api::InterfaceIndex(1),
        flags: api::IfStatusFlags(1),
    };
    assert_eq!(rv(c.request(&up).await), -1, "default retval, every time");
    assert_eq!(rv(c.request(&up).await), -1);
    let dump_fail = sim.fail("sw_interface_dump".parse().expect("spec"));
    assert!(
        matches!(dump_fail, Err(SimError::Table(TableError::NoRetval(_)))),
        "{dump_fail:?}"
    );
    let unknown = sim.fail(FailSpec {
        name: "no_such_msg".into(),
        count: None,
        retval: -1,
    });
    assert!(matches!(
        unknown,
        Err(SimError::Table(TableError::NoSuchMessage(..)))
    ));
}

#[tokio::test]
async fn latency_knob_delays_every_request() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    sim.set_latency(Duration::from_millis(20)).expect("latency");
    let start = Instant::now();
    for _ in 0..5 {
        c.ping().await.expect("ping");
    }
    assert!(
        start.elapsed() >= Duration::from_millis(100),
        "{:?}",
        start.elapsed()
    );
    sim.set_latency(Duration::ZERO).expect("latency off");
}

#[tokio::test]
async fn restart_drops_clients_and_comes_back_empty_with_a_fresh_table() {
    let (_d, sim) = sim("23.06");
    let c = client(&sim).await;
    let old_id = c.table().id_of::<api::CreateLoopback>().expect("id");
    c.request(&api::CreateLoopback::default())
        .await
        .expect("loop");
    sim.restart_with_id_offset(50).expect("restart");
    assert!(
        eventually(WAIT, || async { c.is_closed() }).await,
        "the client sees the drop"
    );
    let c2 = c.reconnect().await.expect("reconnect");
    assert_eq!(c2.client_index(), 0x8000_0001, "registrations start over");
    assert_eq!(c2.table().id_of::<api::CreateLoopback>(), Some(old_id + 50));
    assert_eq!(c2.table().id("sockclnt_create_455fb9c4"), Some(15));
    let ifaces = c2
        .dump(&api::SwInterfaceDump {
            sw_if_index: api::InterfaceIndex(u32::MAX),
            ..Default::default()
        })
        .await
        .expect("dump");
    assert_eq!(ifaces.len(), 1, "only local0 after a restart");
    let again = c2
        .request(&api::CreateLoopback::default())
        .await
        .expect("loop");
    assert_eq!(again.sw_if_index.0, 1);
}

#[tokio::test]
async fn every_shipped_release_serves_its_own_table() {
    for release in binapi::RELEASES {
        let (_d, sim) = sim(release.version);
        let c = client(&sim).await;
        let expected: usize = release.files.iter().map(|f| f.messages.len()).sum();
        assert_eq!(c.table().len(), expected, "{}", release.version);
        binapi::compat::check(c.table(), release)
            .unwrap_or_else(|e| panic!("{}: {e:?}", release.version));
        let v = c
            .request(&api::ShowVersion::default())
            .await
            .expect("show_version");
        assert_eq!(v.version, format!("{}-release", release.version));
    }
}

#[tokio::test]
async fn release_21_01_answers_with_its_own_crcs() {
    use binapi::vpp2101 as old;
    let (_d, sim) = sim("21.01");
    let c = client(&sim).await;
    assert!(c.table().id("sw_interface_set_flags_6a2b491a").is_some());
    assert!(c.table().id("sw_interface_set_flags_f5aec1b8").is_none());
    assert!(
        c.table().id("bridge_domain_add_del_v2_600b7170").is_none(),
        "no v2 in 21.01"
    );
    let lo = c
        .request(&old::CreateLoopback::default())
        .await
        .expect("loop")
        .sw_if_index;
    c.request(&old::SwInterfaceSetFlags {
        sw_if_index: lo,
        flags: old::IfStatusFlags(1),
    })
    .await
    .expect("up");
    let d = c
        .dump(&old::SwInterfaceDump {
            sw_if_index: old::InterfaceIndex(u32::MAX),
            ..Default::default()
        })
        .await
        .expect("dump");
    assert_eq!(d[1].flags.0, 3);
    let first = c
        .request(&old::GetFirstMsgId {
            name: "memclnt_".to_owned() + &memclnt_crc("21.01"),
        })
        .await
        .expect("memclnt module");
    assert_eq!(first.first_msg_id, 1);
}

fn memclnt_crc(version: &str) -> String {
    let r = binapi::release::Release::find(version).expect("release");
    let f = r
        .files
        .iter()
        .find(|f| f.module == "memclnt")
        .expect("memclnt");
    f.version_crc.trim_start_matches("0x").to_owned()
}

#[tokio::test]
async fn release_25_06_serves_get_api_json_and_table_v2() {
    use binapi::vpp2506 as new;
    let (_d, sim) = sim("25.06");
    let c = client(&sim).await;
    let json = c
        .request(&new::GetApiJson::default())
        .await
        .expect("get_api_json");
    let parsed: serde_json::Value = serde_json::from_str(&json.json).expect("json array");
    assert!(parsed.as_array().is_some_and(|a| a.len() > 10));
    let t = new::IpTableAddDelV2 {
        table: new::IpTable {
            table_id: 7,
            is_ip6: true,
            name: String::new(),
        },
        create_mfib: true,
        is_add: true,
    };
    c.request(&t).await.expect("table v2");
    assert!(
        sim.state()
            .expect("state")
            .tables()
            .any(|(ip6, id, _)| ip6 && id == 7)
    );
}

#[tokio::test]
async fn request_watchers_see_each_handled_request_in_order_and_no_dropped_one() {
    let (_d, sim) = sim("23.06");
    let mut raw = Raw::connect(&sim).await;
    let mut seen = sim.watch_requests().expect("watch");
    let h = raw.handle;
    let before = Instant::now();
    // dropped by the silence rules (another client's index): not reported
    raw.send(h + 1, 1, &api::CreateLoopback::default()).await;
    raw.send(h, 2, &api::CreateLoopback::default()).await;
    let _ = raw.recv(WAIT).await.expect("create_loopback reply");
    expect_ping(&mut raw, 3).await;
    let names: Vec<&str> = std::iter::from_fn(|| seen.try_recv().ok())
        .map(|r| {
            assert!(r.at >= before, "arrival time before the request was sent");
            r.name
        })
        .collect();
    assert_eq!(names, ["create_loopback", "control_ping"]);
}
