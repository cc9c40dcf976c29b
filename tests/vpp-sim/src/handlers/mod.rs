//! The API handlers: one function per message, mapping a decoded request onto the dataplane
//! model ([`crate::state`]) and encoding VPP's reply, details or nothing.
//!
//! Handler code is written once and expanded per release by macros (`interfaces!(vpp2306)`),
//! each expansion using that release's own generated types (`use binapi::vpp2306 as api`), so
//! a release's CRCs and layouts are exactly what its clients send. [`Registry`] maps the
//! `name_crc` of each handled message to its function; the server turns that into a dense
//! table by message id. It deliberately does no socket IO and no client-index checks (the
//! server does both before a handler runs).

#[macro_use]
mod macros;
mod convert;
#[macro_use]
mod devices;
#[macro_use]
mod interfaces;
#[macro_use]
mod ip;
#[macro_use]
mod l2;
#[macro_use]
mod subif;
mod releases;
mod replies;
mod system;

use std::collections::HashMap;

use binapi::codec::frame::encode_frame;
use binapi::codec::message::{Header, HeaderShape, Message, decode_payload};
use binapi::release::Release;
use binapi::table::MessageTable;

use crate::state::{Retval, Vpp};
pub use releases::registry_for;
pub(crate) use replies::ErrorReply;

/// One handler: decodes the payload itself (a payload too short for its message is dropped
/// without a reply) and appends its answer to [`Ctx::out`].
pub type Handler = fn(&mut Ctx<'_>, &[u8]);

/// What the handlers may touch besides the dataplane: the registrations, the release and
/// what a request asks of its connection.
#[derive(Debug)]
pub struct System {
    pub release: &'static Release,
    pub pid: u32,
    /// client handle -> the pid it asked interface events for.
    pub interface_events: HashMap<u32, u32>,
    /// Live client handles.
    pub clients: Vec<u32>,
    /// Handles whose connections must close after this request (`sockclnt_delete`).
    pub close: Vec<u32>,
    /// The kernel devices behind taps, when the simulator makes them (`--kernel-taps`).
    pub kernel_taps: Option<crate::kernel_tap::KernelTaps>,
}

/// Where encoded frames for the requesting connection go.
#[derive(Debug)]
pub struct Out<'a> {
    pub table: &'a MessageTable,
    pub buf: &'a mut Vec<u8>,
    pub context: u32,
}

impl Out<'_> {
    /// Appends `msg` with this request's context; a message the table lacks or that cannot
    /// be encoded is logged and left out.
    pub fn reply<M: Message>(&mut self, msg: &M) {
        let Some(id) = self.table.id_of::<M>() else {
            tracing::warn!(msg = M::NAME_CRC, "reply message not in the table");
            return;
        };
        let header = Header {
            client_index: 0,
            context: self.context,
        };
        if let Err(e) = encode_frame(self.buf, id, header, msg) {
            tracing::warn!(msg = M::NAME, error = %e, "reply not encodable");
        }
    }
}

/// Everything one handler call sees.
#[derive(Debug)]
pub struct Ctx<'a> {
    pub vpp: &'a mut Vpp,
    pub sys: &'a mut System,
    pub out: Out<'a>,
    pub client_index: u32,
    /// Set when a `--fail` knob refuses this request with that retval.
    pub fail: Option<i32>,
}

/// How a handled message answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// One reply with a retval: can be made to fail.
    Reply,
    /// Details (a dump) or a reply without a retval: cannot fail.
    Stream,
}

/// A registered handler and what it answers.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub handler: Handler,
    pub name: &'static str,
    pub shape: HeaderShape,
    pub answer: Answer,
}

/// Encodes a `sw_interface_event` of one release: (table, subscriber handle, pid,
/// sw_if_index, flags, deleted, out).
pub type EventEncoder = fn(&MessageTable, u32, u32, u32, u32, bool, &mut Vec<u8>);

/// The handlers of one release, keyed by `name_crc`.
#[derive(Debug)]
pub struct Registry {
    pub by_name_crc: HashMap<&'static str, Entry>,
    pub interface_event: EventEncoder,
}

impl Registry {
    pub fn add<M: Message>(&mut self, answer: Answer, handler: Handler) {
        let entry = Entry {
            handler,
            name: M::NAME,
            shape: M::SHAPE,
            answer,
        };
        self.by_name_crc.insert(M::NAME_CRC, entry);
    }

    /// The handler of a message name (without CRC), if this release handles it.
    pub fn by_name(&self, name: &str) -> Option<&Entry> {
        self.by_name_crc.values().find(|e| e.name == name)
    }
}

/// Runs a request handler: decode (or stay silent), apply the fault knob, reply once.
pub fn request<Req: Message, Rep: ErrorReply>(
    ctx: &mut Ctx<'_>,
    payload: &[u8],
    f: fn(&mut Ctx<'_>, Req) -> Result<Rep, Retval>,
) {
    let Ok((_, _, req)) = decode_payload::<Req>(payload) else {
        tracing::debug!(
            msg = Req::NAME,
            len = payload.len(),
            "truncated message dropped"
        );
        return;
    };
    let reply = match ctx.fail {
        Some(rv) => Rep::with_retval(rv),
        None => f(ctx, req).unwrap_or_else(|rv| Rep::with_retval(rv.0)),
    };
    ctx.out.reply(&reply);
}

/// Runs a dump (or any handler that writes its own answer): decode or stay silent.
pub fn stream<Req: Message>(ctx: &mut Ctx<'_>, payload: &[u8], f: fn(&mut Ctx<'_>, Req)) {
    let Ok((_, _, req)) = decode_payload::<Req>(payload) else {
        tracing::debug!(
            msg = Req::NAME,
            len = payload.len(),
            "truncated message dropped"
        );
        return;
    };
    f(ctx, req);
}
