//! The transport against a fake VPP on a real unix socket: handshake, requests, dumps, pipelining, VPP error
//! codes, timeouts, disconnect, restart and reconnect, health checks.
//!
//! Faults on the wire (garbage, truncated frames) are in `transport_faults.rs`. Nothing here sleeps for a fixed
//! time: every wait is bounded by `common::DEADLINE`.

mod common;

use binapi::types::{InterfaceIndex, MacAddress};
use binapi::{Client, Error, ErrorKind, vpp2101, vpp2306, vpp2506};
use common::{DEADLINE, FakeVpp, Options, config};
use std::time::Duration;
use tokio::time::timeout;

fn loopback(tag: u8) -> vpp2306::CreateLoopback {
    vpp2306::CreateLoopback {
        mac_address: MacAddress([2, 0, 0, 0, 0, tag]),
    }
}

#[tokio::test]
async fn connect_reads_the_table_and_calls_succeed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.sock");
    let vpp = FakeVpp::start(&path, Options::new(&vpp2306::RELEASE)).await;
    let client = Client::connect(config(&path)).await.expect("connects");
    assert_eq!(client.client_index(), 0x8000_0001);
    assert_eq!(client.table().len(), vpp.table.len());
    assert_eq!(client.table().id("sockclnt_create_455fb9c4"), Some(15));

    let v = client
        .request(&vpp2306::ShowVersion {})
        .await
        .expect("show_version");
    assert_eq!(
        (v.program.as_str(), v.version.as_str()),
        ("vpe", "23.06-fake")
    );
    let ping = client.ping().await.expect("ping");
    assert_eq!(
        (ping.client_index, ping.vpe_pid),
        (0x8000_0001, common::VPE_PID)
    );

    let release =
        binapi::compat::choose_release(client.table(), Some(&v.version)).expect("compatible");
    assert_eq!(release.version, "23.06");

    client
        .disconnect()
        .await
        .expect("sockclnt_delete answered with 1");
    assert!(client.is_closed());
    let e = client.ping().await.expect_err("closed");
    assert_eq!(e.kind(), ErrorKind::Disconnected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_requests_in_flight_each_get_their_own_reply() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.sock");
    let opts = Options {
        hold: 50,
        ..Options::new(&vpp2306::RELEASE)
    };
    let _vpp = FakeVpp::start(&path, opts).await;
    let client = Client::connect(config(&path)).await.expect("connects");
    let mut calls = Vec::new();
    for tag in 0..200u8 {
        let c = client.clone();
        calls.push(tokio::spawn(async move {
            (tag, c.request(&loopback(tag)).await)
        }));
    }
    for call in calls {
        let (tag, reply) = call.await.expect("task");
        let reply = reply.expect("create_loopback");
        assert_eq!(
            reply.sw_if_index.0 % 1000,
            u32::from(tag),
            "reply matched by context"
        );
    }
}

#[tokio::test]
async fn dumps_stream_details_until_the_ping_reply() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.sock");
    let _vpp = FakeVpp::start(&path, Options::new(&vpp2506::RELEASE)).await;
    let client = Client::connect(config(&path)).await.expect("connects");
    let all = client
        .dump(&vpp2506::SwInterfaceDump::default())
        .await
        .expect("dump");
    let names: Vec<_> = all.iter().map(|d| d.interface_name.as_str()).collect();
    assert_eq!(names, ["local0", "loop0", "loop1"]);
    let filtered = vpp2506::SwInterfaceDump {
        name_filter_valid: true,
        name_filter: "nothing".into(),
        ..Default::default()
    };
    assert!(client.dump(&filtered).await.expect("empty dump").is_empty());

    // Dumps and requests interleaved on one socket.
    let all = vpp2506::SwInterfaceDump::default();
    let (a, b, c) = tokio::join!(client.dump(&all), client.ping(), client.dump(&all));
    assert_eq!((a.expect("a").len(), c.expect("c").len()), (3, 3));
    b.expect("ping between dumps");
}

#[tokio::test]
async fn vpp_error_codes_carry_the_message_and_meaning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.sock");
    let _vpp = FakeVpp::start(&path, Options::new(&vpp2306::RELEASE)).await;
    let client = Client::connect(config(&path)).await.expect("connects");
    let e = client
        .request(&vpp2306::DeleteLoopback {
            sw_if_index: InterfaceIndex(99_999),
        })
        .await
        .expect_err("unknown interface");
    assert!(matches!(e, Error::Retval { retval: -2, .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "delete_loopback: vpp returned -2 (invalid sw_if_index)"
    );
    assert!(!e.is_retriable());
    client.ping().await.expect("connection still fine");
}

#[tokio::test]
async fn a_message_missing_from_the_table_fails_without_sending() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.sock");
    let _vpp = FakeVpp::start(&path, Options::new(&vpp2101::RELEASE)).await;
    let client = Client::connect(config(&path)).await.expect("connects");
    let e = client
        .request(&vpp2306::TapCreateV3::default())
        .await
        .expect_err("not in 21.01");
    assert!(
        matches!(
            e,
            Error::UnknownMessage {
                name_crc: "tap_create_v3_3f3fd1df"
            }
        ),
        "{e:?}"
    );
    // Same name, other CRC: 21.01 knows sw_interface_set_flags only as 6a2b491a.
    let e = client
        .request(&vpp2306::SwInterfaceSetFlags::default())
        .await
        .expect_err("crc differs");
    assert_eq!(e.kind(), ErrorKind::Incompatible);
    client.ping().await.expect("connection still fine");
}

#[tokio::test]
async fn unanswered_requests_time_out_and_the_connection_survives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.sock");
    let opts = Options {
        silent: vec!["show_version"],
        ..Options::new(&vpp2306::RELEASE)
    };
    let _vpp = FakeVpp::start(&path, opts).await;
    let client = Client::connect(config(&path)).await.expect("connects");
    let short = Duration::from_millis(200);
    let e = client
        .request_within(&vpp2306::ShowVersion {}, short)
        .await
        .expect_err("silent");
    assert!(
        matches!(e, Error::Timeout { msg: "show_version", after } if after == short),
        "{e:?}"
    );
    assert!(e.is_retriable());
    client.ping().await.expect("later calls still work");
}

#[tokio::test]
async fn vpp_restart_fails_waiting_calls_and_reconnect_reads_new_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.sock");
    let opts = Options {
        silent: vec!["show_version"],
        ..Options::new(&vpp2306::RELEASE)
    };
    let vpp = FakeVpp::start(&path, opts).await;
    let client = Client::connect(config(&path)).await.expect("connects");
    let old_id = client.table().id("show_version_51077d14");
    let waiting = {
        let c = client.clone();
        tokio::spawn(async move { c.request(&vpp2306::ShowVersion {}).await })
    };
    client.ping().await.expect("ping before the crash");
    vpp.stop();
    let reason = timeout(DEADLINE, client.closed())
        .await
        .expect("closed in time");
    assert_eq!(reason, "connection closed by vpp");
    let e = waiting
        .await
        .expect("task")
        .expect_err("failed by the crash");
    assert!(
        matches!(
            e,
            Error::Disconnected {
                msg: "show_version",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_retriable());

    let restarted = Options {
        offset: 500,
        ..Options::new(&vpp2506::RELEASE)
    };
    let _vpp = FakeVpp::start(&path, restarted).await;
    let fresh = client.reconnect().await.expect("reconnects");
    let new_id = fresh.table().id("show_version_51077d14");
    assert_ne!(old_id, new_id, "ids come from the new table");
    let v = fresh
        .request(&vpp2506::ShowVersion {})
        .await
        .expect("show_version");
    assert_eq!(v.version, "25.06-fake");
    let release =
        binapi::compat::choose_release(fresh.table(), Some(&v.version)).expect("compatible");
    assert_eq!(release.version, "25.06");
}

#[tokio::test]
async fn connect_with_retry_waits_for_vpp_to_come_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.sock");
    let backoff = binapi::transport::Backoff {
        initial: Duration::from_millis(5),
        max: Duration::from_millis(50),
        deadline: DEADLINE,
    };
    let connecting = tokio::spawn(binapi::transport::connect_with_retry(
        config(&path),
        backoff,
    ));
    let e = Client::connect(config(&path))
        .await
        .expect_err("nothing listens yet");
    assert_eq!(e.kind(), ErrorKind::Io);
    let _vpp = FakeVpp::start(&path, Options::new(&vpp2306::RELEASE)).await;
    let client = timeout(DEADLINE, connecting)
        .await
        .expect("in time")
        .expect("task")
        .expect("connected");
    client.ping().await.expect("ping");
}

#[tokio::test]
async fn a_silent_vpp_fails_the_health_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.sock");
    let opts = Options {
        silent: vec!["control_ping"],
        ..Options::new(&vpp2306::RELEASE)
    };
    let _vpp = FakeVpp::start(&path, opts).await;
    let cfg = binapi::Config {
        health_interval: Some(Duration::from_millis(20)),
        health_timeout: Duration::from_millis(50),
        ..config(&path)
    };
    let client = Client::connect(cfg).await.expect("connects");
    let reason = timeout(DEADLINE, client.closed())
        .await
        .expect("closed in time");
    assert!(
        reason.starts_with("health check failed: control_ping: no reply"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_healthy_vpp_passes_the_health_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.sock");
    let _vpp = FakeVpp::start(&path, Options::new(&vpp2306::RELEASE)).await;
    let cfg = binapi::Config {
        health_interval: Some(Duration::from_millis(5)),
        health_timeout: Duration::from_secs(5),
        ..config(&path)
    };
    let client = Client::connect(cfg).await.expect("connects");
    // Many health pings go by while these calls run; none may close the connection.
    for _ in 0..50 {
        client
            .request(&vpp2306::ShowVersion {})
            .await
            .expect("show_version");
    }
    assert_eq!(client.closed_reason(), None);
}

#[tokio::test]
async fn a_batch_is_sent_at_once_and_each_entry_gets_its_own_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.sock");
    let opts = Options {
        hold: 40,
        silent: vec!["show_version"],
        ..Options::new(&vpp2306::RELEASE)
    };
    let _vpp = FakeVpp::start(&path, opts).await;
    let client = Client::connect(config(&path)).await.expect("connects");
    let reqs: Vec<_> = (0..40u8).map(loopback).collect();
    let replies = client.request_batch(&reqs).await.expect("batch sent");
    for (tag, r) in replies.into_iter().enumerate() {
        assert_eq!(
            r.expect("reply").sw_if_index.0 % 1000,
            tag as u32,
            "matched by context"
        );
    }

    let deletes = [
        vpp2306::DeleteLoopback {
            sw_if_index: InterfaceIndex(1001),
        },
        vpp2306::DeleteLoopback {
            sw_if_index: InterfaceIndex(99_999),
        },
    ];
    let results = client.request_batch(&deletes).await.expect("batch sent");
    assert!(results[0].is_ok());
    assert!(
        matches!(results[1], Err(Error::Retval { retval: -2, .. })),
        "{:?}",
        results[1]
    );

    let impatient = Client::connect(binapi::Config {
        request_timeout: Duration::from_millis(200),
        ..config(&path)
    })
    .await
    .expect("second connection");
    let silent = impatient
        .request_batch(&[vpp2306::ShowVersion {}, vpp2306::ShowVersion {}])
        .await
        .expect("sent");
    assert!(silent.iter().all(|r| matches!(
        r,
        Err(Error::Timeout {
            msg: "show_version",
            ..
        })
    )));
    assert!(
        client
            .request_batch::<vpp2306::ShowVersion>(&[])
            .await
            .expect("empty")
            .is_empty()
    );
    client.ping().await.expect("connection still fine");
}

#[tokio::test]
async fn subscribed_events_arrive_and_end_with_the_connection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.sock");
    let vpp = FakeVpp::start(&path, Options::new(&vpp2306::RELEASE)).await;
    let client = Client::connect(config(&path)).await.expect("connects");
    let mut events = client
        .subscribe::<vpp2306::SwInterfaceEvent>(16)
        .expect("subscribes");
    let want = vpp2306::WantInterfaceEvents {
        enable_disable: 1,
        pid: 77,
    };
    client.request(&want).await.expect("want_interface_events");
    for expected in 1..=2 {
        let e = timeout(DEADLINE, events.recv())
            .await
            .expect("in time")
            .expect("event");
        assert_eq!((e.pid, e.sw_if_index.0), (77, expected));
    }
    // Replies still flow while events are routed.
    client.ping().await.expect("ping");
    vpp.stop();
    let end = timeout(DEADLINE, events.recv()).await.expect("in time");
    assert!(end.is_none(), "the stream ends when the connection does");
    let e = client
        .subscribe::<vpp2306::SwInterfaceEvent>(1)
        .expect_err("closed");
    assert_eq!(e.kind(), ErrorKind::Disconnected);
}

/// Polls `cond` until it holds or the deadline passes.
async fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let end = tokio::time::Instant::now() + DEADLINE;
    while tokio::time::Instant::now() < end {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    cond()
}

#[tokio::test]
async fn abandoned_and_timed_out_calls_leave_nothing_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api.sock");
    let opts = Options {
        silent: vec!["show_version"],
        ..Options::new(&vpp2306::RELEASE)
    };
    let _vpp = FakeVpp::start(&path, opts).await;
    let client = Client::connect(config(&path)).await.expect("connects");
    let c = client.clone();
    let abandoned = tokio::spawn(async move {
        let batch = [vpp2306::ShowVersion {}, vpp2306::ShowVersion {}];
        let (one, many) =
            tokio::join!(c.request(&vpp2306::ShowVersion {}), c.request_batch(&batch));
        (one.is_ok(), many.is_ok())
    });
    assert!(
        eventually(|| client.in_flight() == 3).await,
        "three calls wait"
    );
    abandoned.abort();
    assert!(
        eventually(|| client.in_flight() == 0).await,
        "dropped calls are forgotten"
    );
    let e = client
        .request_within(&vpp2306::ShowVersion {}, Duration::from_millis(50))
        .await
        .expect_err("silent");
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(client.in_flight(), 0, "timed-out calls are forgotten");
}
