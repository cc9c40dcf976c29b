//! The per-release handlers behind [`VppApi`] and [`connect`], which picks one.
//!
//! Each handler is one small module (`vpp2101.rs`, `vpp2306.rs`, `vpp2506.rs`) that names its
//! binapi module and says which message variant it uses where releases differ (`tap_create_v2`
//! or `_v3`, `bridge_domain_add_del` or `_v2`, ...); everything that is the same across
//! releases is written once in `common.rs` (the differing operations in `variants.rs`) and
//! expanded per release, so each expansion is type checked against that release's generated
//! messages. Adding a release = a generated binapi module, one module here and one line in
//! [`HANDLERS`].
//!
//! Handlers block: descriptor methods are synchronous and run on the scheduler's own OS
//! thread, so every call does `Handle::block_on` on the runtime the binapi client lives on.
//! Calling them from inside that runtime would deadlock, so they refuse with
//! [`VppError::InRuntime`] instead. This module deliberately has no reconnect loop: the owner
//! (the VPP actor) reconnects, calls [`connect`] again and swaps the [`crate::ApiHandle`].

pub(crate) mod common;
pub(crate) mod variants;
mod vpp2101;
mod vpp2306;
mod vpp2506;

use std::sync::Arc;

use binapi::{Client, Dump, Message, MessageTable, Request};
use tokio::runtime::Handle;

use crate::api::VppApi;
use crate::error::{Result, VppError};

/// A binapi client plus the runtime it runs on, for blocking calls.
#[derive(Clone, Debug)]
pub struct Conn {
    client: Client,
    rt: Handle,
    /// The release the handler speaks, for the `vpp_version` field of request spans.
    version: &'static str,
}

impl Conn {
    pub fn new(client: Client, rt: Handle) -> Self {
        Conn {
            client,
            rt,
            version: "unknown",
        }
    }

    /// The same connection, its request spans labelled with `version`.
    pub fn with_version(self, version: &'static str) -> Self {
        Conn { version, ..self }
    }

    /// A `vpp_request` span, child of the current one (the descriptor operation on the
    /// scheduler thread). `block_on` polls the request on this thread, but the span is put
    /// on the future explicitly so it never depends on which thread polls it; binapi records
    /// the request's `context` into it.
    fn span(&self, msg: &'static str) -> tracing::Span {
        tracing::info_span!(
            "vpp_request",
            msg,
            vpp_version = self.version,
            context = tracing::field::Empty,
            retval = tracing::field::Empty,
            latency_us = tracing::field::Empty,
            error = tracing::field::Empty
        )
    }

    /// Runs `fut` on the client's runtime inside `span`, recording latency, retval and error.
    fn traced<T>(
        &self,
        msg: &'static str,
        span: tracing::Span,
        fut: impl std::future::Future<Output = std::result::Result<T, binapi::Error>>,
        retval: impl FnOnce(&T) -> Option<i32>,
    ) -> Result<T> {
        use tracing::Instrument;
        let started = std::time::Instant::now();
        let res = self.rt.block_on(fut.instrument(span.clone()));
        let latency = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        span.record("latency_us", latency);
        let res = res.map_err(|e| VppError::from_binapi(msg, e));
        match &res {
            Ok(reply) => {
                if let Some(rv) = retval(reply) {
                    span.record("retval", rv);
                }
            }
            Err(e) => {
                if let Some(rv) = e.retval_code() {
                    span.record("retval", rv);
                }
                span.record("error", tracing::field::display(e));
            }
        }
        // Inside the span, so the log line's span list ends with the request.
        span.in_scope(|| tracing::debug!("VPP request answered."));
        res
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn check_thread(msg: &'static str) -> Result<()> {
        if Handle::try_current().is_ok() {
            return Err(VppError::InRuntime { msg });
        }
        Ok(())
    }

    /// Sends one request and waits for its reply.
    pub fn request<R: Request>(&self, req: &R) -> Result<R::Reply> {
        Self::check_thread(R::NAME)?;
        let span = self.span(R::NAME);
        self.traced(R::NAME, span, self.client.request(req), |r| r.retval())
    }

    /// Sends one dump and collects its details.
    pub fn dump<D: Dump>(&self, req: &D) -> Result<Vec<D::Details>> {
        Self::check_thread(D::NAME)?;
        let span = self.span(D::NAME);
        self.traced(D::NAME, span, self.client.dump(req), |_| None)
    }

    /// Whether VPP's table has message `M` (for messages a release may lack at run time).
    pub fn has<M: Message>(&self) -> bool {
        self.client.table().id_of::<M>().is_some()
    }
}

/// One shipped handler: the binapi release it serves and its constructor.
#[derive(Clone, Copy)]
pub struct HandlerEntry {
    pub release: &'static binapi::release::Release,
    pub make: fn(Conn) -> Arc<dyn VppApi>,
}

impl std::fmt::Debug for HandlerEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandlerEntry")
            .field("release", &self.release.version)
            .finish()
    }
}

/// Every shipped handler, oldest release first.
pub static HANDLERS: &[HandlerEntry] = &[vpp2101::ENTRY, vpp2306::ENTRY, vpp2506::ENTRY];

/// The handler for a message table: the one of the release `show_version` names if it is
/// compatible, else the newest compatible one; otherwise an error naming the reported version
/// and, per release, the first message that is missing or has another CRC.
pub fn select(table: &MessageTable, version: Option<&str>) -> Result<&'static HandlerEntry> {
    let releases: Vec<&'static binapi::release::Release> =
        HANDLERS.iter().map(|h| h.release).collect();
    let report = binapi::compat::Report::new(table, &releases);
    let incompatible = || VppError::Incompatible {
        version: version.unwrap_or("unknown").to_owned(),
        report: report.to_string(),
    };
    let chosen = report.choose(version).map_err(|_| incompatible())?;
    HANDLERS
        .iter()
        .find(|h| h.release.module == chosen.module)
        .ok_or_else(incompatible)
}

/// Asks VPP its version, runs the compatibility check and builds the matching handler.
/// `rt` is the runtime the client runs on (the handler blocks on it from other threads).
pub async fn connect(client: Client, rt: Handle) -> Result<Arc<dyn VppApi>> {
    let version = match client.request(&binapi::messages::ShowVersion {}).await {
        Ok(reply) => Some(reply.version),
        Err(e) => {
            tracing::warn!(error = %e, "show_version failed; choosing the newest compatible release");
            None
        }
    };
    let entry = select(client.table(), version.as_deref())?;
    tracing::info!(
        vpp_version = version.as_deref().unwrap_or("unknown"),
        release = entry.release.version,
        "vpp handler selected"
    );
    Ok((entry.make)(
        Conn::new(client, rt).with_version(entry.release.version),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use binapi::release::Release;

    fn table_of(version: &str) -> MessageTable {
        let rel = Release::find(version).expect("release");
        MessageTable::for_release(rel, 16)
    }

    #[test]
    fn each_release_table_selects_its_own_handler() {
        for (v, module) in [
            ("21.01", "vpp2101"),
            ("23.06", "vpp2306"),
            ("25.06", "vpp2506"),
        ] {
            let h = select(&table_of(v), Some(v)).expect("compatible");
            assert_eq!(h.release.module, module, "for {v}");
        }
    }

    #[test]
    fn unknown_version_picks_the_newest_compatible_release() {
        // 25.06's table also serves 23.06 only if 23.06's messages are all there.
        let h = select(&table_of("25.06"), Some("99.99")).expect("compatible");
        assert_eq!(h.release.version, "25.06");
        let h = select(&table_of("21.01"), None).expect("compatible");
        assert_eq!(h.release.version, "21.01");
    }

    #[test]
    fn incompatible_table_names_version_and_first_mismatch() {
        let table = MessageTable::from_entries([(1u16, "show_version_51077d14")]);
        let err = select(&table, Some("19.08")).expect_err("incompatible");
        assert_eq!(err.kind(), crate::error::ErrorKind::Incompatible);
        let text = err.to_string();
        assert!(text.contains("\"19.08\""), "{text}");
        assert!(text.contains("21.01: af_packet_create_"), "{text}");
        assert!(text.contains("is missing"), "{text}");
    }
}
