//! CLI snapshot tests: each `tests/cli/<case>.txt` is a session of `> command` lines, each
//! followed by the exact text VPP prints (lines starting `! retval N` give a non-zero retval).
//! Adding a file adds a case; `BLESS=1` rewrites the files from the current output.

use std::fs;
use std::path::Path;

use vpp_sim::cli::execute;
use vpp_sim::state::Vpp;

fn run_session(script: &str) -> String {
    let mut vpp = Vpp::new("23.06");
    let mut out = String::new();
    for line in script.lines() {
        if let Some(cmd) = line.strip_prefix("> ") {
            out.push_str(line);
            out.push('\n');
            let reply = execute(&mut vpp, 4242, cmd);
            if reply.retval != 0 {
                out.push_str(&format!("! retval {}\n", reply.retval));
            }
            out.push_str(&reply.text);
        }
    }
    out
}

#[test]
fn cli_sessions_match_their_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli");
    let bless = std::env::var_os("BLESS").is_some();
    let mut n = 0;
    let mut entries: Vec<_> = fs::read_dir(&dir).expect("cli dir").flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        n += 1;
        let expected = fs::read_to_string(&path).expect("read");
        let got = run_session(&expected);
        if bless {
            fs::write(&path, &got).expect("bless");
            continue;
        }
        pretty_assertions::assert_eq!(got, expected, "{}", path.display());
    }
    assert!(n > 0, "no CLI snapshots found in {}", dir.display());
}
