//! fileDB cases: a broken file is reported with its path and line while its last good
//! content stays; JSON and YAML files in nested directories; removing a file deletes its
//! keys; agent puts and deletes go to the status file only; a file broken at start-up is
//! reported to every new watch.

use std::path::Path;

use bytes::Bytes;
use connectors::testkit::compliance::follow;
use connectors::testkit::{DEADLINE, TestResult, eventually};
use connectors::{ErrorKind, FileDbBackend, FileDbOptions, KvBackend};

/// Writes a file the way editors do: a temp file renamed over the target.
fn editor_write(path: &Path, text: &str) -> TestResult {
    let tmp = path.with_extension("swp~");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

const P: &str = "/vnf-agent/vpp1/config/";

fn v(name: &str) -> Bytes {
    Bytes::from(format!(r#"{{"name":"{name}"}}"#))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_file_is_reported_and_its_last_good_content_stays() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("a.json");
    editor_write(
        &file,
        &format!(r#"{{"data":[{{"key":"{P}k1","value":{{"name":"one"}}}}]}}"#),
    )?;
    let b = FileDbBackend::open(FileDbOptions::new([dir.path()])).await?;
    let mut f = follow(&b, P).await?;
    assert_eq!(f.view.get(&format!("{P}k1")), Some(&v("one")));

    editor_write(
        &file,
        "{\"data\": [\n  {\"key\": \"x\",\n   \"value\": {,}}\n]}\n",
    )?;
    let problem = tokio::time::timeout(DEADLINE, f.watch.next()).await?;
    let Some(connectors::WatchEvent::Problem(err)) = problem else {
        return Err(format!("want a Problem for the broken file, got {problem:?}").into());
    };
    assert_eq!(err.kind(), ErrorKind::BadFile);
    let text = err.to_string();
    assert!(text.contains(&file.display().to_string()), "{text}");
    assert!(text.contains("line 3"), "{text}");
    assert_eq!(
        b.get(&format!("{P}k1")).await?,
        Some(v("one")),
        "the last good content stays"
    );
    assert_eq!(b.broken_files().len(), 1);

    editor_write(
        &file,
        &format!(r#"{{"data":[{{"key":"{P}k1","value":{{"name":"two"}}}}]}}"#),
    )?;
    f.until("the fixed file", DEADLINE, |view| {
        view.get(&format!("{P}k1")) == Some(&v("two"))
    })
    .await?;
    assert_eq!(
        f.last.get(&format!("{P}k1")),
        Some(&(Some(v("two")), Some(v("one"))))
    );
    assert!(b.broken_files().is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_yaml_files_in_nested_directories() -> TestResult {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("sub/deeper"))?;
    editor_write(
        &dir.path().join("a.json"),
        &format!(r#"{{"data":[{{"key":"{P}a","value":{{"name":"a"}}}}]}}"#),
    )?;
    editor_write(
        &dir.path().join("sub/deeper/b.yaml"),
        &format!("data:\n  - key: {P}b\n    value:\n      name: b\n"),
    )?;
    editor_write(&dir.path().join("sub/ignored.txt"), "not a config file")?;
    editor_write(
        &dir.path().join(".hidden.json"),
        &format!(r#"{{"data":[{{"key":"{P}h","value":{{}}}}]}}"#),
    )?;
    let b = FileDbBackend::open(FileDbOptions::new([dir.path()])).await?;
    let keys: Vec<_> = b
        .list(P)
        .await?
        .into_iter()
        .map(|kv| (kv.key, kv.value))
        .collect();
    assert_eq!(
        keys,
        vec![(format!("{P}a"), v("a")), (format!("{P}b"), v("b"))]
    );

    let mut f = follow(&b, P).await?;
    editor_write(
        &dir.path().join("sub/c.yml"),
        &format!("data:\n  - key: {P}c\n    value:\n      name: c\n"),
    )?;
    f.until("a new YAML file", DEADLINE, |view| {
        view.get(&format!("{P}c")) == Some(&v("c"))
    })
    .await?;
    std::fs::remove_file(dir.path().join("sub/deeper/b.yaml"))?;
    f.until("b deleted with its file", DEADLINE, |view| {
        view.get(&format!("{P}b")).is_none()
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_file_path_is_watched_through_its_directory() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("only.yaml");
    editor_write(
        &file,
        &format!("data:\n  - key: {P}x\n    value: {{name: x}}\n"),
    )?;
    editor_write(
        &dir.path().join("other.json"),
        &format!(r#"{{"data":[{{"key":"{P}o","value":{{}}}}]}}"#),
    )?;
    let b = FileDbBackend::open(FileDbOptions::new([&file])).await?;
    assert_eq!(
        b.list(P).await?.len(),
        1,
        "only the configured file is read"
    );
    let mut f = follow(&b, P).await?;
    editor_write(
        &file,
        &format!("data:\n  - key: {P}x\n    value: {{name: y}}\n"),
    )?;
    f.until("the edited file", DEADLINE, |view| {
        view.get(&format!("{P}x")) == Some(&v("y"))
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_writes_go_to_the_status_file_only() -> TestResult {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir(dir.path().join("config"))?;
    let status = dir.path().join("status.yaml");
    let mut o = FileDbOptions::new([dir.path().join("config")]);
    o.status_path = Some(status.clone());
    let b = FileDbBackend::open(o).await?;
    let k = "/vnf-agent/vpp1/status/s1";
    b.put(k, v("up")).await?;
    let text = std::fs::read_to_string(&status)?;
    assert!(text.contains(k) && text.contains("up"), "{text}");
    assert_eq!(
        b.get(k).await?,
        None,
        "status writes do not enter the configuration view"
    );
    b.put("/vnf-agent/vpp1/status/s2", v("down")).await?;
    b.delete(k).await?;
    let text = std::fs::read_to_string(&status)?;
    assert!(!text.contains("/s1") && text.contains("/s2"), "{text}");
    let err = b
        .put(k, Bytes::from_static(b"not json"))
        .await
        .err()
        .ok_or("a non-JSON value was written")?;
    assert_eq!(err.kind(), ErrorKind::BadValue);
    assert!(err.to_string().contains(k), "{err}");

    let without = FileDbBackend::open(FileDbOptions::new([dir.path().join("config")])).await?;
    let err = without
        .put(k, v("x"))
        .await
        .err()
        .ok_or("a put without a status path was accepted")?;
    assert_eq!(err.kind(), ErrorKind::Rejected);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_broken_at_start_is_reported_to_a_new_watch() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("bad.yaml");
    editor_write(&file, "data:\n  - key: /k\n    value: [1, 2\n")?;
    let b = FileDbBackend::open(FileDbOptions::new([dir.path()])).await?;
    assert_eq!(b.broken_files().len(), 1);
    let mut f = follow(&b, P).await?;
    let problem = tokio::time::timeout(DEADLINE, f.watch.next()).await?;
    let Some(connectors::WatchEvent::Problem(err)) = problem else {
        return Err(format!("want a Problem, got {problem:?}").into());
    };
    assert!(err.to_string().contains("bad.yaml"), "{err}");
    assert!(err.to_string().contains("line"), "{err}");
    // Fixing it brings its keys in.
    editor_write(
        &file,
        &format!("data:\n  - key: {P}k\n    value: {{name: k}}\n"),
    )?;
    eventually("the fixed file's key", DEADLINE, || async {
        b.get(&format!("{P}k")).await.ok()?.map(|_| ())
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_file_inside_a_configuration_directory_is_not_read_back() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut o = FileDbOptions::new([dir.path()]);
    o.status_path = Some(dir.path().join("status.json"));
    let b = FileDbBackend::open(o).await?;
    let mut f = follow(&b, "/vnf-agent/").await?;
    b.put("/vnf-agent/vpp1/status/s", v("up")).await?;
    editor_write(
        &dir.path().join("c.json"),
        &format!(r#"{{"data":[{{"key":"{P}c","value":{{"name":"c"}}}}]}}"#),
    )?;
    f.until("the config file", DEADLINE, |view| {
        view.get(&format!("{P}c")).is_some()
    })
    .await?;
    assert_eq!(
        f.view.entries().len(),
        1,
        "the status key must not enter the view: {:?}",
        f.view.entries().keys()
    );
    Ok(())
}
