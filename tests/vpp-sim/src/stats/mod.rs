//! The simulated VPP's stats segment, as VPP offers it: a memfd holding the shared-memory
//! layout of [`layout`], handed to each client that connects to the stats socket
//! (`SOCK_SEQPACKET`, the fd in an `SCM_RIGHTS` message, see [`socket`]); VPP's python
//! client `vpp_papi.vpp_stats.VPPStats` reads it unchanged (`tests/vpp-sim/papi/stats_check.py`).
//!
//! Writing follows VPP's optimistic-locking protocol: a change of the directory (an interface
//! created or deleted) sets `in_progress`, rewrites the segment, bumps `epoch` and clears
//! `in_progress`; counters and the heartbeat move in place without a new epoch, as VPP's
//! workers and stats collector do. The segment is written with `pwrite` on the memfd (no
//! mapping on our side). A VPP restart gets a new memfd and re-creates the socket.
//!
//! Counters move only on the simulator-only CLI command `test traffic` ([`traffic_command`]):
//! the simulator forwards no packets. It deliberately has no node, error or memory counters.

pub mod layout;
pub mod socket;

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use layout::{COMBINED_COUNTERS, Era, IfStats, Model};

use crate::cli::CliReply;
use crate::state::Vpp;

/// The memfd is created this large (sparse: untouched pages cost nothing) and grows by
/// doubling if an image ever needs more.
const INITIAL_SIZE: u64 = 8 << 20;
/// Up to this many interfaces (and free indices) a directory change is written at once.
const IMMEDIATE_INTERFACES: usize = 64;

/// One simulated VPP's stats segment; owned by the main thread, which calls [`Segment::sync`]
/// after each request.
#[derive(Debug)]
pub struct Segment {
    era: Era,
    file: Arc<File>,
    size: u64,
    model: Model,
    epoch: u64,
    /// A directory rewrite is due (deferred, see [`Segment::sync`]).
    pending: bool,
    last_rewrite: std::time::Instant,
    last_cost: std::time::Duration,
    /// Sends the current memfd to the socket task; a new one after a restart.
    current: tokio::sync::watch::Sender<Arc<File>>,
}

impl Segment {
    /// A segment for `version` (`21.01`, `23.06`, ...) with the interfaces of `vpp`.
    pub fn new(version: &str, vpp: &Vpp) -> std::io::Result<Segment> {
        let file = Arc::new(memfd()?);
        let (current, _) = tokio::sync::watch::channel(file.clone());
        let mut seg = Segment {
            era: Era::of(version),
            file,
            size: INITIAL_SIZE,
            model: Model::default(),
            epoch: 0,
            pending: false,
            last_rewrite: std::time::Instant::now(),
            last_cost: std::time::Duration::ZERO,
            current,
        };
        seg.model.boottime = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        seg.model.interfaces = interfaces(vpp);
        seg.rewrite()?;
        Ok(seg)
    }

    /// The memfd to hand out; changes on a restart.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<Arc<File>> {
        self.current.subscribe()
    }

    /// Brings the segment up to date with `vpp`: a new directory under the lock if
    /// interfaces came or went, the counters in place otherwise, nothing if nothing moved.
    pub fn sync(&mut self, vpp: &Vpp) {
        if self.pending {
            // A rewrite waits: the model is read from `vpp` when it runs.
            if self.may_rewrite(vpp) {
                self.flush(vpp);
            }
            return;
        }
        if unchanged(&self.model, vpp) {
            return;
        }
        let next = Model {
            interfaces: interfaces(vpp),
            heartbeat: self.model.heartbeat,
            boottime: self.model.boottime,
        };
        if self.model.same_layout(&next) {
            self.model = next;
            if let Err(e) = self.write_in_place() {
                tracing::warn!(error = %e, "stats segment not written");
            }
        } else {
            self.pending = true;
            if self.may_rewrite(vpp) {
                self.flush(vpp);
            }
        }
    }

    /// Whether a directory rewrite may run now. Small segments are rewritten at once, as VPP
    /// does; a large one (thousands of interfaces, each with 17 symlinks) at most once per twenty
    /// times its last cost, so creating interfaces one by one stays linear. The heartbeat tick
    /// flushes what waits.
    fn may_rewrite(&self, vpp: &Vpp) -> bool {
        vpp.ifaces.len() <= IMMEDIATE_INTERFACES
            || self.last_rewrite.elapsed() >= self.last_cost * 20
    }

    fn flush(&mut self, vpp: &Vpp) {
        let started = std::time::Instant::now();
        self.model.interfaces = interfaces(vpp);
        if let Err(e) = self.rewrite() {
            tracing::warn!(error = %e, "stats segment not written");
        }
        self.pending = false;
        self.last_rewrite = std::time::Instant::now();
        self.last_cost = started.elapsed();
    }

    /// A VPP restart: a fresh memfd (clients of the old one keep a segment nobody updates).
    pub fn restart(&mut self, vpp: &Vpp) {
        match memfd() {
            Ok(f) => {
                self.file = Arc::new(f);
                self.size = INITIAL_SIZE;
                self.epoch = 0;
                self.model.heartbeat = 0;
                self.flush(vpp);
                self.current.send_replace(self.file.clone());
            }
            Err(e) => tracing::warn!(error = %e, "stats segment not re-created"),
        }
    }

    /// One tick of VPP's stats collector: `/sys/heartbeat` counts up, in place (and a
    /// deferred directory rewrite runs).
    pub fn heartbeat(&mut self, vpp: &Vpp) {
        if self.pending {
            self.flush(vpp);
        }
        self.model.heartbeat += 1;
        let v = self.model.heartbeat.to_le_bytes();
        if let Err(e) = self.file.write_all_at(&v, layout::heartbeat_offset()) {
            tracing::warn!(error = %e, "heartbeat not written");
        }
    }

    fn image(&self) -> Vec<u8> {
        layout::build(self.era, &self.model, self.epoch)
    }

    fn ensure_size(&mut self, len: usize) -> std::io::Result<()> {
        let len = len as u64;
        if len > self.size {
            while self.size < len {
                self.size *= 2;
            }
            self.file.set_len(self.size)?;
        }
        Ok(())
    }

    /// Counters only: every pointer stays where it is, so readers need no new epoch.
    fn write_in_place(&mut self) -> std::io::Result<()> {
        let img = self.image();
        self.ensure_size(img.len())?;
        self.file
            .write_all_at(&img[layout::HEADER_LEN..], layout::HEADER_LEN as u64)
    }

    /// A new directory: `in_progress` set while the segment is rewritten, then a new epoch.
    fn rewrite(&mut self) -> std::io::Result<()> {
        self.file
            .write_all_at(&1u64.to_le_bytes(), layout::OFF_IN_PROGRESS)?;
        let img = self.image();
        self.ensure_size(img.len())?;
        self.file
            .write_all_at(&img[layout::HEADER_LEN..], layout::HEADER_LEN as u64)?;
        // version, base (epoch and in_progress last, in that order).
        self.file.write_all_at(&img[..16], 0)?;
        self.file.write_all_at(&img[32..layout::HEADER_LEN], 32)?;
        self.epoch += 1;
        self.file
            .write_all_at(&self.epoch.to_le_bytes(), layout::OFF_EPOCH)?;
        self.file
            .write_all_at(&0u64.to_le_bytes(), layout::OFF_IN_PROGRESS)
    }
}

fn memfd() -> std::io::Result<File> {
    let fd = rustix::fs::memfd_create("vpp-sim-stats", rustix::fs::MemfdFlags::CLOEXEC)?;
    let file = File::from(fd);
    file.set_len(INITIAL_SIZE)?;
    Ok(file)
}

fn counters_of(i: &crate::state::Interface) -> IfStats {
    let mut s = IfStats {
        name: i.name.clone(),
        ..IfStats::default()
    };
    let rx = (i.rx_packets, i.rx_bytes);
    let tx = (i.tx_packets, i.tx_bytes);
    for (slot, name) in s.combined.iter_mut().zip(COMBINED_COUNTERS) {
        *slot = match name {
            // All simulated traffic is unicast.
            "rx" | "rx-unicast" => rx,
            "tx" | "tx-unicast" => tx,
            _ => (0, 0),
        };
    }
    s
}

fn interfaces(vpp: &Vpp) -> Vec<Option<IfStats>> {
    vpp.ifaces
        .iter()
        .map(|i| i.as_ref().map(counters_of))
        .collect()
}

/// Whether `vpp` shows what `model` holds (compared in place: this runs after every request).
fn unchanged(model: &Model, vpp: &Vpp) -> bool {
    model.interfaces.len() == vpp.ifaces.len()
        && model
            .interfaces
            .iter()
            .zip(&vpp.ifaces)
            .all(|(m, i)| match (m, i) {
                (None, None) => true,
                (Some(m), Some(i)) => {
                    m.name == i.name
                        && m.combined[0] == (i.rx_packets, i.rx_bytes)
                        && m.combined[4] == (i.tx_packets, i.tx_bytes)
                }
                _ => false,
            })
}

/// `test traffic <interface> <packets> <bytes> [rx|tx]`, a simulator-only CLI command: counts
/// traffic on an interface (both directions unless one is named), as if packets had passed.
pub fn traffic_command(vpp: &mut Vpp, rest: &[&str]) -> CliReply {
    let err = |text: String| CliReply {
        retval: -1,
        text: format!("{text}\n"),
    };
    let usage = "usage: test traffic <interface> <packets> <bytes> [rx|tx]".to_owned();
    let (Some(name), Some(packets), Some(bytes)) = (
        rest.first(),
        rest.get(1).and_then(|p| p.parse::<u64>().ok()),
        rest.get(2).and_then(|b| b.parse::<u64>().ok()),
    ) else {
        return err(usage);
    };
    let (rx, tx) = match rest.get(3).copied() {
        None => (true, true),
        Some("rx") => (true, false),
        Some("tx") => (false, true),
        Some(_) => return err(usage),
    };
    let Some(iface) = vpp.ifaces.iter_mut().flatten().find(|i| i.name == *name) else {
        return err(format!("unknown interface `{name}'"));
    };
    if rx {
        iface.rx_packets = iface.rx_packets.saturating_add(packets);
        iface.rx_bytes = iface.rx_bytes.saturating_add(bytes);
    }
    if tx {
        iface.tx_packets = iface.tx_packets.saturating_add(packets);
        iface.tx_bytes = iface.tx_bytes.saturating_add(bytes);
    }
    CliReply {
        retval: 0,
        text: String::new(),
    }
}

/// The stats socket path that goes with an API socket: `stats.sock` beside `api.sock`,
/// otherwise `<api socket>.stats`.
pub fn default_socket(api: &std::path::Path) -> std::path::PathBuf {
    if api.file_name().is_some_and(|n| n == "api.sock") {
        api.with_file_name("stats.sock")
    } else {
        let mut s = api.as_os_str().to_owned();
        s.push(".stats");
        std::path::PathBuf::from(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Mac;

    fn u64_at(f: &File, at: u64) -> u64 {
        let mut b = [0u8; 8];
        f.read_exact_at(&mut b, at).expect("read");
        u64::from_le_bytes(b)
    }

    /// The length of `/if/names` as a reader finds it (entry 3 of the directory).
    fn names_len(f: &File) -> u64 {
        assert_eq!(u64_at(f, layout::OFF_IN_PROGRESS), 0);
        let dir = u64_at(f, 32) - layout::BASE;
        let names = u64_at(f, dir + 3 * layout::ENTRY_LEN as u64 + 8) - layout::BASE;
        u64_at(f, names - 8) & 0xffff_ffff
    }

    #[test]
    fn many_interfaces_are_written_by_the_next_tick_at_the_latest() {
        let mut vpp = Vpp::new("23.06");
        let mut seg = Segment::new("23.06", &vpp).expect("segment");
        let started = std::time::Instant::now();
        for _ in 0..2000 {
            vpp.create_loopback(Mac::default()).expect("loopback");
            seg.sync(&vpp);
        }
        eprintln!("2000 creations synced in {:?}", started.elapsed());
        seg.heartbeat(&vpp);
        assert!(!seg.pending);
        let file = seg.subscribe().borrow().clone();
        assert_eq!(names_len(&file), 2001);
        // Small segments never wait.
        let mut small = Vpp::new("23.06");
        let mut seg = Segment::new("23.06", &small).expect("segment");
        small.create_loopback(Mac::default()).expect("loopback");
        seg.sync(&small);
        let file = seg.subscribe().borrow().clone();
        assert_eq!(names_len(&file), 2);
    }
}
