//! TLS for the Redis node client (Ligato's `tls` block): `rediss://` through the `redis`
//! crate's rustls support, the server verified against `tls.ca-file` (or the system's roots),
//! `tls.cert-file` + `tls.key-file` for mutual TLS, and `tls.skip-verify` as the crate's
//! insecure mode. Every connection of the backend (commands, the watch's subscription) goes
//! through the same client, so keyspace notifications and the SCAN resync work unchanged.
//!
//! When connecting fails with TLS on, one handshake of our own ([`crate::tls::probe`]) says
//! why (wrong CA, a client certificate the server requires) instead of the library's
//! retry-and-timeout.
//!
//! Deliberately not here: the commands and the watch (see the parent); sentinel and cluster
//! clients, which the agent does not support at all.

use std::sync::Arc;

use redis::{ConnectionInfo, RedisError, TlsCertificates};

use crate::error::{Result, Store};
use crate::tls::{Hello, Probe, TlsMaterial, probe};

/// The config field names, as errors print them.
const FIELDS: [&str; 3] = ["tls.cert-file", "tls.key-file", "tls.ca-file"];

/// TLS options of the Redis backend (`tls` in `redis.conf`, with `enabled: true`).
#[derive(Debug, Clone, Default)]
pub struct RedisTlsOptions {
    /// Accept any server certificate (`tls.skip-verify`).
    pub skip_verify: bool,
    /// The client certificate (`tls.cert-file`), with `key_file` for mutual TLS.
    pub cert_file: Option<String>,
    /// The client key (`tls.key-file`).
    pub key_file: Option<String>,
    /// The CA that signed the server's certificate (`tls.ca-file`); `None`: the system's roots.
    pub ca_file: Option<String>,
}

impl RedisTlsOptions {
    /// Reads the files; errors name the field and the file.
    pub(super) fn material(&self) -> Result<TlsMaterial> {
        TlsMaterial::read(
            Store::Redis,
            FIELDS,
            self.cert_file.as_deref(),
            self.key_file.as_deref(),
            self.ca_file.as_deref(),
            self.skip_verify,
        )
    }
}

/// The connection URL: `redis://host:port`, or `rediss://host:port` with TLS
/// (`#insecure` when the server is not verified).
pub(super) fn url(endpoint: &str, tls: Option<&TlsMaterial>) -> String {
    match tls {
        None => format!("redis://{endpoint}"),
        Some(m) if m.skip_verify => format!("rediss://{endpoint}/#insecure"),
        Some(_) => format!("rediss://{endpoint}"),
    }
}

/// The client for `info`, with the TLS material when there is some.
pub(super) fn client(
    info: ConnectionInfo,
    tls: Option<&TlsMaterial>,
) -> std::result::Result<redis::Client, RedisError> {
    let Some(m) = tls else {
        return redis::Client::open(info);
    };
    redis::Client::build_with_tls(
        info,
        TlsCertificates {
            client_tls: m.identity.as_ref().map(|id| redis::ClientTlsConfig {
                client_cert: id.certs.pem.clone(),
                client_key: id.key_pem.clone(),
            }),
            root_cert: m.ca.as_ref().map(|ca| ca.pem.clone()),
        },
    )
}

/// After a failed connect: whether TLS itself is the reason, as an error naming the endpoint.
pub(super) async fn diagnose(
    endpoint: &str,
    tls: &TlsMaterial,
    timeout: std::time::Duration,
) -> Option<crate::ConnectorError> {
    let config = Arc::new(tls.client_config(Store::Redis, false).ok()?);
    match probe(Store::Redis, endpoint, config, Hello::RedisPing, timeout).await {
        Probe::Failed(e) => Some(e),
        Probe::Fine => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_scheme_follows_tls() {
        assert_eq!(url("h:1", None), "redis://h:1");
        let m = TlsMaterial {
            ca: None,
            identity: None,
            skip_verify: true,
        };
        assert_eq!(url("h:1", Some(&m)), "rediss://h:1/#insecure");
        let m = TlsMaterial {
            skip_verify: false,
            ..m
        };
        assert_eq!(url("h:1", Some(&m)), "rediss://h:1");
    }

    #[test]
    fn a_certificate_without_its_key_is_named() {
        let o = RedisTlsOptions {
            cert_file: Some("/nonexistent/c.pem".into()),
            key_file: None,
            ..RedisTlsOptions::default()
        };
        let err = o
            .material()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("tls.cert-file /nonexistent/c.pem") && err.contains("tls.key-file"),
            "{err}"
        );
    }
}
