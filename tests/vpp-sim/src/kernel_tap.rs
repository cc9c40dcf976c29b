//! Real kernel TAP (or TUN) devices behind the simulated VPP's taps, as VPP's tap v2 makes
//! them: opt-in (`--kernel-taps`, [`crate::Options::kernel_taps`]; it needs root), so that
//! the agent's Linux plugin has a real host side to move, rename and configure
//! (TAP_TO_VPP).
//!
//! `tap_create_v2/v3` opens `/dev/net/tun` and asks for the device with `TUNSETIFF`, under
//! `host_if_name` (VPP's default `tap<N>` when unset), inside `host_namespace` when given
//! (entered on a short-lived thread, since a namespace is a per-thread attribute), with
//! `host_mac_addr` set through the same file (`SIOCSIFHWADDR`). The simulator keeps the file
//! open, as VPP keeps its tap's: the device exists exactly as long as the simulated tap.
//! `tap_delete_v2`, a restart and the simulator's exit (even a SIGKILL) close the file and
//! the kernel deletes the device, so nothing is left behind. No packets are read or written.
//!
//! This is the one module of the workspace that allows `unsafe`: the two ioctls have no
//! maintained safe wrapper that fits (the TUN crates bring runtimes, bindgen or a C build
//! for what is two calls here). Each `unsafe` block says why it is sound.

#![allow(unsafe_code)]

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// `_IOW('T', 202, int)`
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const IFF_TUN: u16 = 0x0001;
const IFF_TAP: u16 = 0x0002;
const IFF_NO_PI: u16 = 0x1000;
/// Refuse to attach to a device that already exists under the name.
const IFF_TUN_EXCL: u16 = 0x8000;
const ARPHRD_ETHER: u16 = 1;
/// Longest interface name (IFNAMSIZ - 1).
pub const MAX_NAME: usize = 15;

/// `struct ifreq`: the name, then a 24-byte union (flags, or a `struct sockaddr`).
#[repr(C)]
struct IfReq {
    name: [u8; 16],
    data: [u8; 24],
}

impl IfReq {
    fn new(name: &str) -> io::Result<IfReq> {
        if name.is_empty() || name.len() > MAX_NAME || name.contains(['/', '\0', ' ']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid interface name {name:?}"),
            ));
        }
        let mut req = IfReq {
            name: [0; 16],
            data: [0; 24],
        };
        req.name[..name.len()].copy_from_slice(name.as_bytes());
        Ok(req)
    }
}

/// One ioctl on `file` with `req`.
fn ioctl(file: &File, request: libc::c_ulong, req: &mut IfReq) -> io::Result<()> {
    // SAFETY: `file` is an open descriptor for the duration of the call, and `req` points
    // to a live, writable 40-byte `struct ifreq` (the size both requests used here read and
    // write); the kernel does not keep the pointer.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), request as _, req as *mut IfReq) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// What a tap create asks of the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapSpec {
    pub name: String,
    /// A name under `/var/run/netns`, or a path; `None` for the simulator's own namespace.
    pub namespace: Option<String>,
    pub mac: Option<[u8; 6]>,
    pub tun: bool,
}

/// Where a namespace reference points (VPP takes a name under /var/run/netns or a path).
fn namespace_path(ns: &str) -> PathBuf {
    if ns.starts_with('/') {
        PathBuf::from(ns)
    } else {
        PathBuf::from("/var/run/netns").join(ns)
    }
}

/// Why a kernel tap could not be made; the step maps to the retval VPP answers.
#[derive(Debug, thiserror::Error)]
pub enum KernelTapError {
    #[error("tap {name}: namespace {ns}: {source}")]
    Namespace {
        name: String,
        ns: String,
        source: io::Error,
    },
    #[error("tap {name}: TUNSETIFF: {source}")]
    Create { name: String, source: io::Error },
    #[error("tap {name}: SIOCSIFHWADDR: {source}")]
    Mac { name: String, source: io::Error },
}

impl KernelTapError {
    /// VPP's retval for the failed step (`SYSCALL_ERROR_1..3`).
    pub fn retval(&self) -> i32 {
        match self {
            KernelTapError::Create { .. } => -11,
            KernelTapError::Namespace { .. } => -12,
            KernelTapError::Mac { .. } => -13,
        }
    }
}

/// Creates the device described by `spec` and returns the file that keeps it alive.
pub fn create(spec: &TapSpec) -> Result<File, KernelTapError> {
    let name = spec.name.clone();
    let ns_file =
        match &spec.namespace {
            Some(ns) => Some(File::open(namespace_path(ns)).map_err(|source| {
                KernelTapError::Namespace {
                    name: name.clone(),
                    ns: ns.clone(),
                    source,
                }
            })?),
            None => None,
        };
    let spec = spec.clone();
    // A thread of its own, so that entering the namespace changes no other thread.
    std::thread::scope(|s| {
        s.spawn(move || {
            if let (Some(f), Some(ns)) = (&ns_file, &spec.namespace) {
                nix::sched::setns(f, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| {
                    KernelTapError::Namespace {
                        name: spec.name.clone(),
                        ns: ns.clone(),
                        source: io::Error::from(e),
                    }
                })?;
            }
            open_in_current_namespace(&spec)
        })
        .join()
        .unwrap_or_else(|_| {
            Err(KernelTapError::Create {
                name,
                source: io::Error::other("the tap thread panicked"),
            })
        })
    })
}

fn open_in_current_namespace(spec: &TapSpec) -> Result<File, KernelTapError> {
    let create = |source| KernelTapError::Create {
        name: spec.name.clone(),
        source,
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
        .map_err(create)?;
    let mut req = IfReq::new(&spec.name).map_err(create)?;
    let mode = if spec.tun { IFF_TUN } else { IFF_TAP };
    req.data[..2].copy_from_slice(&(mode | IFF_NO_PI | IFF_TUN_EXCL).to_ne_bytes());
    ioctl(&file, TUNSETIFF, &mut req).map_err(create)?;
    if let (Some(mac), false) = (spec.mac, spec.tun) {
        let mut req = IfReq::new(&spec.name).map_err(create)?;
        req.data[..2].copy_from_slice(&ARPHRD_ETHER.to_ne_bytes());
        req.data[2..8].copy_from_slice(&mac);
        ioctl(&file, libc::SIOCSIFHWADDR, &mut req).map_err(|source| KernelTapError::Mac {
            name: spec.name.clone(),
            source,
        })?;
    }
    Ok(file)
}

/// The kernel devices of the simulated taps, by `sw_if_index`.
#[derive(Debug, Default)]
pub struct KernelTaps {
    devices: HashMap<u32, (TapSpec, File)>,
}

impl KernelTaps {
    /// Creates the device of tap `sw_if_index`.
    pub fn create(&mut self, sw_if_index: u32, spec: TapSpec) -> Result<(), KernelTapError> {
        let file = create(&spec)?;
        tracing::debug!(name = %spec.name, namespace = ?spec.namespace, "kernel tap created");
        self.devices.insert(sw_if_index, (spec, file));
        Ok(())
    }

    /// Deletes the device of tap `sw_if_index` (closing its file), if it has one.
    pub fn remove(&mut self, sw_if_index: u32) {
        if let Some((spec, _file)) = self.devices.remove(&sw_if_index) {
            tracing::debug!(name = %spec.name, "kernel tap deleted");
        }
    }

    /// Deletes every device (a restart).
    pub fn clear(&mut self) {
        self.devices.clear();
    }

    /// The devices, by `sw_if_index`.
    pub fn specs(&self) -> impl Iterator<Item = (u32, &TapSpec)> {
        self.devices.iter().map(|(i, (s, _))| (*i, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_cannot_be_interface_names_are_refused() {
        assert!(IfReq::new("tap0").is_ok());
        assert!(IfReq::new("").is_err());
        assert!(IfReq::new("a-very-long-interface").is_err());
        assert!(IfReq::new("a/b").is_err());
        assert_eq!(std::mem::size_of::<IfReq>(), 40);
        assert_eq!(namespace_path("blue"), PathBuf::from("/var/run/netns/blue"));
        assert_eq!(
            namespace_path("/proc/1/ns/net"),
            PathBuf::from("/proc/1/ns/net")
        );
    }

    #[test]
    fn a_missing_namespace_fails_before_any_device_is_made() {
        let e = create(&TapSpec {
            name: "vsimtapx0".into(),
            namespace: Some("vpp-sim-no-such-namespace".into()),
            mac: None,
            tun: false,
        })
        .expect_err("no namespace");
        assert_eq!(e.retval(), -12);
        assert!(e.to_string().contains("vpp-sim-no-such-namespace"), "{e}");
    }
}
