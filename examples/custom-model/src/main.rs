//! `vpp-agent-iptables`: the `vpp-agent` binary plus the iptables rule-chain extension. Flags, config
//! files and exit codes are the agent's own (see `vpp-agent -h`).

use std::process::ExitCode;

use actors::startup;
use config::Environment;

fn main() -> ExitCode {
    let env = Environment::process();
    let startup = match startup::parse(std::env::args_os(), &env) {
        Ok(Ok(s)) => s,
        Ok(Err(err)) => {
            eprintln!("vpp-agent-iptables: {err}");
            return ExitCode::from(2);
        }
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    print!("{}", startup::summary(&startup.config));
    if startup.print_config {
        return ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    // The one registration line: the agent, plus iptables rule chains.
    let extensions: Vec<Box<dyn actors::extension::Extension>> =
        vec![Box::new(example_iptables::IptablesExtension)];
    match actors::runtime::run(startup.config, extensions) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("vpp-agent-iptables: {err:#}");
            ExitCode::from(1)
        }
    }
}
