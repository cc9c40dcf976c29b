//! The `vpp-agent` binary: parses flags and plugin config files, then runs the actor system
//! until SIGINT/SIGTERM. Exit codes: 0 ok, 1 runtime error, 2 bad flags or config.

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
    // Kept until the exit: dropping it flushes the OTLP exporter.
    let _tracing = match actors::trace::init(&startup.log) {
        Ok(guard) => guard,
        Err(err) => {
            eprintln!("vpp-agent: tracing: {err:#}");
            return ExitCode::from(2);
        }
    };
    // The VPP and Linux descriptors are registered here once their layers are wired in;
    // until then values are scheduled and reported as UNIMPLEMENTED.
    match actors::runtime::run(startup.config, Vec::new()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("vpp-agent: {err:#}");
            ExitCode::from(1)
        }
    }
}
