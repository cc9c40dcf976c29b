//! The watcher: turns raw store events into typed values of this agent.
//!
//! | accepts | emits |
//! |---|---|
//! | [`StoreResynced`], [`StoreChanged`] | [`SourceResynced`], [`SourceChanged`] to the orchestrator |
//!
//! Keys outside `/vnf-agent/<label>/` (other agents) and keys of unknown models are ignored
//! with a debug trace; values that do not decode (bad JSON, unknown fields, a key that does
//! not match its value) travel on as [`InvalidValue`]s so they show in status, and never
//! reach the dataplane. An empty value is a delete, as in Ligato. Handlers are atomic: a
//! batch is handed to the orchestrator before the next one is looked at.

use std::sync::Arc;

use actix::prelude::*;
use messages::{Key, MicroserviceLabel, Registry, Value};
use tracing::{debug, info_span};

use crate::msg::{
    InvalidValue, RawChange, SourceChanged, SourceResynced, StoreChanged, StoreResynced,
};

/// What one store entry decodes to.
enum Decoded {
    Ignored,
    Put(Key, Value),
    Delete(Key),
    Invalid(InvalidValue),
}

/// See the module docs.
pub struct Watcher {
    label: MicroserviceLabel,
    registry: Arc<Registry>,
    resync_to: Recipient<SourceResynced>,
    changes_to: Recipient<SourceChanged>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl Watcher {
    pub fn new(
        label: MicroserviceLabel,
        registry: Arc<Registry>,
        resync_to: Recipient<SourceResynced>,
        changes_to: Recipient<SourceChanged>,
    ) -> Self {
        Watcher {
            label,
            registry,
            resync_to,
            changes_to,
        }
    }

    fn decode(&self, store_key: &str, value: Option<&[u8]>) -> Decoded {
        let Some(key) = self.label.strip_prefix(store_key) else {
            debug!(
                key = store_key,
                "Ignoring a key outside this agent's prefix."
            );
            return Decoded::Ignored;
        };
        if let Err(e) = self.registry.parse_key(key.as_str()) {
            debug!(key = %key, error = %e, "Ignoring a key of no known model.");
            return Decoded::Ignored;
        }
        let Some(bytes) = value else {
            return Decoded::Delete(key);
        };
        match self.registry.decode_json(key.as_str(), bytes) {
            Ok(Some(v)) => Decoded::Put(key, v),
            Ok(None) => Decoded::Delete(key),
            Err(e) => Decoded::Invalid(InvalidValue {
                key,
                error: e.to_string(),
            }),
        }
    }
}

impl Actor for Watcher {
    type Context = Context<Self>;
}

impl Handler<StoreResynced> for Watcher {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, msg: StoreResynced, _ctx: &mut Context<Self>) -> Self::Result {
        let span = info_span!(parent: &msg.span, "watcher_resync", connector = %msg.source);
        let mut values = Vec::new();
        let mut invalid = Vec::new();
        for (k, v) in &msg.entries {
            match self.decode(k, Some(v)) {
                Decoded::Put(key, value) => values.push((key, value)),
                Decoded::Invalid(i) => invalid.push(i),
                Decoded::Ignored | Decoded::Delete(_) => {}
            }
        }
        let out = SourceResynced {
            source: msg.source,
            values,
            invalid,
            span,
        };
        let send = self.resync_to.send(out);
        AtomicResponse::new(Box::pin(send.into_actor(self).map(|res, _, _| {
            if let Err(e) = res {
                tracing::error!(error = %e, "Orchestrator mailbox closed; a resync was lost.");
            }
        })))
    }
}

impl Handler<StoreChanged> for Watcher {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, msg: StoreChanged, _ctx: &mut Context<Self>) -> Self::Result {
        let span = info_span!(parent: &msg.span, "watcher_change", connector = %msg.source);
        let mut changes = Vec::new();
        let mut invalid = Vec::new();
        for RawChange { key, value, .. } in &msg.changes {
            match self.decode(key, value.as_deref()) {
                Decoded::Put(k, v) => changes.push((k, Some(v))),
                Decoded::Delete(k) => changes.push((k, None)),
                Decoded::Invalid(i) => invalid.push(i),
                Decoded::Ignored => {}
            }
        }
        if changes.is_empty() && invalid.is_empty() {
            return AtomicResponse::new(Box::pin(actix::fut::ready(())));
        }
        let out = SourceChanged {
            source: msg.source,
            changes,
            invalid,
            span,
        };
        let send = self.changes_to.send(out);
        AtomicResponse::new(Box::pin(send.into_actor(self).map(|res, _, _| {
            if let Err(e) = res {
                tracing::error!(error = %e, "Orchestrator mailbox closed; a change was lost.");
            }
        })))
    }
}
