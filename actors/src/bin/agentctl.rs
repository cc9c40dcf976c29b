//! `agentctl`: the operator's CLI, with Ligato's global flags and command tree. Everything is
//! in the library module `actors::agentctl`; this only hands it the arguments and the
//! environment.
//!
//! Exit codes: 0 ok, 1 error, 2 usage.

use std::process::ExitCode;

fn main() -> ExitCode {
    actors::agentctl::main(std::env::args_os(), &config::Environment::process())
}
