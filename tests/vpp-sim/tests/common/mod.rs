//! Helpers shared by the socket tests: a simulator in a temp dir, a binapi client on it, a
//! raw connection that sends arbitrary frames (for the silence rules and garbage), retval
//! extraction and polling with a deadline.
//!
//! No assertions live here except the ones that make a helper's own contract explicit.

#![allow(dead_code)]

pub mod api23;

use std::future::Future;
use std::time::Duration;

use binapi::codec::frame::{FrameCodec, encode_frame};
use binapi::codec::message::{Header, Message, decode_payload, peek_msg_id};
use binapi::messages::{SockclntCreate, SockclntCreateReply};
use binapi::{Client, Config, MessageTable};
use bytes::BytesMut;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio_util::codec::FramedRead;
use vpp_sim::SimHandle;

/// A simulator of `version` in a fresh temp dir (kept alive with it).
pub fn sim(version: &str) -> (tempfile::TempDir, SimHandle) {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = SimHandle::start(dir.path(), version).expect("start vpp-sim");
    (dir, sim)
}

pub fn config(sim: &SimHandle) -> Config {
    let mut c = Config::new(sim.socket_path());
    c.health_interval = None;
    c.request_timeout = Duration::from_secs(5);
    c.connect_timeout = Duration::from_secs(5);
    c
}

pub async fn client(sim: &SimHandle) -> Client {
    Client::connect(config(sim)).await.expect("connect")
}

/// The retval of a request: 0 for a reply, VPP's code for a refusal; panics otherwise.
pub fn rv<T: std::fmt::Debug>(r: Result<T, binapi::Error>) -> i32 {
    match r {
        Ok(_) => 0,
        Err(binapi::Error::Retval { retval, .. }) => retval,
        Err(e) => panic!("not a vpp answer: {e}"),
    }
}

/// Polls `cond` until it holds or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if cond().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A connection that speaks frames directly.
pub struct Raw {
    frames: FramedRead<OwnedReadHalf, FrameCodec>,
    writer: OwnedWriteHalf,
    pub table: MessageTable,
    pub handle: u32,
}

impl Raw {
    /// Connects and runs the handshake (`sockclnt_create`, id 15).
    pub async fn connect(sim: &SimHandle) -> Raw {
        let stream = UnixStream::connect(sim.socket_path())
            .await
            .expect("connect");
        let (read, writer) = stream.into_split();
        let mut raw = Raw {
            frames: FramedRead::new(read, FrameCodec::default()),
            writer,
            table: MessageTable::default(),
            handle: 0,
        };
        let mut frame = Vec::new();
        let create = SockclntCreate {
            name: "raw-test".to_owned(),
        };
        let h = Header {
            client_index: 0,
            context: 77,
        };
        encode_frame(&mut frame, 15, h, &create).expect("encode");
        raw.send_bytes(&frame).await;
        let payload = raw
            .recv(Duration::from_secs(5))
            .await
            .expect("sockclnt_create_reply");
        assert_eq!(peek_msg_id(&payload).expect("id"), 16);
        let (_, header, reply) = decode_payload::<SockclntCreateReply>(&payload).expect("reply");
        assert_eq!(header.context, 77);
        raw.table = MessageTable::from_entries(
            reply
                .message_table
                .iter()
                .map(|e| (e.index, e.name.as_str())),
        );
        raw.handle = reply.index;
        raw
    }

    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.expect("write");
    }

    /// Sends `msg` with this connection's id for it, `client_index` and `context`.
    pub async fn send<M: Message>(&mut self, client_index: u32, context: u32, msg: &M) {
        let id = self.table.id_of::<M>().expect("message in table");
        let mut frame = Vec::new();
        encode_frame(
            &mut frame,
            id,
            Header {
                client_index,
                context,
            },
            msg,
        )
        .expect("encode");
        self.send_bytes(&frame).await;
    }

    /// The next frame's payload, `None` on EOF or after `timeout`.
    pub async fn recv(&mut self, timeout: Duration) -> Option<BytesMut> {
        match tokio::time::timeout(timeout, self.frames.next()).await {
            Ok(Some(Ok(p))) => Some(p),
            _ => None,
        }
    }

    /// True when the server closed the connection (EOF or reset) within `timeout`.
    pub async fn closed(&mut self, timeout: Duration) -> bool {
        matches!(
            tokio::time::timeout(timeout, self.frames.next()).await,
            Ok(None) | Ok(Some(Err(_)))
        )
    }

    /// Decodes a payload as `M`, checking its id against the table.
    pub fn decode<M: Message>(&self, payload: &[u8]) -> (Header, M) {
        assert_eq!(
            peek_msg_id(payload).expect("id"),
            self.table.id_of::<M>().expect("in table"),
            "expected {}",
            M::NAME
        );
        let (_, h, m) = decode_payload::<M>(payload).expect("decode");
        (h, m)
    }
}
