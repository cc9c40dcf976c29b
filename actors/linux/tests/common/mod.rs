//! Test support for the Linux plugin's root tests: network namespaces and links that delete
//! themselves on drop (also when a test fails), unique names so tests can run in parallel,
//! `ip` for checking what the kernel has, and polling with a deadline.
//!
//! Tests may shell out to `ip` and `ping` to create fixtures and to check; the crate itself
//! never does.

#![allow(dead_code)]

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A short name unique to this test process: `<prefix><pid mod 1000><n>` (fits the kernel's
/// 15 characters when `prefix` has at most 6).
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{prefix}{}{n}", std::process::id() % 1000)
}

/// Runs `ip` with `args`; returns stdout, or stderr as the error.
pub fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A named network namespace, deleted on drop.
#[derive(Debug)]
pub struct TestNs {
    pub name: String,
}

impl TestNs {
    /// Creates a fresh namespace.
    pub fn new(tag: &str) -> TestNs {
        let ns = TestNs::reserve(tag);
        ns.create();
        ns
    }

    /// A unique namespace name, not created yet (it is still deleted on drop).
    pub fn reserve(tag: &str) -> TestNs {
        TestNs {
            name: format!("vpa-{}", unique(tag)),
        }
    }

    pub fn create(&self) {
        ip(&["netns", "add", &self.name]).expect("create namespace");
    }

    /// Runs `ip -n <ns> <args>`.
    pub fn ip(&self, args: &[&str]) -> Result<String, String> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        ip(&all)
    }

    /// Names of the links in the namespace.
    pub fn links(&self) -> Vec<String> {
        self.ip(&["-o", "link", "show"])
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|n| n.split('@').next().unwrap_or(n).to_owned())
            .collect()
    }

    /// Pings `addr` once from inside the namespace.
    pub fn ping(&self, addr: &str) -> bool {
        Command::new("ip")
            .args([
                "netns", "exec", &self.name, "ping", "-c", "1", "-W", "1", addr,
            ])
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

impl Drop for TestNs {
    fn drop(&mut self) {
        if std::path::Path::new("/var/run/netns")
            .join(&self.name)
            .exists()
        {
            let _ = ip(&["netns", "del", &self.name]);
        }
    }
}

/// A link in the default namespace, deleted on drop if it still exists.
#[derive(Debug)]
pub struct LinkGuard(pub String);

impl Drop for LinkGuard {
    fn drop(&mut self) {
        if ip(&["link", "show", "dev", &self.0]).is_ok() {
            let _ = ip(&["link", "del", "dev", &self.0]);
        }
    }
}

/// Does the default namespace have link `name`?
pub fn default_has_link(name: &str) -> bool {
    ip(&["link", "show", "dev", name]).is_ok()
}

/// Polls `cond` until it holds or `timeout` passes; returns whether it held.
pub fn eventually(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
