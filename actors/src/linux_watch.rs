//! Turns the Linux plugin's host events (a namespace or a link appeared or went away) into
//! downstream resyncs scoped to the Linux descriptors, so values waiting for a namespace are
//! configured as soon as it exists without VPP being dumped again.
//!
//! | accepts | emits |
//! |---|---|
//! | (stream) [`linux::WatchEvent`] | [`ApplyTxn`] scoped downstream resync to the scheduler |
//!
//! Events that arrive while a resync runs are coalesced into one more resync afterwards.

use actix::prelude::*;
use kvscheduler::Txn;
use tracing::{debug, info_span, warn};

use crate::msg::ApplyTxn;

/// See the module docs.
#[derive(Debug)]
pub struct LinuxWatch {
    scheduler: Recipient<ApplyTxn>,
    in_flight: bool,
    pending: bool,
}

impl LinuxWatch {
    pub fn new(scheduler: Recipient<ApplyTxn>) -> Self {
        LinuxWatch {
            scheduler,
            in_flight: false,
            pending: false,
        }
    }

    fn resync(&mut self, ctx: &mut Context<Self>) {
        self.in_flight = true;
        // Scoped to the Linux descriptors: VPP is not re-read; VPP values waiting for a
        // host link (af_packet) still follow, as PENDING values are reconciled too.
        let txn = Txn::downstream_resync()
            .only_descriptors(linux::descriptor::ALL)
            .describe("linux host changed");
        let send = self.scheduler.send(ApplyTxn {
            txn,
            span: info_span!("linux_host_changed"),
        });
        ctx.spawn(send.into_actor(self).map(|res, act, ctx| {
            if let Err(e) = res {
                warn!(error = %e, "Scheduler mailbox closed; linux host changes are not applied.");
            }
            act.in_flight = false;
            if act.pending {
                act.pending = false;
                act.resync(ctx);
            }
        }));
    }
}

impl Actor for LinuxWatch {
    type Context = Context<Self>;
}

impl StreamHandler<linux::WatchEvent> for LinuxWatch {
    fn handle(&mut self, event: linux::WatchEvent, ctx: &mut Context<Self>) {
        debug!(?event, "Linux host changed.");
        if self.in_flight {
            self.pending = true;
        } else {
            self.resync(ctx);
        }
    }
}
