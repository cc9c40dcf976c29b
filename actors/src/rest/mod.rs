//! The REST API: Ligato's paths, parameters and response shapes (see `scheduler` and `agent`),
//! served by actix-web from the same actix system as the actors.
//!
//! | path | handler |
//! |---|---|
//! | `/scheduler/{txn-history, key-timeline, graph-snapshot, status, dump, downstream-resync}` | [`scheduler`] |
//! | `/info/version`, `/liveness`, `/readiness`, `/metrics`, `/vpp/command` | [`agent`] |
//! | `/configuration` (GET, PUT) | [`configuration`] |
//! | `/scheduler/txn-trace` | [`crate::trace::rest`] |
//!
//! Errors are Ligato's `{"Error":"<msg>"}` with the fitting status (400 a bad parameter, 404 an
//! unknown transaction or key prefix, 500 anything else, including a closed scheduler mailbox).
//! With `client-basic-auth` configured, every request needs one of the `user:password` pairs
//! (401 otherwise).
//!
//! Scheduler views are asked by message and wait behind a running transaction; liveness,
//! readiness and metrics read `watch` snapshots and never wait for VPP or a store.
//!
//! TLS (Ligato's `server-cert-file`/`server-key-file`, and `client-cert-files` for mutual TLS)
//! is rustls with ring, see [`tls`].
//!
//! Deliberately not here: token auth and the rate limiter.

pub mod agent;
pub mod basic_auth;
pub mod configuration;
pub mod scheduler;
pub mod tls;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use actix::prelude::*;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpResponse, ResponseError, web};
use kvscheduler::KvError;
use tokio::sync::watch;

use crate::msg::{ConnectionState, ConnectorStateChanged, SourceId};
use crate::scheduler::{SchedulerActor, SchedulerStats};

/// What the handlers need; cheap to clone (one per server worker).
#[derive(Clone, Debug)]
pub struct RestState {
    pub scheduler: Addr<SchedulerActor>,
    pub stats: watch::Receiver<SchedulerStats>,
    pub connectors: watch::Receiver<BTreeMap<SourceId, ConnectionState>>,
    /// VPP's CLI for `/vpp/command` (absent in agents without VPP).
    pub vpp: Option<vpp::ApiHandle>,
    /// Put on downstream resyncs asked with `retry=true`.
    pub retry: kvscheduler::RetryPolicy,
    /// When the process started (probe bodies).
    pub started: std::time::SystemTime,
    /// The stats publisher's latest interface samples (`/metrics`).
    pub interfaces: crate::stats_pub::InterfaceMetrics,
    /// The orchestrator and registry for `/configuration` (absent: 500 there).
    pub configurator: Option<configuration::ConfigClient>,
}

/// A REST error: Ligato's `{"Error":"<msg>"}` with a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(serde_json::json!({ "Error": self.message }))
    }
}

impl From<KvError> for ApiError {
    fn from(e: KvError) -> Self {
        let status = match e {
            KvError::UnknownKeyPrefix(_) | KvError::TxnNotRecorded(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError {
            status,
            message: e.to_string(),
        }
    }
}

impl From<MailboxError> for ApiError {
    fn from(e: MailboxError) -> Self {
        ApiError::internal(format!("scheduler unavailable: {e}"))
    }
}

/// Keeps the latest connection state of every connector (an observer in `AgentSpec`).
#[derive(Debug)]
pub struct ConnectorStates {
    board: watch::Sender<BTreeMap<SourceId, ConnectionState>>,
}

impl ConnectorStates {
    /// The actor's state and the receiver the REST handlers read.
    pub fn new() -> (Self, watch::Receiver<BTreeMap<SourceId, ConnectionState>>) {
        let (board, rx) = watch::channel(BTreeMap::new());
        (ConnectorStates { board }, rx)
    }
}

impl Actor for ConnectorStates {
    type Context = Context<Self>;
}

impl Handler<ConnectorStateChanged> for ConnectorStates {
    type Result = ();

    fn handle(&mut self, msg: ConnectorStateChanged, _ctx: &mut Context<Self>) {
        self.board.send_modify(|b| {
            b.insert(msg.source, msg.state);
        });
    }
}

/// Server settings (from the `http` plugin config).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `host:port`; port 0 picks a free port.
    pub endpoint: String,
    /// `user:password` pairs; empty means no auth.
    pub basic_auth: Vec<String>,
    /// TLS: the server's certificate chain and key (PEM); both empty serves plain HTTP.
    pub server_cert_file: String,
    pub server_key_file: String,
    /// CA certificates (PEM) client certificates must be signed by; empty: no client
    /// certificate is asked for.
    pub client_cert_files: Vec<String>,
}

impl ServerConfig {
    pub fn from_config(cfg: &config::HttpConfig) -> Self {
        ServerConfig {
            endpoint: cfg.endpoint.clone(),
            basic_auth: cfg.client_basic_auth.clone(),
            server_cert_file: cfg.server_cert_file.clone(),
            server_key_file: cfg.server_key_file.clone(),
            client_cert_files: cfg.client_cert_files.clone(),
        }
    }
}

/// Registers every route on `cfg` (also used by in-process tests).
pub fn routes(cfg: &mut web::ServiceConfig) {
    scheduler::routes(cfg);
    agent::routes(cfg);
    configuration::routes(cfg);
    crate::trace::rest::routes(cfg);
}

/// Binds the server and returns it with the bound address; the caller spawns the server
/// future in the actix system (it serves until the system stops).
pub fn bind(cfg: &ServerConfig, state: RestState) -> anyhow::Result<(Server, SocketAddr)> {
    let tls = tls::server_config(cfg)?;
    let auth = basic_auth::Credentials::new(&cfg.basic_auth);
    let server = actix_web::HttpServer::new(move || {
        let auth = auth.clone();
        actix_web::App::new()
            .app_data(web::Data::new(state.clone()))
            .wrap(from_fn(move |req: ServiceRequest, next: Next<_>| {
                let allowed = auth.allows(&req);
                async move { check_auth(allowed, req, next).await }
            }))
            .configure(routes)
    })
    .workers(1)
    .disable_signals();
    let server = match tls {
        Some(tls) => server.bind_rustls_0_23(&cfg.endpoint, tls)?,
        None => server.bind(&cfg.endpoint)?,
    };
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| anyhow::anyhow!("rest server bound no address"))?;
    Ok((server.run(), addr))
}

async fn check_auth(
    allowed: bool,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if allowed {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let resp = HttpResponse::Unauthorized()
        .insert_header(("WWW-Authenticate", "Basic realm=\"vpp-agent\""))
        .json(serde_json::json!({ "Error": "unauthorized" }));
    Ok(req.into_response(resp).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_errors_map_to_ligato_statuses() {
        let not_found = ApiError::from(KvError::UnknownKeyPrefix("x/".to_owned()));
        assert_eq!(not_found.status, StatusCode::NOT_FOUND);
        assert_eq!(
            ApiError::from(KvError::TxnNotRecorded(7)).status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            ApiError::from(MailboxError::Closed).status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    fn state() -> RestState {
        let factory: crate::scheduler::SchedulerFactory = std::sync::Arc::new(|| {
            kvscheduler::Scheduler::new(
                kvscheduler::SchedulerConfig::default(),
                std::sync::Arc::new(kvscheduler::SystemClock),
            )
        });
        let (scheduler, stats) = SchedulerActor::start_with_stats(factory);
        RestState {
            scheduler,
            stats,
            connectors: ConnectorStates::new().1,
            vpp: None,
            retry: kvscheduler::RetryPolicy::default(),
            started: std::time::SystemTime::now(),
            interfaces: crate::stats_pub::no_metrics(),
            configurator: None,
        }
    }

    fn server_config(cert: &str) -> ServerConfig {
        ServerConfig {
            endpoint: "127.0.0.1:0".to_owned(),
            basic_auth: Vec::new(),
            server_cert_file: cert.to_owned(),
            server_key_file: String::new(),
            client_cert_files: Vec::new(),
        }
    }

    #[actix_rt::test]
    async fn a_certificate_without_its_key_is_refused_rather_than_served_plain() {
        let err = bind(&server_config("server.crt"), state())
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("http server-cert-file server.crt is set but server-key-file is not")
        );
    }

    #[actix_rt::test]
    async fn port_zero_binds_a_free_port() {
        let (server, addr) = bind(&server_config(""), state()).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(addr.port(), 0);
        let handle = server.handle();
        let running = actix_rt::spawn(server);
        handle.stop(false).await;
        assert!(running.await.is_ok_and(|r| r.is_ok()));
    }

    #[actix_rt::test]
    async fn a_bare_agent_is_live_but_not_ready() {
        use actix_web::test;
        let app = test::init_service(
            actix_web::App::new()
                .app_data(web::Data::new(state()))
                .configure(routes),
        )
        .await;
        let get = |path: &str| test::TestRequest::get().uri(path).to_request();
        let live = test::call_service(&app, get("/liveness")).await;
        assert_eq!(live.status(), StatusCode::OK);
        let ready = test::call_service(&app, get("/readiness")).await;
        assert_eq!(ready.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let status = test::call_service(&app, get("/scheduler/status")).await;
        assert_eq!(status.status(), StatusCode::OK);
        assert_eq!(&test::read_body(status).await[..], b"[]");
        let cli = test::TestRequest::post()
            .uri("/vpp/command")
            .set_payload(r#"{"vppclicommand":"show version"}"#)
            .to_request();
        let cli = test::call_service(&app, cli).await;
        assert_eq!(cli.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            &test::read_body(cli).await[..],
            br#"{"Error":"no vpp connection in this agent"}"#
        );
    }

    #[actix_rt::test]
    async fn errors_are_ligatos_json_shape() {
        let resp = ApiError::bad_request("missing key parameter").error_response();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let body = actix_web::body::to_bytes(resp.into_body())
            .await
            .unwrap_or_default();
        assert_eq!(&body[..], br#"{"Error":"missing key parameter"}"#);
    }
}
