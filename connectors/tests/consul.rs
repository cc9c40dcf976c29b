//! Consul-specific cases, against the KV **double** (no Consul server can be installed here;
//! the double is cross-checked by py-consul in `consul_double_check.py`): keys lose their
//! leading `/` in Consul as Ligato does, the ACL token is sent, a watch can start on an empty
//! prefix (the 404 still carries `X-Consul-Index`), and the 512 KiB value limit.

use bytes::Bytes;
use connectors::testkit::compliance::{follow, json};
use connectors::testkit::consul_double::ConsulDouble;
use connectors::testkit::{DEADLINE, TestResult, unique_prefix};
use connectors::{ConsulBackend, ConsulOptions, ErrorKind, KvBackend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_stored_without_their_leading_slash() -> TestResult {
    let double = ConsulDouble::start().await?;
    let b = ConsulBackend::connect(ConsulOptions::new(double.addr().to_string())).await?;
    let p = unique_prefix();
    let k = format!("{p}a");
    b.put(&k, json(1)).await?;
    let url = format!("http://{}/v1/kv/{}", double.addr(), &k[1..]);
    let resp = reqwest::get(&url).await?;
    assert_eq!(resp.status(), 200, "{url}");
    let body: serde_json::Value = resp.json().await?;
    assert_eq!(body[0]["Key"], serde_json::Value::String(k[1..].to_owned()));
    let listed = b.list(&p).await?;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].key, k,
        "listing gives keys back as the caller spelled them"
    );
    assert_eq!(b.get(&k).await?, Some(json(1)));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_acl_token_is_sent() -> TestResult {
    let double = ConsulDouble::start_on("127.0.0.1:0".parse()?, Some("s3cret".into())).await?;
    let err = ConsulBackend::connect(ConsulOptions::new(double.addr().to_string()))
        .await
        .err()
        .ok_or("connected without the token")?;
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert!(!err.is_retriable());
    assert!(err.to_string().contains("403"), "{err}");
    let mut o = ConsulOptions::new(double.addr().to_string());
    o.token = Some("s3cret".into());
    let b = ConsulBackend::connect(o).await?;
    b.put("/vnf-agent/t/k", Bytes::from_static(b"v")).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_starts_on_an_empty_prefix() -> TestResult {
    let double = ConsulDouble::start().await?;
    let b = ConsulBackend::connect(ConsulOptions::new(double.addr().to_string())).await?;
    b.put("/vnf-agent/other/x", json(0)).await?;
    let p = unique_prefix();
    let snap = b.snapshot(&p).await?;
    assert!(snap.entries.is_empty());
    assert!(snap.revision.get() > 0, "the 404 carries X-Consul-Index");
    let mut f = follow(&b, &p).await?;
    let k = format!("{p}k");
    b.put(&k, json(1)).await?;
    f.until("the first key", DEADLINE, |v| v.get(&k).is_some())
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_over_512_kib_are_refused_with_the_key() -> TestResult {
    let double = ConsulDouble::start().await?;
    let b = ConsulBackend::connect(ConsulOptions::new(double.addr().to_string())).await?;
    let k = format!("{}big", unique_prefix());
    b.put(&k, Bytes::from(vec![b'x'; 512 * 1024])).await?;
    let err = b
        .put(&k, Bytes::from(vec![b'x'; 512 * 1024 + 1]))
        .await
        .err()
        .ok_or("a value over the limit was accepted")?;
    assert_eq!(err.kind(), ErrorKind::ValueTooLarge);
    assert!(err.to_string().contains(&k), "{err}");
    Ok(())
}
