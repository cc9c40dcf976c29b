//! etcd and Redis over TLS, against real servers (Debian's `etcd` and `redis-server`, always
//! private ones) with a throwaway PKI made per test ([`TestPki`]): the compliance suite over
//! mutual TLS (Redis also with a password), server-only TLS, etcd user/password over TLS,
//! skip-verify, and the failures a user meets first: a wrong CA, a missing file, a server
//! that requires a client certificate we do not send. Each failure must be an error that says
//! what is wrong and names the endpoint or the file, not a hang.
//!
//! Deliberately not here: plain-TCP cases (`etcd.rs`, `redis.rs`, `compliance.rs`).

use std::time::Duration;

use connectors::testkit::compliance::{json, put_get_list_delete, run_all, watch_from_revision};
use connectors::testkit::harness::{EtcdHarness, RedisHarness};
use connectors::testkit::pki::{ClientAuth, ClientTls, TestPki};
use connectors::testkit::servers::{EtcdServer, RedisServer};
use connectors::testkit::{DEADLINE, TestResult};
use connectors::{
    ConnectorError, ErrorKind, EtcdBackend, EtcdOptions, KvBackend, RedisBackend, RedisOptions,
    RedisTlsOptions,
};

fn path(p: &std::path::Path) -> Option<String> {
    Some(p.display().to_string())
}

/// The error text, checked to be a TLS error that contains every `needle`.
fn tls_error<T>(what: &str, r: Result<T, ConnectorError>, needles: &[&str]) -> TestResult<String> {
    let err = match r {
        Ok(_) => return Err(format!("{what}: connected").into()),
        Err(e) => e,
    };
    let text = err.to_string();
    eprintln!("{what}: {text}");
    assert_eq!(err.kind(), ErrorKind::Tls, "{what}: {text}");
    for n in needles {
        assert!(text.contains(n), "{what}: {text:?} does not contain {n:?}");
    }
    Ok(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_over_mutual_tls_passes_the_compliance_suite() -> TestResult {
    let pki = TestPki::generate()?;
    run_all(&mut EtcdHarness::start_tls(&pki, ClientAuth::Required).await?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_over_mutual_tls_with_a_password_passes_the_compliance_suite() -> TestResult {
    let pki = TestPki::generate()?;
    let mut h =
        RedisHarness::start_tls(&pki, ClientAuth::Required, &["--requirepass", "s3cret"]).await?;
    run_all(&mut h).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_only_tls_verifies_the_server_with_the_ca_file() -> TestResult {
    let pki = TestPki::generate()?;
    let mut etcd = EtcdHarness::start_tls(&pki, ClientAuth::None).await?;
    put_get_list_delete(&mut etcd).await?;
    watch_from_revision(&mut etcd).await?;
    let mut redis = RedisHarness::start_tls(&pki, ClientAuth::None, &[]).await?;
    put_get_list_delete(&mut redis).await?;
    watch_from_revision(&mut redis).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_user_and_password_work_over_mutual_tls() -> TestResult {
    let pki = TestPki::generate()?;
    let server = EtcdServer::start_tls(&pki, ClientAuth::Required).await?;
    let admin = EtcdBackend::connect(server.client_options()).await?;
    let mut c = admin.client().clone();
    c.user_add("root", "s3cret", None).await?;
    c.user_grant_role("root", "root").await?;
    c.auth_enable().await?;

    let mut o = server.client_options();
    o.credentials = Some(("root".into(), "wrong".into()));
    let err = EtcdBackend::connect(o.clone())
        .await
        .err()
        .ok_or("connected with a wrong password")?;
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");

    o.credentials = Some(("root".into(), "s3cret".into()));
    let b = EtcdBackend::connect(o).await?;
    let k = format!("{}k", server.prefix());
    b.put(&k, json(1)).await?;
    assert_eq!(b.get(&k).await?, Some(json(1)));
    let mut f = connectors::testkit::compliance::follow(&b, server.prefix()).await?;
    b.put(&k, json(2)).await?;
    f.until("the authenticated watch sees the put", DEADLINE, |v| {
        v.get(&k) == Some(&json(2))
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_verify_accepts_a_server_the_ca_file_does_not_vouch_for() -> TestResult {
    let pki = TestPki::generate()?;

    let etcd = EtcdServer::start_tls(&pki, ClientAuth::Required).await?;
    let mut o = etcd.client_options();
    o.ca_file = path(&pki.other_ca);
    o.dial_timeout = Duration::from_secs(2);
    tls_error("etcd, wrong CA", EtcdBackend::connect(o.clone()).await, &[])?;
    o.insecure_skip_tls_verify = true;
    let b = EtcdBackend::connect(o).await?;
    let k = format!("{}k", etcd.prefix());
    b.put(&k, json(1)).await?;
    assert_eq!(b.get(&k).await?, Some(json(1)));

    let redis = RedisServer::start_tls(&pki, ClientAuth::Required, &[]).await?;
    let mut o = redis.client_options();
    if let Some(tls) = &mut o.tls {
        tls.ca_file = path(&pki.other_ca);
        tls.skip_verify = true;
    }
    let b = RedisBackend::connect(o).await?;
    let k = format!("{}k", redis.prefix());
    let mut f = connectors::testkit::compliance::follow(&b, redis.prefix()).await?;
    b.put(&k, json(1)).await?;
    f.until("the skip-verify watch sees the put", DEADLINE, |v| {
        v.get(&k) == Some(&json(1))
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ca_is_a_certificate_error_naming_the_endpoint() -> TestResult {
    let pki = TestPki::generate()?;
    let etcd = EtcdServer::start_tls(&pki, ClientAuth::None).await?;
    let mut o = etcd.client_options();
    o.ca_file = path(&pki.other_ca);
    let text = tls_error(
        "etcd",
        EtcdBackend::connect(o).await,
        &[etcd.endpoint(), "not signed by the configured CA"],
    )?;
    assert!(text.starts_with("etcd tls handshake with"), "{text}");

    let redis = RedisServer::start_tls(&pki, ClientAuth::None, &[]).await?;
    let mut o = redis.client_options();
    if let Some(tls) = &mut o.tls {
        tls.ca_file = path(&pki.other_ca);
    }
    o.dial_timeout = Duration::from_secs(2);
    let text = tls_error(
        "redis",
        RedisBackend::connect(o).await,
        &[redis.endpoint(), "not signed by the configured CA"],
    )?;
    assert!(text.starts_with("redis tls handshake with"), "{text}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_client_certificate_not_given_is_a_clear_error() -> TestResult {
    let pki = TestPki::generate()?;
    let no_identity = ClientTls::for_server(&pki, ClientAuth::None);

    let etcd = EtcdServer::start_tls(&pki, ClientAuth::Required).await?;
    let o = no_identity.etcd(EtcdOptions::new([etcd.endpoint().to_owned()]));
    tls_error(
        "etcd",
        EtcdBackend::connect(o).await,
        &[etcd.endpoint(), "requires a client certificate"],
    )?;

    let redis = RedisServer::start_tls(&pki, ClientAuth::Required, &[]).await?;
    let mut o = no_identity.redis(RedisOptions::new(redis.endpoint()));
    o.dial_timeout = Duration::from_secs(2);
    tls_error(
        "redis",
        RedisBackend::connect(o).await,
        &[redis.endpoint(), "requires a client certificate"],
    )?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_bad_tls_files_are_named() -> TestResult {
    let pki = TestPki::generate()?;
    let missing = pki.dir().join("missing.pem");
    let missing_s = missing.display().to_string();

    // No server is needed: the files are read before connecting.
    let mut o = EtcdOptions::new(["127.0.0.1:1"]);
    o.insecure_transport = false;
    o.ca_file = path(&missing);
    let text = tls_error(
        "etcd ca-file",
        EtcdBackend::connect(o.clone()).await,
        &["ca-file", &missing_s],
    )?;
    assert!(text.contains("cannot read it"), "{text}");

    o.ca_file = path(&pki.ca);
    o.cert_file = path(&pki.client_cert);
    o.key_file = path(&missing);
    tls_error(
        "etcd key-file",
        EtcdBackend::connect(o.clone()).await,
        &["key-file", &missing_s],
    )?;

    o.key_file = None;
    tls_error(
        "etcd cert without key",
        EtcdBackend::connect(o.clone()).await,
        &["cert-file", "key-file is not"],
    )?;

    // A file that is not what the field needs: the CA file given as the key.
    o.key_file = path(&pki.ca);
    tls_error(
        "etcd key-file without a key",
        EtcdBackend::connect(o).await,
        &[
            "key-file",
            &pki.ca.display().to_string(),
            "no usable PEM private key",
        ],
    )?;

    let mut o = RedisOptions::new("127.0.0.1:1");
    o.tls = Some(RedisTlsOptions {
        cert_file: path(&missing),
        key_file: path(&pki.client_key),
        ..RedisTlsOptions::default()
    });
    tls_error(
        "redis cert-file",
        RedisBackend::connect(o.clone()).await,
        &["tls.cert-file", &missing_s],
    )?;

    o.tls = Some(RedisTlsOptions {
        ca_file: path(&pki.client_key),
        ..RedisTlsOptions::default()
    });
    tls_error(
        "redis ca-file with a key in it",
        RedisBackend::connect(o).await,
        &["tls.ca-file", "no PEM certificate"],
    )?;
    Ok(())
}

/// A plain-TCP client of a TLS-only server fails (it does not hang), and
/// `insecure-transport` means plain TCP even with TLS files set, as in Ligato.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_transport_ignores_the_tls_files() -> TestResult {
    let pki = TestPki::generate()?;
    let etcd = EtcdServer::start_tls(&pki, ClientAuth::None).await?;
    let mut o = etcd.client_options();
    o.insecure_transport = true;
    let err = EtcdBackend::connect(o)
        .await
        .err()
        .ok_or("plain HTTP/2 connected to a TLS-only etcd")?;
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");

    let plain = EtcdServer::start_private().await?;
    let mut o = EtcdOptions::new([plain.endpoint().to_owned()]);
    o.insecure_transport = true;
    o.ca_file = path(&pki.dir().join("not-read.pem"));
    let b = EtcdBackend::connect(o).await?;
    b.put(&format!("{}k", plain.prefix()), json(1)).await?;
    Ok(())
}
