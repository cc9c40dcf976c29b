//! Architecture invariants from ARCHITECTURE.md, checked on the real workspace:
//! which crate may depend on which, that only `actors` uses actix, that the scheduler core
//! stays free of async runtimes, and that every Rust file starts with a `//!` doc comment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Workspace package name -> its normal and build dependency names.
fn workspace_deps() -> BTreeMap<String, Vec<String>> {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata json");
    let mut map = BTreeMap::new();
    for pkg in meta["packages"].as_array().expect("packages") {
        let name = pkg["name"].as_str().expect("name").to_owned();
        let deps = pkg["dependencies"]
            .as_array()
            .expect("deps")
            .iter()
            .filter(|d| d["kind"].is_null() || d["kind"] == "build")
            .map(|d| d["name"].as_str().expect("dep name").to_owned())
            .collect();
        map.insert(name, deps);
    }
    map
}

/// (crate, workspace crates it may depend on, external crates it must not depend on)
const RULES: &[(&str, &[&str], &[&str])] = &[
    (
        "vpp-agent-config",
        &[],
        &["actix", "actix-rt", "actix-web", "tokio"],
    ),
    (
        "vpp-agent-messages",
        &["vpp-agent-config"],
        &["actix", "actix-rt", "actix-web", "tokio"],
    ),
    (
        "vpp-agent-kvscheduler",
        &["vpp-agent-messages", "vpp-agent-config"],
        &["actix", "actix-rt", "actix-web", "tokio"],
    ),
    ("vpp-agent-binapi", &[], &["actix", "actix-rt", "actix-web"]),
    (
        "vpp-agent-connectors",
        &["vpp-agent-messages", "vpp-agent-config"],
        &["actix", "actix-rt", "actix-web"],
    ),
    (
        "vpp-agent-vpp",
        &[
            "vpp-agent-messages",
            "vpp-agent-kvscheduler",
            "vpp-agent-binapi",
            "vpp-agent-config",
        ],
        &["actix", "actix-rt", "actix-web"],
    ),
    (
        "vpp-agent-linux",
        &[
            "vpp-agent-messages",
            "vpp-agent-kvscheduler",
            "vpp-agent-config",
        ],
        &["actix", "actix-rt", "actix-web"],
    ),
    (
        "vpp-sim",
        &["vpp-agent-binapi"],
        &["actix", "actix-rt", "actix-web"],
    ),
];

#[test]
fn dependencies_point_one_way() {
    let deps = workspace_deps();
    let ours: Vec<&String> = deps
        .keys()
        .filter(|k| k.starts_with("vpp-agent-"))
        .collect();
    for (krate, allowed, forbidden) in RULES {
        let Some(list) = deps.get(*krate) else {
            panic!("crate {krate} is not in the workspace");
        };
        for dep in list {
            if ours.contains(&dep) {
                assert!(
                    allowed.contains(&dep.as_str()),
                    "{krate} must not depend on {dep} (see ARCHITECTURE.md, crate map)"
                );
            }
            assert!(
                !forbidden.contains(&dep.as_str()),
                "{krate} must not depend on {dep} (see ARCHITECTURE.md, invariants)"
            );
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

#[test]
fn only_actors_uses_actix() {
    let root = workspace_root();
    for krate in [
        "config",
        "messages",
        "binapi",
        "connectors",
        "actors/kvscheduler",
    ] {
        let mut files = Vec::new();
        rust_files(&root.join(krate), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read");
            assert!(
                !text.contains("actix::") && !text.contains("use actix"),
                "{} uses actix; only the actors crate may",
                file.display()
            );
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let root = workspace_root();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(
        files.len() > 10,
        "found too few Rust files under {}",
        root.display()
    );
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|f| f.strip_prefix(&root).unwrap_or(f).display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a leading //! doc: {missing:#?}"
    );
}

/// The workspace denies `unsafe_code`; the one module allowed to lift it is vpp-sim's kernel
/// TAP (two ioctls, each with a `SAFETY:` comment). Any other file that allows it fails here.
#[test]
fn unsafe_code_only_in_the_kernel_tap_module() {
    let root = workspace_root();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let allowed = Path::new("tests/vpp-sim/src/kernel_tap.rs");
    // Built from parts so that this file does not match itself.
    let needle = ["allow(", "unsafe_code)"].concat();
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            text.contains(&needle) && f.strip_prefix(&root).ok() != Some(allowed)
        })
        .map(|f| f.strip_prefix(&root).unwrap_or(f).display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "files that allow unsafe code: {offenders:#?}"
    );
    let tap = std::fs::read_to_string(root.join(allowed)).expect("kernel_tap.rs");
    assert_eq!(
        tap.matches("unsafe {").count(),
        tap.matches("// SAFETY:").count(),
        "every unsafe block in {} needs a SAFETY comment",
        allowed.display()
    );
}
