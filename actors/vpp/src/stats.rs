//! A reader of VPP's stats segment (interface counters), as VPP's own clients read it
//! (`vpp_papi/vpp_stats.py`, GoVPP's statsclient): connect to the stats socket
//! (`stats-socket-path`, `SOCK_SEQPACKET`), receive the segment's memfd by `SCM_RIGHTS`, and
//! read it with `pread` (no mapping, no unsafe code).
//!
//! Layout (version 2, `vlib/stats/shared.h`): a header `{version, base, epoch, in_progress,
//! directory_vector}`, pointers being addresses in VPP's mapping (offset = pointer - `base`);
//! vectors carry their `u32` length 8 bytes before their data; a directory entry is
//! `{u32 type, u64 value, char name[128]}` (144 bytes). Counter entries point to a vector of
//! per-thread pointers, each to a vector indexed by sw_if_index of `u64` (simple) or
//! `{packets, bytes}` (combined) counters, summed over threads here. `/if/names` is a vector of
//! pointers to NUL-terminated names (null for a free index); its type is 5 before VPP 22.02
//! and 4 since.
//!
//! Consistency is VPP's optimistic locking: a read starts when `in_progress` is 0, and is
//! kept only if `in_progress` is still 0 and `epoch` unchanged at the end; otherwise it is
//! retried. A VPP restart re-creates the socket: the reader notices the new socket file
//! (device, inode and change time) and reconnects, since the old segment is never updated again.
//!
//! Deliberately not here: node, error, memory or buffer counters, symlinks, and any timer
//! (the caller decides when to read).

use std::collections::HashMap;
use std::fs::File;
use std::io::IoSliceMut;
use std::mem::MaybeUninit;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SocketAddrUnix, SocketType,
};

const VERSION: u64 = 2;
const HEADER_LEN: usize = 40;
const ENTRY_LEN: usize = 144;
const NAME_LEN: usize = 128;
const TYPE_SIMPLE: u32 = 2;
const TYPE_COMBINED: u32 = 3;
/// `/if/names`: `STAT_DIR_TYPE_NAME_VECTOR` since 22.02, and before.
const TYPES_NAME_VECTOR: [u32; 2] = [4, 5];
/// Vectors longer than this are taken as a torn read (VPP has no such interface count).
const MAX_VECTOR_LEN: u32 = 1 << 24;
/// How long a read retries while VPP holds the segment (`in_progress`) or keeps changing it.
const RETRY_FOR: Duration = Duration::from_millis(500);

/// Why the segment could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("stats socket {path}: {source}")]
    Connect {
        path: String,
        source: std::io::Error,
    },
    #[error("stats socket {path}: no segment fd received")]
    NoSegment { path: String },
    #[error("stats segment of {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("stats segment of {path}: version {found}, expected 2")]
    Version { path: String, found: u64 },
    #[error("stats segment of {path}: {what} outside the segment")]
    Layout { path: String, what: String },
    #[error("stats segment of {path}: still being updated after {waited:?}")]
    Busy { path: String, waited: Duration },
}

impl StatsError {
    /// A bounded name for logs and metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            StatsError::Connect { .. } => "connect",
            StatsError::NoSegment { .. } => "no_segment",
            StatsError::Read { .. } => "read",
            StatsError::Version { .. } => "version",
            StatsError::Layout { .. } => "layout",
            StatsError::Busy { .. } => "busy",
        }
    }
}

/// Packets and bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Combined {
    pub packets: u64,
    pub bytes: u64,
}

/// One interface's counters, summed over VPP's threads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct InterfaceCounters {
    pub sw_if_index: u32,
    /// VPP's name from `/if/names` (when the segment has it).
    pub name: Option<String>,
    pub rx: Combined,
    pub tx: Combined,
    pub rx_unicast: Combined,
    pub rx_multicast: Combined,
    pub rx_broadcast: Combined,
    pub tx_unicast: Combined,
    pub tx_multicast: Combined,
    pub tx_broadcast: Combined,
    pub drops: u64,
    pub punts: u64,
    pub ip4: u64,
    pub ip6: u64,
    pub rx_no_buf: u64,
    pub rx_miss: u64,
    pub rx_error: u64,
    pub tx_error: u64,
    pub mpls: u64,
}

type SimpleField = fn(&mut InterfaceCounters) -> &mut u64;
type CombinedField = fn(&mut InterfaceCounters) -> &mut Combined;

const SIMPLE: [(&str, SimpleField); 9] = [
    ("/if/drops", |c| &mut c.drops),
    ("/if/punt", |c| &mut c.punts),
    ("/if/ip4", |c| &mut c.ip4),
    ("/if/ip6", |c| &mut c.ip6),
    ("/if/rx-no-buf", |c| &mut c.rx_no_buf),
    ("/if/rx-miss", |c| &mut c.rx_miss),
    ("/if/rx-error", |c| &mut c.rx_error),
    ("/if/tx-error", |c| &mut c.tx_error),
    ("/if/mpls", |c| &mut c.mpls),
];

const COMBINED: [(&str, CombinedField); 8] = [
    ("/if/rx", |c| &mut c.rx),
    ("/if/rx-unicast", |c| &mut c.rx_unicast),
    ("/if/rx-multicast", |c| &mut c.rx_multicast),
    ("/if/rx-broadcast", |c| &mut c.rx_broadcast),
    ("/if/tx", |c| &mut c.tx),
    ("/if/tx-unicast", |c| &mut c.tx_unicast),
    ("/if/tx-multicast", |c| &mut c.tx_multicast),
    ("/if/tx-broadcast", |c| &mut c.tx_broadcast),
];

/// A socket file's identity: device, inode and change time (a re-created socket may get the
/// freed inode back, never the same change time).
type SocketId = (u64, u64, i64, i64);

/// The segment of one connection, with the identity of the socket file it came from.
#[derive(Debug)]
struct Connected {
    file: File,
    socket_id: SocketId,
}

/// Reads interface counters from VPP's stats segment; see the module docs. Blocking (a
/// connect waits at most a second, reads are `pread`s of shared memory).
#[derive(Debug)]
pub struct StatsReader {
    socket: PathBuf,
    conn: Option<Connected>,
}

/// Something that went wrong within one attempt: retry, or give up with an error.
enum Attempt {
    Retry,
    Fail(StatsError),
}

impl From<StatsError> for Attempt {
    fn from(e: StatsError) -> Self {
        Attempt::Fail(e)
    }
}

impl StatsReader {
    /// A reader of the segment behind `socket` (VPP's `/run/vpp/stats.sock`); connects on the
    /// first read.
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        StatsReader {
            socket: socket.into(),
            conn: None,
        }
    }

    pub fn socket_path(&self) -> &Path {
        &self.socket
    }

    /// Whether a segment is held (a read connected and nothing failed since).
    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    fn path(&self) -> String {
        self.socket.display().to_string()
    }

    /// The counters of every interface VPP has, by sw_if_index (free indices left out when
    /// the segment names interfaces).
    pub fn interfaces(&mut self) -> Result<Vec<InterfaceCounters>, StatsError> {
        let socket_id = self.socket_id()?;
        if self.conn.as_ref().is_some_and(|c| c.socket_id != socket_id) {
            tracing::debug!(socket = %self.path(), "Stats socket re-created; reconnecting.");
            self.conn = None;
        }
        if self.conn.is_none() {
            self.conn = Some(Connected {
                file: self.connect()?,
                socket_id,
            });
        }
        let result = self.read_consistent();
        if result.is_err() {
            // The next read starts from a fresh connection.
            self.conn = None;
        }
        result
    }

    fn socket_id(&self) -> Result<SocketId, StatsError> {
        let md = std::fs::metadata(&self.socket).map_err(|source| StatsError::Connect {
            path: self.path(),
            source,
        })?;
        Ok((md.dev(), md.ino(), md.ctime(), md.ctime_nsec()))
    }

    fn connect(&self) -> Result<File, StatsError> {
        let err = |source: std::io::Error| StatsError::Connect {
            path: self.path(),
            source,
        };
        let sock = rustix::net::socket(AddressFamily::UNIX, SocketType::SEQPACKET, None)
            .map_err(|e| err(e.into()))?;
        rustix::net::sockopt::set_socket_timeout(
            &sock,
            rustix::net::sockopt::Timeout::Recv,
            Some(Duration::from_secs(1)),
        )
        .map_err(|e| err(e.into()))?;
        let addr = SocketAddrUnix::new(&self.socket).map_err(|e| err(e.into()))?;
        rustix::net::connect(&sock, &addr).map_err(|e| err(e.into()))?;
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let mut byte = [0u8; 1];
        rustix::net::recvmsg(
            &sock,
            &mut [IoSliceMut::new(&mut byte)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        )
        .map_err(|e| err(e.into()))?;
        let mut fd = None;
        for msg in control.drain() {
            if let RecvAncillaryMessage::ScmRights(fds) = msg {
                for f in fds {
                    fd.get_or_insert(f);
                }
            }
        }
        let fd = fd.ok_or_else(|| StatsError::NoSegment { path: self.path() })?;
        Ok(File::from(fd))
    }

    fn read_consistent(&self) -> Result<Vec<InterfaceCounters>, StatsError> {
        let started = Instant::now();
        let mut pause = Duration::from_micros(50);
        loop {
            match self.attempt() {
                Ok(v) => return Ok(v),
                Err(Attempt::Fail(e)) => return Err(e),
                Err(Attempt::Retry) if started.elapsed() >= RETRY_FOR => {
                    return Err(StatsError::Busy {
                        path: self.path(),
                        waited: started.elapsed(),
                    });
                }
                Err(Attempt::Retry) => {
                    // VPP holds the lock for microseconds; back off a little each time.
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(10));
                }
            }
        }
    }

    /// One optimistic read: header, directory, counters, then the header again.
    fn attempt(&self) -> Result<Vec<InterfaceCounters>, Attempt> {
        let Some(conn) = &self.conn else {
            return Err(Attempt::Fail(StatsError::NoSegment { path: self.path() }));
        };
        let seg = Segment {
            file: &conn.file,
            size: conn
                .file
                .metadata()
                .map_err(|source| StatsError::Read {
                    path: self.path(),
                    source,
                })?
                .len(),
            path: self.path(),
            base: 0,
        };
        let header = seg.bytes(0, HEADER_LEN)?;
        let word = |i: usize| le_u64(&header[i * 8..i * 8 + 8]);
        let (version, base, epoch, in_progress, dir) =
            (word(0), word(1), word(2), word(3), word(4));
        if version != VERSION {
            return Err(Attempt::Fail(StatsError::Version {
                path: self.path(),
                found: version,
            }));
        }
        if in_progress != 0 {
            return Err(Attempt::Retry);
        }
        let seg = Segment { base, ..seg };
        let out = seg.interfaces(dir);
        let after = seg.bytes(0, HEADER_LEN)?;
        if le_u64(&after[16..24]) != epoch || le_u64(&after[24..32]) != 0 {
            return Err(Attempt::Retry);
        }
        // The epoch held for the whole read: what it found (or a layout error) is real.
        out
    }
}

fn le_u64(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

fn le_u32(b: &[u8]) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[..4]);
    u32::from_le_bytes(w)
}

/// The segment of one read: bounds-checked `pread`s, pointers turned into offsets.
struct Segment<'a> {
    file: &'a File,
    size: u64,
    path: String,
    base: u64,
}

impl Segment<'_> {
    fn layout(&self, what: impl Into<String>) -> Attempt {
        Attempt::Fail(StatsError::Layout {
            path: self.path.clone(),
            what: what.into(),
        })
    }

    fn bytes(&self, offset: u64, len: usize) -> Result<Vec<u8>, Attempt> {
        let end = offset.checked_add(len as u64);
        if end.is_none_or(|e| e > self.size) {
            return Err(self.layout(format!("{len} bytes at offset {offset}")));
        }
        let mut buf = vec![0u8; len];
        self.file
            .read_exact_at(&mut buf, offset)
            .map_err(|source| {
                Attempt::Fail(StatsError::Read {
                    path: self.path.clone(),
                    source,
                })
            })?;
        Ok(buf)
    }

    /// The offset of a pointer's target.
    fn offset(&self, ptr: u64, what: &str) -> Result<u64, Attempt> {
        match ptr.checked_sub(self.base) {
            Some(o) if o >= 8 && o < self.size => Ok(o),
            _ => Err(self.layout(format!("{what} pointer {ptr:#x}"))),
        }
    }

    /// A vector's elements: its length from the 8-byte header before `ptr`.
    fn vector(&self, ptr: u64, elt: usize, what: &str) -> Result<Vec<u8>, Attempt> {
        let off = self.offset(ptr, what)?;
        let len = le_u32(&self.bytes(off - 8, 4)?);
        if len > MAX_VECTOR_LEN {
            return Err(self.layout(format!("{what} length {len}")));
        }
        self.bytes(off, len as usize * elt)
    }

    fn interfaces(&self, dir: u64) -> Result<Vec<InterfaceCounters>, Attempt> {
        let dir = self.vector(dir, ENTRY_LEN, "directory")?;
        let mut entries: HashMap<&[u8], (u32, u64)> = HashMap::new();
        for e in dir.chunks_exact(ENTRY_LEN) {
            let name = &e[16..16 + NAME_LEN];
            let name = &name[..name.iter().position(|b| *b == 0).unwrap_or(NAME_LEN)];
            if name.starts_with(b"/if/") {
                entries.insert(name, (le_u32(&e[0..4]), le_u64(&e[8..16])));
            }
        }
        let mut out: Vec<InterfaceCounters> = Vec::new();
        let slot = |out: &mut Vec<InterfaceCounters>, idx: usize| {
            if out.len() <= idx {
                let from = out.len();
                out.extend((from..=idx).map(|i| InterfaceCounters {
                    sw_if_index: u32::try_from(i).unwrap_or(u32::MAX),
                    ..InterfaceCounters::default()
                }));
            }
        };
        for (name, field) in SIMPLE {
            let Some(&(TYPE_SIMPLE, ptr)) = entries.get(name.as_bytes()) else {
                continue;
            };
            for thread in self.vector(ptr, 8, name)?.chunks_exact(8) {
                let counters = self.vector(le_u64(thread), 8, name)?;
                for (idx, c) in counters.chunks_exact(8).enumerate() {
                    slot(&mut out, idx);
                    let v = field(&mut out[idx]);
                    *v = v.wrapping_add(le_u64(c));
                }
            }
        }
        for (name, field) in COMBINED {
            let Some(&(TYPE_COMBINED, ptr)) = entries.get(name.as_bytes()) else {
                continue;
            };
            for thread in self.vector(ptr, 8, name)?.chunks_exact(8) {
                let counters = self.vector(le_u64(thread), 16, name)?;
                for (idx, c) in counters.chunks_exact(16).enumerate() {
                    slot(&mut out, idx);
                    let v = field(&mut out[idx]);
                    v.packets = v.packets.wrapping_add(le_u64(&c[..8]));
                    v.bytes = v.bytes.wrapping_add(le_u64(&c[8..]));
                }
            }
        }
        if let Some(&(kind, ptr)) = entries.get(&b"/if/names"[..])
            && TYPES_NAME_VECTOR.contains(&kind)
        {
            let names = self.vector(ptr, 8, "/if/names")?;
            let mut live = vec![false; names.len() / 8];
            for (idx, p) in names.chunks_exact(8).enumerate() {
                let p = le_u64(p);
                if p == 0 {
                    continue;
                }
                let bytes = self.vector(p, 1, "interface name")?;
                let name = &bytes[..bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len())];
                slot(&mut out, idx);
                out[idx].name = Some(String::from_utf8_lossy(name).into_owned());
                live[idx] = true;
            }
            // Counter vectors never shrink; an index without a name is free.
            out.retain(|c| live.get(c.sw_if_index as usize).copied().unwrap_or(false));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(version: &str) -> (tempfile::TempDir, vpp_sim::SimHandle) {
        let dir = tempfile::tempdir().expect("tempdir");
        let sim = vpp_sim::SimHandle::start(dir.path(), version).expect("sim");
        (dir, sim)
    }

    fn by_name<'a>(v: &'a [InterfaceCounters], name: &str) -> Option<&'a InterfaceCounters> {
        v.iter().find(|c| c.name.as_deref() == Some(name))
    }

    fn cli(sim: &vpp_sim::SimHandle, cmd: &str) {
        let r = sim.cli(cmd).expect("cli");
        assert_eq!(r.retval, 0, "{cmd}: {}", r.text);
    }

    #[test]
    fn reads_counters_and_names_of_vpp_sim() {
        for version in ["21.01", "23.06", "25.06"] {
            let (_dir, sim) = sim(version);
            let socket = sim.stats_socket_path().expect("stats socket").to_owned();
            let mut r = StatsReader::new(&socket);
            let first = r.interfaces().expect("read");
            assert_eq!(first.len(), 1, "{version}: {first:?}");
            assert_eq!(by_name(&first, "local0").map(|c| c.sw_if_index), Some(0));
            cli(&sim, "create loopback interface");
            cli(&sim, "test traffic loop0 10 1000");
            cli(&sim, "test traffic loop0 3 300 tx");
            let v = r.interfaces().expect("read");
            let lo = by_name(&v, "loop0").expect("loop0");
            assert_eq!(lo.sw_if_index, 1);
            assert_eq!(
                lo.rx,
                Combined {
                    packets: 10,
                    bytes: 1000
                },
                "{version}"
            );
            assert_eq!(
                lo.tx,
                Combined {
                    packets: 13,
                    bytes: 1300
                },
                "{version}"
            );
            assert_eq!(lo.rx_unicast, lo.rx);
            assert_eq!(lo.drops, 0);
            cli(&sim, "delete loopback interface intfc loop0");
            let v = r.interfaces().expect("read");
            assert!(by_name(&v, "loop0").is_none(), "{version}: {v:?}");
            assert_eq!(v.len(), 1, "a free index is left out");
        }
    }

    /// Serves `file` on a stats socket in `dir` to `n` clients, as VPP does.
    fn serve(dir: &Path, file: std::fs::File, n: usize) -> (PathBuf, std::thread::JoinHandle<()>) {
        let path = dir.join("stats.sock");
        let fd = vpp_sim::stats::socket::bind(&path).expect("bind");
        let listener = std::os::unix::net::UnixListener::from(fd);
        listener.set_nonblocking(false).expect("blocking");
        let t = std::thread::spawn(move || {
            for _ in 0..n {
                let (conn, _) = listener.accept().expect("accept");
                vpp_sim::stats::socket::send_segment(&conn, &file).expect("send");
            }
        });
        (path, t)
    }

    #[test]
    fn a_segment_held_in_progress_is_busy_then_read_once_released() {
        use vpp_sim::stats::layout::{self, Era, IfStats, Model};
        let dir = tempfile::tempdir().expect("tempdir");
        let mut lo = IfStats {
            name: "loop0".to_owned(),
            ..IfStats::default()
        };
        lo.combined[0] = (4, 400);
        let model = Model {
            interfaces: vec![None, Some(lo)],
            ..Model::default()
        };
        let seg = dir.path().join("segment");
        std::fs::write(&seg, layout::build(Era::Since2202, &model, 9)).expect("write");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&seg)
            .expect("open");
        file.write_all_at(&1u64.to_le_bytes(), layout::OFF_IN_PROGRESS)
            .expect("lock");
        let writer = file.try_clone().expect("clone");
        let (socket, server) = serve(dir.path(), file, 2);
        let mut r = StatsReader::new(&socket);
        let err = r.interfaces().expect_err("in progress");
        assert_eq!(err.kind(), "busy", "{err}");
        writer
            .write_all_at(&0u64.to_le_bytes(), layout::OFF_IN_PROGRESS)
            .expect("unlock");
        let v = r.interfaces().expect("read");
        assert_eq!(v.len(), 1, "index 0 has no name: {v:?}");
        assert_eq!(v[0].sw_if_index, 1);
        assert_eq!(
            v[0].rx,
            Combined {
                packets: 4,
                bytes: 400
            }
        );
        server.join().expect("server");
        // A foreign version is refused, not misread.
        writer
            .write_all_at(&3u64.to_le_bytes(), 0)
            .expect("version");
        let (socket, server) = serve(&dir.path().join(""), writer, 1);
        let err = StatsReader::new(&socket)
            .interfaces()
            .expect_err("version 3");
        assert_eq!(err.kind(), "version", "{err}");
        server.join().expect("server");
    }

    #[test]
    fn reconnects_after_a_vpp_restart_and_fails_while_vpp_is_gone() {
        let (dir, sim) = sim("23.06");
        let socket = sim.stats_socket_path().expect("stats socket").to_owned();
        let mut r = StatsReader::new(&socket);
        cli(&sim, "create loopback interface");
        cli(&sim, "test traffic loop0 10 1000");
        assert!(by_name(&r.interfaces().expect("read"), "loop0").is_some());
        sim.restart().expect("restart");
        // The socket comes back asynchronously; the old segment is never read again.
        let deadline = Instant::now() + Duration::from_secs(5);
        let after = loop {
            match r.interfaces() {
                Ok(v) if by_name(&v, "loop0").is_none() => break v,
                _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                other => panic!("no fresh segment after the restart: {other:?}"),
            }
        };
        assert_eq!(after.len(), 1, "{after:?}");
        drop(sim);
        let err = r.interfaces().expect_err("vpp is gone");
        assert_eq!(err.kind(), "connect", "{err}");
        assert!(err.to_string().contains("stats.sock"), "{err}");
        let mut missing = StatsReader::new(dir.path().join("nothing.sock"));
        assert_eq!(
            missing.interfaces().expect_err("no socket").kind(),
            "connect"
        );
    }
}
