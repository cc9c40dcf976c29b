//! VPP binary API for vpp-agent-rs: the wire codec, the messages generated from VPP's `.api.json` files (one
//! module per supported VPP release), the async unix-socket transport, and the release compatibility check.
//!
//! Layout:
//! - [`codec`]: values ([`codec::Wire`]), messages ([`codec::message::Message`]) and framing ([`codec::frame`]);
//! - [`retval`]: VPP's return-code table; [`error`]: the crate's error type.
//!
//! This crate deliberately has no actix and no agent logic: it moves typed messages to and from VPP, nothing more.

pub mod codec;
pub mod error;
pub mod retval;


pub use codec::message::{Dump, Header, HeaderShape, Message, MessageKind, Request};
pub use codec::{CodecError, Reader, Wire};
pub use error::{Error, ErrorKind};
