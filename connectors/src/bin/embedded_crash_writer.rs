//! `embedded-crash-writer DB_PATH PREFIX`: a child process for the embedded store's crash
//! test. It opens the database, writes `PREFIX<n>` = `{"n":<n>}` from 8 concurrent writers
//! forever, and prints `acked <n>` after each put is acknowledged, so the parent can kill it
//! with SIGKILL at any moment and check that every acknowledged key survived.
//!
//! Deliberately not here: any checking (the test does that after reopening the file).

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use connectors::testkit::TestResult;
use connectors::{EmbeddedBackend, EmbeddedOptions, KvBackend};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> TestResult {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(prefix)) = (args.next(), args.next()) else {
        return Err("usage: embedded-crash-writer DB_PATH PREFIX".into());
    };
    let backend = Arc::new(EmbeddedBackend::open(EmbeddedOptions::new(path)).await?);
    let next = Arc::new(AtomicUsize::new(0));
    let stdout = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (backend, next, stdout, prefix) = (
            backend.clone(),
            next.clone(),
            stdout.clone(),
            prefix.clone(),
        );
        writers.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                let value = Bytes::from(format!(r#"{{"n":{n}}}"#));
                backend.put(&format!("{prefix}{n}"), value).await?;
                let mut out = stdout.lock().map_err(|_| "stdout lock poisoned")?;
                writeln!(out, "acked {n}")?;
                out.flush()?;
            }
            #[allow(unreachable_code)]
            TestResult::Ok(())
        });
    }
    while let Some(done) = writers.join_next().await {
        done??;
    }
    Ok(())
}
