//! The simulator's server: a unix socket that speaks VPP's binary API for one release, with
//! one main thread owning the state ([`main_thread`]), one task per connection ([`conn`]),
//! the release's table ([`table`]), fault knobs ([`faults`]) and VPP restarts (all
//! connections dropped, the socket removed and re-created, the state emptied, a fresh
//! table). [`SimHandle`] runs it on its own thread for tests.
//!
//! It deliberately has no configuration file and no persistence: a restart is a new VPP.

pub mod conn;
pub mod faults;
pub mod main_thread;
pub mod table;

use std::path::{Path, PathBuf};
use std::time::Duration;

use binapi::release::Release;
use tokio::net::UnixListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

pub use faults::{FailSpec, Faults};
pub use main_thread::Handled;
use main_thread::Job;
pub use table::{SimTable, TableError};

use crate::cli::CliReply;
use crate::state::Vpp;

/// How to run one simulated VPP.
#[derive(Debug, Clone)]
pub struct Options {
    pub socket: PathBuf,
    pub release: &'static Release,
    pub fail: Vec<FailSpec>,
    /// Added to every request on the main thread.
    pub latency: Duration,
    /// Shifts the ids of every module after memclnt, as another plugin load order would.
    pub id_offset: u16,
    /// The stats socket ([`crate::stats`]); `None` serves no stats segment.
    pub stats_socket: Option<PathBuf>,
    /// Make a real kernel device behind every tap ([`crate::kernel_tap`]; needs root).
    pub kernel_taps: bool,
}

impl Options {
    /// Defaults for `release` (`21.01`, `23.06`, `25.06`) at `socket`.
    pub fn new(socket: impl Into<PathBuf>, version: &str) -> Result<Options, SimError> {
        let release =
            Release::find(version).ok_or_else(|| SimError::UnknownVersion(version.to_owned()))?;
        let socket = socket.into();
        Ok(Options {
            stats_socket: Some(crate::stats::default_socket(&socket)),
            socket,
            release,
            fail: Vec::new(),
            latency: Duration::ZERO,
            id_offset: 0,
            kernel_taps: false,
        })
    }
}

/// Why the simulator could not start or answer.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("unknown vpp version {0} (known: 21.01, 23.06, 25.06)")]
    UnknownVersion(String),
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("socket {path}: {source}")]
    Socket {
        path: String,
        source: std::io::Error,
    },
    #[error("start: {0}")]
    Start(std::io::Error),
    #[error("the simulator has stopped")]
    Stopped,
}

/// Commands to a running server.
#[derive(Debug)]
pub enum Control {
    /// A VPP restart; `id_offset` replaces the current one when set.
    Restart {
        id_offset: Option<u16>,
        done: Option<std::sync::mpsc::Sender<Result<(), String>>>,
    },
    Stop,
}

/// A built simulator: [`Sim::serve`] runs its main thread and opens the socket.
pub struct Sim {
    options: Options,
    main: mpsc::UnboundedSender<Job>,
    /// The main thread until `serve` starts it.
    pending: Option<(main_thread::MainThread, mpsc::UnboundedReceiver<Job>)>,
    /// The stats socket and the segment it hands out.
    stats: Option<(PathBuf, StatsFile)>,
}

type StatsFile = tokio::sync::watch::Receiver<std::sync::Arc<std::fs::File>>;

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("options", &self.options)
            .field("started", &self.pending.is_none())
            .finish()
    }
}

impl Sim {
    /// Builds the release's table, checks the fault knobs against it and prepares the main
    /// thread (jobs sent before [`Sim::serve`] wait for it).
    pub fn new(options: Options) -> Result<Sim, SimError> {
        let table = SimTable::build(options.release, options.id_offset)?;
        for f in &options.fail {
            table.check_fail(&f.name, options.release.version)?;
        }
        let faults = Faults::new(options.fail.clone());
        let (main, mut thread, rx) =
            main_thread::new(options.release, table, faults, options.latency);
        if options.kernel_taps {
            thread.enable_kernel_taps();
        }
        let stats = options.stats_socket.clone().and_then(|path| {
            let vpp = Vpp::new(options.release.version);
            match crate::stats::Segment::new(options.release.version, &vpp) {
                Ok(seg) => {
                    let file = seg.subscribe();
                    let _ = main.send(Job::AttachStats(Box::new(seg)));
                    Some((path, file))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "stats segment not created");
                    None
                }
            }
        });
        Ok(Sim {
            options,
            main,
            pending: Some((thread, rx)),
            stats,
        })
    }

    /// Serves until [`Control::Stop`] or until the control channel closes; `ready` hears
    /// once the socket first accepts connections. Meant for a current-thread runtime (the
    /// main thread's latency knob blocks the thread it runs on).
    pub async fn serve(
        &mut self,
        mut control: mpsc::UnboundedReceiver<Control>,
        mut ready: Option<std::sync::mpsc::Sender<Result<(), SimError>>>,
    ) -> Result<(), SimError> {
        let (thread, rx) = self.pending.take().ok_or(SimError::Stopped)?;
        let main_task = tokio::spawn(thread.run(rx));
        let stats_task = self.stats.clone().and_then(|(path, file)| {
            let first = match crate::stats::socket::bind(&path) {
                Ok(fd) => fd,
                Err(e) => {
                    tracing::warn!(socket = %path.display(), error = %e, "stats socket not served");
                    return None;
                }
            };
            let task = tokio::spawn(crate::stats::socket::serve(
                path.clone(),
                first,
                file,
                self.main.clone(),
            ));
            Some((path, task))
        });
        let result = self.serve_socket(&mut control, &mut ready).await;
        let _ = self.main.send(Job::Stop);
        let _ = main_task.await;
        if let Some((path, task)) = stats_task {
            task.abort();
            let _ = task.await;
            let _ = std::fs::remove_file(path);
        }
        result
    }

    async fn serve_socket(
        &mut self,
        control: &mut mpsc::UnboundedReceiver<Control>,
        ready: &mut Option<std::sync::mpsc::Sender<Result<(), SimError>>>,
    ) -> Result<(), SimError> {
        let path = self.options.socket.clone();
        loop {
            let listener = bind(&path)?;
            if let Some(tx) = ready.take() {
                let _ = tx.send(Ok(()));
            }
            tracing::info!(socket = %path.display(), vpp_version = self.options.release.version, "vpp-sim listening");
            let mut conns = JoinSet::new();
            let cmd = loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            conns.spawn(conn::serve(stream, self.main.clone()));
                        }
                        Err(e) => tracing::warn!(error = %e, "accept failed"),
                    },
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                    cmd = control.recv() => break cmd,
                }
            };
            conns.abort_all();
            while conns.join_next().await.is_some() {}
            drop(listener);
            let _ = std::fs::remove_file(&path);
            match cmd {
                Some(Control::Restart { id_offset, done }) => {
                    let result = self.reset(id_offset).await;
                    tracing::info!("vpp-sim restarted with empty state");
                    if let Some(done) = done {
                        let _ = done.send(result.as_ref().map(|_| ()).map_err(|e| e.to_string()));
                    }
                    result?;
                }
                Some(Control::Stop) | None => return Ok(()),
            }
        }
    }

    async fn reset(&mut self, id_offset: Option<u16>) -> Result<(), SimError> {
        if let Some(o) = id_offset {
            self.options.id_offset = o;
        }
        let table = SimTable::build(self.options.release, self.options.id_offset)?;
        let (tx, rx) = oneshot::channel();
        self.main
            .send(Job::Reset(table, tx))
            .map_err(|_| SimError::Stopped)?;
        rx.await.map_err(|_| SimError::Stopped)
    }

    /// A sender to the main thread, for control calls.
    pub fn main(&self) -> mpsc::UnboundedSender<Job> {
        self.main.clone()
    }
}

/// Removes a stale socket file and listens at `path`.
fn bind(path: &Path) -> Result<UnixListener, SimError> {
    let err = |source| SimError::Socket {
        path: path.display().to_string(),
        source,
    };
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    UnixListener::bind(path).map_err(err)
}

/// A simulator running on its own thread, for tests: start it, point clients at
/// [`SimHandle::socket_path`], look at its state, restart it, turn fault knobs; dropping the
/// handle stops it and removes the socket.
///
/// Every method blocks the calling thread briefly and may be called from async code.
#[derive(Debug)]
pub struct SimHandle {
    socket: PathBuf,
    stats_socket: Option<PathBuf>,
    version: &'static str,
    control: mpsc::UnboundedSender<Control>,
    main: mpsc::UnboundedSender<Job>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SimHandle {
    /// Starts release `version` with its socket at `<dir>/api.sock`.
    pub fn start(dir: impl AsRef<Path>, version: &str) -> Result<SimHandle, SimError> {
        SimHandle::start_with(Options::new(dir.as_ref().join("api.sock"), version)?)
    }

    /// Starts a simulator with all options.
    pub fn start_with(options: Options) -> Result<SimHandle, SimError> {
        let socket = options.socket.clone();
        let stats_socket = options.stats_socket.clone();
        let version = options.release.version;
        let mut sim = Sim::new(options)?;
        let main = sim.main();
        let (control, control_rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("vpp-sim".to_owned())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(SimError::Start(e)));
                        return;
                    }
                };
                let ready = ready_tx.clone();
                if let Err(e) = rt.block_on(sim.serve(control_rx, Some(ready_tx))) {
                    tracing::error!(error = %e, "vpp-sim stopped");
                    let _ = ready.send(Err(e));
                }
            })
            .map_err(SimError::Start)?;
        ready_rx.recv().map_err(|_| SimError::Stopped)??;
        Ok(SimHandle {
            socket,
            stats_socket,
            version,
            control,
            main,
            thread: Some(thread),
        })
    }

    pub fn socket_path(&self) -> &Path {
        &self.socket
    }

    /// The stats socket (VPP's `/run/vpp/stats.sock`), if the simulator serves one.
    pub fn stats_socket_path(&self) -> Option<&Path> {
        self.stats_socket.as_deref()
    }

    /// The release it pretends to be, e.g. `23.06`.
    pub fn version(&self) -> &'static str {
        self.version
    }

    /// A VPP restart: connections drop, the socket goes away and comes back, the state is
    /// empty, and clients get a fresh table; returns once the new socket listens.
    pub fn restart(&self) -> Result<(), SimError> {
        self.restart_inner(None)
    }

    /// Like [`SimHandle::restart`], with every module after memclnt at other ids.
    pub fn restart_with_id_offset(&self, id_offset: u16) -> Result<(), SimError> {
        self.restart_inner(Some(id_offset))
    }

    fn restart_inner(&self, id_offset: Option<u16>) -> Result<(), SimError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.control
            .send(Control::Restart {
                id_offset,
                done: Some(tx),
            })
            .map_err(|_| SimError::Stopped)?;
        rx.recv()
            .map_err(|_| SimError::Stopped)?
            .map_err(|_| SimError::Stopped)
    }

    /// A copy of the dataplane state.
    pub fn state(&self) -> Result<Vpp, SimError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.main
            .send(Job::Snapshot(tx))
            .map_err(|_| SimError::Stopped)?;
        rx.recv().map_err(|_| SimError::Stopped)
    }

    /// Runs a CLI command on the main thread, as `vppctl` would.
    pub fn cli(&self, cmd: &str) -> Result<CliReply, SimError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.main
            .send(Job::Cli(cmd.to_owned(), tx))
            .map_err(|_| SimError::Stopped)?;
        rx.recv().map_err(|_| SimError::Stopped)
    }

    /// Adds a `--fail` knob (checked against the release's handled messages).
    pub fn fail(&self, spec: FailSpec) -> Result<(), SimError> {
        let release = Release::find(self.version)
            .ok_or_else(|| SimError::UnknownVersion(self.version.to_owned()))?;
        SimTable::build(release, 0)?.check_fail(&spec.name, self.version)?;
        self.main
            .send(Job::Fail(spec))
            .map_err(|_| SimError::Stopped)
    }

    /// Every request handled from now on, as a [`Handled`] (name, arrival time), in order;
    /// for benchmarks that time a request's arrival. Unbounded: read it or drop it.
    pub fn watch_requests(&self) -> Result<mpsc::UnboundedReceiver<Handled>, SimError> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.main
            .send(Job::Watch(tx))
            .map_err(|_| SimError::Stopped)?;
        Ok(rx)
    }

    /// Sets the per-request latency.
    pub fn set_latency(&self, latency: Duration) -> Result<(), SimError> {
        self.main
            .send(Job::Latency(latency))
            .map_err(|_| SimError::Stopped)
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let _ = self.control.send(Control::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
