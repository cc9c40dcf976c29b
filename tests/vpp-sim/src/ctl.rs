//! `vpp-sim ctl`: our `vppctl`. Sends one `cli_inband` through binapi's client and returns
//! VPP's retval with the text, also when the retval is an error (binapi's typed reply
//! turns a non-zero retval into an error and drops the text, so the request and reply are
//! declared here with the same wire names and CRCs but without the retval check).
//!
//! It deliberately runs one command per connection, like `vppctl <cmd>`.

use std::path::Path;
use std::time::Duration;

use binapi::codec::message::{HeaderShape, Message, MessageKind, Request};
use binapi::{CodecError, Reader, Wire};

/// `cli_inband_f8377302`, answered by [`CtlReply`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CtlRequest {
    pub cmd: String,
}

/// `cli_inband_reply_05879051`, with the retval left to the caller.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CtlReply {
    pub retval: i32,
    pub reply: String,
}

impl Wire for CtlRequest {
    fn wire_len(&self) -> usize {
        binapi::messages::CliInband {
            cmd: self.cmd.clone(),
        }
        .wire_len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        binapi::messages::CliInband {
            cmd: self.cmd.clone(),
        }
        .encode(out)
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        binapi::messages::CliInband::decode(r).map(|m| CtlRequest { cmd: m.cmd })
    }
}

impl Wire for CtlReply {
    fn wire_len(&self) -> usize {
        binapi::messages::CliInbandReply {
            retval: self.retval,
            reply: self.reply.clone(),
        }
        .wire_len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        binapi::messages::CliInbandReply {
            retval: self.retval,
            reply: self.reply.clone(),
        }
        .encode(out)
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        binapi::messages::CliInbandReply::decode(r).map(|m| CtlReply {
            retval: m.retval,
            reply: m.reply,
        })
    }
}

impl Message for CtlRequest {
    const NAME: &'static str = binapi::messages::CliInband::NAME;
    const CRC: &'static str = binapi::messages::CliInband::CRC;
    const NAME_CRC: &'static str = binapi::messages::CliInband::NAME_CRC;
    const KIND: MessageKind = MessageKind::Request;
    const SHAPE: HeaderShape = HeaderShape::Request;
}

impl Message for CtlReply {
    const NAME: &'static str = binapi::messages::CliInbandReply::NAME;
    const CRC: &'static str = binapi::messages::CliInbandReply::CRC;
    const NAME_CRC: &'static str = binapi::messages::CliInbandReply::NAME_CRC;
    const KIND: MessageKind = MessageKind::Reply;
    const SHAPE: HeaderShape = HeaderShape::Reply;
}

impl Request for CtlRequest {
    type Reply = CtlReply;
}

/// Connects to `socket`, runs `cmd`, disconnects; the reply carries VPP's retval and text.
pub async fn run(socket: &Path, cmd: &str, timeout: Duration) -> Result<CtlReply, binapi::Error> {
    let mut config = binapi::Config::new(socket);
    config.client_name = "vpp-sim-ctl".to_owned();
    config.health_interval = None;
    config.request_timeout = timeout;
    config.connect_timeout = timeout;
    let client = binapi::Client::connect(config).await?;
    let reply = client
        .request(&CtlRequest {
            cmd: cmd.to_owned(),
        })
        .await?;
    client.disconnect().await?;
    Ok(reply)
}
