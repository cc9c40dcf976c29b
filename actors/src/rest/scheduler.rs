//! `/scheduler/...`: Ligato's kvscheduler REST endpoints (`plugins/kvscheduler/rest.go`), each
//! a message to the scheduler actor.
//!
//! | path | query | response |
//! |---|---|---|
//! | GET `txn-history` | `seq-num`, `since`, `until` (Unix ns), `format=json\|text` | `[RecordedTxn]`, one `RecordedTxn` with `seq-num` (404 if not recorded), or the text log |
//! | GET `key-timeline` | `key` (required), `time` (Unix ns) | `[RecordedNode]`; with `time` the one valid then, or `null` |
//! | GET `graph-snapshot` | `format=json\|dot` | `[RecordedNode]`, or Graphviz dot |
//! | GET `flag-stats` | `flag` (required), `prefix` (repeatable) | `{"TotalCount":n,"PerValueCount":{"<value>":n}}` over the current graph |
//! | GET `status` | `key`, `descriptor` or `key-prefix` | one `BaseValueStatus`, or an array sorted by key (404 for an unknown prefix or descriptor) |
//! | GET `dump` | `descriptor` or `key-prefix`, `view=NB\|SB\|cached` (default SB) | `[{"Key","Value","Origin"}]`; with neither, the index `{"Descriptors","KeyPrefixes","Views"}` |
//! | POST `downstream-resync` | `retry`, `verbose` (`true` or `1`) | the `RecordedTxn` of the resync |
//!
//! Dump views: `NB` is the desired values, `SB` and `cached` the values the scheduler believes
//! are applied (Ligato's `SB` asks the descriptors to retrieve the dataplane; here it does not,
//! so it equals `cached`). `Origin` is always 1 (from-NB) and `Metadata` is not included.
//!
//! `flag-stats` counts the values of the current graph (Ligato counts every recorded revision
//! of each value).
//!
//! Deliberately not here: past graph snapshots (`time`), `/scheduler/graph` and
//! `/scheduler/stats`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::{HttpRequest, HttpResponse, web};
use kvscheduler::Txn;
use messages::Key;

use super::{ApiError, RestState};
use crate::msg::{
    ApplyTxn, DumpView, Graph, History, QueryDescriptors, QueryDump, QueryGraph, QueryHistory,
    QueryStatus, QueryTimeline, QueryValueStatus,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/scheduler/txn-history", web::get().to(txn_history))
        .route("/scheduler/key-timeline", web::get().to(key_timeline))
        .route("/scheduler/graph-snapshot", web::get().to(graph_snapshot))
        .route("/scheduler/flag-stats", web::get().to(flag_stats))
        .route("/scheduler/status", web::get().to(status))
        .route("/scheduler/dump", web::get().to(dump))
        .route(
            "/scheduler/downstream-resync",
            web::post().to(downstream_resync),
        );
}

/// The query parameters (the last one wins when repeated).
pub(super) fn params(req: &HttpRequest) -> Result<BTreeMap<String, String>, ApiError> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(|q| q.into_inner().into_iter().collect())
        .map_err(|e| ApiError::bad_request(format!("malformed query: {e}")))
}

/// A Unix time in nanoseconds (Ligato's time parameters).
fn unix_nanos(
    params: &BTreeMap<String, String>,
    name: &str,
) -> Result<Option<SystemTime>, ApiError> {
    params
        .get(name)
        .map(|v| {
            v.parse::<u64>()
                .map(|ns| UNIX_EPOCH + Duration::from_nanos(ns))
                .map_err(|_| {
                    ApiError::bad_request(format!(
                        "invalid {name} {v:?}: not a unix time in nanoseconds"
                    ))
                })
        })
        .transpose()
}

fn flag(params: &BTreeMap<String, String>, name: &str) -> bool {
    params.get(name).is_some_and(|v| v == "true" || v == "1")
}

fn json<T: serde::Serialize>(value: &T) -> HttpResponse {
    HttpResponse::Ok().json(value)
}

async fn txn_history(
    req: HttpRequest,
    state: web::Data<RestState>,
) -> Result<HttpResponse, ApiError> {
    let p = params(&req)?;
    let text = match p.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("text") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid format {other:?}: expected json or text"
            )));
        }
    };
    let seq_num = p
        .get("seq-num")
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid seq-num {v:?}: not a number")))
        })
        .transpose()?;
    let query = QueryHistory {
        seq_num,
        since: unix_nanos(&p, "since")?,
        until: unix_nanos(&p, "until")?,
        text,
    };
    Ok(match state.scheduler.send(query).await?? {
        History::One(t) => json(&*t),
        History::Many(ts) => json(&ts.iter().map(|t| &**t).collect::<Vec<_>>()),
        History::Text(s) => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(s),
    })
}

fn required_key(p: &BTreeMap<String, String>) -> Result<Key, ApiError> {
    match p.get("key") {
        Some(k) if !k.is_empty() => Ok(Key::from(k.as_str())),
        _ => Err(ApiError::bad_request("missing key parameter")),
    }
}

async fn key_timeline(
    req: HttpRequest,
    state: web::Data<RestState>,
) -> Result<HttpResponse, ApiError> {
    let p = params(&req)?;
    let key = required_key(&p)?;
    let time = unix_nanos(&p, "time")?;
    let timeline = state.scheduler.send(QueryTimeline { key }).await?;
    Ok(match time {
        None => json(&timeline),
        Some(t) => json(
            &timeline
                .iter()
                .find(|n| n.since <= t && n.until.is_none_or(|u| t < u)),
        ),
    })
}

async fn graph_snapshot(
    req: HttpRequest,
    state: web::Data<RestState>,
) -> Result<HttpResponse, ApiError> {
    let p = params(&req)?;
    if p.contains_key("time") {
        return Err(ApiError::bad_request(
            "time is not supported: only the current graph is kept",
        ));
    }
    let dot = match p.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("dot") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid format {other:?}: expected json or dot"
            )));
        }
    };
    Ok(match state.scheduler.send(QueryGraph { dot }).await? {
        Graph::Nodes(nodes) => json(&nodes),
        Graph::Dot(text) => HttpResponse::Ok()
            .content_type("text/vnd.graphviz; charset=utf-8")
            .body(text),
    })
}

async fn flag_stats(
    req: HttpRequest,
    state: web::Data<RestState>,
) -> Result<HttpResponse, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|e| ApiError::bad_request(format!("malformed query: {e}")))?
        .into_inner();
    let flag = match pairs.iter().rev().find(|(k, _)| k == "flag") {
        Some((_, f)) if !f.is_empty() => f.clone(),
        _ => return Err(ApiError::bad_request("missing flag parameter")),
    };
    let prefixes: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "prefix")
        .map(|(_, v)| v.as_str())
        .collect();
    let Graph::Nodes(nodes) = state.scheduler.send(QueryGraph { dot: false }).await? else {
        return Err(ApiError::internal(
            "scheduler answered dot for a json graph",
        ));
    };
    let mut total = 0u64;
    let mut per_value: BTreeMap<String, u64> = BTreeMap::new();
    for n in &nodes {
        let key = n.key.as_str();
        if !prefixes.is_empty() && !prefixes.iter().any(|p| key.starts_with(p)) {
            continue;
        }
        if let Some(v) = n.flags.get(flag.as_str()) {
            total += 1;
            *per_value.entry(v.clone()).or_default() += 1;
        }
    }
    Ok(json(&serde_json::json!({
        "TotalCount": total,
        "PerValueCount": per_value,
    })))
}

/// The key prefix named by `key-prefix`, or by `descriptor` (its NB key prefix).
async fn key_prefix(
    p: &BTreeMap<String, String>,
    state: &RestState,
) -> Result<Option<String>, ApiError> {
    if let Some(name) = p.get("descriptor") {
        let descriptors = state.scheduler.send(QueryDescriptors).await?;
        return match descriptors.into_iter().find(|(n, _)| n == name) {
            Some((_, Some(prefix))) => Ok(Some(prefix)),
            Some((_, None)) => Err(ApiError::bad_request(format!(
                "descriptor {name} has no northbound key prefix"
            ))),
            None => Err(ApiError {
                status: actix_web::http::StatusCode::NOT_FOUND,
                message: format!("unknown descriptor {name}"),
            }),
        };
    }
    Ok(p.get("key-prefix").cloned())
}

async fn status(req: HttpRequest, state: web::Data<RestState>) -> Result<HttpResponse, ApiError> {
    let p = params(&req)?;
    if let Some(key) = p.get("key") {
        let key = Key::from(key.as_str());
        return Ok(json(&state.scheduler.send(QueryValueStatus { key }).await?));
    }
    let key_prefix = key_prefix(&p, &state).await?.unwrap_or_default();
    Ok(json(
        &state.scheduler.send(QueryStatus { key_prefix }).await??,
    ))
}

async fn dump(req: HttpRequest, state: web::Data<RestState>) -> Result<HttpResponse, ApiError> {
    let p = params(&req)?;
    let key_prefix = match key_prefix(&p, &state).await? {
        Some(k) if !k.is_empty() => k,
        Some(_) => return Err(ApiError::bad_request("empty key-prefix parameter")),
        None => {
            let descriptors = state.scheduler.send(QueryDescriptors).await?;
            let (names, prefixes): (Vec<String>, Vec<Option<String>>) =
                descriptors.into_iter().unzip();
            return Ok(json(&serde_json::json!({
                "Descriptors": names,
                "KeyPrefixes": prefixes.into_iter().flatten().collect::<Vec<_>>(),
                "Views": ["SB", "NB", "cached"],
            })));
        }
    };
    let view = match p.get("view").map(String::as_str) {
        None | Some("SB") => DumpView::Sb,
        Some("NB") => DumpView::Nb,
        Some("cached") => DumpView::Cached,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid view {other:?}: expected NB, SB or cached"
            )));
        }
    };
    Ok(json(
        &state
            .scheduler
            .send(QueryDump { key_prefix, view })
            .await??,
    ))
}

async fn downstream_resync(
    req: HttpRequest,
    state: web::Data<RestState>,
) -> Result<HttpResponse, ApiError> {
    let p = params(&req)?;
    let mut txn = Txn::downstream_resync().describe("downstream resync over rest");
    if flag(&p, "retry") {
        txn = txn.with_retry(state.retry);
    }
    let apply = ApplyTxn {
        txn,
        span: tracing::info_span!("rest_downstream_resync", verbose = flag(&p, "verbose")),
    };
    let report = state.scheduler.send(apply).await??;
    Ok(json(&*report.record))
}
