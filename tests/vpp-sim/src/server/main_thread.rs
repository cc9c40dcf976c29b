//! The simulated VPP main thread: one task that owns the dataplane state and handles every
//! request of every connection one at a time, in the order they arrive, exactly as VPP's
//! main thread does. Connections and the control API talk to it by message ([`Job`]). It
//! runs on the server's current-thread runtime, which also does the socket IO, as VPP's
//! main thread does; so the latency knob (a blocking sleep per request) stalls everything.
//!
//! Per request it applies VPP's silence rules (no handler for the id, a client index that
//! is not the sender's, a non-request shape: no reply), the fault knobs, and sends
//! `sw_interface_event`s to subscribers. It does no socket IO itself.
//!
//! For benchmarks, [`Job::Watch`] subscribes to a [`Handled`] record (name, arrival time) of
//! every request that passes the silence rules, sent before its handler runs.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use binapi::codec::frame::encode_frame;
use binapi::codec::message::{Header, HeaderShape, decode_payload};
use binapi::messages::{SockclntCreate, SockclntCreateReply};
use binapi::release::Release;
use binapi::transport::{SOCKCLNT_CREATE_ID, SOCKCLNT_CREATE_REPLY_ID};
use binapi::types::MessageTableEntry;
use bytes::BytesMut;
use tokio::sync::{mpsc, oneshot};

use super::faults::{FailSpec, Faults};
use super::table::SimTable;
use crate::cli::CliReply;
use crate::handlers::{Answer, Ctx, EventEncoder, Out, System};
use crate::state::Vpp;

/// Something the main thread pushes to a connection outside a request's answer.
#[derive(Debug)]
pub enum Push {
    Frames(Vec<u8>),
    Close,
}

/// The answer to a batch of requests: the frames to write, and whether to close afterwards.
#[derive(Debug, Default)]
pub struct Output {
    pub bytes: Vec<u8>,
    pub close: bool,
}

/// A registration: the client handle and the generation (restart count) it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registration {
    pub handle: u32,
    pub generation: u64,
}

/// Work for the main thread.
#[derive(Debug)]
pub enum Job {
    Register {
        push: mpsc::UnboundedSender<Push>,
        reply: oneshot::Sender<Registration>,
    },
    Unregister(Registration),
    Requests {
        reg: Registration,
        payloads: Vec<BytesMut>,
        reply: oneshot::Sender<Output>,
    },
    Snapshot(std::sync::mpsc::Sender<Vpp>),
    Cli(String, std::sync::mpsc::Sender<CliReply>),
    /// A VPP restart: empty state, no registrations, a fresh table.
    Reset(SimTable, oneshot::Sender<()>),
    Latency(Duration),
    Fail(FailSpec),
    /// Subscribes to a [`Handled`] per request (kept across restarts, dropped when closed).
    Watch(mpsc::UnboundedSender<Handled>),
    /// Serve the stats segment ([`crate::stats`]), kept up to date after every job.
    AttachStats(Box<crate::stats::Segment>),
    /// One second of VPP's stats collector (the heartbeat).
    StatsTick,
    Stop,
}

/// A request that reached a handler: its message name and when the main thread took it.
#[derive(Debug, Clone, Copy)]
pub struct Handled {
    pub name: &'static str,
    pub at: Instant,
}

#[derive(Debug)]
struct Conn {
    push: mpsc::UnboundedSender<Push>,
}

/// The state and registrations of one simulated VPP.
#[derive(Debug)]
pub struct MainThread {
    vpp: Vpp,
    sys: System,
    table: SimTable,
    generation: u64,
    conns: HashMap<u32, Conn>,
    /// Socket registration pool: index 0 is the listener, freed indices are reused LIFO.
    free: Vec<u32>,
    next: u32,
    faults: Faults,
    latency: Duration,
    event: EventEncoder,
    watchers: Vec<mpsc::UnboundedSender<Handled>>,
    stats: Option<Box<crate::stats::Segment>>,
    /// Interfaces came or went since the stats segment was last synced.
    stats_dirty: bool,
}

/// The main thread, not yet running: [`MainThread::run`] it on the server's runtime; it
/// runs until [`Job::Stop`] or until every sender is gone.
pub fn new(
    release: &'static Release,
    table: SimTable,
    faults: Faults,
    latency: Duration,
) -> (
    mpsc::UnboundedSender<Job>,
    MainThread,
    mpsc::UnboundedReceiver<Job>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let event = table.registry_event;
    let main = MainThread {
        vpp: Vpp::new(release.version),
        sys: System {
            release,
            pid: std::process::id(),
            interface_events: HashMap::new(),
            clients: Vec::new(),
            close: Vec::new(),
            kernel_taps: None,
        },
        table,
        generation: 0,
        conns: HashMap::new(),
        free: Vec::new(),
        next: 1,
        faults,
        latency,
        event,
        watchers: Vec::new(),
        stats: None,
        stats_dirty: false,
    };
    (tx, main, rx)
}

impl MainThread {
    /// Makes a real kernel device behind every tap from now on ([`crate::kernel_tap`]).
    pub fn enable_kernel_taps(&mut self) {
        self.sys.kernel_taps.get_or_insert_with(Default::default);
    }

    pub async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Job>) {
        while let Some(job) = rx.recv().await {
            match job {
                Job::Register { push, reply } => {
                    let handle = self.register(push);
                    let _ = reply.send(Registration {
                        handle,
                        generation: self.generation,
                    });
                }
                Job::Unregister(reg) => {
                    if reg.generation == self.generation {
                        self.unregister(reg.handle);
                    }
                }
                Job::Requests {
                    reg,
                    payloads,
                    reply,
                } => {
                    let out = self.requests(reg, &payloads);
                    // Only interfaces coming or going, and the CLI, change the segment.
                    if std::mem::take(&mut self.stats_dirty) {
                        self.sync_stats();
                    }
                    let _ = reply.send(out);
                }
                Job::Snapshot(reply) => {
                    let _ = reply.send(self.vpp.clone());
                }
                Job::Cli(cmd, reply) => {
                    let pid = self.sys.pid;
                    let r = crate::cli::execute(&mut self.vpp, pid, &cmd);
                    self.emit_events();
                    self.sync_stats();
                    let _ = reply.send(r);
                }
                Job::Reset(table, reply) => {
                    self.reset(table);
                    let _ = reply.send(());
                }
                Job::Latency(d) => self.latency = d,
                Job::Fail(spec) => self.faults.add(spec),
                Job::Watch(tx) => self.watchers.push(tx),
                Job::AttachStats(mut seg) => {
                    seg.sync(&self.vpp);
                    self.stats = Some(seg);
                }
                Job::StatsTick => {
                    if let Some(seg) = &mut self.stats {
                        seg.heartbeat(&self.vpp);
                    }
                }
                Job::Stop => break,
            }
        }
    }

    fn register(&mut self, push: mpsc::UnboundedSender<Push>) -> u32 {
        let index = self.free.pop().unwrap_or_else(|| {
            self.next += 1;
            self.next - 1
        });
        let handle = binapi::server::client_handle(index);
        self.conns.insert(handle, Conn { push });
        self.sys.clients.push(handle);
        handle
    }

    fn unregister(&mut self, handle: u32) {
        if self.conns.remove(&handle).is_some() {
            self.free.push(handle & 0x7fff_ffff);
        }
        self.sys.clients.retain(|h| *h != handle);
        self.sys.interface_events.remove(&handle);
    }

    fn reset(&mut self, table: SimTable) {
        for (_, conn) in self.conns.drain() {
            let _ = conn.push.send(Push::Close);
        }
        self.vpp = Vpp::new(self.sys.release.version);
        if let Some(taps) = self.sys.kernel_taps.as_mut() {
            taps.clear();
        }
        self.sys.interface_events.clear();
        self.sys.clients.clear();
        self.free.clear();
        self.next = 1;
        self.event = table.registry_event;
        self.table = table;
        self.generation += 1;
        if let Some(seg) = &mut self.stats {
            seg.restart(&self.vpp);
        }
    }

    /// Brings the stats segment up to date (cheap when nothing moved).
    fn sync_stats(&mut self) {
        if let Some(seg) = &mut self.stats {
            seg.sync(&self.vpp);
        }
    }

    fn requests(&mut self, reg: Registration, payloads: &[BytesMut]) -> Output {
        let mut out = Output::default();
        if reg.generation != self.generation || !self.conns.contains_key(&reg.handle) {
            out.close = true;
            return out;
        }
        for p in payloads {
            if !self.latency.is_zero() {
                std::thread::sleep(self.latency);
            }
            self.one(reg.handle, p, &mut out.bytes);
            for h in std::mem::take(&mut self.sys.close) {
                if h == reg.handle {
                    out.close = true;
                } else if let Some(conn) = self.conns.get(&h) {
                    let _ = conn.push.send(Push::Close);
                }
            }
            if out.close {
                break;
            }
        }
        out
    }

    /// One request: VPP's silence rules, then the handler.
    fn one(&mut self, handle: u32, payload: &[u8], out: &mut Vec<u8>) {
        let Some(id) = payload.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])) else {
            return;
        };
        if id == SOCKCLNT_CREATE_ID {
            self.sockclnt_create(handle, payload, out);
            return;
        }
        let Some(entry) = self.table.dispatch.get(usize::from(id)).copied().flatten() else {
            tracing::debug!(msg_id = id, "no handler for msg id");
            return;
        };
        if entry.shape != HeaderShape::Request || payload.len() < 10 {
            tracing::debug!(msg = entry.name, "not a request, dropped");
            return;
        }
        let word = |at: usize| {
            u32::from_be_bytes([
                payload[at],
                payload[at + 1],
                payload[at + 2],
                payload[at + 3],
            ])
        };
        let (client_index, context) = (word(2), word(6));
        if client_index != handle {
            tracing::debug!(
                msg = entry.name,
                client_index,
                "wrong client_index, dropped"
            );
            return;
        }
        if !self.watchers.is_empty() {
            let h = Handled {
                name: entry.name,
                at: Instant::now(),
            };
            self.watchers.retain(|w| w.send(h).is_ok());
        }
        let fail = match entry.answer {
            Answer::Reply => self.faults.take(entry.name),
            Answer::Stream => None,
        };
        let mut ctx = Ctx {
            vpp: &mut self.vpp,
            sys: &mut self.sys,
            out: Out {
                table: &self.table.table,
                buf: out,
                context,
            },
            client_index,
            fail,
        };
        (entry.handler)(&mut ctx, payload);
        // The CLI (`test traffic`) moves counters.
        self.stats_dirty |= entry.name.starts_with("cli");
        self.emit_events();
    }

    /// `sockclnt_create`: answers id 16 with the handle and the message table (in hash
    /// order); a truncated one gets nothing.
    fn sockclnt_create(&mut self, handle: u32, payload: &[u8], out: &mut Vec<u8>) {
        let Ok((_, header, create)) = decode_payload::<SockclntCreate>(payload) else {
            tracing::debug!("truncated sockclnt_create dropped");
            return;
        };
        tracing::debug!(client = %create.name, handle, "client connected");
        let reply = SockclntCreateReply {
            response: 0,
            index: handle,
            message_table: self
                .table
                .hash_order
                .iter()
                .map(|(index, name)| MessageTableEntry {
                    index: *index,
                    name: name.clone(),
                })
                .collect(),
        };
        let h = Header {
            client_index: 0,
            context: header.context,
        };
        if let Err(e) = encode_frame(out, SOCKCLNT_CREATE_REPLY_ID, h, &reply) {
            tracing::warn!(error = %e, "sockclnt_create_reply not encodable");
        }
    }

    /// Sends `sw_interface_event`s for the interface changes of the last request (drained
    /// even without subscribers, so the log never grows).
    fn emit_events(&mut self) {
        let changes = self.vpp.take_interface_changes();
        self.stats_dirty |= !changes.is_empty();
        if changes.is_empty() || self.sys.interface_events.is_empty() {
            return;
        }
        for (handle, pid) in &self.sys.interface_events {
            let Some(conn) = self.conns.get(handle) else {
                continue;
            };
            let mut bytes = Vec::new();
            for (idx, flags, deleted) in &changes {
                (self.event)(
                    &self.table.table,
                    *handle,
                    *pid,
                    *idx,
                    *flags,
                    *deleted,
                    &mut bytes,
                );
            }
            let _ = conn.push.send(Push::Frames(bytes));
        }
    }
}
