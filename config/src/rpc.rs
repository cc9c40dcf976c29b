//! Config files of the agent's servers: `http` (REST, cn-infra `rpc/rest/config.go`) and `grpc`
//! (cn-infra `rpc/grpc/config.go`), with Ligato's field names.
//!
//! Our HTTP default endpoint is `127.0.0.1:9191`, loopback only, which is stricter than Ligato's
//! `0.0.0.0:9191`: the REST API can change the data plane and has no auth by default, so it is
//! not exposed unless the user asks (`endpoint: 0.0.0.0:9191`). It deliberately does not start
//! servers, and does not apply `--http-port`/`--grpc-port` (see `agent`).

use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use crate::file_mode::SocketPermission;
use crate::table::{FieldDoc, PluginConfig, PluginInfo, default_json};

/// Our HTTP endpoint when neither the file nor `--http-port` sets one (Ligato: `0.0.0.0:9191`).
pub const DEFAULT_HTTP_ENDPOINT: &str = "127.0.0.1:9191";
/// Our gRPC endpoint when it is enabled and the file sets none (Ligato images: `0.0.0.0:9111`).
pub const DEFAULT_GRPC_ENDPOINT: &str = "127.0.0.1:9111";
/// The host `--http-port`/`--grpc-port` bind to when the file sets no endpoint.
pub const DEFAULT_HOST: &str = "127.0.0.1";

const fn field(name: &'static str, default: &'static str, meaning: &'static str) -> FieldDoc {
    FieldDoc {
        name,
        default,
        meaning,
    }
}

/// Checks `host:port` (the host may be empty, as Go's `:9191` means every address).
pub(crate) fn check_endpoint(endpoint: &str) -> Result<(), String> {
    let port = endpoint.rsplit_once(':').map(|(_, port)| port);
    match port.map(str::parse::<u16>) {
        Some(Ok(_)) => Ok(()),
        _ => Err(format!("endpoint {endpoint:?} is not host:port")),
    }
}

fn endpoint<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let endpoint = String::deserialize(d)?;
    check_endpoint(&endpoint).map_err(D::Error::custom)?;
    Ok(endpoint)
}

fn basic_auth<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let entries = Vec::<String>::deserialize(d)?;
    if let Some(bad) = entries.iter().find(|e| !e.contains(':')) {
        return Err(D::Error::custom(format!(
            "client-basic-auth entry {bad:?} is not user:password"
        )));
    }
    Ok(entries)
}

/// `http.conf`; see [`HttpConfig::INFO`] for the fields.
///
/// Ligato leaves the timeouts untagged, so it matches `readtimeout` (any case) and ignores
/// `read-timeout`; we accept both spellings (and `disable`, which Ligato's sample file uses
/// but Ligato ignores, as `disabled`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct HttpConfig {
    #[serde(alias = "Endpoint", deserialize_with = "endpoint")]
    pub endpoint: String,
    #[serde(alias = "Disabled", alias = "disable")]
    pub disabled: bool,
    #[serde(
        with = "crate::duration::go",
        alias = "readtimeout",
        alias = "ReadTimeout"
    )]
    pub read_timeout: Duration,
    #[serde(
        with = "crate::duration::go",
        alias = "readheadertimeout",
        alias = "ReadHeaderTimeout"
    )]
    pub read_header_timeout: Duration,
    #[serde(
        with = "crate::duration::go",
        alias = "writetimeout",
        alias = "WriteTimeout"
    )]
    pub write_timeout: Duration,
    #[serde(
        with = "crate::duration::go",
        alias = "idletimeout",
        alias = "IdleTimeout"
    )]
    pub idle_timeout: Duration,
    #[serde(alias = "maxheaderbytes", alias = "MaxHeaderBytes")]
    pub max_header_bytes: u64,
    pub server_cert_file: String,
    pub server_key_file: String,
    #[serde(deserialize_with = "basic_auth")]
    pub client_basic_auth: Vec<String>,
    pub client_cert_files: Vec<String>,
    pub enable_token_auth: bool,
    #[serde(with = "crate::duration::go")]
    pub token_expiration: Duration,
    pub users: Vec<HttpUser>,
    pub password_hash_cost: u32,
    pub sign_key: String,
    pub rate_limiter: Option<RateLimiter>,
}

/// One entry of `users` in [`HttpConfig`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpUser {
    /// User name.
    pub name: String,
    /// bcrypt hash of the password (Ligato's key has an underscore).
    pub password_hash: String,
    /// Permission group names.
    pub permissions: Vec<String>,
}

/// `rate-limiter` of [`HttpConfig`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimiter {
    /// Requests per second.
    pub limit: f64,
    /// Burst size.
    pub burst: u32,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            endpoint: DEFAULT_HTTP_ENDPOINT.to_owned(),
            disabled: false,
            read_timeout: Duration::ZERO,
            read_header_timeout: Duration::ZERO,
            write_timeout: Duration::ZERO,
            idle_timeout: Duration::ZERO,
            max_header_bytes: 0,
            server_cert_file: String::new(),
            server_key_file: String::new(),
            client_basic_auth: Vec::new(),
            client_cert_files: Vec::new(),
            enable_token_auth: false,
            token_expiration: Duration::ZERO,
            users: Vec::new(),
            password_hash_cost: 0,
            sign_key: String::new(),
            rate_limiter: None,
        }
    }
}

impl HttpConfig {
    /// HTTPS is served when both the certificate and the key are set.
    pub fn is_tls(&self) -> bool {
        !self.server_cert_file.is_empty() && !self.server_key_file.is_empty()
    }
}

impl PluginConfig for HttpConfig {
    const INFO: PluginInfo = PluginInfo {
        name: "http",
        flag: "http-config",
        env: "HTTP_CONFIG",
        description: "HTTP (REST API) server config file; the server runs with defaults without one",
        fields: &[
            field(
                "endpoint",
                DEFAULT_HTTP_ENDPOINT,
                "listen address; ours is loopback (Ligato: 0.0.0.0:9191); --http-port sets the port when the file sets no endpoint",
            ),
            field(
                "disabled",
                "false",
                "do not run the HTTP server (disable is accepted too)",
            ),
            field(
                "read-timeout",
                "0s",
                "whole-request read timeout, 0 none (Ligato key readtimeout, also accepted)",
            ),
            field(
                "read-header-timeout",
                "0s",
                "request header read timeout, 0 none (readheadertimeout)",
            ),
            field(
                "write-timeout",
                "0s",
                "response write timeout, 0 none (writetimeout)",
            ),
            field(
                "idle-timeout",
                "0s",
                "keep-alive idle timeout, 0 none (idletimeout)",
            ),
            field(
                "max-header-bytes",
                "0",
                "request header size limit, 0 the server default (maxheaderbytes)",
            ),
            field(
                "server-cert-file",
                "\"\"",
                "TLS certificate; HTTPS when both it and the key are set",
            ),
            field("server-key-file", "\"\"", "TLS key"),
            field(
                "client-basic-auth",
                "[]",
                "accepted basic-auth credentials, each user:password",
            ),
            field(
                "client-cert-files",
                "[]",
                "CA certificates that client certificates must chain to",
            ),
            field("enable-token-auth", "false", "require a token from /login"),
            field("token-expiration", "0s", "token lifetime"),
            field(
                "users",
                "[]",
                "token-auth users: {name, password_hash, permissions}",
            ),
            field("password-hash-cost", "0", "bcrypt cost of password hashes"),
            field("sign-key", "\"\"", "key that signs tokens"),
            field(
                "rate-limiter",
                "none",
                "request rate limit: {limit (per second), burst}",
            ),
        ],
        default_json: default_json::<HttpConfig>,
    };
}

/// `network` of [`GrpcConfig`], as Go's `net.Listen` names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GrpcNetwork {
    #[default]
    Tcp,
    Tcp4,
    Tcp6,
    Unix,
    Unixpacket,
}

/// `grpc.conf`; see [`GrpcConfig::INFO`] for the fields. Without a file the gRPC server is
/// off, as in Ligato; `--grpc-port` also turns it on, which is ours (Ligato declares that flag
/// but ignores it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct GrpcConfig {
    /// `host:port`, or a socket path for the unix networks.
    pub endpoint: String,
    pub permission: SocketPermission,
    pub force_socket_removal: bool,
    pub network: GrpcNetwork,
    pub max_msg_size: u32,
    pub max_concurrent_streams: u32,
    pub insecure_transport: bool,
    pub cert_file: String,
    pub key_file: String,
    pub ca_files: Vec<String>,
    pub extended_logging: bool,
    pub prometheus_metrics: bool,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        Self {
            endpoint: DEFAULT_GRPC_ENDPOINT.to_owned(),
            permission: SocketPermission::default(),
            force_socket_removal: false,
            network: GrpcNetwork::Tcp,
            max_msg_size: 0,
            max_concurrent_streams: 0,
            insecure_transport: false,
            cert_file: String::new(),
            key_file: String::new(),
            ca_files: Vec::new(),
            extended_logging: false,
            prometheus_metrics: false,
        }
    }
}

impl PluginConfig for GrpcConfig {
    const INFO: PluginInfo = PluginInfo {
        name: "grpc",
        flag: "grpc-config",
        env: "GRPC_CONFIG",
        description: "gRPC server config file; without one (or --grpc-port) the server is off",
        fields: &[
            field(
                "endpoint",
                DEFAULT_GRPC_ENDPOINT,
                "listen address, or socket path for unix networks; --grpc-port sets the port when the file sets no endpoint",
            ),
            field(
                "permission",
                "0",
                "unix socket permissions: decimal or octal 0660",
            ),
            field(
                "force-socket-removal",
                "false",
                "remove a stale unix socket before listening",
            ),
            field("network", "tcp", "tcp, tcp4, tcp6, unix or unixpacket"),
            field(
                "max-msg-size",
                "0",
                "largest inbound message in bytes; 0 means gRPC's 4 MiB",
            ),
            field(
                "max-concurrent-streams",
                "0",
                "per-connection stream limit; 0 none",
            ),
            field(
                "insecure-transport",
                "false",
                "plain TCP even when TLS files are set",
            ),
            field("cert-file", "\"\"", "server TLS certificate"),
            field("key-file", "\"\"", "server TLS key"),
            field(
                "ca-files",
                "[]",
                "CA certificates; set means client certificates are required",
            ),
            field("extended-logging", "false", "log every call"),
            field("prometheus-metrics", "false", "export per-call metrics"),
        ],
        default_json: default_json::<GrpcConfig>,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_host_port() {
        for ok in ["127.0.0.1:9191", ":9191", "localhost:80", "[::1]:9191"] {
            assert_eq!(check_endpoint(ok), Ok(()), "{ok}");
        }
        for bad in ["9191", "127.0.0.1", "host:port", "h:99999", ""] {
            assert!(check_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn https_needs_both_files() {
        let mut c = HttpConfig::default();
        assert!(!c.is_tls());
        c.server_cert_file = "c.pem".into();
        assert!(!c.is_tls());
        c.server_key_file = "k.pem".into();
        assert!(c.is_tls());
    }
}
