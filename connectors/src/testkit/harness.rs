//! One [`Harness`] per backend for the compliance suite: the backend under test, an
//! independent writer (a second, direct client; for fileDB, editing the files), and a way to
//! cut the backend off its store and restore it (a [`TcpProxy`] for network stores; closing
//! and reopening for in-process ones).
//!
//! Deliberately not here: the test cases themselves (see [`super::compliance`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use tempfile::TempDir;

use super::consul_double::ConsulDouble;
use super::pki::{ClientAuth, TestPki};
use super::proxy::TcpProxy;
use super::servers::{EtcdServer, RedisServer};
use super::{TestResult, unique_prefix};
use crate::{
    ConsulBackend, ConsulOptions, EmbeddedBackend, EmbeddedOptions, EtcdBackend, EtcdOptions,
    FileDbBackend, FileDbOptions, KvBackend, RedisBackend, RedisOptions,
};

/// What the compliance suite needs from a backend's test setup.
pub trait Harness: Send {
    /// The backend type under test.
    type B: KvBackend;
    /// The backend under test.
    fn backend(&self) -> &Self::B;
    /// A prefix only this harness uses, ending in `/`.
    fn prefix(&self) -> &str;
    /// Writes (or, with `None`, deletes) keys through an independent writer.
    fn write_all(
        &self,
        items: Vec<(String, Option<Bytes>)>,
    ) -> impl Future<Output = TestResult> + Send;
    /// The largest value the store takes, if below 1 MiB.
    fn max_value(&self) -> Option<usize> {
        None
    }
    /// Whether values may be arbitrary bytes (fileDB holds JSON only).
    fn opaque_values(&self) -> bool {
        true
    }
    /// Cuts the backend off its store.
    fn cut(&mut self) -> impl Future<Output = TestResult> + Send;
    /// Reconnects it.
    fn restore(&mut self) -> impl Future<Output = TestResult> + Send;
    /// Whether a watch survives cut + restore (network stores), or the consumer must start a
    /// new one from its view (in-process stores, reopened).
    fn watch_survives_cut(&self) -> bool;
}

const FAST_RECONNECT: Duration = Duration::from_millis(100);
const WRITERS: usize = 64;

async fn write_concurrently<B: KvBackend>(
    b: &B,
    items: Vec<(String, Option<Bytes>)>,
) -> TestResult {
    let mut results = futures::stream::iter(items.into_iter().map(|(k, v)| async move {
        match v {
            Some(v) => b.put(&k, v).await,
            None => b.delete(&k).await,
        }
    }))
    .buffer_unordered(WRITERS);
    while let Some(r) = results.next().await {
        r?;
    }
    Ok(())
}

async fn write_in_order<B: KvBackend>(b: &B, items: Vec<(String, Option<Bytes>)>) -> TestResult {
    // Several writes to one key must land in order; distinct keys may go concurrently.
    let mut seen = std::collections::HashSet::new();
    if items.iter().all(|(k, _)| seen.insert(k.clone())) {
        return write_concurrently(b, items).await;
    }
    for (k, v) in items {
        match v {
            Some(v) => b.put(&k, v).await?,
            None => b.delete(&k).await?,
        }
    }
    Ok(())
}

/// etcd through a proxy, written directly.
#[derive(Debug)]
pub struct EtcdHarness {
    pub server: EtcdServer,
    pub proxy: TcpProxy,
    pub backend: EtcdBackend,
    pub writer: EtcdBackend,
}

impl EtcdHarness {
    /// Starts (or reuses, see [`EtcdServer::start`]) an etcd and connects through a proxy.
    pub async fn start() -> TestResult<Self> {
        let server = EtcdServer::start().await?;
        let proxy = TcpProxy::start(server.addr()?).await?;
        let mut opts = EtcdOptions::new([proxy.addr().to_string()]);
        opts.reconnect_interval = FAST_RECONNECT;
        let backend = EtcdBackend::connect(opts).await?;
        let writer = EtcdBackend::connect(EtcdOptions::new([server.endpoint().to_owned()])).await?;
        Ok(EtcdHarness {
            server,
            proxy,
            backend,
            writer,
        })
    }

    /// A private etcd with TLS ([`EtcdServer::start_tls`]); the backend and the writer both
    /// connect with TLS, the backend through the proxy (which passes the TLS bytes through).
    pub async fn start_tls(pki: &TestPki, auth: ClientAuth) -> TestResult<Self> {
        let server = EtcdServer::start_tls(pki, auth).await?;
        let proxy = TcpProxy::start(server.addr()?).await?;
        let tls = server
            .client_tls()
            .ok_or("a TLS server without client files")?;
        let mut opts = tls.etcd(EtcdOptions::new([proxy.addr().to_string()]));
        opts.reconnect_interval = FAST_RECONNECT;
        let backend = EtcdBackend::connect(opts).await?;
        let writer = EtcdBackend::connect(server.client_options()).await?;
        Ok(EtcdHarness {
            server,
            proxy,
            backend,
            writer,
        })
    }
}

impl Harness for EtcdHarness {
    type B = EtcdBackend;
    fn backend(&self) -> &EtcdBackend {
        &self.backend
    }
    fn prefix(&self) -> &str {
        self.server.prefix()
    }
    async fn write_all(&self, items: Vec<(String, Option<Bytes>)>) -> TestResult {
        write_in_order(&self.writer, items).await
    }
    async fn cut(&mut self) -> TestResult {
        self.proxy.cut();
        Ok(())
    }
    async fn restore(&mut self) -> TestResult {
        self.proxy.restore();
        Ok(())
    }
    fn watch_survives_cut(&self) -> bool {
        true
    }
}

/// Redis through a proxy, written directly.
#[derive(Debug)]
pub struct RedisHarness {
    pub server: RedisServer,
    pub proxy: TcpProxy,
    pub backend: RedisBackend,
    pub writer: RedisBackend,
}

impl RedisHarness {
    /// Starts (or reuses) a redis and connects through a proxy.
    pub async fn start() -> TestResult<Self> {
        let server = RedisServer::start().await?;
        let proxy = TcpProxy::start(server.addr()?).await?;
        let mut opts = RedisOptions::new(proxy.addr().to_string());
        opts.reconnect_interval = FAST_RECONNECT;
        opts.dial_timeout = Duration::from_secs(1);
        let backend = RedisBackend::connect(opts).await?;
        let writer = RedisBackend::connect(RedisOptions::new(server.endpoint())).await?;
        Ok(RedisHarness {
            server,
            proxy,
            backend,
            writer,
        })
    }

    /// A private TLS-only redis ([`RedisServer::start_tls`], `extra` server arguments such as
    /// `--requirepass`); the backend and the writer both connect with TLS, the backend
    /// through the proxy.
    pub async fn start_tls(pki: &TestPki, auth: ClientAuth, extra: &[&str]) -> TestResult<Self> {
        let server = RedisServer::start_tls(pki, auth, extra).await?;
        let proxy = TcpProxy::start(server.addr()?).await?;
        let mut opts = server.client_options();
        opts.endpoint = proxy.addr().to_string();
        opts.reconnect_interval = FAST_RECONNECT;
        opts.dial_timeout = Duration::from_secs(1);
        let backend = RedisBackend::connect(opts).await?;
        let writer = RedisBackend::connect(server.client_options()).await?;
        Ok(RedisHarness {
            server,
            proxy,
            backend,
            writer,
        })
    }
}

impl Harness for RedisHarness {
    type B = RedisBackend;
    fn backend(&self) -> &RedisBackend {
        &self.backend
    }
    fn prefix(&self) -> &str {
        self.server.prefix()
    }
    async fn write_all(&self, items: Vec<(String, Option<Bytes>)>) -> TestResult {
        write_in_order(&self.writer, items).await
    }
    async fn cut(&mut self) -> TestResult {
        self.proxy.cut();
        Ok(())
    }
    async fn restore(&mut self) -> TestResult {
        self.proxy.restore();
        Ok(())
    }
    fn watch_survives_cut(&self) -> bool {
        true
    }
}

/// The Consul double through a proxy, written directly.
#[derive(Debug)]
pub struct ConsulHarness {
    pub double: ConsulDouble,
    pub proxy: TcpProxy,
    pub backend: ConsulBackend,
    pub writer: ConsulBackend,
    prefix: String,
}

impl ConsulHarness {
    /// Starts a Consul KV double and connects through a proxy.
    pub async fn start() -> TestResult<Self> {
        let double = ConsulDouble::start().await?;
        let proxy = TcpProxy::start(double.addr()).await?;
        let mut opts = ConsulOptions::new(proxy.addr().to_string());
        opts.reconnect_interval = FAST_RECONNECT;
        opts.wait = Duration::from_secs(5);
        let backend = ConsulBackend::connect(opts).await?;
        let writer = ConsulBackend::connect(ConsulOptions::new(double.addr().to_string())).await?;
        Ok(ConsulHarness {
            double,
            proxy,
            backend,
            writer,
            prefix: unique_prefix(),
        })
    }
}

impl Harness for ConsulHarness {
    type B = ConsulBackend;
    fn backend(&self) -> &ConsulBackend {
        &self.backend
    }
    fn prefix(&self) -> &str {
        &self.prefix
    }
    async fn write_all(&self, items: Vec<(String, Option<Bytes>)>) -> TestResult {
        write_in_order(&self.writer, items).await
    }
    fn max_value(&self) -> Option<usize> {
        Some(crate::consul::CONSUL_MAX_VALUE)
    }
    async fn cut(&mut self) -> TestResult {
        self.proxy.cut();
        Ok(())
    }
    async fn restore(&mut self) -> TestResult {
        self.proxy.restore();
        Ok(())
    }
    fn watch_survives_cut(&self) -> bool {
        true
    }
}

/// The embedded store in a temporary directory; cut closes it, restore reopens it.
#[derive(Debug)]
pub struct EmbeddedHarness {
    pub dir: TempDir,
    pub backend: Option<EmbeddedBackend>,
    prefix: String,
}

impl EmbeddedHarness {
    /// Opens a fresh database file.
    pub async fn start() -> TestResult<Self> {
        let dir = tempfile::tempdir()?;
        let backend =
            EmbeddedBackend::open(EmbeddedOptions::new(dir.path().join("agent.db"))).await?;
        Ok(EmbeddedHarness {
            dir,
            backend: Some(backend),
            prefix: unique_prefix(),
        })
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("agent.db")
    }
}

impl Harness for EmbeddedHarness {
    type B = EmbeddedBackend;
    #[allow(clippy::expect_used)]
    fn backend(&self) -> &EmbeddedBackend {
        self.backend.as_ref().expect("the embedded harness is cut")
    }
    fn prefix(&self) -> &str {
        &self.prefix
    }
    async fn write_all(&self, items: Vec<(String, Option<Bytes>)>) -> TestResult {
        match &self.backend {
            Some(b) => write_in_order(b, items).await,
            None => {
                // While "disconnected", another process would write the file: open it here.
                let b = EmbeddedBackend::open(EmbeddedOptions::new(self.path())).await?;
                write_in_order(&b, items).await?;
                b.close().await?;
                Ok(())
            }
        }
    }
    async fn cut(&mut self) -> TestResult {
        if let Some(b) = self.backend.take() {
            b.close().await?;
        }
        Ok(())
    }
    async fn restore(&mut self) -> TestResult {
        self.backend = Some(EmbeddedBackend::open(EmbeddedOptions::new(self.path())).await?);
        Ok(())
    }
    fn watch_survives_cut(&self) -> bool {
        false
    }
}

/// fileDB over a temporary directory; the writer rewrites `config.json` editor-style
/// (write a temp file, rename it over the original). Cut closes it, restore reopens it.
#[derive(Debug)]
pub struct FileDbHarness {
    pub dir: TempDir,
    pub backend: Option<FileDbBackend>,
    content: std::sync::Mutex<BTreeMap<String, Bytes>>,
    prefix: String,
}

impl FileDbHarness {
    /// Opens fileDB over an empty directory, with a status file beside it.
    pub async fn start() -> TestResult<Self> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir(dir.path().join("config"))?;
        let backend = FileDbBackend::open(Self::options(&dir)).await?;
        Ok(FileDbHarness {
            dir,
            backend: Some(backend),
            content: std::sync::Mutex::new(BTreeMap::new()),
            prefix: unique_prefix(),
        })
    }

    /// The options the harness opens fileDB with.
    pub fn options(dir: &TempDir) -> FileDbOptions {
        let mut o = FileDbOptions::new([dir.path().join("config")]);
        o.status_path = Some(dir.path().join("status.json"));
        o
    }
}

impl Harness for FileDbHarness {
    type B = FileDbBackend;
    #[allow(clippy::expect_used)]
    fn backend(&self) -> &FileDbBackend {
        self.backend.as_ref().expect("the fileDB harness is cut")
    }
    fn prefix(&self) -> &str {
        &self.prefix
    }
    async fn write_all(&self, items: Vec<(String, Option<Bytes>)>) -> TestResult {
        let mut data = Vec::new();
        {
            let mut content = self.content.lock().map_err(|_| "poisoned")?;
            for (k, v) in items {
                match v {
                    Some(v) => content.insert(k, v),
                    None => content.remove(&k),
                };
            }
            for (k, v) in content.iter() {
                let value: serde_json::Value = serde_json::from_slice(v)?;
                data.push(serde_json::json!({ "key": k, "value": value }));
            }
        }
        let text = serde_json::to_vec_pretty(&serde_json::json!({ "data": data }))?;
        let dir = self.dir.path().join("config");
        let tmp = dir.join("config.json.tmp~");
        tokio::fs::write(&tmp, text).await?;
        tokio::fs::rename(&tmp, dir.join("config.json")).await?;
        Ok(())
    }
    fn opaque_values(&self) -> bool {
        false
    }
    async fn cut(&mut self) -> TestResult {
        if let Some(b) = self.backend.take() {
            b.close().await?;
        }
        Ok(())
    }
    async fn restore(&mut self) -> TestResult {
        self.backend = Some(FileDbBackend::open(Self::options(&self.dir)).await?);
        Ok(())
    }
    fn watch_survives_cut(&self) -> bool {
        false
    }
}
