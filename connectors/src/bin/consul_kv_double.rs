//! `consul-kv-double`: runs the **test double** of Consul's KV HTTP API
//! (`connectors::testkit::consul_double`) as a process, so an independent client (py-consul,
//! in `connectors/tests/consul_double_check.py`) can cross-check it. It is not Consul.
//!
//! Usage: `consul-kv-double [ADDR]` (default `127.0.0.1:0`). Prints `listening on <addr>` on
//! the first line of stdout and serves until its stdin closes or it is killed.
//!
//! Deliberately not here: any configuration beyond the address and an optional ACL token
//! (`CONSUL_DOUBLE_TOKEN`).

use connectors::testkit::TestResult;
use connectors::testkit::consul_double::ConsulDouble;
use std::io::Read as _;
use std::io::Write as _;

#[tokio::main(flavor = "current_thread")]
async fn main() -> TestResult {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let token = std::env::var("CONSUL_DOUBLE_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    let double = ConsulDouble::start_on(addr.parse()?, token).await?;
    let mut out = std::io::stdout();
    writeln!(out, "listening on {}", double.addr())?;
    out.flush()?;
    // Serve until stdin reaches end of file (the parent closed it or exited).
    let _ = tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        std::io::stdin().read_to_end(&mut sink)
    })
    .await;
    Ok(())
}
