//! The VPP connection: connects over the binary API socket, picks the handler of the matching
//! VPP release (`vpp::connect`: show_version first, else the newest compatible release; an
//! incompatible VPP is reported with its version and first mismatching message, and retried),
//! and keeps it alive.
//!
//! | accepts | emits |
//! |---|---|
//! | (internal) the client's `closed()` | [`ApplyTxn`] downstream resync to the scheduler after every reconnect |
//!
//! The binapi client and its IO run on a dedicated tokio runtime ("vpp-io"): the descriptors
//! block on it from the scheduler thread. When VPP restarts (the socket drops), the actor
//! reconnects with back-off, swaps the handler in the shared [`vpp::ApiHandle`] (ids and even
//! the release may have changed) and asks the scheduler for a downstream resync, which
//! re-creates everything desired: nothing is lost and the agent is not restarted.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use binapi::Client;
use kvscheduler::Txn;
use tokio::runtime::Handle;
use tracing::{info, info_span, warn};
use vpp::{ApiHandle, VppApi};

use crate::msg::ApplyTxn;

/// Connects to VPP, retrying with back-off (up to `max_wait` between attempts) until a
/// compatible handler is found. Runs on the vpp-io runtime.
pub async fn connect_vpp(
    cfg: binapi::Config,
    rt: Handle,
    max_wait: Duration,
) -> (Client, Arc<dyn VppApi>) {
    let mut wait = Duration::from_millis(100);
    loop {
        match Client::connect(cfg.clone()).await {
            Ok(client) => match vpp::connect(client.clone(), rt.clone()).await {
                Ok(api) => {
                    info!(vpp_version = api.release(), socket = %cfg.socket.display(), "Connected to VPP.");
                    return (client, api);
                }
                Err(e) => {
                    warn!(error = %e, "VPP is not compatible with any shipped release; retrying.");
                    client.close("incompatible release");
                }
            },
            Err(e) => {
                warn!(error = %e, socket = %cfg.socket.display(), "Cannot connect to VPP; retrying.");
            }
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(max_wait);
    }
}

/// Keeps the VPP connection: see the module docs.
pub struct VppConnection {
    cfg: binapi::Config,
    rt: Handle,
    api: ApiHandle,
    client: Client,
    scheduler: Recipient<ApplyTxn>,
    /// Reconnects so far (status, tests).
    pub reconnects: u32,
}

impl std::fmt::Debug for VppConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VppConnection")
            .field("reconnects", &self.reconnects)
            .finish_non_exhaustive()
    }
}

impl VppConnection {
    pub fn new(
        cfg: binapi::Config,
        rt: Handle,
        api: ApiHandle,
        client: Client,
        scheduler: Recipient<ApplyTxn>,
    ) -> Self {
        VppConnection {
            cfg,
            rt,
            api,
            client,
            scheduler,
            reconnects: 0,
        }
    }

    fn watch(&mut self, ctx: &mut Context<Self>) {
        let client = self.client.clone();
        let cfg = self.cfg.clone();
        let rt = self.rt.clone();
        let task = self.rt.spawn(async move {
            let reason = client.closed().await;
            warn!(%reason, "Lost the VPP connection; reconnecting.");
            connect_vpp(cfg, rt, Duration::from_secs(2)).await
        });
        ctx.wait(task.into_actor(self).map(|res, act, ctx| match res {
            Ok((client, api)) => {
                act.reconnects += 1;
                act.client = client;
                act.api.replace(api);
                let span = info_span!("vpp_reconnected", vpp_version = act.api.get().release());
                let txn = Txn::downstream_resync().describe("vpp reconnected");
                let send = act.scheduler.send(ApplyTxn { txn, span });
                ctx.wait(send.into_actor(act).map(|res, act, ctx| {
                    match res {
                        Ok(Ok(_)) => info!("Re-applied the configuration after the VPP restart."),
                        Ok(Err(e)) => {
                            warn!(error = %e, "Downstream resync after the VPP restart failed.")
                        }
                        Err(e) => warn!(error = %e, "Scheduler mailbox closed."),
                    }
                    act.watch(ctx);
                }));
            }
            Err(e) => {
                warn!(error = %e, "The VPP reconnect task ended; stopping.");
                ctx.stop();
            }
        }));
    }
}

impl Actor for VppConnection {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.watch(ctx);
    }
}
