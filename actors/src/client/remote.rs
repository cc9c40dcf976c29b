//! The remote client: writes the agent's config to a KV store under `/vnf-agent/<label>/`,
//! where the agent's connector picks it up, as Ligato's remote client does.
//!
//! A request is one [`KvBackend::write_batch`]: one store transaction on etcd, Redis and the
//! embedded store, sequential writes on Consul and fileDB. A resync reads the label's config
//! keys (keys of a registered model; status keys and other data stay) and writes, in the same
//! batch, deletes of those not in the new set and puts of the new set. The read and the write
//! are not one transaction: a concurrent writer of the same label can interleave.
//!
//! The report is what the store can say: the keys written and the store revision (etcd and
//! embedded; see [`connectors::BatchWritten`]). Whether the agent applied them is the agent's
//! business: its REST `/scheduler/status?key=...` tells (the example and the tests poll it).

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;
use connectors::{BatchOp, KvBackend};
use messages::{Key, MicroserviceLabel, Registry};

use super::{Changes, Client, ClientError};

/// What the store says about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteReport {
    /// Planned only; nothing was written.
    pub dry_run: bool,
    /// The store writes, in order (full store keys).
    pub ops: Vec<BatchOp>,
    /// The store revision of the commit, where the store has one (etcd, embedded).
    pub revision: Option<u64>,
    /// True when the writes were one store transaction.
    pub atomic: bool,
}

impl RemoteReport {
    /// `PUT key` / `DELETE key` per write, for logs and tests.
    pub fn brief(&self) -> Vec<String> {
        self.ops
            .iter()
            .map(|op| match op {
                BatchOp::Put { key, .. } => format!("PUT {key}"),
                BatchOp::Delete { key } => format!("DELETE {key}"),
            })
            .collect()
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct RemoteClient<B: KvBackend> {
    backend: B,
    label: MicroserviceLabel,
    registry: Arc<Registry>,
}

impl<B: KvBackend> RemoteClient<B> {
    /// A client writing for the agent `label` through `backend`, with the built-in models.
    pub fn new(backend: B, label: MicroserviceLabel) -> Self {
        RemoteClient {
            backend,
            label,
            registry: Arc::new(Registry::builtin()),
        }
    }

    /// Uses another registry (extra models).
    pub fn registry_from(mut self, registry: Arc<Registry>) -> Self {
        self.registry = registry;
        self
    }

    /// The store connection.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    fn put_op(&self, key: &Key, value: &messages::Value) -> Result<BatchOp, ClientError> {
        let json = self
            .registry
            .encode_json(&**value)
            .map_err(|source| ClientError::Encode {
                key: key.clone(),
                source: Box::new(source),
            })?;
        Ok(BatchOp::Put {
            key: self.label.add_prefix(key),
            value: Bytes::from(json),
        })
    }

    /// The store writes of a request.
    async fn plan(&self, resync: bool, changes: &Changes) -> Result<Vec<BatchOp>, ClientError> {
        let mut ops = Vec::with_capacity(changes.len());
        if resync {
            let keep: BTreeSet<&Key> = changes.iter().map(|(k, _)| k).collect();
            let snapshot = self.backend.snapshot(&self.label.agent_prefix()).await?;
            for store_key in snapshot.entries.keys() {
                let Some(key) = self.label.strip_prefix(store_key) else {
                    continue;
                };
                if self.registry.parse_key(key.as_str()).is_ok() && !keep.contains(&key) {
                    ops.push(BatchOp::Delete {
                        key: store_key.clone(),
                    });
                }
            }
        }
        for (key, value) in changes {
            ops.push(match value {
                Some(v) => self.put_op(key, v)?,
                None => BatchOp::Delete {
                    key: self.label.add_prefix(key),
                },
            });
        }
        Ok(ops)
    }
}

impl<B: KvBackend> Client for RemoteClient<B> {
    type Report = RemoteReport;

    fn registry(&self) -> &Registry {
        &self.registry
    }

    async fn commit(
        &self,
        resync: bool,
        changes: Changes,
        dry_run: bool,
    ) -> Result<RemoteReport, ClientError> {
        let ops = self.plan(resync, &changes).await?;
        if dry_run {
            return Ok(RemoteReport {
                dry_run,
                ops,
                revision: None,
                atomic: false,
            });
        }
        let written = self.backend.write_batch(ops.clone()).await?;
        Ok(RemoteReport {
            dry_run,
            ops,
            revision: written.revision.map(|r| r.get()),
            atomic: written.atomic,
        })
    }
}
