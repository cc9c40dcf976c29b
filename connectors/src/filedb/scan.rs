//! The fileDB scan: list the readable files under the configuration paths, re-parse those
//! whose bytes changed, keep the last good content of a broken file, rebuild the merged view
//! and publish its diff (and any broken-file reports) on the hub.
//!
//! Deliberately not here: file watching (the parent module's debouncer triggers a rescan)
//! and the status file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::format::{self, Format};
use super::{FileDbOptions, Inner};
use crate::hub::HubMsg;
use crate::types::{Change, ChangeBatch, Revision};

/// The files fileDB reads under the configuration paths, sorted.
pub(super) fn list_files(options: &FileDbOptions) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in rd.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    for path in &options.configuration_paths {
        if path.is_dir() {
            walk(path, &mut files);
        } else if path.is_file() {
            files.push(path.clone());
        }
    }
    files.retain(|p| {
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_none_or(|n| n.starts_with('.'));
        !hidden && Format::of(p).is_some() && Some(p) != options.status_path.as_ref()
    });
    files.sort();
    files.dedup();
    files
}

/// Re-reads the files, updates the view and publishes the diff. Runs on a blocking thread.
pub(super) fn rescan(inner: &Inner) {
    let files = list_files(&inner.options);
    let Ok(mut state) = inner.state.write() else {
        return;
    };
    let mut reports = Vec::new();
    state.files.retain(|p, _| files.contains(p));
    state.broken.retain(|p, _| files.contains(p));
    for path in &files {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            // Vanished between listing and reading: the next event rescans.
            Err(_) => continue,
        };
        let file = state.files.entry(path.clone()).or_default();
        if file.bytes == bytes && !bytes.is_empty() {
            continue;
        }
        // An in-place write truncates before it writes: a file that had content and reads
        // empty is taken as mid-write, and its last good content stays until the next event
        // (to remove every key, delete the file or write an empty `data` list).
        if bytes.iter().all(u8::is_ascii_whitespace) && !file.good.is_empty() {
            tracing::debug!(path = %path.display(), "fileDB file reads empty; keeping its last content");
            file.bytes = bytes;
            continue;
        }
        file.bytes = bytes;
        let Some(format) = Format::of(path) else {
            continue;
        };
        match format::parse(format, &file.bytes) {
            Ok(good) => {
                file.good = good;
                state.broken.remove(path);
            }
            Err(e) => {
                tracing::error!(connector = "filedb", path = %path.display(), line = e.line, error = %e.message, "cannot parse a fileDB file; its last good content stays");
                state
                    .broken
                    .insert(path.clone(), (e.line, e.message.clone()));
                reports.push(HubMsg::BadFile {
                    path: path.clone(),
                    line: e.line,
                    message: e.message,
                });
            }
        }
    }
    let mut view = BTreeMap::new();
    for file in state.files.values() {
        for (k, v) in &file.good {
            view.insert(k.clone(), v.clone());
        }
    }
    let revision = Revision(state.revision + 1);
    let mut changes = Vec::new();
    for (k, prev) in &state.view {
        if !view.contains_key(k) {
            changes.push(Change {
                key: k.clone(),
                value: None,
                prev: Some(prev.clone()),
                revision,
            });
        }
    }
    for (k, v) in &view {
        let prev = state.view.get(k);
        if prev != Some(v) {
            changes.push(Change {
                key: k.clone(),
                value: Some(v.clone()),
                prev: prev.cloned(),
                revision,
            });
        }
    }
    changes.sort_by(|a, b| a.key.cmp(&b.key));
    let hub = inner.hub.lock().ok().and_then(|h| h.clone());
    if !changes.is_empty() {
        state.revision = revision.get();
        state.view = view;
        if let Some(hub) = &hub {
            let _ = hub.send(HubMsg::Batch(Arc::new(ChangeBatch { revision, changes })));
        }
    }
    if let Some(hub) = &hub {
        for report in reports {
            let _ = hub.send(report);
        }
    }
}
