//! Runs the agent process: an actix system with the actors of [`crate::agent`], the stores
//! and scheduler settings from the plugin config files, the transaction log on stdout when
//! `print-txn-summary` is on, and a graceful stop on SIGINT/SIGTERM (the scheduler finishes the
//! transaction in hand, the system then stops every actor).
//!
//! Deliberately not here: command-line parsing ([`crate::startup`]).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use config::AgentConfig;
use kvscheduler::{Descriptor, RetryPolicy, Scheduler, SchedulerConfig, SystemClock};
use messages::{MicroserviceLabel, Registry};

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
            if let Err(e) = s.register(d.clone()) {
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

/// Runs the agent until SIGINT or SIGTERM.
pub fn run(cfg: AgentConfig, descriptors: Vec<Arc<dyn Descriptor>>) -> anyhow::Result<()> {
    let label = MicroserviceLabel::new(cfg.microservice_label.clone())?;
    let stores = crate::stores::backend_options(&cfg)
        .map_err(anyhow::Error::msg)?
        .into_iter()
        .map(|(s, o)| (SourceId::new(s.name()), o))
        .collect();
    let spec = AgentSpec {
        label,
        registry: Arc::new(Registry::builtin()),
        stores,
        scheduler: scheduler_factory(&cfg, descriptors),
        retry: Some(retry_policy(&cfg)),
        backoff: Backoff::default(),
        observers: Vec::new(),
    };
    let system = actix::System::new();
    system.block_on(async move {
        let agent = Agent::start(spec);
        tracing::info!(?agent, "Agent started.");
        wait_for_signal().await;
        tracing::info!("Stopping: finishing the transaction in hand.");
        // A status query waits behind any transaction in the scheduler's mailbox.
        let _ = agent
            .scheduler
            .send(crate::msg::QueryStatus {
                key_prefix: String::new(),
            })
            .await;
    });
    Ok(())
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
