//! The CLI snapshots (`tests/cli/*.txt`) replayed over the socket: each `> command` goes
//! through `vpp-sim ctl`'s path (binapi's client, `cli_inband`) to a fresh simulator, and
//! the text and retval must match the snapshot byte for byte, as in `cli_snapshots.rs`.
//!
//! Snapshots are blessed by `cli_snapshots.rs` only; this test never rewrites them.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

#[tokio::test]
async fn cli_snapshots_match_over_cli_inband() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli");
    let mut entries: Vec<_> = fs::read_dir(&dir).expect("cli dir").flatten().collect();
    entries.sort_by_key(|e| e.path());
    let mut n = 0;
    for entry in entries {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        n += 1;
        let expected = fs::read_to_string(&path).expect("read");
        let (_d, sim) = common::sim("23.06");
        let mut got = String::new();
        for line in expected.lines() {
            let Some(cmd) = line.strip_prefix("> ") else {
                continue;
            };
            got.push_str(line);
            got.push('\n');
            let reply = vpp_sim::ctl::run(sim.socket_path(), cmd, Duration::from_secs(5))
                .await
                .expect("cli_inband");
            if reply.retval != 0 {
                got.push_str(&format!("! retval {}\n", reply.retval));
            }
            got.push_str(&reply.reply);
        }
        pretty_assertions::assert_eq!(got, expected, "{}", path.display());
    }
    assert!(n > 0, "no CLI snapshots in {}", dir.display());
}
