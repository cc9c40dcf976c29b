//! Real etcd and redis servers for tests.
//!
//! With `VPP_AGENT_TEST_ETCD` / `VPP_AGENT_TEST_REDIS` set to `host:port`, that server is used
//! and each test works under its own key prefix ([`super::unique_prefix`]). Otherwise a
//! private `etcd` / `redis-server` is started on free loopback ports with a temporary data
//! directory, polled until it answers, and killed on drop. A missing binary is an error that
//! names the Debian package (`etcd-server`, `redis-server`); tests never skip silently.
//!
//! `start_tls` starts a private server with TLS from a [`TestPki`] (optionally requiring a
//! client certificate); [`EtcdServer::client_options`] / [`RedisServer::client_options`] give
//! options that connect to either kind.
//!
//! Deliberately not here: clusters, and starting anything not on 127.0.0.1.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tokio::process::{Child, Command};

use super::pki::{ClientAuth, ClientTls, TestPki};
use super::{TestResult, unique_prefix};
use crate::{EtcdBackend, EtcdOptions, RedisOptions};

/// Environment variable naming an etcd server (`host:port`) to use instead of a private one.
pub const ETCD_ENV: &str = "VPP_AGENT_TEST_ETCD";
/// Environment variable naming a redis server (`host:port`) to use instead of a private one.
pub const REDIS_ENV: &str = "VPP_AGENT_TEST_REDIS";

const START_DEADLINE: Duration = Duration::from_secs(30);

fn free_port() -> TestResult<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

struct Private {
    program: &'static str,
    package: &'static str,
    args: Vec<String>,
    dir: TempDir,
    child: Option<Child>,
}

impl Private {
    fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("{}.log", self.program))
    }

    fn spawn(&mut self) -> TestResult {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())?;
        let child = Command::new(self.program)
            .args(&self.args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| -> super::TestError {
                if e.kind() == std::io::ErrorKind::NotFound {
                    format!(
                        "{} not found on PATH: install the Debian package {} (apt-get install {})",
                        self.program, self.package, self.package
                    )
                    .into()
                } else {
                    format!("cannot start {}: {e}", self.program).into()
                }
            })?;
        self.child = Some(child);
        Ok(())
    }

    fn check_alive(&mut self) -> TestResult {
        if let Some(child) = &mut self.child
            && let Some(status) = child.try_wait()?
        {
            let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
            let tail: Vec<_> = log.lines().rev().take(20).collect();
            return Err(format!(
                "{} exited with {status}; last log lines:\n{}",
                self.program,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            )
            .into());
        }
        Ok(())
    }

    /// Stops the process gracefully (SIGTERM, so redis writes its append-only file).
    async fn stop(&mut self) -> TestResult {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                let _ = Command::new("kill")
                    .arg("-TERM")
                    .arg(pid.to_string())
                    .status()
                    .await;
            }
            match tokio::time::timeout(Duration::from_secs(10), child.wait()).await {
                Ok(status) => {
                    status?;
                }
                Err(_) => {
                    child.start_kill()?;
                    child.wait().await?;
                }
            }
        }
        Ok(())
    }
}

/// An etcd server for one test.
pub struct EtcdServer {
    endpoint: String,
    prefix: String,
    private: Option<Private>,
    tls: Option<ClientTls>,
}

impl std::fmt::Debug for EtcdServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdServer")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl EtcdServer {
    /// The server from `VPP_AGENT_TEST_ETCD`, or a private one.
    pub async fn start() -> TestResult<Self> {
        match std::env::var(ETCD_ENV) {
            Ok(endpoint) if !endpoint.is_empty() => Ok(EtcdServer {
                endpoint,
                prefix: unique_prefix(),
                private: None,
                tls: None,
            }),
            _ => Self::start_private().await,
        }
    }

    /// Always a private server (for tests that stop it or compact it).
    pub async fn start_private() -> TestResult<Self> {
        Self::start_private_inner(None).await
    }

    /// A private server whose client URL is HTTPS with `pki`'s server certificate; with
    /// [`ClientAuth::Required`] it also requires a client certificate signed by `pki`'s CA
    /// (`--client-cert-auth`). Peers stay plain HTTP.
    pub async fn start_tls(pki: &TestPki, auth: ClientAuth) -> TestResult<Self> {
        Self::start_private_inner(Some((pki, auth))).await
    }

    async fn start_private_inner(tls: Option<(&TestPki, ClientAuth)>) -> TestResult<Self> {
        let client = free_port()?;
        let peer = free_port()?;
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("data");
        let scheme = if tls.is_some() { "https" } else { "http" };
        let c = format!("{scheme}://127.0.0.1:{client}");
        let p = format!("http://127.0.0.1:{peer}");
        let mut args = vec![
            "--name".into(),
            "test".into(),
            "--data-dir".into(),
            data.display().to_string(),
            "--listen-client-urls".into(),
            c.clone(),
            "--advertise-client-urls".into(),
            c,
            "--listen-peer-urls".into(),
            p.clone(),
            "--initial-advertise-peer-urls".into(),
            p.clone(),
            "--initial-cluster".into(),
            format!("test={p}"),
            "--initial-cluster-state".into(),
            "new".into(),
            "--log-level".into(),
            "warn".into(),
        ];
        if let Some((pki, auth)) = tls {
            args.extend([
                "--cert-file".into(),
                pki.server_cert.display().to_string(),
                "--key-file".into(),
                pki.server_key.display().to_string(),
            ]);
            if auth == ClientAuth::Required {
                args.extend([
                    "--trusted-ca-file".into(),
                    pki.ca.display().to_string(),
                    "--client-cert-auth".into(),
                ]);
            }
        }
        let mut server = EtcdServer {
            endpoint: format!("127.0.0.1:{client}"),
            tls: tls.map(|(pki, auth)| ClientTls::for_server(pki, auth)),
            prefix: unique_prefix(),
            private: Some(Private {
                program: "etcd",
                package: "etcd-server",
                args,
                dir,
                child: None,
            }),
        };
        server.start_process().await?;
        Ok(server)
    }

    async fn start_process(&mut self) -> TestResult {
        let mut opts = self.client_options();
        opts.dial_timeout = Duration::from_millis(500);
        let Some(private) = &mut self.private else {
            return Err("cannot start an external etcd".into());
        };
        private.spawn()?;
        let started = Instant::now();
        loop {
            private.check_alive()?;
            if EtcdBackend::connect(opts.clone()).await.is_ok() {
                return Ok(());
            }
            if started.elapsed() > START_DEADLINE {
                return Err(format!(
                    "etcd at {} did not answer within {START_DEADLINE:?}",
                    self.endpoint
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `host:port` of the client URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Options that connect to this server (with its TLS files when it has TLS).
    pub fn client_options(&self) -> EtcdOptions {
        let o = EtcdOptions::new([self.endpoint.clone()]);
        match &self.tls {
            Some(tls) => tls.etcd(o),
            None => o,
        }
    }

    /// The client TLS files of a [`Self::start_tls`] server.
    pub fn client_tls(&self) -> Option<&ClientTls> {
        self.tls.as_ref()
    }

    /// The socket address, e.g. for a [`super::proxy::TcpProxy`].
    pub fn addr(&self) -> TestResult<SocketAddr> {
        Ok(self.endpoint.parse()?)
    }

    /// This test's key prefix, `/vnf-agent/<label>/`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// This test's microservice label (the prefix's `<label>`), unique per test.
    pub fn label(&self) -> &str {
        label_of(&self.prefix)
    }

    /// Whether this test owns the server process.
    pub fn is_private(&self) -> bool {
        self.private.is_some()
    }

    /// Stops a private server (its data directory stays).
    pub async fn stop(&mut self) -> TestResult {
        match &mut self.private {
            Some(p) => p.stop().await,
            None => Err("cannot stop an external etcd".into()),
        }
    }

    /// Starts a stopped private server again on the same port and data.
    pub async fn restart(&mut self) -> TestResult {
        self.start_process().await
    }
}

/// A redis server for one test.
pub struct RedisServer {
    endpoint: String,
    prefix: String,
    private: Option<Private>,
    password: Option<String>,
    tls: Option<ClientTls>,
}

impl std::fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisServer")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl RedisServer {
    /// The server from `VPP_AGENT_TEST_REDIS`, or a private one with keyspace
    /// notifications on (`KA`).
    pub async fn start() -> TestResult<Self> {
        match std::env::var(REDIS_ENV) {
            Ok(endpoint) if !endpoint.is_empty() => Ok(RedisServer {
                endpoint,
                prefix: unique_prefix(),
                private: None,
                password: None,
                tls: None,
            }),
            _ => Self::start_private("KA").await,
        }
    }

    /// Always a private server with the given `notify-keyspace-events` flags.
    pub async fn start_private(notify_flags: &str) -> TestResult<Self> {
        Self::start_private_with(notify_flags, &[]).await
    }

    /// A private server with extra `redis-server` arguments (e.g. `--requirepass x`).
    pub async fn start_private_with(notify_flags: &str, extra: &[&str]) -> TestResult<Self> {
        Self::start_private_inner(notify_flags, extra, None).await
    }

    /// A private server (notifications `KA`) that speaks only TLS (`--port 0 --tls-port`),
    /// with `pki`'s server certificate; with [`ClientAuth::Required`] it requires a client
    /// certificate signed by `pki`'s CA (`--tls-auth-clients yes`). `extra` as in
    /// [`Self::start_private_with`].
    pub async fn start_tls(pki: &TestPki, auth: ClientAuth, extra: &[&str]) -> TestResult<Self> {
        Self::start_private_inner("KA", extra, Some((pki, auth))).await
    }

    async fn start_private_inner(
        notify_flags: &str,
        extra: &[&str],
        tls: Option<(&TestPki, ClientAuth)>,
    ) -> TestResult<Self> {
        let port = free_port()?;
        let dir = tempfile::tempdir()?;
        let ports: Vec<String> = match tls {
            None => vec!["--port".into(), port.to_string()],
            Some((pki, auth)) => vec![
                "--port".into(),
                "0".into(),
                "--tls-port".into(),
                port.to_string(),
                "--tls-cert-file".into(),
                pki.server_cert.display().to_string(),
                "--tls-key-file".into(),
                pki.server_key.display().to_string(),
                "--tls-ca-cert-file".into(),
                pki.ca.display().to_string(),
                "--tls-auth-clients".into(),
                if auth == ClientAuth::Required {
                    "yes"
                } else {
                    "no"
                }
                .into(),
            ],
        };
        let args = vec![
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            String::new(),
            "--appendonly".into(),
            "yes".into(),
            "--dir".into(),
            dir.path().display().to_string(),
            "--notify-keyspace-events".into(),
            notify_flags.into(),
        ];
        let args: Vec<String> = ports
            .into_iter()
            .chain(args)
            .chain(extra.iter().map(|a| (*a).to_owned()))
            .collect();
        let password = extra
            .iter()
            .position(|a| *a == "--requirepass")
            .and_then(|i| extra.get(i + 1))
            .map(|p| (*p).to_owned());
        let mut server = RedisServer {
            endpoint: format!("127.0.0.1:{port}"),
            prefix: unique_prefix(),
            private: Some(Private {
                program: "redis-server",
                package: "redis-server",
                args,
                dir,
                child: None,
            }),
            password,
            tls: tls.map(|(pki, auth)| ClientTls::for_server(pki, auth)),
        };
        server.start_process().await?;
        Ok(server)
    }

    async fn start_process(&mut self) -> TestResult {
        let mut tls_opts = self.tls.is_some().then(|| self.client_options());
        if let Some(o) = &mut tls_opts {
            o.dial_timeout = Duration::from_millis(500);
        }
        let Some(private) = &mut self.private else {
            return Err("cannot start an external redis".into());
        };
        private.spawn()?;
        let started = Instant::now();
        loop {
            private.check_alive()?;
            let up = match &tls_opts {
                None => ping(&self.endpoint, self.password.as_deref()).await,
                Some(o) => crate::RedisBackend::connect(o.clone()).await.is_ok(),
            };
            if up {
                return Ok(());
            }
            if started.elapsed() > START_DEADLINE {
                return Err(format!(
                    "redis at {} did not answer within {START_DEADLINE:?}",
                    self.endpoint
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `host:port`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Options that connect to this server (with its password and TLS files).
    pub fn client_options(&self) -> RedisOptions {
        let mut o = RedisOptions::new(self.endpoint.clone());
        o.password = self.password.clone();
        match &self.tls {
            Some(tls) => tls.redis(o),
            None => o,
        }
    }

    /// The client TLS files of a [`Self::start_tls`] server.
    pub fn client_tls(&self) -> Option<&ClientTls> {
        self.tls.as_ref()
    }

    /// The socket address, e.g. for a [`super::proxy::TcpProxy`].
    pub fn addr(&self) -> TestResult<SocketAddr> {
        Ok(self.endpoint.parse()?)
    }

    /// This test's key prefix, `/vnf-agent/<label>/`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// This test's microservice label (the prefix's `<label>`), unique per test.
    pub fn label(&self) -> &str {
        label_of(&self.prefix)
    }

    /// Whether this test owns the server process.
    pub fn is_private(&self) -> bool {
        self.private.is_some()
    }

    /// Stops a private server (SIGTERM; its append-only file keeps the data).
    pub async fn stop(&mut self) -> TestResult {
        match &mut self.private {
            Some(p) => p.stop().await,
            None => Err("cannot stop an external redis".into()),
        }
    }

    /// Starts a stopped private server again on the same port and data.
    pub async fn restart(&mut self) -> TestResult {
        self.start_process().await
    }
}

async fn ping(endpoint: &str, password: Option<&str>) -> bool {
    let url = match password {
        Some(p) => format!("redis://:{p}@{endpoint}"),
        None => format!("redis://{endpoint}"),
    };
    let Ok(client) = redis::Client::open(url) else {
        return false;
    };
    let Ok(Ok(mut conn)) = tokio::time::timeout(
        Duration::from_millis(500),
        client.get_multiplexed_async_connection(),
    )
    .await
    else {
        return false;
    };
    let pong: Result<String, _> = redis::cmd("PING").query_async(&mut conn).await;
    pong.is_ok()
}

fn label_of(prefix: &str) -> &str {
    prefix
        .trim_start_matches("/vnf-agent/")
        .trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_label_is_the_prefix_middle() {
        assert_eq!(super::label_of("/vnf-agent/t12x3/"), "t12x3");
    }
}
