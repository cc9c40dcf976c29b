//! `GET /scheduler/txn-trace?seq-num=N`: the trace of a recent transaction as a span tree
//! (`{"name","fields","start_us","duration_us","children"}`), from the in-memory
//! [`TraceStore`]. 404 when the transaction's trace is not kept (too old, not finished yet,
//! or the store is off), 400 for a missing or non-numeric `seq-num`.
//!
//! Deliberately not here: search by key or time (the transaction history has that).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::TraceStore;
use crate::rest::ApiError;

/// Registers the route (called from `crate::rest::routes`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/scheduler/txn-trace", web::get().to(txn_trace));
}

async fn txn_trace(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|e| ApiError::bad_request(format!("malformed query: {e}")))?;
    let seq = match p.iter().rev().find(|(k, _)| k == "seq-num").map(|(_, v)| v) {
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| ApiError::bad_request(format!("invalid seq-num {v:?}: not a number")))?,
        None => return Err(ApiError::bad_request("missing seq-num parameter")),
    };
    let trace = TraceStore::global().and_then(|s| s.by_txn_seq(seq));
    match trace {
        Some(t) => Ok(HttpResponse::Ok().json(&*t)),
        None => Err(ApiError {
            status: StatusCode::NOT_FOUND,
            message: format!("no trace kept for transaction {seq}"),
        }),
    }
}
