//! Agent-wide endpoints: `/info/version`, `/liveness`, `/readiness`, `/metrics` (Prometheus
//! text format, written by hand) and POST `/vpp/command`.
//!
//! Liveness, readiness and metrics read `watch` snapshots, so a slow VPP or store (which holds
//! the scheduler thread) never delays them. `/vpp/command` runs `cli_inband` on a thread of its
//! own.
//!
//! Metrics:
//!
//! | name | type | labels |
//! |---|---|---|
//! | `vpp_agent_transactions_total` | counter | |
//! | `vpp_agent_operations_total` | counter | `operation` (CREATE, UPDATE, DELETE), `outcome` (ok, error) |
//! | `vpp_agent_pending_values` | gauge | |
//! | `vpp_agent_failed_values` | gauge | |
//! | `vpp_agent_connector_up` | gauge | `connector` (1 connected, 0 otherwise) |
//! | `vpp_agent_ready` | gauge | (1 once the first resync is applied) |
//! | `vpp_interface_{rx,tx}_{packets,bytes}_total`, `vpp_interface_{drops,punts,ip4_packets,ip6_packets,rx_no_buf,rx_miss,rx_errors,tx_errors}_total` | counter | `interface`, `internal_name`, `sw_if_index` (from the stats publisher) |
//! | `vpp_interface_admin_up`, `vpp_interface_link_up` | gauge | same |
//!
//! Deliberately not here: VPP request latency, cn-infra's `service_health` family, `/log/...`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{ApiError, RestState};
use crate::msg::{ConnectionState, SourceId};
use crate::scheduler::SchedulerStats;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/info/version", web::get().to(version))
        .route("/liveness", web::get().to(liveness))
        .route("/readiness", web::get().to(readiness))
        .route("/metrics", web::get().to(metrics))
        .route("/vpp/command", web::post().to(vpp_command));
}

async fn version() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "App": "vpp-agent",
        "Version": env!("CARGO_PKG_VERSION"),
        "GitCommit": option_env!("VPP_AGENT_GIT_COMMIT").unwrap_or(""),
        "GitBranch": "",
        "BuildUser": "",
        "BuildHost": "",
        "BuildTime": 0,
        "GoVersion": "",
        "OS": std::env::consts::OS,
        "Arch": std::env::consts::ARCH,
    }))
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// cn-infra's probe body; `state` 0 INIT, 1 OK.
fn probe_body(state: &RestState, ok: bool) -> serde_json::Value {
    serde_json::json!({
        "build_version": env!("CARGO_PKG_VERSION"),
        "build_date": "",
        "state": u8::from(ok),
        "start_time": unix_secs(state.started),
        "last_change": unix_secs(state.started),
        "last_update": unix_secs(SystemTime::now()),
        "commit_hash": option_env!("VPP_AGENT_GIT_COMMIT").unwrap_or(""),
    })
}

/// 200 while the process serves requests.
async fn liveness(state: web::Data<RestState>) -> HttpResponse {
    let ready = state.stats.borrow().resynced;
    HttpResponse::Ok().json(probe_body(&state, ready))
}

/// 200 once the first full resync has been applied, 500 before (as cn-infra's INIT state).
async fn readiness(state: web::Data<RestState>) -> HttpResponse {
    let ready = state.stats.borrow().resynced;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    HttpResponse::build(status).json(probe_body(&state, ready))
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The metrics in Prometheus text format 0.0.4.
pub fn render_metrics(
    stats: &SchedulerStats,
    connectors: &BTreeMap<SourceId, ConnectionState>,
) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "vpp_agent_transactions_total",
        "counter",
        "Transactions run by the scheduler.",
    );
    let _ = writeln!(out, "vpp_agent_transactions_total {}", stats.transactions);
    family(
        &mut out,
        "vpp_agent_operations_total",
        "counter",
        "Executed operations by kind and outcome.",
    );
    for ((op, outcome), n) in &stats.operations {
        let _ = writeln!(
            out,
            "vpp_agent_operations_total{{operation=\"{op}\",outcome=\"{outcome}\"}} {n}"
        );
    }
    family(
        &mut out,
        "vpp_agent_pending_values",
        "gauge",
        "Values waiting for their dependencies.",
    );
    let _ = writeln!(out, "vpp_agent_pending_values {}", stats.pending_values);
    family(
        &mut out,
        "vpp_agent_failed_values",
        "gauge",
        "Values whose last operation failed (retrying or not).",
    );
    let _ = writeln!(out, "vpp_agent_failed_values {}", stats.failed_values);
    family(
        &mut out,
        "vpp_agent_connector_up",
        "gauge",
        "Whether a store connector is connected.",
    );
    for (source, st) in connectors {
        let up = u8::from(*st == ConnectionState::Connected);
        let _ = writeln!(
            out,
            "vpp_agent_connector_up{{connector=\"{}\"}} {up}",
            escape_label(source.as_str())
        );
    }
    family(
        &mut out,
        "vpp_agent_ready",
        "gauge",
        "Whether the first resync has been applied.",
    );
    let _ = writeln!(out, "vpp_agent_ready {}", u8::from(stats.resynced));
    out
}

async fn metrics(state: web::Data<RestState>) -> HttpResponse {
    let mut text = render_metrics(
        &state.stats.borrow().clone(),
        &state.connectors.borrow().clone(),
    );
    let interfaces = state.interfaces.borrow().clone();
    crate::stats_pub::render_metrics(&interfaces, &mut text);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}

#[derive(Deserialize)]
struct CliRequest {
    #[serde(default)]
    vppclicommand: String,
}

/// Ligato's (govppmux) answer to a missing command: a JSON string.
const MISSING_COMMAND: &str = "400 Bad request: vppclicommand parameter missing or empty\n";

async fn vpp_command(
    body: web::Bytes,
    state: web::Data<RestState>,
) -> Result<HttpResponse, ApiError> {
    let cmd = serde_json::from_slice::<CliRequest>(&body)
        .map(|r| r.vppclicommand)
        .unwrap_or_default();
    if cmd.trim().is_empty() {
        return Ok(HttpResponse::BadRequest().json(MISSING_COMMAND));
    }
    let Some(vpp) = state.vpp.clone() else {
        return Err(ApiError::internal("no vpp connection in this agent"));
    };
    // The binapi client blocks on its own runtime and refuses to from inside another one (as
    // actix's blocking pool is), so the request runs on a plain thread of its own.
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("vpp-cli".to_owned())
        .spawn(move || {
            let _ = tx.send(vpp.get().cli_inband(&cmd));
        })
        .map_err(|e| ApiError::internal(format!("vpp cli thread not started: {e}")))?;
    let output = rx
        .await
        .map_err(|e| ApiError::internal(format!("vpp cli thread failed: {e}")))?
        .map_err(|e| ApiError::internal(format!("vpp cli request failed: {e}")))?;
    Ok(HttpResponse::Ok().json(output))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_have_a_type_per_family_and_escaped_labels() {
        let mut stats = SchedulerStats {
            transactions: 3,
            pending_values: 1,
            failed_values: 2,
            resynced: true,
            ..SchedulerStats::default()
        };
        stats.operations.insert(("CREATE", "ok"), 4);
        stats.operations.insert(("DELETE", "error"), 1);
        let connectors = BTreeMap::from([
            (SourceId::new("etcd"), ConnectionState::Connected),
            (
                SourceId::new("odd\"name"),
                ConnectionState::Disconnected {
                    error: "down".to_owned(),
                    retry_in_ms: 10,
                },
            ),
        ]);
        let text = render_metrics(&stats, &connectors);
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            samples,
            [
                "vpp_agent_transactions_total 3",
                r#"vpp_agent_operations_total{operation="CREATE",outcome="ok"} 4"#,
                r#"vpp_agent_operations_total{operation="DELETE",outcome="error"} 1"#,
                "vpp_agent_pending_values 1",
                "vpp_agent_failed_values 2",
                r#"vpp_agent_connector_up{connector="etcd"} 1"#,
                r#"vpp_agent_connector_up{connector="odd\"name"} 0"#,
                "vpp_agent_ready 1",
            ]
        );
        for family in samples
            .iter()
            .map(|s| s.split([' ', '{']).next().unwrap_or(""))
        {
            assert!(text.contains(&format!("# TYPE {family} ")), "{family}");
        }
    }
}
