//! The `vpp-agent` binary: parses flags and plugin config files, then (with the running-agent
//! issue) starts the actor system. Exit codes: 0 ok, 1 runtime error, 2 bad flags or config.

use std::process::ExitCode;

use actors::startup;
use config::Environment;

fn main() -> ExitCode {
    let env = Environment::process();
    let startup = match startup::parse(std::env::args_os(), &env) {
        Ok(Ok(s)) => s,
        Ok(Err(err)) => {
            eprintln!("vpp-agent: {err}");
            return ExitCode::from(2);
        }
        Err(err) => {
            // -h and --version print and succeed; usage errors exit 2.
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    print!("{}", startup::summary(&startup.config));
    if startup.print_config {
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "vpp-agent: configuration loaded; this build does not run the agent yet (watchers, \
         scheduler and VPP handler arrive with the running-agent issue)"
    );
    ExitCode::from(1)
}
