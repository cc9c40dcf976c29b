//! The bytes of a VPP stats segment (shared-memory layout version 2), built from the simulated
//! interfaces: the shared header, the directory vector, counter vectors per thread, the
//! `/if/names` string vector and (22.02 and later) the `/interfaces/<name>/<counter>` symlinks.
//!
//! Facts from VPP's sources: `vlib/stats/shared.h` (header, `vlib_stats_entry_t` of 144 bytes),
//! `vppinfra/vec_bootstrap.h` (a vector's length is the `u32` 8 bytes before its data),
//! `vnet/interface/stats.c` (interface names and symlinks), `vnet/interface.h` (the counter
//! names); VPP's python client `vpp_papi/vpp_stats.py` reads exactly this. Every pointer is
//! an address in VPP's mapping: [`BASE`] plus the offset in the segment.
//!
//! Pure: no IO here; [`super::Segment`] writes the image into the memfd.

/// Where the simulated VPP has the segment mapped (any page-aligned address will do).
pub const BASE: u64 = 0x7f3a_5000_0000;
/// `STAT_SEGMENT_VERSION`.
pub const VERSION: u64 = 2;
/// The header: version, base, epoch, in_progress, directory_vector, and (before 22.02) the
/// error vector.
pub const HEADER_LEN: usize = 48;
pub const OFF_EPOCH: u64 = 16;
pub const OFF_IN_PROGRESS: u64 = 24;
/// One directory entry: `u32 type`, padding, `u64` value or pointer, `char name[128]`.
pub const ENTRY_LEN: usize = 144;
pub const NAME_LEN: usize = 128;

pub const TYPE_SCALAR_INDEX: u32 = 1;
pub const TYPE_COUNTER_VECTOR_SIMPLE: u32 = 2;
pub const TYPE_COUNTER_VECTOR_COMBINED: u32 = 3;

/// The directory types that moved in VPP 22.02, when error counters became simple counters
/// (`STAT_DIR_TYPE_ERROR_INDEX` went away).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Era {
    /// 21.01: `NAME_VECTOR` is 5, no symlinks, the header has an error vector.
    Before2202,
    /// 22.02 and later: `NAME_VECTOR` is 4, `SYMLINK` is 6.
    Since2202,
}

impl Era {
    pub fn of(version: &str) -> Era {
        let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        if (major, minor) < (22, 2) {
            Era::Before2202
        } else {
            Era::Since2202
        }
    }

    pub fn name_vector_type(self) -> u32 {
        match self {
            Era::Before2202 => 5,
            Era::Since2202 => 4,
        }
    }

    pub const SYMLINK_TYPE: u32 = 6;
}

/// `foreach_simple_interface_counter_name` (`vnet/interface.h`), in order.
pub const SIMPLE_COUNTERS: [&str; 9] = [
    "drops",
    "punt",
    "ip4",
    "ip6",
    "rx-no-buf",
    "rx-miss",
    "rx-error",
    "tx-error",
    "mpls",
];
/// `foreach_combined_interface_counter_name`, in order.
pub const COMBINED_COUNTERS: [&str; 8] = [
    "rx",
    "rx-unicast",
    "rx-multicast",
    "rx-broadcast",
    "tx",
    "tx-unicast",
    "tx-multicast",
    "tx-broadcast",
];

/// One interface as the stats segment sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IfStats {
    /// The hardware name (`loop0`, `tap1`, `GigabitEthernet0/8/0.100`).
    pub name: String,
    /// Per [`SIMPLE_COUNTERS`] entry.
    pub simple: [u64; 9],
    /// Per [`COMBINED_COUNTERS`] entry: packets, bytes.
    pub combined: [(u64, u64); 8],
}

/// What the segment shows: interfaces by sw_if_index (`None` for a free index) and the
/// scalars.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Model {
    pub interfaces: Vec<Option<IfStats>>,
    pub heartbeat: u64,
    pub boottime: u64,
}

impl Model {
    /// Whether `other` has the same directory and vector shapes (only counter values and
    /// scalars may differ): then an image of `other` has every pointer where this one has it.
    pub fn same_layout(&self, other: &Model) -> bool {
        self.interfaces.len() == other.interfaces.len()
            && self
                .interfaces
                .iter()
                .zip(&other.interfaces)
                .all(|(a, b)| a.as_ref().map(|i| &i.name) == b.as_ref().map(|i| &i.name))
    }
}

/// The directory index of `/sys/heartbeat` (its value is written in place each second).
pub const HEARTBEAT_ENTRY: usize = 1;

/// A bump allocator over the segment bytes, handing out VPP vectors.
struct Heap {
    buf: Vec<u8>,
}

impl Heap {
    fn ptr(offset: usize) -> u64 {
        BASE + offset as u64
    }

    /// A vector of `len` elements of `elt` bytes, its data aligned to `align`: returns the
    /// data offset. The 8-byte vector header before the data holds the length.
    fn vec(&mut self, elt: usize, len: usize, align: usize) -> usize {
        let mut data = self.buf.len() + 8;
        data = data.div_ceil(align) * align;
        self.buf.resize(data + elt * len, 0);
        let n = u32::try_from(len).unwrap_or(u32::MAX);
        self.buf[data - 8..data - 4].copy_from_slice(&n.to_le_bytes());
        data
    }

    fn put_u64(&mut self, at: usize, v: u64) {
        self.buf[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }

    fn put_u32(&mut self, at: usize, v: u32) {
        self.buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
}

/// A directory entry before it is placed.
struct Entry {
    kind: u32,
    value: u64,
    name: String,
}

/// The name an interface has in symlinks: `/` replaced by `_` (`format_vlib_stats_symlink`).
fn symlink_name(name: &str) -> String {
    name.replace('/', "_")
}

/// The whole segment image for `model`, with `epoch` in the header and `in_progress` 0.
pub fn build(era: Era, model: &Model, epoch: u64) -> Vec<u8> {
    let mut heap = Heap {
        buf: vec![0; HEADER_LEN.max(64)],
    };
    let n_if = model.interfaces.len();
    // The directory: scalars, names, counters, then one symlink per interface and counter.
    let mut entries = vec![
        Entry {
            kind: TYPE_SCALAR_INDEX,
            value: model.boottime,
            name: "/sys/boottime".to_owned(),
        },
        Entry {
            kind: TYPE_SCALAR_INDEX,
            value: model.heartbeat,
            name: "/sys/heartbeat".to_owned(),
        },
        Entry {
            kind: TYPE_SCALAR_INDEX,
            value: 0,
            name: "/sys/num_worker_threads".to_owned(),
        },
        Entry {
            kind: era.name_vector_type(),
            value: 0,
            name: "/if/names".to_owned(),
        },
    ];
    let first_counter = entries.len();
    for name in SIMPLE_COUNTERS {
        entries.push(Entry {
            kind: TYPE_COUNTER_VECTOR_SIMPLE,
            value: 0,
            name: format!("/if/{name}"),
        });
    }
    for name in COMBINED_COUNTERS {
        entries.push(Entry {
            kind: TYPE_COUNTER_VECTOR_COMBINED,
            value: 0,
            name: format!("/if/{name}"),
        });
    }
    if era == Era::Since2202 {
        for (idx, iface) in model.interfaces.iter().enumerate() {
            let Some(iface) = iface else { continue };
            let counters = SIMPLE_COUNTERS.iter().chain(COMBINED_COUNTERS.iter());
            for (i, counter) in counters.enumerate() {
                let index1 = (first_counter + i) as u64;
                entries.push(Entry {
                    kind: Era::SYMLINK_TYPE,
                    value: index1 | ((idx as u64) << 32),
                    name: format!("/interfaces/{}/{counter}", symlink_name(&iface.name)),
                });
            }
        }
    }
    let dir = heap.vec(ENTRY_LEN, entries.len(), 64);

    // /if/names: a vector of pointers to NUL-terminated u8 vectors; 0 for a free index.
    let names = heap.vec(8, n_if, 8);
    for (idx, iface) in model.interfaces.iter().enumerate() {
        let Some(iface) = iface else { continue };
        let bytes = iface.name.as_bytes();
        let s = heap.vec(1, bytes.len() + 1, 8);
        heap.buf[s..s + bytes.len()].copy_from_slice(bytes);
        heap.put_u64(names + idx * 8, Heap::ptr(s));
    }
    entries[3].value = Heap::ptr(names);

    // Counters: a vector of per-thread pointers (one thread, the main one), each to a
    // cache-line aligned vector indexed by sw_if_index.
    for (i, _) in SIMPLE_COUNTERS.iter().enumerate() {
        let threads = heap.vec(8, 1, 8);
        let v = heap.vec(8, n_if, 64);
        for (idx, iface) in model.interfaces.iter().enumerate() {
            if let Some(iface) = iface {
                heap.put_u64(v + idx * 8, iface.simple[i]);
            }
        }
        heap.put_u64(threads, Heap::ptr(v));
        entries[first_counter + i].value = Heap::ptr(threads);
    }
    for (i, _) in COMBINED_COUNTERS.iter().enumerate() {
        let threads = heap.vec(8, 1, 8);
        let v = heap.vec(16, n_if, 64);
        for (idx, iface) in model.interfaces.iter().enumerate() {
            if let Some(iface) = iface {
                let (packets, bytes) = iface.combined[i];
                heap.put_u64(v + idx * 16, packets);
                heap.put_u64(v + idx * 16 + 8, bytes);
            }
        }
        heap.put_u64(threads, Heap::ptr(v));
        entries[first_counter + SIMPLE_COUNTERS.len() + i].value = Heap::ptr(threads);
    }

    for (i, e) in entries.iter().enumerate() {
        let at = dir + i * ENTRY_LEN;
        heap.put_u32(at, e.kind);
        heap.put_u64(at + 8, e.value);
        let name = e.name.as_bytes();
        let n = name.len().min(NAME_LEN - 1);
        heap.buf[at + 16..at + 16 + n].copy_from_slice(&name[..n]);
    }

    // An empty error vector where the 21.01 header expects one.
    let errors = match era {
        Era::Before2202 => Heap::ptr(heap.vec(8, 0, 8)),
        Era::Since2202 => 0,
    };
    heap.put_u64(0, VERSION);
    heap.put_u64(8, BASE);
    heap.put_u64(OFF_EPOCH as usize, epoch);
    heap.put_u64(OFF_IN_PROGRESS as usize, 0);
    heap.put_u64(32, Heap::ptr(dir));
    heap.put_u64(40, errors);
    heap.buf
}

/// The offset of `/sys/heartbeat`'s value in any image (the directory is always first).
pub fn heartbeat_offset() -> u64 {
    // The directory's data follows the header, aligned to 64 after its 8-byte vector header.
    let data = (HEADER_LEN.max(64) + 8).div_ceil(64) * 64;
    (data + HEARTBEAT_ENTRY * ENTRY_LEN + 8) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u64_at(b: &[u8], at: usize) -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[at..at + 8]);
        u64::from_le_bytes(w)
    }

    fn model() -> Model {
        let mut lo = IfStats {
            name: "loop0".to_owned(),
            ..IfStats::default()
        };
        lo.combined[0] = (10, 1000);
        Model {
            interfaces: vec![
                Some(IfStats {
                    name: "local0".to_owned(),
                    ..IfStats::default()
                }),
                None,
                Some(lo),
            ],
            heartbeat: 7,
            boottime: 1,
        }
    }

    #[test]
    fn header_points_at_the_directory_and_names_resolve() {
        let img = build(Era::Since2202, &model(), 3);
        assert_eq!(u64_at(&img, 0), VERSION);
        assert_eq!(u64_at(&img, 8), BASE);
        assert_eq!(u64_at(&img, 16), 3);
        let dir = (u64_at(&img, 32) - BASE) as usize;
        let n = u32::from_le_bytes([img[dir - 8], img[dir - 7], img[dir - 6], img[dir - 5]]);
        // 4 scalars/names + 17 counters + 17 symlinks per live interface (2).
        assert_eq!(n as usize, 4 + 17 + 2 * 17);
        assert_eq!(
            u64_at(&img, heartbeat_offset() as usize),
            7,
            "heartbeat offset"
        );
        let names_entry = dir + 3 * ENTRY_LEN;
        assert_eq!(&img[names_entry + 16..names_entry + 25], b"/if/names");
        let names = (u64_at(&img, names_entry + 8) - BASE) as usize;
        assert_eq!(u64_at(&img, names + 8), 0, "free index has no name");
        let s = (u64_at(&img, names + 16) - BASE) as usize;
        assert_eq!(&img[s..s + 6], b"loop0\0");
        // /if/rx is the first combined counter.
        let rx_entry = dir + (4 + 9) * ENTRY_LEN;
        assert_eq!(&img[rx_entry + 16..rx_entry + 22], b"/if/rx");
        let threads = (u64_at(&img, rx_entry + 8) - BASE) as usize;
        let v = (u64_at(&img, threads) - BASE) as usize;
        assert_eq!(u64_at(&img, v + 2 * 16), 10);
        assert_eq!(u64_at(&img, v + 2 * 16 + 8), 1000);
    }

    #[test]
    fn same_names_keep_every_pointer() {
        let a = model();
        let mut b = model();
        if let Some(Some(lo)) = b.interfaces.get_mut(2) {
            lo.combined[4] = (5, 500);
        }
        assert!(a.same_layout(&b));
        let (ia, ib) = (build(Era::Since2202, &a, 1), build(Era::Since2202, &b, 1));
        assert_eq!(ia.len(), ib.len());
        let differing = ia.iter().zip(&ib).filter(|(x, y)| x != y).count();
        assert!(differing > 0 && differing <= 16, "{differing} bytes differ");
        b.interfaces[1] = Some(IfStats::default());
        assert!(!a.same_layout(&b));
    }

    #[test]
    fn release_21_01_uses_the_old_name_vector_type_and_no_symlinks() {
        assert_eq!(Era::of("21.01"), Era::Before2202);
        assert_eq!(Era::of("23.06"), Era::Since2202);
        let img = build(Era::Before2202, &model(), 1);
        let dir = (u64_at(&img, 32) - BASE) as usize;
        let n = u32::from_le_bytes([img[dir - 8], img[dir - 7], img[dir - 6], img[dir - 5]]);
        assert_eq!(n, 21);
        assert_eq!(img[dir + 3 * ENTRY_LEN], 5);
        assert_ne!(u64_at(&img, 40), 0, "error vector");
    }
}
