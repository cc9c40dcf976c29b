//! Runs the agent process: an actix system with the actors of [`crate::agent`], the stores
//! and scheduler settings from the plugin config files, the transaction log on stdout when
//! `print-txn-summary` is on, and a graceful stop on SIGINT/SIGTERM (the scheduler finishes the
//! transaction in hand, the system then stops every actor).
//!
//! Deliberately not here: command-line parsing ([`crate::startup`]).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, AsyncContext};
use config::AgentConfig;
use kvscheduler::{Descriptor, RetryPolicy, Scheduler, SchedulerConfig, SystemClock};
use messages::MicroserviceLabel;

use crate::agent::{Agent, AgentSpec};
use crate::connector::Backoff;
use crate::msg::SourceId;
use crate::scheduler::SchedulerFactory;

/// The scheduler settings of the `kvscheduler` plugin config.
pub fn scheduler_config(cfg: &AgentConfig) -> SchedulerConfig {
    let k = &cfg.kvscheduler.config;
    SchedulerConfig {
        record_transaction_history: k.record_transaction_history,
        transaction_history_age_limit: Duration::from_secs(
            u64::from(k.transaction_history_age_limit) * 60,
        ),
        enable_txn_simulation: k.enable_txn_simulation,
        print_txn_summary: k.print_txn_summary,
    }
}

/// The retry policy put on store transactions.
pub fn retry_policy(cfg: &AgentConfig) -> RetryPolicy {
    let k = &cfg.kvscheduler.config;
    RetryPolicy {
        period: k.retry_period,
        max_count: k.retry_max_count,
        backoff: k.retry_backoff,
    }
}

/// A scheduler factory with `descriptors` registered and the log going to stdout.
pub fn scheduler_factory(
    cfg: &AgentConfig,
    descriptors: Vec<Arc<dyn Descriptor>>,
) -> SchedulerFactory {
    let sc = scheduler_config(cfg);
    Arc::new(move || {
        let mut s = Scheduler::new(sc.clone(), Arc::new(SystemClock));
        for d in &descriptors {
            // Each dataplane operation gets a `descriptor_op` span in the transaction's trace.
            if let Err(e) = s.register(crate::trace::traced(d.clone())) {
                tracing::error!(error = %e, "Descriptor not registered.");
            }
        }
        s.set_log_sink(Box::new(|text: &str| {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }));
        s
    })
}

/// The binary API client settings from the `govpp` plugin config. Requests wait at least 5 s
/// (Ligato's 1 s `reply-timeout` is too short for large dumps, which are one request here).
pub fn binapi_config(cfg: &AgentConfig) -> binapi::Config {
    let g = &cfg.govpp.config;
    let mut c = binapi::Config::new(g.binapi_socket_path.clone());
    c.request_timeout = g.reply_timeout.max(Duration::from_secs(5));
    c.health_interval =
        (!g.health_check_probe_interval.is_zero()).then_some(g.health_check_probe_interval);
    c.health_timeout = g.health_check_reply_timeout.max(Duration::from_millis(100));
    c
}

/// Runs the agent until SIGINT or SIGTERM: connects to VPP first (retrying until a compatible
/// VPP answers, as Ligato's govppmux does), then starts the actors with the VPP descriptors
/// and `extra` descriptors registered.
pub fn run(
    cfg: AgentConfig,
    extensions: Vec<Box<dyn crate::extension::Extension>>,
) -> anyhow::Result<()> {
    let registry =
        Arc::new(crate::extension::registry_with(&extensions).map_err(anyhow::Error::msg)?);
    let vpp_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("vpp-io")
        .enable_all()
        .build()?;
    let bcfg = binapi_config(&cfg);
    let (client, api) = vpp_rt.block_on(crate::vpp_conn::connect_vpp(
        bcfg.clone(),
        vpp_rt.handle().clone(),
        Duration::from_secs(2),
    ));
    let api = vpp::ApiHandle::new(api);
    let mut descriptors = vpp::descriptors::all(&api);
    let linux = if cfg.linux_ifplugin.config.disabled {
        tracing::info!("The linux interface plugin is disabled.");
        None
    } else {
        let plugin = linux::LinuxPlugin::new(
            linux::Netlink::new(linux::NetlinkConfig::default()),
            cfg.microservice_label.clone(),
        )
        .with_vpp_tap_names(crate::linux_watch::vpp_tap_names());
        descriptors.extend(plugin.descriptors());
        Some(plugin)
    };
    let host = crate::extension::Host {
        label: cfg.microservice_label.clone(),
        vpp: api.clone(),
        linux: linux.as_ref().map(|p| crate::extension::LinuxHost {
            netlink: p.netlink().clone(),
            watched: p.watched_namespaces().clone(),
        }),
    };
    for ext in &extensions {
        let added = ext.descriptors(&host);
        tracing::info!(
            extension = ext.name(),
            descriptors = added.len(),
            "Extension loaded."
        );
        descriptors.extend(added);
    }
    let label = MicroserviceLabel::new(cfg.microservice_label.clone())?;
    let stores = crate::stores::backend_options(&cfg)
        .map_err(anyhow::Error::msg)?
        .into_iter()
        .map(|(s, o)| (SourceId::new(s.name()), o))
        .collect();
    let mut spec = AgentSpec {
        label,
        registry,
        stores,
        scheduler: scheduler_factory(&cfg, descriptors),
        retry: Some(retry_policy(&cfg)),
        backoff: Backoff::default(),
        observers: Vec::new(),
        // Ligato publishes value status only when this env var is non-empty.
        status_publishing: std::env::var("ENABLE_STATUS_PUBLISHING")
            .is_ok_and(|v| !v.is_empty())
            .then_some(Duration::from_millis(200)),
    };
    let system = actix::System::new();
    let vpp_handle = vpp_rt.handle().clone();
    let rest_api = api.clone();
    let stats_api = api.clone();
    let grpc_api = api.clone();
    system.block_on(async move {
        let (states, connectors) = crate::rest::ConnectorStates::new();
        spec.observers.push(states.start().recipient());
        let retry = spec.retry.unwrap_or_default();
        let models = spec.registry.clone();
        let agent = Agent::start(spec);
        let (_stats_publisher, interface_metrics) = start_stats_publisher(&cfg, &agent, stats_api);
        if cfg.grpc_enabled {
            crate::grpc::start_for(&cfg.grpc.config, &agent, models.clone(), Some(grpc_api));
        }
        if cfg.http_enabled() {
            let state = crate::rest::RestState {
                scheduler: agent.scheduler.clone(),
                stats: agent.stats.clone(),
                connectors,
                vpp: Some(rest_api),
                retry,
                started: std::time::SystemTime::now(),
                interfaces: interface_metrics,
                configurator: Some(crate::rest::configuration::ConfigClient {
                    orchestrator: agent.orchestrator.clone().recipient(),
                    registry: models,
                    shared: agent.orchestrator.clone().recipient(),
                }),
            };
            start_rest(
                &crate::rest::ServerConfig::from_config(&cfg.http.config),
                state,
            );
        }
        let _vpp = crate::vpp_conn::VppConnection::new(
            bcfg,
            vpp_handle,
            api,
            client,
            agent.scheduler.clone().recipient(),
        )
        .start();
        // The host watcher stops when dropped: it lives until the agent stops.
        let _linux_watcher =
            linux
                .as_ref()
                .and_then(|plugin| match plugin.watch(Duration::from_secs(1)) {
                    Ok((watcher, events)) => {
                        let stream = tokio_stream_of(events);
                        let scheduler = agent.scheduler.clone().recipient();
                        crate::linux_watch::LinuxWatch::create(move |ctx| {
                            ctx.add_stream(stream);
                            crate::linux_watch::LinuxWatch::new(scheduler)
                        });
                        Some(watcher)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "Linux host watcher not started.");
                        None
                    }
                });
        tracing::info!(?agent, "Agent started.");
        wait_for_signal().await;
        tracing::info!("Stopping: finishing the transaction in hand.");
        // Shutdown is answered after the transaction in hand; later ones are refused, so no
        // transaction is cut short by the exit (the store still holds their changes).
        let _ = agent.scheduler.send(crate::scheduler::Shutdown).await;
    });
    // The VPP runtime is dropped outside any async context (tokio requires it).
    vpp_rt.shutdown_background();
    Ok(())
}

/// Starts the REST server in the current actix system. A server that cannot start (port in
/// use, TLS asked for) is logged as an error and the agent runs on without it: the dataplane
/// matters more than its inspection API.
fn start_rest(cfg: &crate::rest::ServerConfig, state: crate::rest::RestState) {
    match crate::rest::bind(cfg, state) {
        Ok((server, addr)) => {
            tracing::info!(%addr, "REST API listening.");
            actix_rt::spawn(async move {
                if let Err(e) = server.await {
                    tracing::error!(error = %e, "REST server stopped.");
                }
            });
        }
        Err(e) => {
            tracing::error!(endpoint = %cfg.endpoint, error = %e, "REST server not started.");
        }
    }
}

/// Starts the stats publisher unless the telemetry plugin is disabled (or skips interfaces):
/// interface state and counters to the first store every `polling-interval`, and to `/metrics`
/// unless `prometheus-disabled`.
fn start_stats_publisher(
    cfg: &AgentConfig,
    agent: &Agent,
    vpp: vpp::ApiHandle,
) -> (
    Option<actix::Addr<crate::stats_pub::StatsPublisher>>,
    crate::stats_pub::InterfaceMetrics,
) {
    let t = &cfg.telemetry.config;
    let skipped = t.skipped.contains(&config::TelemetryMetric::Interfaces);
    let label = MicroserviceLabel::new(cfg.microservice_label.clone());
    let (false, false, Ok(label)) = (t.disabled, skipped, label) else {
        tracing::info!("Interface stats are not polled (telemetry disabled).");
        return (None, crate::stats_pub::no_metrics());
    };
    let (publisher, view) =
        crate::stats_pub::StatsPublisher::new(crate::stats_pub::StatsPublisherConfig {
            label,
            period: t.publish_period(),
            stats_socket: cfg.govpp.config.stats_socket_path.clone().into(),
            vpp: Some(vpp),
            to: publish_to(cfg, agent),
        });
    let addr = publisher.start();
    let view = if t.prometheus_disabled {
        crate::stats_pub::no_metrics()
    } else {
        view
    };
    (Some(addr), view)
}

/// The store interface state goes to: the first of vpp-ifplugin's `status-publishers` the agent
/// has, or (none listed, our default where Ligato publishes nothing) the first store.
fn publish_to(cfg: &AgentConfig, agent: &Agent) -> Option<actix::Recipient<crate::msg::WriteKeys>> {
    let publishers = &cfg.vpp_ifplugin.config.status_publishers;
    let name = |p: &config::StatusPublisher| match p {
        config::StatusPublisher::Etcd => "etcd",
        config::StatusPublisher::Redis => "redis",
        config::StatusPublisher::Consul => "consul",
    };
    agent
        .connectors
        .iter()
        .find(|(source, _)| {
            publishers.is_empty() || publishers.iter().any(|p| name(p) == source.as_str())
        })
        .map(|(_, a)| a.clone().recipient())
}

fn tokio_stream_of<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<T>,
) -> impl futures::Stream<Item = T> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
