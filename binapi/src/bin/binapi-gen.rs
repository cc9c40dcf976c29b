//! `binapi-gen`: regenerates `binapi/src/generated/` from `binapi/api/` (or checks that it is up to date).
//!
//! Usage: `binapi-gen [--check] [--api-dir DIR] [--out DIR]`. Without arguments it writes into the crate's own
//! folders. It deliberately takes no release list on the command line: releases are listed in
//! `binapi::codegen::RELEASES`, so the committed output and the regeneration test agree.

use binapi::codegen::{self, RELEASES};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut api_dir = codegen::default_api_dir();
    let mut out_dir = codegen::default_out_dir();
    let mut check = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let dir = match arg.as_str() {
            "--check" => {
                check = true;
                continue;
            }
            "--api-dir" => &mut api_dir,
            "--out" => &mut out_dir,
            _ => return usage(),
        };
        match args.next() {
            Some(value) => *dir = PathBuf::from(value),
            None => return usage(),
        }
    }
    let result = codegen::read_agent_messages(&api_dir.join("agent-messages.txt"))
        .and_then(|agent| codegen::generate(&api_dir, RELEASES, &agent));
    let files = match result {
        Ok(files) => files,
        Err(e) => {
            eprintln!("binapi-gen: {e}");
            return ExitCode::FAILURE;
        }
    };
    if check {
        let stale = codegen::stale_files(&out_dir, &files);
        if stale.is_empty() {
            return ExitCode::SUCCESS;
        }
        eprintln!("binapi-gen: out of date: {}", stale.join(", "));
        return ExitCode::FAILURE;
    }
    match codegen::write_files(&out_dir, &files) {
        Ok(()) => {
            println!(
                "binapi-gen: wrote {} files to {}",
                files.len(),
                out_dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("binapi-gen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: binapi-gen [--check] [--api-dir DIR] [--out DIR]");
    ExitCode::from(2)
}
