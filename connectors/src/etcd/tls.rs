//! How the etcd backend connects: plain HTTP/2, TLS, or TLS without verifying the server.
//!
//! Ligato's rule (cn-infra `ConfigToClient`): `insecure-transport: true` is plain TCP whatever
//! else is set; otherwise TLS is on when `cert-file`, `key-file` or `ca-file` is set (here
//! also when an endpoint is an `https://` URL). Without `ca-file` the server is verified
//! against the system's roots; `cert-file` + `key-file` is mutual TLS;
//! `insecure-skip-tls-verify` accepts any server certificate (it needs a tonic channel built
//! here, as etcd-client's own TLS options cannot skip verification). As in Ligato,
//! `insecure-skip-tls-verify` alone does not turn TLS on.
//!
//! Before the first request a TLS connection is checked by one handshake of its own
//! ([`crate::tls::probe`]), so a wrong CA or a refused client certificate is an error that
//! says so and names the endpoint, not a timeout.
//!
//! Deliberately not here: the KV operations (see the parent), certificate reloading.

use std::sync::Arc;
use std::time::Duration;

use etcd_client::{Certificate, Client, ConnectOptions, Identity, TlsOptions};

use super::EtcdOptions;
use crate::error::{ConnectorError, Result, Store};
use crate::tls::{Hello, NoVerify, Probe, TlsMaterial, probe};

/// The config field names, as errors print them.
const FIELDS: [&str; 3] = ["cert-file", "key-file", "ca-file"];

/// HTTP/2 keep-alive: ping every 5s, give up after 3s without an answer.
pub(super) const KEEP_ALIVE: (Duration, Duration) =
    (Duration::from_secs(5), Duration::from_secs(3));

/// The TLS material the options ask for, read from its files; `None` for plain HTTP/2.
pub(super) fn material(options: &EtcdOptions) -> Result<Option<TlsMaterial>> {
    if options.insecure_transport {
        return Ok(None);
    }
    let https = options.endpoints.iter().any(|e| e.starts_with("https://"));
    let files =
        options.cert_file.is_some() || options.key_file.is_some() || options.ca_file.is_some();
    if !https && !files {
        return Ok(None);
    }
    TlsMaterial::read(
        Store::Etcd,
        FIELDS,
        options.cert_file.as_deref(),
        options.key_file.as_deref(),
        options.ca_file.as_deref(),
        options.insecure_skip_tls_verify,
    )
    .map(Some)
}

/// `host:port` of an endpoint given as `host:port` or as an `http(s)://` URL.
pub(super) fn host_port(endpoint: &str) -> &str {
    endpoint
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
}

/// Connects the client (lazily, as etcd-client does: no request is sent unless credentials
/// need a token).
pub(super) async fn client(
    options: &EtcdOptions,
    tls: Option<&TlsMaterial>,
    connect: ConnectOptions,
) -> std::result::Result<Client, etcd_client::Error> {
    let Some(tls) = tls else {
        return Client::connect(options.endpoints.clone(), Some(connect)).await;
    };
    let endpoints: Vec<&str> = options.endpoints.iter().map(|e| host_port(e)).collect();
    let identity = tls
        .identity
        .as_ref()
        .map(|id| Identity::from_pem(&id.certs.pem, &id.key_pem));
    if !tls.skip_verify {
        let mut config = TlsOptions::new();
        config = match &tls.ca {
            Some(ca) => config.ca_certificate(Certificate::from_pem(&ca.pem)),
            None => config.with_native_roots(),
        };
        if let Some(id) = identity {
            config = config.identity(id);
        }
        return Client::connect(endpoints, Some(connect.with_tls(config))).await;
    }
    // No verification: etcd-client cannot do it, a tonic channel with our verifier can.
    let verifier = Arc::new(NoVerify(Arc::new(rustls::crypto::ring::default_provider())));
    let mut built = Vec::with_capacity(endpoints.len());
    for e in endpoints {
        let mut config = TlsOptions::new();
        if let Some(id) = identity.clone() {
            config = config.identity(id);
        }
        let endpoint = tonic::transport::Endpoint::from_shared(format!("https://{e}"))?
            .connect_timeout(options.dial_timeout)
            .http2_keep_alive_interval(KEEP_ALIVE.0)
            .keep_alive_timeout(KEEP_ALIVE.1)
            .keep_alive_while_idle(true)
            .tls_config_with_verifier(config, verifier.clone())?;
        built.push(endpoint);
    }
    let channel = tonic::transport::Channel::balance_list(built.into_iter());
    Client::from_channel(etcd_client::Channel::Tonic(channel), Some(connect)).await
}

/// One handshake per endpoint; the first that fails at the TLS level is the error.
pub(super) async fn check(options: &EtcdOptions, tls: &TlsMaterial) -> Result<()> {
    let config = Arc::new(tls.client_config(Store::Etcd, true)?);
    for e in &options.endpoints {
        let endpoint = host_port(e);
        if let Probe::Failed(err) = probe(
            Store::Etcd,
            endpoint,
            config.clone(),
            Hello::Http2,
            options.dial_timeout,
        )
        .await
        {
            return Err(err);
        }
    }
    Ok(())
}

/// A connect error with the whole chain of causes (the TLS reason hides a few levels down).
pub(super) fn connect_error(endpoint: String, e: etcd_client::Error) -> ConnectorError {
    match super::map_err("connect", &endpoint, e) {
        rejected @ ConnectorError::Rejected { .. } => rejected,
        other => ConnectorError::Connect {
            store: Store::Etcd,
            endpoint,
            source: crate::tls::chain(&other).into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_lose_their_scheme() {
        assert_eq!(host_port("https://10.0.0.1:2379/"), "10.0.0.1:2379");
        assert_eq!(host_port("http://[::1]:2379"), "[::1]:2379");
        assert_eq!(host_port("127.0.0.1:2379"), "127.0.0.1:2379");
    }

    #[test]
    fn tls_follows_ligato_rule() {
        let mut o = EtcdOptions::new(["127.0.0.1:2379"]);
        o.insecure_transport = false;
        assert!(material(&o).is_ok_and(|m| m.is_none()), "no files: plain");
        o.insecure_skip_tls_verify = true;
        assert!(
            material(&o).is_ok_and(|m| m.is_none()),
            "skip-verify alone: plain"
        );
        o.ca_file = Some("/nonexistent/ca.pem".into());
        let err = material(&o)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("ca-file /nonexistent/ca.pem"), "{err}");
        o.insecure_transport = true;
        assert!(
            material(&o).is_ok_and(|m| m.is_none()),
            "insecure-transport wins"
        );
    }
}
