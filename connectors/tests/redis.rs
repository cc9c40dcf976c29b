//! Redis-specific cases: a watch refuses to start when keyspace notifications are off and
//! says exactly what to set; expired keys become deletes; a server restart is recovered by a
//! SCAN resync. These use private servers even when `VPP_AGENT_TEST_REDIS` is set, since they
//! change the server's configuration or restart it. The shared cases are in `compliance.rs`.

use std::time::Duration;

use connectors::testkit::compliance::{follow, json};
use connectors::testkit::servers::RedisServer;
use connectors::testkit::{DEADLINE, TestResult};
use connectors::{ErrorKind, KvBackend, RedisBackend, RedisOptions, Snapshot};

async fn connect(endpoint: &str) -> TestResult<RedisBackend> {
    let mut o = RedisOptions::new(endpoint);
    o.reconnect_interval = Duration::from_millis(100);
    o.dial_timeout = Duration::from_secs(1);
    Ok(RedisBackend::connect(o).await?)
}

async fn raw(endpoint: &str) -> TestResult<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(format!("redis://{endpoint}"))?;
    Ok(client.get_multiplexed_async_connection().await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_refuses_to_start_without_keyspace_notifications() -> TestResult {
    let server = RedisServer::start_private("").await?;
    let b = connect(server.endpoint()).await?;
    let p = server.prefix();
    let err = b
        .watch(p, Snapshot::empty())
        .await
        .err()
        .ok_or("a watch started without notifications")?;
    assert_eq!(err.kind(), ErrorKind::NotificationsOff);
    let text = err.to_string();
    assert!(text.contains("notify-keyspace-events KA"), "{text}");
    assert!(text.contains("K$g"), "{text}");
    assert!(text.contains(server.endpoint()), "{text}");
    assert!(!err.is_retriable());

    // Events without keyspace (`E` only) or without generic commands are not enough either.
    let mut conn = raw(server.endpoint()).await?;
    for flags in ["EA", "K$"] {
        let () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("notify-keyspace-events")
            .arg(flags)
            .query_async(&mut conn)
            .await?;
        let err = b
            .watch(p, Snapshot::empty())
            .await
            .err()
            .ok_or("a watch started with too few flags")?;
        assert_eq!(err.kind(), ErrorKind::NotificationsOff, "flags {flags}");
    }
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("notify-keyspace-events")
        .arg("K$g")
        .query_async(&mut conn)
        .await?;
    let mut f = follow(&b, p).await?;
    let k = format!("{p}k");
    b.put(&k, json(1)).await?;
    f.until("k with K$g", DEADLINE, |v| v.get(&k).is_some())
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_key_becomes_a_delete_with_its_previous_value() -> TestResult {
    let server = RedisServer::start().await?;
    let b = connect(server.endpoint()).await?;
    let p = format!("{}ttl/", server.prefix());
    let k = format!("{p}k");
    let mut f = follow(&b, &p).await?;
    let mut conn = raw(server.endpoint()).await?;
    let () = redis::cmd("SET")
        .arg(&k)
        .arg(&json(7)[..])
        .arg("PX")
        .arg(200)
        .query_async(&mut conn)
        .await?;
    f.until("k set", DEADLINE, |v| v.get(&k).is_some()).await?;
    f.until("k expired", DEADLINE, |v| v.get(&k).is_none())
        .await?;
    assert_eq!(f.last.get(&k), Some(&(None, Some(json(7)))));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_is_recovered_by_a_scan_resync() -> TestResult {
    let mut server = RedisServer::start_private("KA").await?;
    let b = connect(server.endpoint()).await?;
    let p = format!("{}restart/", server.prefix());
    let (a, bk) = (format!("{p}a"), format!("{p}b"));
    let mut f = follow(&b, &p).await?;
    b.put(&a, json(1)).await?;
    f.until("a", DEADLINE, |v| v.get(&a).is_some()).await?;
    server.stop().await?;
    server.restart().await?;
    // The append-only file kept `a`; the resync diff against the watch's view is empty.
    let writer = connect(server.endpoint()).await?;
    writer.put(&bk, json(1)).await?;
    f.until("b after the restart", DEADLINE, |v| v.get(&bk).is_some())
        .await?;
    assert_eq!(f.view.get(&a), Some(&json(1)));
    assert!(!f.problems.is_empty(), "the outage must have been reported");
    assert!(f.resyncs >= 1, "a reconnect resyncs with SCAN");
    assert_eq!(f.per_key.get(&a), Some(&1), "a must not be applied twice");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_a_refusal_not_a_connection_problem() -> TestResult {
    let server = RedisServer::start_private_with("KA", &["--requirepass", "s3cret"]).await?;
    let mut o = RedisOptions::new(server.endpoint());
    o.password = Some("wrong".into());
    let err = RedisBackend::connect(o.clone())
        .await
        .err()
        .ok_or("connected with a wrong password")?;
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert!(!err.is_retriable());
    o.password = Some("s3cret".into());
    let b = RedisBackend::connect(o).await?;
    let k = format!("{}k", server.prefix());
    b.put(&k, json(1)).await?;
    assert_eq!(b.get(&k).await?, Some(json(1)));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_partition_is_found_by_the_health_check() -> TestResult {
    use connectors::WatchEvent;
    use connectors::testkit::proxy::TcpProxy;

    let server = RedisServer::start().await?;
    let proxy = TcpProxy::start(server.addr()?).await?;
    let mut o = RedisOptions::new(proxy.addr().to_string());
    o.reconnect_interval = Duration::from_millis(100);
    o.health_check_interval = Duration::from_millis(200);
    o.read_timeout = Duration::from_millis(300);
    o.dial_timeout = Duration::from_millis(500);
    let watched = RedisBackend::connect(o).await?;
    let writer = connect(server.endpoint()).await?;
    let p = format!("{}partition/", server.prefix());
    let k = format!("{p}k");
    let mut f = follow(&watched, &p).await?;
    // The watch is live once it has delivered a change.
    let ready = format!("{p}ready");
    writer.put(&ready, json(0)).await?;
    f.until("the watch to be live", DEADLINE, |v| {
        v.get(&ready).is_some()
    })
    .await?;
    proxy.freeze();
    writer.put(&k, json(1)).await?;
    // Nothing is closed, so only the PING timing out can tell the watch.
    match tokio::time::timeout(DEADLINE, f.watch.next()).await? {
        Some(WatchEvent::Problem(err)) => assert!(err.is_retriable(), "{err}"),
        other => return Err(format!("want a Problem first, got {other:?}").into()),
    }
    proxy.thaw();
    f.until("k after the partition heals", DEADLINE, |v| {
        v.get(&k).is_some()
    })
    .await?;
    assert_eq!(f.per_key.get(&k), Some(&1));
    Ok(())
}
