//! The ConfiguratorService handlers, and [`apply`]: a Config applied (or deleted, or planned)
//! as one [`ClientTxn`] of a source, answered with the transaction's outcome. `apply` is
//! shared with `PUT /configuration`.

use std::pin::Pin;

use actix::prelude::*;
use futures::Stream;
use kvscheduler::{KvError, TxnReport};
use messages::{Key, Registry, Value};
use tonic::{Code, Request, Response, Status};

use super::convert::{self, ConfigError};
use super::proto::configurator_service_server::ConfiguratorService;
use super::proto::{
    Config, DeleteRequest, DeleteResponse, DumpRequest, DumpResponse, GetRequest, GetResponse,
    ItemResult, NotifyRequest, NotifyResponse, TxnOp, UpdateRequest, UpdateResponse,
};
use super::{DRY_RUN_HEADER, GrpcState, SOURCE};
use crate::msg::{ClientTxn, DumpView, QueryDump, QueryValueStatus, SourceId};

/// Put or delete the values of a Config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Puts; with `resync`, the source's whole share becomes these values.
    Put {
        resync: bool,
    },
    Delete,
}

/// Why [`apply`] did not produce an outcome.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Input(#[from] ConfigError),
    #[error("orchestrator unavailable: {0}")]
    Mailbox(#[from] MailboxError),
    #[error("transaction not run: {0}")]
    Txn(#[from] KvError),
}

impl From<ApplyError> for Status {
    fn from(e: ApplyError) -> Self {
        let code = match &e {
            ApplyError::Input(_) => Code::InvalidArgument,
            ApplyError::Mailbox(_) => Code::Unavailable,
            ApplyError::Txn(k) if k.is_retriable() => Code::Unavailable,
            ApplyError::Txn(_) => Code::Internal,
        };
        Status::new(code, e.to_string())
    }
}

/// Applies `config` as one transaction of `source`: its values are decoded and keyed first,
/// so bad input is an error and changes nothing.
pub async fn apply(
    orchestrator: &Recipient<ClientTxn>,
    registry: &Registry,
    source: &str,
    config: &Config,
    change: Change,
    dry_run: bool,
) -> Result<UpdateResponse, ApplyError> {
    let values = convert::config_to_values(registry, config)?;
    let keys: Vec<Key> = values.iter().map(|(k, _)| k.clone()).collect();
    let (resync, changes): (bool, Vec<(Key, Option<Value>)>) = match change {
        Change::Put { resync } => (
            resync,
            values.into_iter().map(|(k, v)| (k, Some(v))).collect(),
        ),
        Change::Delete => (false, values.into_iter().map(|(k, _)| (k, None)).collect()),
    };
    let span = tracing::info_span!("client_txn", connector = source, dry_run);
    let report = orchestrator
        .send(ClientTxn {
            source: SourceId::new(source),
            resync,
            changes,
            dry_run,
            span,
        })
        .await??;
    Ok(outcome(&report, &keys))
}

/// The response fields of a transaction report, a result per requested key.
pub fn outcome(report: &TxnReport, keys: &[Key]) -> UpdateResponse {
    let ops = report.ops();
    let results = keys
        .iter()
        .map(|key| {
            let failed = report.failed.iter().find(|f| f.key == *key);
            let last = ops.iter().rev().find(|o| o.key == *key && !o.is_derived);
            // A failed operation is in `failed`; an invalid value only has its error on its
            // operation (it never reaches the dataplane).
            let error = failed
                .map(|f| f.error.clone())
                .or_else(|| last.and_then(|o| o.new_err.clone()))
                .unwrap_or_default();
            ItemResult {
                key: key.as_str().to_owned(),
                state: last
                    .map(|o| o.new_state.as_str_name().to_owned())
                    .unwrap_or_default(),
                error,
                retriable: failed.is_some_and(|f| f.retriable),
            }
        })
        .collect();
    UpdateResponse {
        txn_seq: if report.dry_run { 0 } else { report.seq_num },
        results,
        dry_run: report.dry_run,
        ops: ops
            .iter()
            .map(|o| TxnOp {
                operation: o.operation.as_str_name().to_owned(),
                key: o.key.as_str().to_owned(),
                flags: o.flags().into_iter().map(str::to_owned).collect(),
                error: o.new_err.clone().unwrap_or_default(),
            })
            .collect(),
    }
}

/// The failures of an outcome as one line naming each failed key, or `None`.
pub fn failure_message(resp: &UpdateResponse) -> Option<String> {
    let failed: Vec<String> = resp
        .results
        .iter()
        .filter(|r| !r.error.is_empty())
        .map(|r| format!("{}: {}", r.key, r.error))
        .collect();
    (!failed.is_empty()).then(|| {
        format!(
            "transaction #{} failed: {}",
            resp.txn_seq,
            failed.join("; ")
        )
    })
}

/// A failed transaction as a status: `ABORTED` naming the keys, the response as details.
fn failed_status(resp: &UpdateResponse) -> Option<Status> {
    failure_message(resp).map(|msg| {
        Status::with_details(
            Code::Aborted,
            msg,
            prost::Message::encode_to_vec(resp).into(),
        )
    })
}

/// Whether the request asks for a dry run (metadata `x-dry-run: true` or `1`).
fn dry_run<T>(req: &Request<T>) -> bool {
    req.metadata()
        .get(DRY_RUN_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// The service implementation.
#[derive(Debug, Clone)]
pub struct Configurator {
    state: GrpcState,
}

impl Configurator {
    pub fn new(state: GrpcState) -> Self {
        Configurator { state }
    }

    /// Waits until no requested value is PENDING, updating the results' states (`wait_done`).
    async fn wait_done(&self, resp: &mut UpdateResponse) -> Result<(), Status> {
        let pending = kvscheduler::ValueState::Pending.as_str_name();
        let mut stats = self.state.stats.clone();
        loop {
            // Marks the current stats as seen: a transaction from here on wakes us.
            stats.borrow_and_update();
            let mut waiting = false;
            // Untouched values (empty state: the transaction did not change them) may be
            // pending from before.
            for r in resp
                .results
                .iter_mut()
                .filter(|r| r.state == pending || r.state.is_empty())
            {
                let status = self
                    .state
                    .status
                    .send(QueryValueStatus {
                        key: Key::from(r.key.clone()),
                    })
                    .await
                    .map_err(|e| Status::unavailable(format!("scheduler unavailable: {e}")))?;
                r.state = status.value.state.as_str_name().to_owned();
                r.error = status.value.error.clone();
                waiting |= r.state == pending;
            }
            if !waiting {
                return Ok(());
            }
            stats
                .changed()
                .await
                .map_err(|_| Status::unavailable("the scheduler stopped"))?;
        }
    }

    async fn config_of(&self, view: DumpView) -> Result<Config, Status> {
        let pairs = match self
            .state
            .scheduler
            .send(QueryDump {
                key_prefix: String::new(),
                view,
            })
            .await
            .map_err(|e| Status::unavailable(format!("scheduler unavailable: {e}")))?
        {
            Ok(pairs) => pairs,
            Err(KvError::UnknownKeyPrefix(_)) => Vec::new(),
            Err(e) => return Err(Status::internal(e.to_string())),
        };
        let values: Vec<Value> = pairs
            .into_iter()
            .filter_map(|p| p.value.map(|v| v.0))
            .collect();
        convert::values_to_config(&self.state.registry, &values)
            .map_err(|e| Status::internal(e.to_string()))
    }
}

type NotifyStream = Pin<Box<dyn Stream<Item = Result<NotifyResponse, Status>> + Send>>;

#[tonic::async_trait]
impl ConfiguratorService for Configurator {
    async fn get(&self, _req: Request<GetRequest>) -> Result<Response<GetResponse>, Status> {
        let config = self.config_of(DumpView::Nb).await?;
        Ok(Response::new(GetResponse {
            config: Some(config),
        }))
    }

    async fn update(
        &self,
        req: Request<UpdateRequest>,
    ) -> Result<Response<UpdateResponse>, Status> {
        let dry = dry_run(&req);
        let req = req.into_inner();
        let config = req.update.unwrap_or_default();
        let mut resp = apply(
            &self.state.orchestrator,
            &self.state.registry,
            SOURCE,
            &config,
            Change::Put {
                resync: req.full_resync,
            },
            dry,
        )
        .await?;
        if req.wait_done && !dry {
            self.wait_done(&mut resp).await?;
        }
        match failed_status(&resp) {
            Some(status) => Err(status),
            None => Ok(Response::new(resp)),
        }
    }

    async fn delete(
        &self,
        req: Request<DeleteRequest>,
    ) -> Result<Response<DeleteResponse>, Status> {
        let dry = dry_run(&req);
        let req = req.into_inner();
        let config = req.delete.unwrap_or_default();
        let mut resp = apply(
            &self.state.orchestrator,
            &self.state.registry,
            SOURCE,
            &config,
            Change::Delete,
            dry,
        )
        .await?;
        if req.wait_done && !dry {
            self.wait_done(&mut resp).await?;
        }
        if let Some(status) = failed_status(&resp) {
            return Err(status);
        }
        Ok(Response::new(DeleteResponse {
            txn_seq: resp.txn_seq,
            results: resp.results,
            dry_run: resp.dry_run,
            ops: resp.ops,
        }))
    }

    async fn dump(&self, _req: Request<DumpRequest>) -> Result<Response<DumpResponse>, Status> {
        let config = self.config_of(DumpView::Sb).await?;
        Ok(Response::new(DumpResponse { dump: Some(config) }))
    }

    type NotifyStream = NotifyStream;

    async fn notify(
        &self,
        req: Request<NotifyRequest>,
    ) -> Result<Response<Self::NotifyStream>, Status> {
        let req = req.into_inner();
        let stream = self.state.notifications.stream(req.idx, req.filters);
        Ok(Response::new(Box::pin(stream)))
    }
}
