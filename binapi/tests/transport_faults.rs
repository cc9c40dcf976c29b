//! The transport against a misbehaving peer: oversized, undersized, truncated and garbage frames, garbled
//! replies, a broken handshake, and unsolicited messages. Each must give a clear error and a closed connection
//! (or be ignored, for unknown ids and events) and never a panic or a hang.
//!
//! Every wait is bounded by `common::DEADLINE`; nothing sleeps for a fixed time.

mod common;

use binapi::codec::frame::{encode_frame, put_frame_header};
use binapi::codec::message::Header;
use binapi::server::ServerConn;
use binapi::{Client, Error, ErrorKind, MessageTable, vpp2306};
use common::{DEADLINE, config, raw_peer, wait_for};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;
use tokio::time::timeout;

fn table() -> MessageTable {
    MessageTable::for_release(&vpp2306::RELEASE, 0)
}

/// Starts a peer that answers the first control_ping with `bytes`, connects, pings, and returns the error.
async fn ping_answered_with(bytes: Vec<u8>, close_after: bool) -> (Client, Error) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.sock");
    let peer = raw_peer(&path, table(), move |mut conn: ServerConn| async move {
        if wait_for(&mut conn, "control_ping").await.is_some() {
            let _ = conn.send_raw(&bytes).await;
            if !close_after {
                // Keep the socket open until the client hangs up.
                while let Ok(Some(_)) = conn.recv().await {}
            }
        }
    })
    .await;
    let client = Client::connect(config(&path)).await.expect("connects");
    let err = timeout(DEADLINE, client.ping())
        .await
        .expect("no hang")
        .expect_err("garbage is an error");
    timeout(DEADLINE, client.closed()).await.expect("closed");
    drop(client.clone());
    let _ = timeout(DEADLINE, peer).await;
    (client, err)
}

fn ping_reply_id() -> u16 {
    table().id("control_ping_reply_f6b0b8ca").expect("in table")
}

#[tokio::test]
async fn an_oversized_frame_closes_the_connection() {
    let mut bytes = Vec::new();
    put_frame_header(&mut bytes, u32::MAX);
    let (client, err) = ping_answered_with(bytes, false).await;
    assert_eq!(err.kind(), ErrorKind::Disconnected);
    assert!(err.is_retriable());
    let reason = client.closed_reason().expect("closed");
    assert!(
        reason
            .starts_with("bad frame from vpp: frame payload of 4294967295 bytes exceeds the limit"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_frame_without_a_message_id_closes_the_connection() {
    let mut bytes = Vec::new();
    put_frame_header(&mut bytes, 1);
    bytes.push(0);
    let (client, _) = ping_answered_with(bytes, false).await;
    let reason = client.closed_reason().expect("closed");
    assert!(reason.contains("shorter than a message id"), "{reason}");
}

#[tokio::test]
async fn a_truncated_frame_at_eof_is_reported() {
    let mut bytes = Vec::new();
    put_frame_header(&mut bytes, 18);
    bytes.extend_from_slice(&ping_reply_id().to_be_bytes());
    bytes.extend_from_slice(&[0, 0, 0]);
    let (client, err) = ping_answered_with(bytes, true).await;
    assert!(
        matches!(
            err,
            Error::Disconnected {
                msg: "control_ping",
                ..
            }
        ),
        "{err:?}"
    );
    let reason = client.closed_reason().expect("closed");
    assert!(
        reason.contains("connection closed inside a frame with 21 bytes buffered"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_reply_too_short_for_its_header_closes_the_connection() {
    let mut bytes = Vec::new();
    put_frame_header(&mut bytes, 3);
    bytes.extend_from_slice(&ping_reply_id().to_be_bytes());
    bytes.push(0);
    let (client, _) = ping_answered_with(bytes, false).await;
    let reason = client.closed_reason().expect("closed");
    assert!(reason.contains("too short for its header"), "{reason}");
}

#[tokio::test]
async fn a_garbled_reply_body_is_a_decode_error_and_closes_the_connection() {
    // Right id and context (the client's first context is 1), but 8 bytes short of a control_ping_reply.
    let mut bytes = Vec::new();
    put_frame_header(&mut bytes, 10);
    bytes.extend_from_slice(&ping_reply_id().to_be_bytes());
    bytes.extend_from_slice(&1u32.to_be_bytes());
    bytes.extend_from_slice(&0u32.to_be_bytes());
    let (client, err) = ping_answered_with(bytes, false).await;
    assert!(
        matches!(
            err,
            Error::Decode {
                msg: "control_ping_reply",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Protocol);
    let reason = client.closed_reason().expect("closed");
    assert!(
        reason.starts_with("bad message from vpp: control_ping_reply: decode: truncated"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_stream_of_noise_closes_the_connection() {
    let mut noise = Vec::with_capacity(10_000);
    let mut x: u32 = 0x1234_5678;
    for _ in 0..10_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push(x as u8);
    }
    let (client, err) = ping_answered_with(noise, true).await;
    assert!(err.is_retriable(), "{err}");
    assert!(client.closed_reason().is_some());
}

#[tokio::test]
async fn unknown_ids_and_events_are_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.sock");
    let _peer = raw_peer(&path, table(), |mut conn: ServerConn| async move {
        let Some(ping) = wait_for(&mut conn, "control_ping").await else {
            return;
        };
        let mut bytes = Vec::new();
        put_frame_header(&mut bytes, 6);
        bytes.extend_from_slice(&[0xff, 0xfe, 0, 0, 0, 1]);
        let event = vpp2306::SwInterfaceEvent {
            pid: 1,
            ..Default::default()
        };
        let event_id = conn
            .table()
            .id_of::<vpp2306::SwInterfaceEvent>()
            .expect("id");
        encode_frame(
            &mut bytes,
            event_id,
            Header {
                client_index: 1,
                context: 0,
            },
            &event,
        )
        .expect("event");
        let _ = conn.send_raw(&bytes).await;
        let ctx = ping.header().expect("header").context;
        let reply = vpp2306::ControlPingReply::default();
        let _ = conn.send(ctx, &reply).await;
        while let Ok(Some(_)) = conn.recv().await {}
    })
    .await;
    let client = Client::connect(config(&path)).await.expect("connects");
    timeout(DEADLINE, client.ping())
        .await
        .expect("no hang")
        .expect("ping");
    assert_eq!(client.closed_reason(), None);
}

#[tokio::test]
async fn a_broken_handshake_is_a_handshake_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.sock");
    let listener = UnixListener::bind(&path).expect("bind");
    let peer = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        let mut create = [0u8; 16 + 70];
        s.read_exact(&mut create).await.expect("sockclnt_create");
        let mut wrong = Vec::new();
        put_frame_header(&mut wrong, 6);
        wrong.extend_from_slice(&[0, 99, 0, 0, 0, 1]);
        s.write_all(&wrong).await.expect("write");
        let (mut s, _) = listener.accept().await.expect("accept");
        s.read_exact(&mut create).await.expect("sockclnt_create");
        s.write_all(&[0u8; 7]).await.expect("write");
    });
    let e = Client::connect(config(&path)).await.expect_err("wrong id");
    assert!(matches!(e, Error::Handshake { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "handshake: expected sockclnt_create_reply (id 16), got id 99"
    );
    let e = Client::connect(config(&path)).await.expect_err("garbage");
    assert!(e.to_string().starts_with("handshake: "), "{e}");
    timeout(DEADLINE, peer)
        .await
        .expect("peer done")
        .expect("peer ok");
}
