//! VPP binary API for vpp-agent-rs: the wire codec, the messages generated from VPP's `.api.json` files (one
//! module per supported VPP release), the async unix-socket transport, and the release compatibility check.
//!
//! Layout:
//! - [`codec`]: values ([`codec::Wire`]), messages ([`codec::message::Message`]) and framing ([`codec::frame`]);
//! - [`codegen`]: the `.api.json` -> Rust generator behind the `binapi-gen` binary;
//! - [`types`], [`messages`]: generated items shared by all releases; [`vpp2101`], [`vpp2306`], [`vpp2506`]:
//!   one module per VPP release re-exporting them under plain names, with the release's message table;
//! - [`release`]: what a release module describes; [`ip`]: `std::net` conversions;
//! - [`transport`]: the async unix-socket [`Client`]; [`table`]: a connection's message table;
//! - [`compat`]: which release modules a message table can serve, and the choice among them;
//! - [`server`]: the server end of the protocol, for simulators and test peers;
//! - [`retval`]: VPP's return-code table; [`error`]: the crate's error type.
//!
//! Typical use: connect, choose the release module by the connection's message table, then speak that
//! release's types.
//!
//! ```no_run
//! # async fn example() -> Result<(), binapi::Error> {
//! use binapi::{Client, Config, compat, vpp2306};
//! let client = Client::connect(Config::new("/run/vpp/api.sock")).await?;
//! let version = client.request(&vpp2306::ShowVersion {}).await?;
//! let release = compat::choose_release(client.table(), Some(&version.version))?;
//! if release.version == "23.06" {
//!     let lo = client.request(&vpp2306::CreateLoopback::default()).await?;
//!     let all = client.dump(&vpp2306::SwInterfaceDump::default()).await?;
//!     println!("created {:?}, {} interfaces", lo.sw_if_index, all.len());
//! }
//! client.disconnect().await
//! # }
//! ```
//!
//! This crate deliberately has no actix and no agent logic: it moves typed messages to and from VPP, nothing more.

pub mod codec;
pub mod codegen;
pub mod compat;
pub mod error;
mod fxhash;
pub mod ip;
pub mod release;
pub mod retval;
pub mod server;
pub mod table;
pub mod transport;

#[rustfmt::skip]
mod generated;

pub use generated::{RELEASES, messages, types, vpp2101, vpp2306, vpp2506};

pub use codec::message::{Dump, Header, HeaderShape, Message, MessageKind, Request};
pub use codec::{CodecError, Reader, Wire};
pub use error::{Error, ErrorKind};
pub use table::MessageTable;
pub use transport::{Client, Config};
