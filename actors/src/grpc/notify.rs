//! `Notify`: a numbered buffer of interface notifications, streamed from a client's index on,
//! and the feed that fills it.
//!
//! Semantics (Ligato's): every notification has an index, counting from 0; a `NotifyRequest`
//! with `idx` gets the buffered notifications from that index on (the buffer keeps the last
//! [`CAPACITY`]), then new ones as they come, each with `next_idx` = its index + 1, so a client
//! that reconnects with the last `next_idx` misses nothing still buffered. `filters`: with
//! none, everything; otherwise a notification passes when one filter matches it: the same kind
//! (VPP or Linux) and, where the filter sets them, the same notification type and interface
//! name.
//!
//! What is covered: while at least one client listens, the feed re-reads the interfaces
//! after every transaction and every [`POLL`] (with nobody listening it reads nothing, so an
//! idle agent does not dump VPP every second; the next subscriber first gets the differences
//! since the last read). VPP interfaces come from VPP itself (`sw_interface_dump` through the VPP handler):
//! every interface, the agent's (named by their tag) and VPP's own (`local0`), with admin and
//! link status, MAC, link MTU, if-index and VPP's name, so a link going down outside the agent
//! is reported too (within a poll). Without a VPP handler, and for Linux interfaces, they come
//! from the scheduler's SB view, admin and oper status from `enabled`. A new or changed
//! interface is an `UPDOWN` notification, a removed one `UPDOWN` with status `DELETED`. VPP's
//! event subscription (`want_interface_events`) and counters (`COUNTERS`) are not used.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use actix::prelude::*;
use futures::{Stream, StreamExt};
use messages::proto::ligato::configurator::{Notification, NotifyResponse, notification};
use messages::proto::ligato::linux::Notification as LinuxNotification;
use messages::proto::ligato::linux::interfaces as linux_if;
use messages::proto::ligato::vpp::Notification as VppNotification;
use messages::proto::ligato::vpp::interfaces as vpp_if;
use messages::{Model, Value};
use tokio::sync::{broadcast, watch};
use tonic::Status;

use crate::msg::{DumpView, QueryDump};
use crate::scheduler::SchedulerStats;

/// How many notifications are kept for clients that ask from an older index.
pub const CAPACITY: usize = 1000;

/// How often the interfaces are re-read when no transaction runs.
pub const POLL: std::time::Duration = std::time::Duration::from_secs(1);

struct Ring {
    items: VecDeque<(u32, Notification)>,
    next: u32,
}

/// The buffer and the live channel of notifications.
pub struct Notifications {
    ring: Mutex<Ring>,
    live: broadcast::Sender<(u32, Notification)>,
    /// Wakes the feed when a client subscribes.
    subscribed: tokio::sync::Notify,
}

impl std::fmt::Debug for Notifications {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifications").finish_non_exhaustive()
    }
}

impl Default for Notifications {
    fn default() -> Self {
        Notifications {
            ring: Mutex::new(Ring {
                items: VecDeque::new(),
                next: 0,
            }),
            live: broadcast::channel(CAPACITY).0,
            subscribed: tokio::sync::Notify::new(),
        }
    }
}

impl Notifications {
    /// Numbers and publishes a notification; returns its index.
    pub fn push(&self, n: Notification) -> u32 {
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let idx = ring.next;
        ring.next = ring.next.wrapping_add(1);
        if ring.items.len() == CAPACITY {
            ring.items.pop_front();
        }
        ring.items.push_back((idx, n.clone()));
        // No subscriber is fine: the ring keeps it.
        let _ = self.live.send((idx, n));
        idx
    }

    /// The index the next notification gets.
    pub fn next_idx(&self) -> u32 {
        self.ring.lock().unwrap_or_else(|p| p.into_inner()).next
    }

    /// The notifications from index `from` on, buffered then live, that pass `filters`.
    pub fn stream(
        &self,
        from: u32,
        filters: Vec<Notification>,
    ) -> impl Stream<Item = Result<NotifyResponse, Status>> + Send + 'static {
        // Under the lock, so nothing is missed or sent twice between backlog and live.
        let (backlog, rx) = {
            let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
            let backlog: Vec<(u32, Notification)> = ring
                .items
                .iter()
                .filter(|(i, _)| *i >= from)
                .cloned()
                .collect();
            (backlog, self.live.subscribe())
        };
        self.subscribed.notify_one();
        let live = futures::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(item) => return Some((item, rx)),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "A notify client lagged behind.");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        futures::stream::iter(backlog)
            .chain(live)
            .filter(move |(i, n)| {
                let pass = *i >= from && passes(n, &filters);
                async move { pass }
            })
            .map(|(i, n)| {
                Ok(NotifyResponse {
                    next_idx: i.wrapping_add(1),
                    notification: Some(n),
                })
            })
    }
}

/// Whether `n` passes `filters` (see the module docs).
pub fn passes(n: &Notification, filters: &[Notification]) -> bool {
    filters.is_empty() || filters.iter().any(|f| matches(f, n))
}

fn matches(filter: &Notification, n: &Notification) -> bool {
    use notification::Notification as N;
    match (&filter.notification, &n.notification) {
        (None, _) => true,
        (Some(N::VppNotification(f)), Some(N::VppNotification(v))) => {
            match (&f.interface, &v.interface) {
                (None, _) => true,
                (Some(f), Some(v)) => {
                    (f.r#type == 0 || f.r#type == v.r#type)
                        && name_matches(
                            f.state.as_ref().map(|s| s.name.as_str()),
                            v.state.as_ref().map(|s| s.name.as_str()),
                        )
                }
                (Some(_), None) => false,
            }
        }
        (Some(N::LinuxNotification(f)), Some(N::LinuxNotification(l))) => {
            match (&f.interface, &l.interface) {
                (None, _) => true,
                (Some(f), Some(l)) => {
                    (f.r#type == 0 || f.r#type == l.r#type)
                        && name_matches(
                            f.state.as_ref().map(|s| s.name.as_str()),
                            l.state.as_ref().map(|s| s.name.as_str()),
                        )
                }
                (Some(_), None) => false,
            }
        }
        _ => false,
    }
}

fn name_matches(filter: Option<&str>, name: Option<&str>) -> bool {
    match filter {
        None | Some("") => true,
        Some(f) => name == Some(f),
    }
}

/// What of an interface a notification reports.
#[derive(Clone, Default, PartialEq, Eq)]
struct Seen {
    admin_up: bool,
    oper_up: bool,
    kind: i32,
    phys_address: String,
    mtu: u32,
    if_index: u32,
    internal_name: String,
}

fn vpp_seen(v: &Value) -> Option<(String, Seen)> {
    let i = messages::value::downcast::<vpp_if::Interface>(&**v)?;
    Some((
        i.name.clone(),
        Seen {
            admin_up: i.enabled,
            oper_up: i.enabled,
            kind: i.r#type,
            phys_address: i.phys_address.clone(),
            mtu: i.mtu,
            ..Seen::default()
        },
    ))
}

fn linux_seen(v: &Value) -> Option<(String, Seen)> {
    let i = messages::value::downcast::<linux_if::Interface>(&**v)?;
    Some((
        i.name.clone(),
        Seen {
            admin_up: i.enabled,
            oper_up: i.enabled,
            kind: i.r#type,
            phys_address: i.phys_address.clone(),
            mtu: i.mtu,
            ..Seen::default()
        },
    ))
}

/// An interface as VPP reports it, named by its tag (the agent's name) or VPP's own name.
fn vpp_details_seen(d: &vpp::api::InterfaceDetails) -> (String, Seen) {
    use vpp_if::interface::Type;
    let dev = d.dev_type.to_ascii_lowercase();
    let kind = if d.sup_sw_if_index != d.sw_if_index {
        Type::SubInterface
    } else if dev.contains("loop") {
        Type::SoftwareLoopback
    } else if dev.contains("tap") || dev.contains("virtio") {
        Type::Tap
    } else if dev.contains("memif") {
        Type::Memif
    } else if dev.contains("af_packet") || dev.contains("host") {
        Type::AfPacket
    } else if dev.contains("vxlan") {
        Type::VxlanTunnel
    } else if dev.contains("dpdk") {
        Type::Dpdk
    } else {
        Type::UndefinedType
    };
    let name = if d.tag.is_empty() {
        d.internal_name.clone()
    } else {
        d.tag.clone()
    };
    (
        name,
        Seen {
            admin_up: d.admin_up,
            oper_up: d.link_up,
            kind: kind as i32,
            phys_address: d.mac.to_string(),
            mtu: d.link_mtu,
            if_index: d.sw_if_index,
            internal_name: d.internal_name.clone(),
        },
    )
}

type DumpReply = tokio::sync::oneshot::Sender<Option<Vec<vpp::api::InterfaceDetails>>>;

/// Reads VPP's interfaces on a thread of its own: the handler blocks on the VPP runtime and
/// refuses to from inside another runtime (this actix thread, or its blocking pool). The
/// thread ends when the returned sender is dropped.
fn vpp_reader(api: vpp::ApiHandle) -> Option<std::sync::mpsc::Sender<DumpReply>> {
    let (tx, rx) = std::sync::mpsc::channel::<DumpReply>();
    let spawned = std::thread::Builder::new()
        .name("grpc-notify-vpp".to_owned())
        .spawn(move || {
            for reply in rx {
                let _ = reply.send(api.get().dump_interfaces().ok());
            }
        });
    match spawned {
        Ok(_) => Some(tx),
        Err(e) => {
            tracing::warn!(error = %e, "VPP interface notifications are off: no reader thread.");
            None
        }
    }
}

async fn vpp_snapshot(reader: &std::sync::mpsc::Sender<DumpReply>) -> Option<Snapshot> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    reader.send(tx).ok()?;
    let details = rx.await.ok()??;
    Some(details.iter().map(vpp_details_seen).collect())
}

/// `[deleted, up, down]` by the interface's state.
fn status_of<S>(up: bool, deleted: bool, [d, u, dn]: [S; 3]) -> S {
    if deleted {
        d
    } else if up {
        u
    } else {
        dn
    }
}

fn vpp_notification(name: &str, seen: &Seen, deleted: bool) -> Notification {
    use vpp_if::interface_state::Status;
    let statuses = [Status::Deleted, Status::Up, Status::Down];
    let admin = status_of(seen.admin_up, deleted, statuses);
    let oper = status_of(seen.oper_up, deleted, statuses);
    Notification {
        notification: Some(notification::Notification::VppNotification(
            VppNotification {
                interface: Some(vpp_if::InterfaceNotification {
                    r#type: vpp_if::interface_notification::NotifType::Updown as i32,
                    state: Some(vpp_if::InterfaceState {
                        name: name.to_owned(),
                        internal_name: seen.internal_name.clone(),
                        if_index: seen.if_index,
                        r#type: seen.kind,
                        admin_status: admin as i32,
                        oper_status: oper as i32,
                        phys_address: seen.phys_address.clone(),
                        mtu: seen.mtu,
                        last_change: unix_now(),
                        ..Default::default()
                    }),
                }),
            },
        )),
    }
}

fn linux_notification(name: &str, seen: &Seen, deleted: bool) -> Notification {
    use linux_if::interface_state::Status;
    let statuses = [Status::Deleted, Status::Up, Status::Down];
    let admin = status_of(seen.admin_up, deleted, statuses);
    let oper = status_of(seen.oper_up, deleted, statuses);
    Notification {
        notification: Some(notification::Notification::LinuxNotification(
            LinuxNotification {
                interface: Some(linux_if::InterfaceNotification {
                    r#type: linux_if::interface_notification::NotifType::Updown as i32,
                    state: Some(linux_if::InterfaceState {
                        name: name.to_owned(),
                        r#type: seen.kind,
                        admin_status: admin as i32,
                        oper_status: oper as i32,
                        phys_address: seen.phys_address.clone(),
                        mtu: seen.mtu,
                        last_change: unix_now(),
                        ..Default::default()
                    }),
                }),
            },
        )),
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

type Snapshot = BTreeMap<String, Seen>;

/// The notifications turning `old` into `new`, in name order.
fn diff(
    old: &Snapshot,
    new: &Snapshot,
    make: fn(&str, &Seen, bool) -> Notification,
) -> Vec<Notification> {
    let mut out = Vec::new();
    for (name, seen) in new {
        if old.get(name) != Some(seen) {
            out.push(make(name, seen, false));
        }
    }
    for (name, seen) in old {
        if !new.contains_key(name) {
            out.push(make(name, seen, true));
        }
    }
    out
}

async fn snapshot(
    scheduler: &Recipient<QueryDump>,
    prefix: &str,
    seen: fn(&Value) -> Option<(String, Seen)>,
) -> Option<Snapshot> {
    let reply = scheduler
        .send(QueryDump {
            key_prefix: prefix.to_owned(),
            view: DumpView::Sb,
        })
        .await
        .ok()?;
    let pairs = match reply {
        Ok(p) => p,
        Err(kvscheduler::KvError::UnknownKeyPrefix(_)) => Vec::new(),
        Err(_) => return None,
    };
    Some(
        pairs
            .into_iter()
            .filter_map(|p| p.value.and_then(|v| seen(&v.0)))
            .collect(),
    )
}

/// Spawns the feed: after every transaction (a change of the scheduler's stats) and every
/// [`POLL`], re-reads the VPP interfaces (from VPP through `vpp`, else the scheduler's SB view)
/// and the Linux interfaces (SB view), and pushes a notification per difference. A read that
/// fails (VPP reconnecting) keeps the last snapshot. Stops with the scheduler.
pub fn spawn_interface_feed(
    scheduler: Recipient<QueryDump>,
    mut stats: watch::Receiver<SchedulerStats>,
    out: Arc<Notifications>,
    vpp_api: Option<vpp::ApiHandle>,
) {
    let vpp_prefix = Model::of::<vpp_if::Interface>().key_prefix().to_owned();
    let linux_prefix = Model::of::<linux_if::Interface>().key_prefix().to_owned();
    let reader = vpp_api.and_then(vpp_reader);
    actix_rt::spawn(async move {
        let mut vpp = Snapshot::new();
        let mut linux = Snapshot::new();
        loop {
            // Nobody listening: skip the reads; the next subscriber gets the differences
            // since the last read.
            let listening = out.live.receiver_count() > 0;
            if !listening {
                tokio::select! {
                    changed = stats.changed() => if changed.is_err() {
                        return;
                    },
                    () = out.subscribed.notified() => {}
                }
                continue;
            }
            let vpp_now = match &reader {
                Some(reader) => vpp_snapshot(reader).await,
                None => snapshot(&scheduler, &vpp_prefix, vpp_seen).await,
            };
            if let Some(now) = vpp_now {
                for n in diff(&vpp, &now, vpp_notification) {
                    out.push(n);
                }
                vpp = now;
            }
            if let Some(now) = snapshot(&scheduler, &linux_prefix, linux_seen).await {
                for n in diff(&linux, &now, linux_notification) {
                    out.push(n);
                }
                linux = now;
            }
            tokio::select! {
                changed = stats.changed() => if changed.is_err() {
                    return;
                },
                () = tokio::time::sleep(POLL) => {}
                () = out.subscribed.notified() => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(enabled: bool) -> Seen {
        Seen {
            admin_up: enabled,
            oper_up: enabled,
            kind: vpp_if::interface::Type::SoftwareLoopback as i32,
            ..Seen::default()
        }
    }

    fn name_of(n: &Notification) -> (String, i32) {
        match &n.notification {
            Some(notification::Notification::VppNotification(v)) => {
                let s = v
                    .interface
                    .as_ref()
                    .and_then(|i| i.state.clone())
                    .unwrap_or_default();
                (s.name, s.admin_status)
            }
            _ => (String::new(), -1),
        }
    }

    #[test]
    fn diff_reports_new_changed_and_deleted() {
        let old: Snapshot = [("a".to_owned(), seen(true)), ("b".to_owned(), seen(true))].into();
        let new: Snapshot = [("a".to_owned(), seen(false)), ("c".to_owned(), seen(true))].into();
        let got: Vec<(String, i32)> = diff(&old, &new, vpp_notification)
            .iter()
            .map(name_of)
            .collect();
        use vpp_if::interface_state::Status;
        assert_eq!(
            got,
            [
                ("a".to_owned(), Status::Down as i32),
                ("c".to_owned(), Status::Up as i32),
                ("b".to_owned(), Status::Deleted as i32),
            ]
        );
        assert!(diff(&new, &new, vpp_notification).is_empty());
    }

    #[tokio::test]
    async fn stream_replays_from_index_then_goes_live_with_filters() {
        let hub = Notifications::default();
        for name in ["a", "b", "c"] {
            hub.push(vpp_notification(name, &seen(true), false));
        }
        let filter = vpp_notification("c", &seen(true), false);
        let mut s = Box::pin(hub.stream(1, vec![]));
        let first = s.next().await.and_then(Result::ok).unwrap_or_default();
        assert_eq!(first.next_idx, 2);
        let second = s.next().await.and_then(Result::ok).unwrap_or_default();
        assert_eq!(second.next_idx, 3);
        hub.push(vpp_notification("d", &seen(true), false));
        let live = s.next().await.and_then(Result::ok).unwrap_or_default();
        assert_eq!(live.next_idx, 4);
        assert_eq!(name_of(&live.notification.unwrap_or_default()).0, "d");

        let mut only_c = Box::pin(hub.stream(0, vec![filter]));
        let c = only_c.next().await.and_then(Result::ok).unwrap_or_default();
        assert_eq!(
            (c.next_idx, name_of(&c.notification.unwrap_or_default()).0),
            (3, "c".to_owned())
        );
        assert_eq!(hub.next_idx(), 4);
        let linux_only = Notification {
            notification: Some(notification::Notification::LinuxNotification(
                LinuxNotification::default(),
            )),
        };
        assert!(!passes(
            &vpp_notification("a", &seen(true), false),
            &[linux_only]
        ));
    }
}
