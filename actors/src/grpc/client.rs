//! Client helpers for agentctl and tests: connecting to the ConfiguratorService, asking for a
//! dry run, and reading a failed transaction's outcome back from its status.
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

use prost::Message;
use tonic::transport::{Channel, Endpoint};

use super::DRY_RUN_HEADER;
use super::proto::UpdateResponse;
use super::proto::configurator_service_client::ConfiguratorServiceClient;

/// Connects to `endpoint`: `host:port`, or a URL (`http://host:port`, `https://...`).
pub async fn connect(
    endpoint: &str,
) -> Result<ConfiguratorServiceClient<Channel>, tonic::transport::Error> {
    let url = if endpoint.contains("://") {
        endpoint.to_owned()
    } else {
        format!("http://{endpoint}")
    };
    let channel = Endpoint::from_shared(url)?.connect().await?;
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
