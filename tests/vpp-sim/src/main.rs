//! The `vpp-sim` binary: serve a simulated VPP on a unix socket, or (`vpp-sim ctl`) send one
//! CLI command to a VPP (simulated or real) and print its reply, as `vppctl` does.
//!
//! SIGHUP restarts the simulated VPP (connections drop, the socket is re-created, the state
//! is empty); SIGINT and SIGTERM stop it. It deliberately reads no configuration file.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use tokio::signal::unix::{SignalKind, signal};
use vpp_sim::server::{Control, Sim};
use vpp_sim::{FailSpec, Options};

#[derive(Debug, Parser)]
#[command(
    name = "vpp-sim",
    version,
    about = "A faithful VPP simulator on the binary API"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The API socket to listen on.
    #[arg(long, default_value = "/run/vpp/api.sock")]
    socket: PathBuf,
    /// The VPP release to pretend to be: 21.01, 23.06 or 25.06.
    #[arg(long = "vpp-version", default_value = "23.06")]
    vpp_version: String,
    /// Fail a message: `<msg_name>[:<count>][=<retval>]` (retval -1 by default, every
    /// request when no count); repeatable.
    #[arg(long)]
    fail: Vec<FailSpec>,
    /// Delay added to every request, in microseconds.
    #[arg(long, default_value_t = 0)]
    latency: u64,
    /// Shift the ids of every module after memclnt (another plugin load order).
    #[arg(long, default_value_t = 0)]
    id_offset: u16,
    /// The stats socket serving the stats segment (default: `stats.sock` beside an `api.sock`,
    /// otherwise `<socket>.stats`).
    #[arg(long)]
    stats_socket: Option<PathBuf>,
    /// Serve no stats segment.
    #[arg(long, conflicts_with = "stats_socket")]
    no_stats: bool,
    /// Back every tap with a real kernel TAP device (needs root), deleted with the tap.
    #[arg(long)]
    kernel_taps: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send one CLI command with cli_inband and print the reply (exit 1 on a non-zero retval).
    Ctl {
        #[arg(long, default_value = "/run/vpp/api.sock")]
        socket: PathBuf,
        /// Seconds to wait for the connection and the reply.
        #[arg(long, default_value_t = 5)]
        timeout: u64,
        /// The command, e.g. "show interface" (several words are joined with spaces).
        #[arg(required = true, num_args = 1..)]
        command: Vec<String>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("vpp-sim: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Some(Command::Ctl {
            socket,
            timeout,
            command,
        }) => rt.block_on(ctl(socket, Duration::from_secs(timeout), command.join(" "))),
        None => rt.block_on(serve(cli.serve)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vpp-sim: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn ctl(socket: PathBuf, timeout: Duration, cmd: String) -> anyhow::Result<ExitCode> {
    let reply = vpp_sim::ctl::run(&socket, &cmd, timeout).await?;
    print!("{}", reply.reply);
    if reply.retval != 0 {
        eprintln!("vpp-sim ctl: retval {}", reply.retval);
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut options = Options::new(&args.socket, &args.vpp_version)?;
    options.fail = args.fail;
    options.latency = Duration::from_micros(args.latency);
    options.id_offset = args.id_offset;
    options.kernel_taps = args.kernel_taps;
    if args.no_stats {
        options.stats_socket = None;
    } else if let Some(path) = args.stats_socket {
        options.stats_socket = Some(path);
    }
    let mut sim = Sim::new(options)?;
    let (control, control_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = hup.recv() => {
                    tracing::info!("SIGHUP: restarting");
                    let _ = control.send(Control::Restart { id_offset: None, done: None });
                }
                _ = int.recv() => break,
                _ = term.recv() => break,
            }
        }
        let _ = control.send(Control::Stop);
    });
    sim.serve(control_rx, None).await?;
    Ok(ExitCode::SUCCESS)
}
