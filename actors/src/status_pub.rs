//! Publishes value status back to the store, as Ligato does when `ENABLE_STATUS_PUBLISHING`
//! is set: the status of `config/<...>` is written under `config-status/<...>` (below the
//! agent prefix) as proto3 JSON of `ligato.kvscheduler.ValueStatus`; a value that no longer
//! exists has its status key deleted.
//!
//! | accepts | emits |
//! |---|---|
//! | [`StatusChanged`] | [`WriteKeys`] to a store connector, at most once per period |
//!
//! Rate limiting and coalescing: changes wait in a map keyed by key (the latest status wins)
//! and are flushed together every `period`, so a resync of 10,000 values becomes a handful of
//! write batches, not 10,000 interleaved writes. Derived values are not published.

use std::collections::BTreeMap;
use std::time::Duration;

use actix::prelude::*;
use bytes::Bytes;
use kvscheduler::{ValueState, ValueStatus};
use messages::{Key, MicroserviceLabel, Registry};
use tracing::warn;

use crate::msg::{StatusChanged, WriteKeys};

/// The status key of a config key: its first `config/` replaced by `config-status/`.
pub fn status_key(key: &Key) -> Option<Key> {
    key.as_str()
        .strip_prefix("config/")
        .map(|rest| Key::from(format!("config-status/{rest}")))
}

/// See the module docs.
pub struct StatusPublisher {
    label: MicroserviceLabel,
    registry: std::sync::Arc<Registry>,
    to: Recipient<WriteKeys>,
    period: Duration,
    pending: BTreeMap<Key, ValueStatus>,
    in_flight: bool,
}

impl std::fmt::Debug for StatusPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusPublisher")
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl StatusPublisher {
    pub fn new(
        label: MicroserviceLabel,
        registry: std::sync::Arc<Registry>,
        to: Recipient<WriteKeys>,
        period: Duration,
    ) -> Self {
        StatusPublisher {
            label,
            registry,
            to,
            period,
            pending: BTreeMap::new(),
            in_flight: false,
        }
    }

    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.in_flight || self.pending.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.pending);
        let mut entries = Vec::new();
        for (key, status) in &batch {
            let store_key = self.label.add_prefix(key);
            if status.state == ValueState::Nonexistent {
                entries.push((store_key, None));
                continue;
            }
            match self.registry.encode_json(&status.to_proto()) {
                Ok(json) => entries.push((store_key, Some(Bytes::from(json)))),
                Err(e) => warn!(key = %key, error = %e, "Status not encoded."),
            }
        }
        self.in_flight = true;
        let send = self.to.send(WriteKeys { entries });
        ctx.spawn(send.into_actor(self).map(move |res, act, _| {
            act.in_flight = false;
            let error = match res {
                Ok(Ok(())) => return,
                Ok(Err(e)) => e,
                Err(e) => e.to_string(),
            };
            warn!(%error, "Status not published; retrying with the next flush.");
            // Put the batch back unless a newer status arrived meanwhile.
            for (key, status) in batch {
                act.pending.entry(key).or_insert(status);
            }
        }));
    }
}

impl Actor for StatusPublisher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(self.period, |act, ctx| act.flush(ctx));
    }
}

impl Handler<StatusChanged> for StatusPublisher {
    type Result = ();

    fn handle(&mut self, msg: StatusChanged, _ctx: &mut Context<Self>) {
        for status in msg.statuses {
            if let Some(key) = status_key(&status.key) {
                self.pending.insert(key, status);
            }
        }
    }
}
