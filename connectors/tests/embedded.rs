//! Embedded-store cases: every acknowledged write survives a SIGKILL of the writing process
//! (the `embedded-crash-writer` child), a locked file is reported after `lock_timeout` with
//! its path, a new file gets `file_mode`, and revisions keep growing across a reopen.

use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use connectors::testkit::compliance::json;
use connectors::testkit::{DEADLINE, TestResult};
use connectors::{EmbeddedBackend, EmbeddedOptions, ErrorKind, KvBackend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("agent.db");
    let prefix = "/vnf-agent/crash/config/k";
    let mut child = Command::new(env!("CARGO_BIN_EXE_embedded-crash-writer"))
        .arg(&path)
        .arg(prefix)
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    // Read acknowledgements on a thread; kill the child once 300 are in, mid-stream.
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line
                .strip_prefix("acked ")
                .and_then(|n| n.parse::<usize>().ok())
                && tx.send(n).is_err()
            {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut acked = Vec::new();
    while acked.len() < 300 {
        let left = DEADLINE.saturating_sub(started.elapsed());
        match rx.recv_timeout(left) {
            Ok(n) => acked.push(n),
            Err(e) => {
                child.kill()?;
                return Err(format!("after {} acknowledgements: {e}", acked.len()).into());
            }
        }
    }
    child.kill()?; // SIGKILL, while the writers are busy
    let status = child.wait()?;
    assert!(
        !status.success(),
        "the child must have been killed, not exited"
    );
    reader.join().map_err(|_| "reader thread panicked")?;
    acked.extend(rx.try_iter());

    let b = EmbeddedBackend::open(EmbeddedOptions::new(&path)).await?;
    let snap = b.snapshot(prefix).await?;
    let mut missing = Vec::new();
    for n in &acked {
        if snap.entries.get(&format!("{prefix}{n}")) != Some(&json(*n)) {
            missing.push(*n);
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged writes lost: {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(10)]
    );
    assert!(snap.revision.get() >= acked.len() as u64);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_file_is_reported_after_the_lock_timeout() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("agent.db");
    let _first = EmbeddedBackend::open(EmbeddedOptions::new(&path)).await?;
    let mut o = EmbeddedOptions::new(&path);
    o.lock_timeout = Duration::from_millis(200);
    let err = EmbeddedBackend::open(o)
        .await
        .err()
        .ok_or("opened a locked file")?;
    assert_eq!(err.kind(), ErrorKind::Locked);
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_file_gets_the_file_mode() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("agent.db");
    let mut o = EmbeddedOptions::new(&path);
    o.file_mode = Some(0o600);
    let _b = EmbeddedBackend::open(o).await?;
    let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revisions_keep_growing_across_a_reopen() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("agent.db");
    let b = EmbeddedBackend::open(EmbeddedOptions::new(&path)).await?;
    b.put("/vnf-agent/r/a", json(1)).await?;
    b.put("/vnf-agent/r/a", json(2)).await?;
    let before = b.snapshot("/vnf-agent/r/").await?.revision;
    b.close().await?;
    let err = b
        .get("/vnf-agent/r/a")
        .await
        .err()
        .ok_or("a closed backend answered")?;
    assert_eq!(err.kind(), ErrorKind::Closed);
    let b = EmbeddedBackend::open(EmbeddedOptions::new(&path)).await?;
    assert_eq!(b.get("/vnf-agent/r/a").await?, Some(json(2)));
    b.put("/vnf-agent/r/b", json(1)).await?;
    let after = b.snapshot("/vnf-agent/r/").await?.revision;
    assert!(after > before, "{after} after reopening, {before} before");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_watch_resyncs_by_diff_without_losing_or_doubling() -> TestResult {
    use connectors::testkit::compliance::follow;

    let dir = tempfile::tempdir()?;
    let mut o = EmbeddedOptions::new(dir.path().join("agent.db"));
    o.notify_capacity = 2;
    let b = EmbeddedBackend::open(o).await?;
    let p = "/vnf-agent/lag/";
    let mut f = follow(&b, p).await?;
    // The consumer reads nothing while 400 writes land: the watch's buffer (256 events)
    // fills and the store's notifications overrun the 2-batch capacity.
    for i in 0..400 {
        b.put(&format!("{p}k{i}"), json(i)).await?;
    }
    b.delete(&format!("{p}k0")).await?;
    f.until("all writes", DEADLINE, |v| {
        v.entries().len() == 399 && v.get(&format!("{p}k399")).is_some()
    })
    .await?;
    assert!(
        f.resyncs >= 1,
        "the lag must have been recovered by a Resynced diff"
    );
    assert_eq!(f.view.entries(), &b.snapshot(p).await?.entries);
    Ok(())
}
