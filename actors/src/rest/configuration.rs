//! `/configuration`: Ligato's whole-config endpoints, on the same `grpc` source as the gRPC
//! ConfiguratorService (Ligato's REST handlers call the configurator too).
//!
//! | method | query | body | response |
//! |---|---|---|---|
//! | GET | none | none | the NB config as YAML (`vpp_config`, `linux_config`, proto field names) |
//! | PUT | `replace` (present: full resync of the `grpc` source), `dry-run=true\|1` | YAML or JSON of `ligato.configurator.Config` | `{"txn_seq","dry_run","results":[{"key","state","error"}],"ops":[{"operation","key","flags","error"}]}` |
//!
//! Bad input (not YAML/JSON, an unknown model or field, a wrong type, a value without a name)
//! is 400 naming the field, and changes nothing. A failed transaction is 500 naming the failed
//! keys. Ligato answers a successful PUT with `{}`; the fields here are additions.

use std::sync::Arc;

use actix::prelude::*;
use actix_web::{HttpRequest, HttpResponse, web};
use messages::Registry;

use super::{ApiError, RestState};
use crate::grpc::convert;
use crate::grpc::proto::UpdateResponse;
use crate::grpc::service::{ApplyError, Change, apply, failure_message};
use crate::msg::{ClientTxn, DumpView, QueryDump};

/// What `/configuration` needs beyond the scheduler: the orchestrator and the model registry.
#[derive(Clone)]
pub struct ConfigClient {
    pub orchestrator: Recipient<ClientTxn>,
    pub registry: Arc<Registry>,
    /// Keys set by more than one source (`GET /orchestrator/conflicts`).
    pub shared: Recipient<crate::orchestrator::QueryShared>,
}

impl std::fmt::Debug for ConfigClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigClient").finish_non_exhaustive()
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/configuration", web::get().to(get_configuration))
        .route("/configuration", web::put().to(put_configuration))
        .route("/orchestrator/conflicts", web::get().to(get_conflicts));
}

/// `GET /orchestrator/conflicts`: every key that more than one northbound source sets (a
/// store, gRPC, the local client), the source whose value is applied (the most recent change)
/// and whether their values differ. Not in Ligato, whose orchestrator only logs the conflict.
async fn get_conflicts(state: web::Data<RestState>) -> Result<HttpResponse, ApiError> {
    let shared = client(&state)?
        .shared
        .send(crate::orchestrator::QueryShared)
        .await
        .map_err(|e| ApiError::internal(format!("orchestrator unavailable: {e}")))?;
    let body: Vec<serde_json::Value> = shared
        .into_iter()
        .map(|s| {
            serde_json::json!({
                "key": s.key.as_str(),
                "applied_from": s.applied_from.as_str(),
                "sources": s.sources.iter().map(|x| x.as_str()).collect::<Vec<_>>(),
                "values_differ": s.values_differ,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

fn client(state: &RestState) -> Result<&ConfigClient, ApiError> {
    state
        .configurator
        .as_ref()
        .ok_or_else(|| ApiError::internal("no configurator in this agent"))
}

async fn get_configuration(state: web::Data<RestState>) -> Result<HttpResponse, ApiError> {
    let client = client(&state)?;
    let pairs = match state
        .scheduler
        .send(QueryDump {
            key_prefix: String::new(),
            view: DumpView::Nb,
        })
        .await?
    {
        Ok(p) => p,
        Err(kvscheduler::KvError::UnknownKeyPrefix(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let values: Vec<messages::Value> = pairs
        .into_iter()
        .filter_map(|p| p.value.map(|v| v.0))
        .collect();
    let config = convert::values_to_config(&client.registry, &values)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let yaml = convert::config_to_yaml(&client.registry, &config)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/yaml")
        .body(yaml))
}

async fn put_configuration(
    state: web::Data<RestState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let client = client(&state)?;
    let params = super::scheduler::params(&req)?;
    let replace = params.contains_key("replace");
    let dry_run = params
        .get("dry-run")
        .is_some_and(|v| v == "true" || v == "1");
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("config is not valid yaml or json: not utf-8"))?;
    let config = convert::config_from_text(&client.registry, text)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let resp = apply(
        &client.orchestrator,
        &client.registry,
        crate::grpc::SOURCE,
        &config,
        Change::Put { resync: replace },
        dry_run,
    )
    .await
    .map_err(|e| match e {
        ApplyError::Input(e) => ApiError::bad_request(e.to_string()),
        other => ApiError::internal(other.to_string()),
    })?;
    if let Some(msg) = failure_message(&resp) {
        return Err(ApiError::internal(msg));
    }
    Ok(HttpResponse::Ok().json(outcome_json(&resp)))
}

/// The outcome of a transaction as JSON (also used by agentctl for `-o json`).
pub fn outcome_json(resp: &UpdateResponse) -> serde_json::Value {
    serde_json::json!({
        "txn_seq": resp.txn_seq,
        "dry_run": resp.dry_run,
        "results": resp.results.iter().map(|r| serde_json::json!({
            "key": r.key,
            "state": r.state,
            "error": r.error,
        })).collect::<Vec<_>>(),
        "ops": resp.ops.iter().map(|o| serde_json::json!({
            "operation": o.operation,
            "key": o.key,
            "flags": o.flags,
            "error": o.error,
        })).collect::<Vec<_>>(),
    })
}
