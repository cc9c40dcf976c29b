//! Golden bytes: generated messages encode exactly as VPP lays them out, checked against the worked examples and
//! the offsets of vpp-binapi.md (§1.3 handshake capture, §1.8 create_loopback, §4.3 field lists).
//!
//! It deliberately checks a handful of messages by hand; `roundtrip.rs` covers every message generically.

use binapi::codec::frame::encode_frame;
use binapi::codec::message::{Header, decode_payload, encode_payload};
use binapi::types::{
    AddressFamily, FibPath, IfStatusFlags, InterfaceIndex, IpRoute, MacAddress, Prefix,
};
use binapi::{HeaderShape, Message, MessageKind, vpp2101, vpp2306, vpp2506};

fn payload<M: Message>(id: u16, client_index: u32, context: u32, m: &M) -> Vec<u8> {
    let mut out = Vec::new();
    encode_payload(
        &mut out,
        id,
        Header {
            client_index,
            context,
        },
        m,
    )
    .expect("encodes");
    out
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(char::is_ascii_hexdigit).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn create_loopback_matches_the_worked_example() {
    let req = vpp2306::CreateLoopback {
        mac_address: MacAddress([2, 0, 0, 0, 0, 1]),
    };
    let mut frame = Vec::new();
    encode_frame(
        &mut frame,
        0xcccc,
        Header {
            client_index: 0x8000_0001,
            context: 5,
        },
        &req,
    )
    .expect("frame");
    assert_eq!(
        frame,
        hex("0000000000000000 00000010 00000000  cccc 80000001 00000005 020000000001")
    );
    assert_eq!(
        vpp2306::CreateLoopback::NAME_CRC,
        "create_loopback_42bb5d22"
    );

    let wire = hex("dddd 00000005 00000000 00000001");
    let (id, h, reply) = decode_payload::<vpp2306::CreateLoopbackReply>(&wire).expect("reply");
    assert_eq!(
        (id, h.context, reply.retval, reply.sw_if_index),
        (0xdddd, 5, 0, InterfaceIndex(1))
    );
    assert_eq!(payload(0xdddd, 0, 5, &reply), wire);
}

#[test]
fn sockclnt_create_matches_the_papi_capture() {
    let req = vpp2306::SockclntCreate {
        name: "papi-test".into(),
    };
    let p = payload(15, 0, 124, &req);
    assert_eq!(p.len(), 70);
    assert_eq!(&p[..15], &hex("000f 0000007c 706170692d74657374")[..]);
    assert!(p[15..].iter().all(|&b| b == 0));
    assert_eq!(
        vpp2306::SockclntCreate::SHAPE,
        HeaderShape::Reply,
        "context comes first"
    );
    assert_eq!(
        vpp2306::SockclntCreateReply::SHAPE,
        HeaderShape::Request,
        "client_index before context"
    );
}

#[test]
fn sockclnt_create_reply_carries_the_message_table() {
    let mut wire = hex("0010 00000000 0000007c 00000000 80000001 0002");
    for (idx, name) in [
        (1u16, "memclnt_create_9c5e1c2f"),
        (15, "sockclnt_create_455fb9c4"),
    ] {
        wire.extend_from_slice(&idx.to_be_bytes());
        let mut n = name.as_bytes().to_vec();
        n.resize(64, 0);
        wire.extend_from_slice(&n);
    }
    assert_eq!(wire.len(), 20 + 2 * 66);
    let (id, h, r) = decode_payload::<vpp2306::SockclntCreateReply>(&wire).expect("reply");
    assert_eq!(
        (id, h.context, h.client_index, r.response, r.index),
        (16, 124, 0, 0, 0x8000_0001)
    );
    assert_eq!(r.message_table.len(), 2);
    assert_eq!(r.message_table[1].index, 15);
    assert_eq!(r.message_table[1].name, "sockclnt_create_455fb9c4");
}

#[test]
fn sw_interface_dump_applies_the_json_default() {
    let p = payload(7, 0x8000_0001, 3, &vpp2306::SwInterfaceDump::default());
    assert_eq!(p.len(), 19, "15 fixed + 4 for the empty name_filter");
    assert_eq!(&p[10..], &hex("ffffffff 00 00000000")[..]);
}

#[test]
fn control_ping_reply_layout() {
    let r = vpp2306::ControlPingReply {
        retval: 0,
        client_index: 0x8000_0001,
        vpe_pid: 4242,
    };
    assert_eq!(
        payload(9, 0, 3, &r),
        hex("0009 00000003 00000000 80000001 00001092")
    );
}

#[test]
fn f64_travels_little_endian() {
    let r = vpp2306::ShowVpeSystemTimeReply {
        retval: 0,
        vpe_system_time: binapi::types::Timestamp(1.5),
    };
    let p = payload(1, 0, 1, &r);
    assert_eq!(p.len(), 18);
    assert_eq!(&p[10..], &1.5f64.to_le_bytes());
}

#[test]
fn bridge_domain_add_del_is_86_bytes_with_is_add_last() {
    let bd = vpp2306::BridgeDomainAddDel {
        bd_id: 10,
        learn: true,
        bd_tag: "bd10".into(),
        ..Default::default()
    };
    let p = payload(1, 1, 1, &bd);
    assert_eq!(p.len(), 86);
    assert_eq!(&p[10..14], &[0, 0, 0, 10]);
    assert_eq!(p[17], 1, "learn at 17");
    assert_eq!(&p[21..25], b"bd10");
    assert_eq!(p[85], 1, "is_add defaults to true");
    let too_long = vpp2306::BridgeDomainAddDel {
        bd_tag: "x".repeat(64),
        ..Default::default()
    };
    let mut out = Vec::new();
    assert!(
        encode_payload(&mut out, 1, Header::default(), &too_long).is_err(),
        "63 chars at most"
    );
}

#[test]
fn ip_route_add_del_counts_its_paths() {
    let route = IpRoute {
        table_id: 0,
        stats_index: 0,
        prefix: Prefix::new("10.0.0.0".parse().expect("ip"), 8),
        paths: vec![FibPath::default()],
    };
    let req = vpp2306::IpRouteAddDel {
        is_add: true,
        is_multipath: false,
        route,
    };
    let p = payload(1, 1, 1, &req);
    assert_eq!(p.len(), 39 + 167);
    assert_eq!(p[20], AddressFamily::ADDRESS_IP4.0);
    assert_eq!(&p[21..25], &[10, 0, 0, 0]);
    assert_eq!(p[37], 8, "prefix len");
    assert_eq!(p[38], 1, "n_paths is computed");
    let (_, _, back) = decode_payload::<vpp2306::IpRouteAddDel>(&p).expect("decodes");
    assert_eq!(back, req);
}

#[test]
fn sw_interface_details_is_295_bytes() {
    let d = vpp2306::SwInterfaceDetails {
        sw_if_index: InterfaceIndex(1),
        flags: IfStatusFlags::IF_STATUS_API_FLAG_ADMIN_UP
            | IfStatusFlags::IF_STATUS_API_FLAG_LINK_UP,
        interface_name: "loop0".into(),
        ..Default::default()
    };
    let p = payload(1, 0, 1, &d);
    assert_eq!(p.len(), 295);
    assert_eq!(&p[20..24], &[0, 0, 0, 3]);
    assert_eq!(&p[103..108], b"loop0");
}

#[test]
fn tap_create_v3_shifts_tap_flags_by_three() {
    assert_eq!(
        binapi::codec::message::payload_len(&vpp2306::TapCreateV2::default()),
        283 + 4
    );
    assert_eq!(
        binapi::codec::message::payload_len(&vpp2306::TapCreateV3::default()),
        286 + 4
    );
    let v3 = vpp2306::TapCreateV3 {
        tap_flags: vpp2306::TapFlags::TAP_API_FLAG_TUN,
        ..Default::default()
    };
    let p = payload(1, 1, 1, &v3);
    assert_eq!(&p[87..91], &[0, 0, 0, 16]);
    assert_eq!(&p[22..24], &[1, 0], "tx_ring_sz defaults to 256");
}

#[test]
fn releases_keep_their_own_crcs() {
    assert_eq!(
        vpp2101::SwInterfaceSetFlags::NAME_CRC,
        "sw_interface_set_flags_6a2b491a"
    );
    assert_eq!(
        vpp2306::SwInterfaceSetFlags::NAME_CRC,
        "sw_interface_set_flags_f5aec1b8"
    );
    assert_eq!(
        vpp2506::SwInterfaceSetFlags::NAME_CRC,
        "sw_interface_set_flags_f5aec1b8"
    );
    assert_eq!(vpp2306::SwInterfaceDump::KIND, MessageKind::Dump);
    assert_eq!(vpp2306::SwInterfaceDetails::KIND, MessageKind::Details);
    assert_eq!(vpp2306::SwInterfaceEvent::KIND, MessageKind::Event);
    assert_eq!(vpp2306::SwInterfaceEvent::SHAPE, HeaderShape::Event);
    assert_eq!(vpp2306::ControlPingReply::KIND, MessageKind::Reply);
}

#[test]
fn unknown_enum_values_decode_raw() {
    let wire = hex("0001 00000001 80000001 00000001 000000ff");
    let (_, _, m) = decode_payload::<vpp2306::SwInterfaceSetFlags>(&wire).expect("decodes");
    assert_eq!(m.flags.0, 0xff);
    assert_eq!(m.flags.name(), None);
    assert_eq!(format!("{:?}", m.flags), "IfStatusFlags(255)");
}
