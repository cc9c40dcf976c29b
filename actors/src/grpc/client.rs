//! Client helpers for agentctl and tests: connecting to the ConfiguratorService (TCP, TLS or a
//! unix socket), asking for a dry run, and reading a failed transaction's outcome back from
//! its status.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use actors::grpc::{client, convert, proto};
//! let registry = messages::registry::builtin();
//! let mut c = client::connect("127.0.0.1:9111").await?;
//! let config = convert::config_from_text(registry, "vpp_config: {interfaces: [{name: loop1, type: SOFTWARE_LOOPBACK}]}")?;
//! let req = proto::UpdateRequest { update: Some(config), ..Default::default() };
//! let outcome = c.update(client::dry_run(req)).await?.into_inner();
//! println!("{:?}", outcome.ops);
//! # Ok(()) }
//! ```

use std::path::PathBuf;

use prost::Message;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use super::DRY_RUN_HEADER;
use super::proto::UpdateResponse;
use super::proto::configurator_service_client::ConfiguratorServiceClient;

/// Connects to `endpoint` (`host:port`, `http://host:port`, or `unix:/path/to.sock`) in
/// plain text.
pub async fn connect(endpoint: &str) -> Result<ConfiguratorServiceClient<Channel>, ClientError> {
    connect_with(endpoint, &ConnectOptions::default()).await
}

/// TLS settings of a connection: all PEM files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Use TLS (also implied by an `https://` endpoint or any file below).
    pub tls: bool,
    /// The CA the server's certificate must chain to (default: the system's roots are not
    /// loaded, so give one).
    pub ca_file: Option<PathBuf>,
    /// A client certificate and key, for servers that ask for one (`ca-files` in grpc.conf).
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// The name to verify the server's certificate against (default: the endpoint's host).
    pub server_name: Option<String>,
}

/// Why a connection failed; the text names the endpoint or file.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connect to {endpoint}: {source}")]
    Connect {
        endpoint: String,
        source: tonic::transport::Error,
    },
    #[error("read {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("tls over a unix socket ({endpoint}) is not supported")]
    UnixTls { endpoint: String },
}

/// Connects to `endpoint` with `opts`.
pub async fn connect_with(
    endpoint: &str,
    opts: &ConnectOptions,
) -> Result<ConfiguratorServiceClient<Channel>, ClientError> {
    let err = |source| ClientError::Connect {
        endpoint: endpoint.to_owned(),
        source,
    };
    let tls = opts.tls
        || endpoint.starts_with("https://")
        || opts.ca_file.is_some()
        || opts.cert_file.is_some();
    if let Some(path) = endpoint.strip_prefix("unix:") {
        if tls {
            return Err(ClientError::UnixTls {
                endpoint: endpoint.to_owned(),
            });
        }
        // unix:/p and unix:///p both name /p.
        let path = PathBuf::from(format!("/{}", path.trim_start_matches('/')));
        // The URL is not used: every connection goes to the socket.
        let channel = Endpoint::from_static("http://localhost")
            .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
                let path = path.clone();
                async move {
                    Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(
                        tokio::net::UnixStream::connect(path).await?,
                    ))
                }
            }))
            .await
            .map_err(err)?;
        return Ok(ConfiguratorServiceClient::new(channel));
    }
    let url = match endpoint.split_once("://") {
        Some(("http", rest)) if tls => format!("https://{rest}"),
        Some(_) => endpoint.to_owned(),
        None if tls => format!("https://{endpoint}"),
        None => format!("http://{endpoint}"),
    };
    let mut ep = Endpoint::from_shared(url).map_err(err)?;
    if tls {
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|source| ClientError::File {
                path: path.clone(),
                source,
            })
        };
        let mut cfg = ClientTlsConfig::new();
        if let Some(ca) = &opts.ca_file {
            cfg = cfg.ca_certificate(Certificate::from_pem(read(ca)?));
        }
        if let (Some(cert), Some(key)) = (&opts.cert_file, &opts.key_file) {
            cfg = cfg.identity(Identity::from_pem(read(cert)?, read(key)?));
        }
        if let Some(name) = &opts.server_name {
            cfg = cfg.domain_name(name.clone());
        }
        ep = ep.tls_config(cfg).map_err(err)?;
    }
    let channel = ep.connect().await.map_err(err)?;
    Ok(ConfiguratorServiceClient::new(channel))
}

/// `message` as a request that asks for a dry run (metadata `x-dry-run: true`).
pub fn dry_run<T>(message: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    req.metadata_mut().insert(
        DRY_RUN_HEADER,
        tonic::metadata::MetadataValue::from_static("true"),
    );
    req
}

/// The outcome carried by a failed Update's or Delete's status (`ABORTED`, the encoded
/// response as details); `None` for other errors.
pub fn failed_outcome(status: &tonic::Status) -> Option<UpdateResponse> {
    if status.code() != tonic::Code::Aborted || status.details().is_empty() {
        return None;
    }
    UpdateResponse::decode(status.details()).ok()
}
