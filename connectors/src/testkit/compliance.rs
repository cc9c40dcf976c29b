//! The compliance suite every backend passes, written once and generic over [`Harness`]:
//! put/get/list/delete, watch from a revision, previous values, batch writes, resync after a
//! reconnect with no change lost or doubled, bad keys and values, a 1 MiB value, 10,000 keys,
//! and close.
//!
//! Every watched change goes through [`LastSeen::apply_checked`], so a lost, replayed or
//! doubled change fails the case where it happens. Each case works under its own sub-prefix.
//!
//! Deliberately not here: store-specific cases (Redis notifications off, etcd compaction,
//! fileDB broken files, embedded crash durability) — they live in each backend's test file.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::harness::Harness;
use super::{DEADLINE, TestResult, eventually};
use crate::{ErrorKind, KvBackend, LastSeen, Snapshot, Watch, WatchEvent};

/// A JSON value all stores (fileDB included) return byte for byte.
pub fn json(n: usize) -> Bytes {
    Bytes::from(format!(r#"{{"n":{n}}}"#))
}

/// Follows a watch, checking every change against the view it builds.
#[derive(Debug)]
pub struct Follower {
    pub watch: Watch,
    pub view: LastSeen,
    /// Changes applied so far.
    pub changes: usize,
    /// Changes applied per key.
    pub per_key: HashMap<String, usize>,
    /// The last change per key: (value, prev).
    pub last: HashMap<String, (Option<Bytes>, Option<Bytes>)>,
    /// Problems reported by the watch, as text.
    pub problems: Vec<String>,
    /// How many `Resynced` and `Resumed` events arrived.
    pub resyncs: usize,
    pub resumes: usize,
}

impl Follower {
    /// Starts following `watch` from `from`.
    pub fn new(watch: Watch, from: Snapshot) -> Self {
        Follower {
            watch,
            view: LastSeen::from_snapshot(from),
            changes: 0,
            per_key: HashMap::new(),
            last: HashMap::new(),
            problems: Vec::new(),
            resyncs: 0,
            resumes: 0,
        }
    }

    /// Applies events until `done(view)` holds, or fails after `deadline`.
    pub async fn until(
        &mut self,
        what: &str,
        deadline: Duration,
        done: impl Fn(&LastSeen) -> bool,
    ) -> TestResult {
        let start = Instant::now();
        while !done(&self.view) {
            let left = deadline.saturating_sub(start.elapsed());
            let event = match tokio::time::timeout(left, self.watch.next()).await {
                Ok(Some(e)) => e,
                Ok(None) => return Err(format!("watch ended while waiting for {what}").into()),
                Err(_) => {
                    return Err(format!(
                        "timed out after {deadline:?} waiting for {what}; view has {} keys, problems: {:?}",
                        self.view.entries().len(),
                        self.problems
                    )
                    .into());
                }
            };
            if matches!(event, WatchEvent::Resynced(_)) {
                self.resyncs += 1;
            }
            match event {
                WatchEvent::Changes(batch) | WatchEvent::Resynced(batch) => {
                    self.view.apply_checked(&batch)?;
                    for c in &batch.changes {
                        self.changes += 1;
                        *self.per_key.entry(c.key.clone()).or_default() += 1;
                        self.last
                            .insert(c.key.clone(), (c.value.clone(), c.prev.clone()));
                    }
                }
                WatchEvent::Resumed { .. } => self.resumes += 1,
                WatchEvent::Problem(err) => {
                    if !err.is_retriable() && err.kind() != ErrorKind::BadFile {
                        return Err(format!("watch failed: {err}").into());
                    }
                    self.problems.push(err.to_string());
                }
            }
        }
        Ok(())
    }
}

fn sub<H: Harness>(h: &H, case: &str) -> String {
    format!("{}{case}/", h.prefix())
}

fn expect(pairs: &[(&str, Bytes)]) -> BTreeMap<String, Bytes> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

async fn put<H: Harness>(h: &H, key: &str, value: Bytes) -> TestResult {
    h.write_all(vec![(key.to_owned(), Some(value))]).await
}

async fn del<H: Harness>(h: &H, key: &str) -> TestResult {
    h.write_all(vec![(key.to_owned(), None)]).await
}

async fn start_follower<H: Harness>(h: &H, p: &str) -> TestResult<Follower> {
    follow(h.backend(), p).await
}

/// Snapshots `prefix` and follows a watch from that snapshot.
pub async fn follow<B: KvBackend>(backend: &B, prefix: &str) -> TestResult<Follower> {
    let snap = backend.snapshot(prefix).await?;
    let watch = backend.watch(prefix, snap.clone()).await?;
    Ok(Follower::new(watch, snap))
}

/// put, get, list (sorted, prefix only), delete.
pub async fn put_get_list_delete<H: Harness>(h: &mut H) -> TestResult {
    let p = sub(h, "crud");
    let (a, b, c) = (format!("{p}a"), format!("{p}b"), format!("{p}c"));
    let outside = format!("{}other", &p[..p.len() - 1]);
    h.write_all(vec![
        (c.clone(), Some(json(3))),
        (a.clone(), Some(json(1))),
        (b.clone(), Some(json(2))),
        (outside.clone(), Some(json(9))),
    ])
    .await?;
    let be = h.backend();
    eventually("three keys listed", DEADLINE, || async {
        let l = be.list(&p).await.ok()?;
        (l.len() == 3).then_some(())
    })
    .await?;
    let listed: Vec<_> = be
        .list(&p)
        .await?
        .into_iter()
        .map(|kv| (kv.key, kv.value))
        .collect();
    let want = vec![
        (a.clone(), json(1)),
        (b.clone(), json(2)),
        (c.clone(), json(3)),
    ];
    if listed != want {
        return Err(format!("list gave {listed:?}, want {want:?}").into());
    }
    if be.get(&b).await? != Some(json(2)) {
        return Err(format!("get {b} is wrong").into());
    }
    if be.get(&format!("{p}missing")).await?.is_some() {
        return Err("get of a missing key gave a value".into());
    }
    del(h, &b).await?;
    let be = h.backend();
    eventually("b deleted", DEADLINE, || async {
        be.get(&b).await.ok()?.is_none().then_some(())
    })
    .await?;
    let keys: Vec<_> = be.list(&p).await?.into_iter().map(|kv| kv.key).collect();
    if keys != vec![a, c] {
        return Err(format!("after delete, list gave {keys:?}").into());
    }
    Ok(())
}

/// A watch from a snapshot delivers exactly the changes after it.
pub async fn watch_from_revision<H: Harness>(h: &mut H) -> TestResult {
    let p = sub(h, "rev");
    let (a, b, c, z) = (
        format!("{p}a"),
        format!("{p}b"),
        format!("{p}c"),
        format!("{p}z"),
    );
    put(h, &a, json(1)).await?;
    let be = h.backend();
    let snap = eventually("a visible", DEADLINE, || async {
        let s = be.snapshot(&p).await.ok()?;
        s.entries.contains_key(&a).then_some(s)
    })
    .await?;
    put(h, &b, json(1)).await?;
    put(h, &a, json(2)).await?;
    put(h, &c, json(1)).await?;
    del(h, &c).await?;
    put(h, &z, json(0)).await?;
    let watch = h.backend().watch(&p, snap.clone()).await?;
    let mut f = Follower::new(watch, snap);
    let want = expect(&[(&a, json(2)), (&b, json(1)), (&z, json(0))]);
    f.until("the changes after the snapshot", DEADLINE, |v| {
        v.entries() == &want
    })
    .await?;
    Ok(())
}

/// Every change carries the value the consumer held before it.
pub async fn previous_values<H: Harness>(h: &mut H) -> TestResult {
    let p = sub(h, "prev");
    let k = format!("{p}k");
    let mut f = start_follower(h, &p).await?;
    put(h, &k, json(1)).await?;
    f.until("k = 1", DEADLINE, |v| v.get(&k) == Some(&json(1)))
        .await?;
    put(h, &k, json(2)).await?;
    f.until("k = 2", DEADLINE, |v| v.get(&k) == Some(&json(2)))
        .await?;
    if f.last.get(&k) != Some(&(Some(json(2)), Some(json(1)))) {
        return Err(format!("put of k: last change {:?}, want prev 1", f.last.get(&k)).into());
    }
    del(h, &k).await?;
    f.until("k deleted", DEADLINE, |v| v.get(&k).is_none())
        .await?;
    if f.last.get(&k) != Some(&(None, Some(json(2)))) {
        return Err(format!("delete of k: last change {:?}, want prev 2", f.last.get(&k)).into());
    }
    Ok(())
}

/// [`KvBackend::write_batch`]: puts and a delete arrive as written; atomic and with a revision
/// where the store has them. fileDB is skipped: its writes go to its status file, which it does
/// not watch.
pub async fn write_batch<H: Harness>(h: &mut H) -> TestResult {
    use crate::{BatchOp, Store};
    let store = h.backend().store();
    if store == Store::FileDb {
        return Ok(());
    }
    let p = sub(h, "batch");
    let (a, b, c) = (format!("{p}a"), format!("{p}b"), format!("{p}c"));
    put(h, &c, json(3)).await?;
    let mut f = start_follower(h, &p).await?;
    f.until("c", DEADLINE, |v| v.get(&c).is_some()).await?;
    let written = h
        .backend()
        .write_batch(vec![
            BatchOp::Put {
                key: a.clone(),
                value: json(1),
            },
            BatchOp::Put {
                key: b.clone(),
                value: json(2),
            },
            BatchOp::Delete { key: c.clone() },
        ])
        .await?;
    let atomic = matches!(store, Store::Etcd | Store::Redis | Store::Embedded);
    if written.atomic != atomic {
        return Err(format!("{store:?}: atomic {}, want {atomic}", written.atomic).into());
    }
    let with_revision = matches!(store, Store::Etcd | Store::Embedded);
    if written.revision.is_some() != with_revision {
        return Err(format!("{store:?}: revision {:?}", written.revision).into());
    }
    f.until("a, b put and c deleted", DEADLINE, |v| {
        v.get(&a) == Some(&json(1)) && v.get(&b) == Some(&json(2)) && v.get(&c).is_none()
    })
    .await?;
    if f.per_key.get(&a) != Some(&1) || f.per_key.get(&b) != Some(&1) {
        return Err(format!("changes per key: {:?}", f.per_key).into());
    }
    Ok(())
}

/// Changes made while the backend is cut off arrive once each after it reconnects.
pub async fn resync_after_reconnect<H: Harness>(h: &mut H) -> TestResult {
    let p = sub(h, "reconnect");
    let (a, b, c, d, e) = (
        format!("{p}a"),
        format!("{p}b"),
        format!("{p}c"),
        format!("{p}d"),
        format!("{p}e"),
    );
    h.write_all(vec![
        (a.clone(), Some(json(1))),
        (b.clone(), Some(json(1))),
        (c.clone(), Some(json(1))),
    ])
    .await?;
    let mut f = start_follower(h, &p).await?;
    f.until("a, b, c", DEADLINE, |v| v.entries().len() == 3)
        .await?;
    // The watch is live (subscribed, not just started) once it has delivered a change.
    let ready = format!("{p}ready");
    put(h, &ready, json(0)).await?;
    f.until("the watch to be live", DEADLINE, |v| {
        v.get(&ready).is_some()
    })
    .await?;
    f.per_key.clear();
    h.cut().await?;
    put(h, &a, json(2)).await?;
    del(h, &b).await?;
    put(h, &d, json(1)).await?;
    h.restore().await?;
    if !h.watch_survives_cut() {
        let from = f.view.to_snapshot();
        f.watch = h.backend().watch(&p, from).await?;
    }
    let before = f.changes;
    let want = expect(&[
        (&a, json(2)),
        (&c, json(1)),
        (&d, json(1)),
        (&ready, json(0)),
    ]);
    f.until("the changes made while cut off", DEADLINE, |v| {
        v.entries() == &want
    })
    .await?;
    if h.watch_survives_cut() && f.problems.is_empty() {
        return Err(
            "the watch never reported the cut, so the reconnect path was not tested".into(),
        );
    }
    let after = f.changes - before;
    if after != 3 {
        return Err(
            format!("{after} changes after the reconnect, want exactly 3 (a, b, d)").into(),
        );
    }
    put(h, &e, json(1)).await?;
    f.until("a live change after the reconnect", DEADLINE, |v| {
        v.get(&e).is_some()
    })
    .await?;
    for key in [&a, &b, &d, &e] {
        let n = f.per_key.get(key.as_str()).copied().unwrap_or(0);
        if n != 1 {
            return Err(format!("{key} changed {n} times after the cut, want once").into());
        }
    }
    Ok(())
}

/// Bad keys are refused; values are opaque bytes (or refused with the key named, for stores
/// that hold JSON only).
pub async fn bad_value<H: Harness>(h: &mut H) -> TestResult {
    let p = sub(h, "bad");
    match h.backend().put("", json(1)).await {
        Err(e) if e.kind() == ErrorKind::BadKey => {}
        other => return Err(format!("put of an empty key gave {other:?}").into()),
    }
    let k = format!("{p}raw");
    let raw = Bytes::from_static(b"\xff\x00not json {");
    if h.opaque_values() {
        let mut f = start_follower(h, &p).await?;
        put(h, &k, raw.clone()).await?;
        f.until("the raw value", DEADLINE, |v| v.get(&k) == Some(&raw))
            .await?;
        if h.backend().get(&k).await? != Some(raw) {
            return Err("get changed the raw bytes".into());
        }
    } else {
        match h.backend().put(&k, raw).await {
            Err(e) if e.kind() == ErrorKind::BadValue && e.to_string().contains(&k) => {}
            other => return Err(format!("put of a non-JSON value gave {other:?}").into()),
        }
    }
    Ok(())
}

/// A 1 MiB value round-trips, or is refused with the store's limit and the key named.
pub async fn large_value<H: Harness>(h: &mut H) -> TestResult {
    let p = sub(h, "large");
    let k = format!("{p}big");
    let size = 1 << 20;
    let filler = "x".repeat(size - r#"{"blob":""}"#.len());
    let big = Bytes::from(format!(r#"{{"blob":"{filler}"}}"#));
    match h.max_value() {
        Some(limit) if limit < size => {
            match h.backend().put(&k, big).await {
                Err(e) if e.kind() == ErrorKind::ValueTooLarge && e.to_string().contains(&k) => {}
                other => return Err(format!("put over the store's limit gave {other:?}").into()),
            }
            if h.backend().get(&k).await?.is_some() {
                return Err("a refused value was stored".into());
            }
        }
        _ => {
            let mut f = start_follower(h, &p).await?;
            put(h, &k, big.clone()).await?;
            f.until("the 1 MiB value", DEADLINE, |v| v.get(&k) == Some(&big))
                .await?;
            if h.backend().get(&k).await? != Some(big) {
                return Err("get of the 1 MiB value differs".into());
            }
        }
    }
    Ok(())
}

/// 10,000 keys: all watched, all in the snapshot and the listing.
pub async fn ten_thousand_keys<H: Harness>(h: &mut H) -> TestResult {
    const N: usize = 10_000;
    let p = sub(h, "many");
    let mut f = start_follower(h, &p).await?;
    let items: Vec<_> = (0..N)
        .map(|i| (format!("{p}k{i:05}"), Some(json(i))))
        .collect();
    h.write_all(items).await?;
    f.until("10,000 keys watched", Duration::from_secs(120), |v| {
        v.entries().len() == N
    })
    .await?;
    let snap = h.backend().snapshot(&p).await?;
    if &snap.entries != f.view.entries() {
        return Err(format!(
            "snapshot has {} keys and differs from the watched view",
            snap.entries.len()
        )
        .into());
    }
    let listed = h.backend().list(&p).await?;
    if listed.len() != N {
        return Err(format!("list gave {} keys", listed.len()).into());
    }
    Ok(())
}

/// `close` ends running watches and later calls fail with `Closed`. Runs last: the harness's
/// backend stays closed.
pub async fn close_ends_watches_and_refuses_calls<H: Harness>(h: &mut H) -> TestResult {
    let p = sub(h, "close");
    let mut f = start_follower(h, &p).await?;
    h.backend().close().await?;
    loop {
        match tokio::time::timeout(DEADLINE, f.watch.next()).await {
            Ok(None) => break,
            Ok(Some(WatchEvent::Problem(_))) => {}
            Ok(Some(other)) => return Err(format!("event after close: {other:?}").into()),
            Err(_) => return Err("the watch did not end after close".into()),
        }
    }
    match h.backend().get(&format!("{p}k")).await {
        Err(e) if e.kind() == ErrorKind::Closed => {}
        other => return Err(format!("get after close gave {other:?}").into()),
    }
    match h.backend().put(&format!("{p}k"), json(1)).await {
        Err(e) if e.kind() == ErrorKind::Closed => {}
        other => return Err(format!("put after close gave {other:?}").into()),
    }
    Ok(())
}

/// Runs every case and reports all failures together.
pub async fn run_all<H: Harness>(h: &mut H) -> TestResult {
    let mut failures = Vec::new();
    macro_rules! case {
        ($name:ident) => {
            if let Err(e) = $name(h).await {
                failures.push(format!("{}: {e}", stringify!($name)));
            }
        };
    }
    case!(put_get_list_delete);
    case!(watch_from_revision);
    case!(previous_values);
    case!(write_batch);
    case!(resync_after_reconnect);
    case!(bad_value);
    case!(large_value);
    case!(ten_thousand_keys);
    case!(close_ends_watches_and_refuses_calls);
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n").into())
    }
}
