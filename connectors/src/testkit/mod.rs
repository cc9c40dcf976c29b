//! Test support, behind the `testkit` feature so the whole-agent tests in `tests/` can reuse
//! it: real etcd and redis servers ([`servers`]), a TCP proxy that can cut connections
//! ([`proxy`]), an HTTP double of Consul's KV API ([`consul_double`]), per-backend harnesses
//! ([`harness`]) and the compliance suite every backend passes ([`compliance`]).
//!
//! TLS tests generate a throwaway CA and certificates with [`pki::TestPki`] and start
//! servers with `EtcdServer::start_tls` / `RedisServer::start_tls`.
//!
//! Use from another crate (e.g. `tests/`): add
//! `connectors = { workspace = true, features = ["testkit"] }` to its dev-dependencies, then
//!
//! ```text
//! let etcd = EtcdServer::start().await?;     // VPP_AGENT_TEST_ETCD or a private etcd
//! let redis = RedisServer::start().await?;   // VPP_AGENT_TEST_REDIS or a private redis (KA)
//! let consul = ConsulDouble::start().await?; // the Consul KV double on 127.0.0.1:<free>
//! // etcd.endpoint(), redis.endpoint(), consul.addr(): what the agent's config points at;
//! // etcd.prefix(), redis.prefix(): `/vnf-agent/t<pid>x<n>/`, unique to this test.
//! ```
//!
//! Deliberately not here: anything the agent needs at run time. Nothing here skips silently:
//! a missing server binary is an error that names the Debian package to install.

pub mod compliance;
pub mod consul_double;
pub mod harness;
pub mod pki;
pub mod proxy;
pub mod servers;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Errors of test support code and tests.
pub type TestError = Box<dyn std::error::Error + Send + Sync + 'static>;
/// Result of test support code and tests.
pub type TestResult<T = ()> = std::result::Result<T, TestError>;

/// How long [`eventually`] waits by default.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A key prefix no other test in this process or any other uses:
/// `/vnf-agent/t<pid>x<n>/`, shaped like an agent's prefix.
pub fn unique_prefix() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "/vnf-agent/t{}x{}/",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// Polls `check` every 10 ms until it returns `Some`, failing with `what` after `deadline`.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> TestResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return Ok(v);
        }
        if start.elapsed() > deadline {
            return Err(format!("timed out after {deadline:?} waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
