//! Turns the Linux plugin's host events (a namespace or a link appeared or went away) into
//! downstream resyncs scoped to the Linux descriptors, so values waiting for a namespace are
//! configured as soon as it exists without VPP being dumped again.
//!
//! | accepts | emits |
//! |---|---|
//! | (stream) [`linux::WatchEvent`] | [`ApplyTxn`] scoped downstream resync to the scheduler |
//!
//! Events that arrive while a resync runs are coalesced into one more resync afterwards.

use std::sync::Arc;

use actix::prelude::*;
use kvscheduler::{MetadataView, Txn};
use messages::proto::vpp_interfaces::{Interface, interface::Link};
use messages::value::downcast;
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

/// How the Linux plugin finds the host side of a VPP TAP (TAP_TO_VPP): the VPP value's
/// `tap.host_if_name` when set, else VPP's default host name, which is its own interface
/// name (`tap<N>`, from the `vpp-interface` metadata).
pub fn vpp_tap_names() -> Arc<dyn linux::VppTapNames> {
    Arc::new(|md: &MetadataView<'_>, vpp_tap: &str| {
        let key = linux::descriptor::vpp_interface_key(vpp_tap);
        let named = md
            .applied(&key)
            .and_then(|v| downcast::<Interface>(&**v))
            .and_then(|i| match &i.link {
                Some(Link::Tap(t)) if !t.host_if_name.is_empty() => Some(t.host_if_name.clone()),
                _ => None,
            });
        named.or_else(|| {
            vpp::descriptors::interface_meta(md, vpp_tap).map(|m| m.internal_name.clone())
        })
    })
}
