//! etcd-specific cases: compaction past a watch's revision (resync by snapshot diff, also
//! while cut off), exact history replay after a reconnect, a server restart, and start-up
//! with etcd down (with and without `allow_delayed_start`).
//!
//! Compaction and restarts use a private etcd even when `VPP_AGENT_TEST_ETCD` is set, since
//! they affect every user of the server. The shared cases are in `compliance.rs`.

use std::time::Duration;

use bytes::Bytes;
use connectors::testkit::compliance::{Follower, follow, json};
use connectors::testkit::proxy::TcpProxy;
use connectors::testkit::servers::EtcdServer;
use connectors::testkit::{DEADLINE, TestResult};
use connectors::{ErrorKind, EtcdBackend, EtcdOptions, KvBackend, WatchEvent};

async fn connect(endpoint: &str) -> TestResult<EtcdBackend> {
    let mut o = EtcdOptions::new([endpoint.to_owned()]);
    o.reconnect_interval = Duration::from_millis(100);
    Ok(EtcdBackend::connect(o).await?)
}

async fn current_revision(b: &EtcdBackend) -> TestResult<i64> {
    let mut kv = b.client().kv_client();
    let resp = kv.get("/probe", None).await?;
    Ok(resp.header().map(|h| h.revision()).unwrap_or(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_from_a_compacted_revision_resyncs_by_diff() -> TestResult {
    let server = EtcdServer::start_private().await?;
    let b = connect(server.endpoint()).await?;
    let p = format!("{}compact/", server.prefix());
    let (a, bk, c) = (format!("{p}a"), format!("{p}b"), format!("{p}c"));
    b.put(&a, json(1)).await?;
    b.put(&bk, json(1)).await?;
    let snap = b.snapshot(&p).await?;
    b.put(&a, json(2)).await?;
    b.put(&a, json(3)).await?;
    b.delete(&bk).await?;
    b.put(&c, json(1)).await?;
    b.client()
        .clone()
        .compact(current_revision(&b).await?, None)
        .await?;

    let mut watch = b.watch(&p, snap).await?;
    let first = tokio::time::timeout(DEADLINE, watch.next()).await?;
    let Some(WatchEvent::Resynced(batch)) = first else {
        return Err(format!("want a Resynced event first, got {first:?}").into());
    };
    let got: Vec<_> = batch
        .changes
        .iter()
        .map(|c| (c.key.clone(), c.value.clone(), c.prev.clone()))
        .collect();
    let want = vec![
        (a.clone(), Some(json(3)), Some(json(1))),
        (bk.clone(), None, Some(json(1))),
        (c.clone(), Some(json(1)), None),
    ];
    assert_eq!(
        got, want,
        "the diff coalesces a's history into one put with the old prev"
    );

    let d = format!("{p}d");
    b.put(&d, json(1)).await?;
    let next = tokio::time::timeout(DEADLINE, watch.next()).await?;
    let Some(WatchEvent::Changes(batch)) = next else {
        return Err(format!("want live changes after the resync, got {next:?}").into());
    };
    assert_eq!(batch.changes.len(), 1);
    assert_eq!(batch.changes[0].key, d);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_while_cut_off_resyncs_and_keeps_watching() -> TestResult {
    let server = EtcdServer::start_private().await?;
    let proxy = TcpProxy::start(server.addr()?).await?;
    let watched = connect(&proxy.addr().to_string()).await?;
    let writer = connect(server.endpoint()).await?;
    let p = format!("{}cutcompact/", server.prefix());
    let (a, bk) = (format!("{p}a"), format!("{p}b"));
    writer.put(&a, json(1)).await?;
    let mut f = follow(&watched, &p).await?;
    writer.put(&bk, json(1)).await?;
    f.until("b", DEADLINE, |v| v.get(&bk).is_some()).await?;

    proxy.cut();
    writer.put(&a, json(2)).await?;
    writer.delete(&bk).await?;
    writer
        .client()
        .clone()
        .compact(current_revision(&writer).await?, None)
        .await?;
    proxy.restore();

    f.until("the diff after compaction", DEADLINE, |v| {
        v.get(&a) == Some(&json(2)) && v.get(&bk).is_none()
    })
    .await?;
    assert!(
        f.resyncs >= 1,
        "compaction must be recovered by a Resynced diff"
    );
    assert!(!f.problems.is_empty(), "the cut must have been noticed");
    writer.put(&bk, json(3)).await?;
    f.until("a live put after the resync", DEADLINE, |v| {
        v.get(&bk) == Some(&json(3))
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_replays_every_change_in_order() -> TestResult {
    let server = EtcdServer::start().await?;
    let proxy = TcpProxy::start(server.addr()?).await?;
    let watched = connect(&proxy.addr().to_string()).await?;
    let writer = connect(server.endpoint()).await?;
    let p = format!("{}replay/", server.prefix());
    let k = format!("{p}k");
    let mut f: Follower = follow(&watched, &p).await?;
    writer.put(&k, json(0)).await?;
    f.until("k = 0", DEADLINE, |v| v.get(&k).is_some()).await?;
    proxy.cut();
    for i in 1..=5 {
        writer.put(&k, json(i)).await?;
    }
    proxy.restore();
    f.until("k = 5", DEADLINE, |v| v.get(&k) == Some(&json(5)))
        .await?;
    assert_eq!(
        f.per_key.get(&k),
        Some(&6),
        "etcd replays history: every put is seen"
    );
    assert_eq!(f.resumes, 1, "one Resumed after the reconnect");
    assert_eq!(f.resyncs, 0, "no snapshot diff was needed");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_survives_a_server_restart() -> TestResult {
    let mut server = EtcdServer::start_private().await?;
    let b = connect(server.endpoint()).await?;
    let p = format!("{}restart/", server.prefix());
    let (a, bk) = (format!("{p}a"), format!("{p}b"));
    let mut f = follow(&b, &p).await?;
    b.put(&a, json(1)).await?;
    f.until("a", DEADLINE, |v| v.get(&a).is_some()).await?;
    server.stop().await?;
    let err = b
        .put(&bk, json(1))
        .await
        .err()
        .ok_or("a put to a stopped etcd succeeded")?;
    assert!(err.is_retriable(), "{err}");
    server.restart().await?;
    let writer = connect(server.endpoint()).await?;
    writer.put(&bk, json(2)).await?;
    f.until("b after the restart", DEADLINE, |v| {
        v.get(&bk) == Some(&json(2))
    })
    .await?;
    assert_eq!(f.view.get(&a), Some(&json(1)));
    assert!(!f.problems.is_empty(), "the outage must have been reported");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_with_etcd_down() -> TestResult {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let endpoint = format!("127.0.0.1:{port}");
    let mut o = EtcdOptions::new([endpoint.clone()]);
    o.dial_timeout = Duration::from_millis(300);
    let err = EtcdBackend::connect(o.clone())
        .await
        .err()
        .ok_or("connected to nothing")?;
    assert_eq!(err.kind(), ErrorKind::Connect);
    assert!(err.to_string().contains(&endpoint), "{err}");
    o.allow_delayed_start = true;
    o.operation_timeout = Duration::from_millis(300);
    let b = EtcdBackend::connect(o).await?;
    let err = b
        .get("/vnf-agent/x")
        .await
        .err()
        .ok_or("a get from nothing succeeded")?;
    assert!(err.is_retriable(), "{err}");
    assert!(err.to_string().contains("/vnf-agent/x"), "{err}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_and_watches_carry_more_than_4_mib() -> TestResult {
    let server = EtcdServer::start().await?;
    let b = connect(server.endpoint()).await?;
    let p = format!("{}big/", server.prefix());
    let mut f = follow(&b, &p).await?;
    let big = Bytes::from(vec![b'x'; 1 << 20]);
    for i in 0..6 {
        b.put(&format!("{p}k{i}"), big.clone()).await?;
    }
    let snap = b.snapshot(&p).await?;
    assert_eq!(snap.entries.len(), 6, "a 6 MiB snapshot page must decode");
    f.until("six 1 MiB values", DEADLINE, |v| v.entries().len() == 6)
        .await?;
    let replay = b.watch(&p, connectors::Snapshot::empty()).await?;
    let mut r = Follower::new(replay, connectors::Snapshot::empty());
    r.until("a 6 MiB replay", DEADLINE, |v| v.entries().len() == 6)
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_a_refusal_not_a_connection_problem() -> TestResult {
    let server = EtcdServer::start_private().await?;
    let admin = connect(server.endpoint()).await?;
    let mut c = admin.client().clone();
    c.user_add("root", "s3cret", None).await?;
    c.user_grant_role("root", "root").await?;
    c.auth_enable().await?;
    let mut o = EtcdOptions::new([server.endpoint().to_owned()]);
    o.credentials = Some(("root".into(), "wrong".into()));
    let err = EtcdBackend::connect(o.clone())
        .await
        .err()
        .ok_or("connected with a wrong password")?;
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert!(!err.is_retriable());
    o.credentials = Some(("root".into(), "s3cret".into()));
    let b = EtcdBackend::connect(o).await?;
    let k = format!("{}k", server.prefix());
    b.put(&k, json(1)).await?;
    assert_eq!(b.get(&k).await?, Some(json(1)));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_partition_is_found_by_keepalive() -> TestResult {
    let server = EtcdServer::start().await?;
    let proxy = TcpProxy::start(server.addr()?).await?;
    let watched = connect(&proxy.addr().to_string()).await?;
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
    // Nothing is closed, so only the HTTP/2 keepalive (5 s + 3 s) can tell the watch.
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
