//! The stats publisher: every period it reads interface counters from VPP's stats segment
//! ([`vpp::stats::StatsReader`]) and interface state from VPP (`sw_interface_dump`, the tag
//! being the agent's interface name), publishes each interface's state under Ligato's key
//! `vpp/status/v2/interface/<name>` (proto3 JSON of `ligato.vpp.interfaces.InterfaceState`,
//! with `statistics`) to the first of vpp-ifplugin's `status-publishers` the agent has (none
//! listed: the first store; Ligato then publishes nothing), and keeps the latest sample for
//! `/metrics`.
//!
//! | accepts | emits |
//! |---|---|
//! | (its own timer) | [`WriteKeys`] to a store connector, only for keys whose value changed |
//!
//! Coalescing: the last published JSON per key is remembered and only changed keys are
//! written; an interface that is gone has its key deleted. A failed write is retried by the
//! next poll (the remembered values stay as they were). Reads run on a thread of their own
//! (the VPP handler blocks on the VPP runtime, and a stats socket connect may wait a second),
//! one at a time; a failing read (no stats socket, VPP down) is logged once, then at most once a
//! minute, and never touches configuration. Interfaces without a tag (not the agent's, except
//! `local0`) are not published.
//!
//! Deliberately not here: Ligato's interface notifications (Kafka, gRPC `PollStats`), node,
//! error and memory counters.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use bytes::Bytes;
use messages::proto::vpp_interfaces::InterfaceState;
use messages::proto::vpp_interfaces::interface::Type;
use messages::proto::vpp_interfaces::interface_state::{Statistics, Status};
use messages::{Key, MicroserviceLabel};
use tokio::sync::watch;
use vpp::api::InterfaceDetails;
use vpp::stats::{InterfaceCounters, StatsReader};

use crate::msg::WriteKeys;

/// The key of an interface's state, below the agent prefix (Ligato's `StatePrefix`).
pub fn state_key(name: &str) -> Key {
    let name = if name.is_empty() { "<invalid>" } else { name };
    Key::from(format!("vpp/status/v2/interface/{name}"))
}

/// One interface at one poll.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InterfaceSample {
    /// The agent's name (the VPP tag; `local0` for VPP's own).
    pub name: String,
    pub internal_name: String,
    pub sw_if_index: u32,
    pub kind: Option<Type>,
    pub admin_up: bool,
    pub link_up: bool,
    pub phys_address: String,
    pub mtu: u32,
    pub counters: InterfaceCounters,
}

/// The latest samples, for `/metrics`.
pub type InterfaceMetrics = watch::Receiver<Arc<Vec<InterfaceSample>>>;

/// A metrics view with no samples, for agents without a stats publisher.
pub fn no_metrics() -> InterfaceMetrics {
    watch::channel(Arc::new(Vec::new())).1
}

fn kind_of(d: &InterfaceDetails) -> Option<Type> {
    let t = d.dev_type.to_ascii_lowercase();
    Some(if d.sw_if_index == 0 {
        return None;
    } else if d.sup_sw_if_index != d.sw_if_index {
        Type::SubInterface
    } else if t == "loopback" {
        Type::SoftwareLoopback
    } else if t == "virtio" || t.starts_with("tap") {
        Type::Tap
    } else if t == "memif" {
        Type::Memif
    } else if t.starts_with("vxlan") {
        Type::VxlanTunnel
    } else if t == "af_packet" || t == "host" {
        Type::AfPacket
    } else {
        Type::Dpdk
    })
}

/// The samples of one poll: VPP's interfaces joined with their counters by sw_if_index.
pub fn samples(
    details: &[InterfaceDetails],
    counters: &[InterfaceCounters],
) -> Vec<InterfaceSample> {
    let by_index: BTreeMap<u32, &InterfaceCounters> =
        counters.iter().map(|c| (c.sw_if_index, c)).collect();
    let mut out: Vec<InterfaceSample> = details
        .iter()
        .filter(|d| !d.tag.is_empty() || d.sw_if_index == 0)
        .map(|d| InterfaceSample {
            name: vpp::descriptors::logical_name(d),
            internal_name: d.internal_name.clone(),
            sw_if_index: d.sw_if_index,
            kind: kind_of(d),
            admin_up: d.admin_up,
            link_up: d.link_up,
            phys_address: if d.mac.is_zero() {
                String::new()
            } else {
                d.mac.to_string()
            },
            mtu: d.link_mtu,
            counters: by_index
                .get(&d.sw_if_index)
                .map(|c| (*c).clone())
                .unwrap_or_else(|| InterfaceCounters {
                    sw_if_index: d.sw_if_index,
                    ..InterfaceCounters::default()
                }),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The `ligato.vpp.interfaces.InterfaceState` of a sample, with its `statistics`.
pub fn state_proto(s: &InterfaceSample) -> InterfaceState {
    let status = |up: bool| if up { Status::Up } else { Status::Down } as i32;
    let c = &s.counters;
    InterfaceState {
        name: s.name.clone(),
        internal_name: s.internal_name.clone(),
        r#type: s.kind.unwrap_or(Type::UndefinedType) as i32,
        if_index: s.sw_if_index,
        admin_status: status(s.admin_up),
        oper_status: status(s.link_up),
        phys_address: s.phys_address.clone(),
        mtu: s.mtu,
        statistics: Some(Statistics {
            in_packets: c.rx.packets,
            in_bytes: c.rx.bytes,
            out_packets: c.tx.packets,
            out_bytes: c.tx.bytes,
            drop_packets: c.drops,
            punt_packets: c.punts,
            ipv4_packets: c.ip4,
            ipv6_packets: c.ip6,
            in_nobuf_packets: c.rx_no_buf,
            in_miss_packets: c.rx_miss,
            in_error_packets: c.rx_error,
            out_error_packets: c.tx_error,
        }),
        ..InterfaceState::default()
    }
}

/// Proto3 JSON of the sample's `InterfaceState` as Ligato writes it: original field names,
/// enum names, 64-bit integers as strings, default values left out.
pub fn state_json(s: &InterfaceSample) -> String {
    match messages::value::to_dynamic(&state_proto(s)) {
        Some(msg) => messages::json::encode(&msg),
        None => String::from("{}"),
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The interface families of `/metrics` (Prometheus text format), appended to `out`.
pub fn render_metrics(samples: &[InterfaceSample], out: &mut String) {
    type Get = fn(&InterfaceSample) -> u64;
    let families: [(&str, &str, &str, Get); 14] = [
        (
            "vpp_interface_rx_packets_total",
            "counter",
            "Packets received.",
            |s| s.counters.rx.packets,
        ),
        (
            "vpp_interface_rx_bytes_total",
            "counter",
            "Bytes received.",
            |s| s.counters.rx.bytes,
        ),
        (
            "vpp_interface_tx_packets_total",
            "counter",
            "Packets sent.",
            |s| s.counters.tx.packets,
        ),
        (
            "vpp_interface_tx_bytes_total",
            "counter",
            "Bytes sent.",
            |s| s.counters.tx.bytes,
        ),
        (
            "vpp_interface_drops_total",
            "counter",
            "Packets dropped.",
            |s| s.counters.drops,
        ),
        (
            "vpp_interface_punts_total",
            "counter",
            "Packets punted.",
            |s| s.counters.punts,
        ),
        (
            "vpp_interface_ip4_packets_total",
            "counter",
            "IPv4 packets received.",
            |s| s.counters.ip4,
        ),
        (
            "vpp_interface_ip6_packets_total",
            "counter",
            "IPv6 packets received.",
            |s| s.counters.ip6,
        ),
        (
            "vpp_interface_rx_no_buf_total",
            "counter",
            "Packets not received for lack of buffers.",
            |s| s.counters.rx_no_buf,
        ),
        (
            "vpp_interface_rx_miss_total",
            "counter",
            "Packets missed on receive.",
            |s| s.counters.rx_miss,
        ),
        (
            "vpp_interface_rx_errors_total",
            "counter",
            "Receive errors.",
            |s| s.counters.rx_error,
        ),
        (
            "vpp_interface_tx_errors_total",
            "counter",
            "Transmit errors.",
            |s| s.counters.tx_error,
        ),
        (
            "vpp_interface_admin_up",
            "gauge",
            "Whether the interface is administratively up.",
            |s| u64::from(s.admin_up),
        ),
        (
            "vpp_interface_link_up",
            "gauge",
            "Whether the interface's link is up.",
            |s| u64::from(s.link_up),
        ),
    ];
    if samples.is_empty() {
        return;
    }
    for (name, kind, help, get) in families {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for s in samples {
            let _ = writeln!(
                out,
                "{name}{{interface=\"{}\",internal_name=\"{}\",sw_if_index=\"{}\"}} {}",
                escape_label(&s.name),
                escape_label(&s.internal_name),
                s.sw_if_index,
                get(s)
            );
        }
    }
}

/// What the publisher needs.
pub struct StatsPublisherConfig {
    pub label: MicroserviceLabel,
    pub period: Duration,
    /// VPP's stats socket (`stats-socket-path` of the govpp config).
    pub stats_socket: std::path::PathBuf,
    /// Interface names and state; without it the segment's own names are used.
    pub vpp: Option<vpp::ApiHandle>,
    /// The first store's connector; `None` publishes to `/metrics` only.
    pub to: Option<Recipient<WriteKeys>>,
}

impl std::fmt::Debug for StatsPublisherConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsPublisherConfig")
            .field("period", &self.period)
            .field("stats_socket", &self.stats_socket)
            .finish_non_exhaustive()
    }
}

/// Rate-limited logging of a failure that repeats every poll.
#[derive(Debug, Default)]
struct Failing {
    since: Option<Instant>,
    count: u64,
    last_warn: Option<Instant>,
}

const WARN_EVERY: Duration = Duration::from_secs(60);

impl Failing {
    fn failed(&mut self, what: &str, error: &str) {
        self.count += 1;
        let now = Instant::now();
        self.since.get_or_insert(now);
        if self
            .last_warn
            .is_none_or(|t| now.duration_since(t) >= WARN_EVERY)
        {
            tracing::warn!(error, failures = self.count, "{what}");
            self.last_warn = Some(now);
        } else {
            tracing::debug!(error, failures = self.count, "{what}");
        }
    }

    fn recovered(&mut self, what: &str) {
        if self.since.take().is_some() {
            tracing::info!(failures = self.count, "{what}");
        }
        self.count = 0;
        self.last_warn = None;
    }
}

/// See the module docs.
pub struct StatsPublisher {
    cfg: StatsPublisherConfig,
    /// `None` while a read is in flight.
    reader: Option<StatsReader>,
    published: BTreeMap<String, String>,
    writing: bool,
    metrics: watch::Sender<Arc<Vec<InterfaceSample>>>,
    read_failures: Failing,
    write_failures: Failing,
}

impl std::fmt::Debug for StatsPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsPublisher")
            .field("published", &self.published.len())
            .finish_non_exhaustive()
    }
}

type PollResult = Result<Vec<InterfaceSample>, String>;

fn poll(reader: &mut StatsReader, vpp: Option<&vpp::ApiHandle>) -> PollResult {
    let counters = reader.interfaces().map_err(|e| e.to_string())?;
    match vpp {
        Some(api) => {
            let details = api.get().dump_interfaces().map_err(|e| e.to_string())?;
            Ok(samples(&details, &counters))
        }
        None => Ok(counters
            .into_iter()
            .filter_map(|c| {
                let name = c.name.clone()?;
                Some(InterfaceSample {
                    name: name.clone(),
                    internal_name: name,
                    sw_if_index: c.sw_if_index,
                    counters: c,
                    ..InterfaceSample::default()
                })
            })
            .collect()),
    }
}

impl StatsPublisher {
    /// The publisher and the `/metrics` view of its samples.
    pub fn new(cfg: StatsPublisherConfig) -> (Self, InterfaceMetrics) {
        let (metrics, view) = watch::channel(Arc::new(Vec::new()));
        let reader = StatsReader::new(cfg.stats_socket.clone());
        (
            StatsPublisher {
                cfg,
                reader: Some(reader),
                published: BTreeMap::new(),
                writing: false,
                metrics,
                read_failures: Failing::default(),
                write_failures: Failing::default(),
            },
            view,
        )
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        let Some(mut reader) = self.reader.take() else {
            return; // the previous read is still running
        };
        let vpp = self.cfg.vpp.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("vpp-stats".to_owned())
            .spawn(move || {
                let result = poll(&mut reader, vpp.as_ref());
                let _ = tx.send((reader, result));
            });
        if let Err(e) = spawned {
            self.reader = Some(StatsReader::new(self.cfg.stats_socket.clone()));
            self.read_failures
                .failed("Stats not read: no thread.", &e.to_string());
            return;
        }
        ctx.spawn(
            async move { rx.await.ok() }
                .into_actor(self)
                .map(|res, act, ctx| {
                    let Some((reader, result)) = res else {
                        act.reader = Some(StatsReader::new(act.cfg.stats_socket.clone()));
                        return;
                    };
                    act.reader = Some(reader);
                    match result {
                        Ok(samples) => {
                            act.read_failures.recovered("Stats read again.");
                            act.publish(&samples, ctx);
                            act.metrics.send_replace(Arc::new(samples));
                        }
                        Err(e) => act
                            .read_failures
                            .failed("Stats not read; configuration is not affected.", &e),
                    }
                }),
        );
    }

    fn publish(&mut self, samples: &[InterfaceSample], ctx: &mut Context<Self>) {
        let Some(to) = self.cfg.to.clone() else {
            return;
        };
        if self.writing {
            return;
        }
        let next: BTreeMap<String, String> = samples
            .iter()
            .map(|s| {
                (
                    self.cfg.label.add_prefix(&state_key(&s.name)),
                    state_json(s),
                )
            })
            .collect();
        let mut entries = Vec::new();
        for (k, v) in &next {
            if self.published.get(k) != Some(v) {
                entries.push((k.clone(), Some(Bytes::from(v.clone()))));
            }
        }
        for k in self.published.keys() {
            if !next.contains_key(k) {
                entries.push((k.clone(), None));
            }
        }
        if entries.is_empty() {
            return;
        }
        self.writing = true;
        ctx.spawn(
            to.send(WriteKeys { entries })
                .into_actor(self)
                .map(move |res, act, _| {
                    act.writing = false;
                    let error = match res {
                        Ok(Ok(())) => {
                            act.published = next;
                            act.write_failures
                                .recovered("Interface state published again.");
                            return;
                        }
                        Ok(Err(e)) => e,
                        Err(e) => e.to_string(),
                    };
                    act.write_failures.failed(
                        "Interface state not published; retrying with the next poll.",
                        &error,
                    );
                }),
        );
    }
}

impl Actor for StatsPublisher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        tracing::info!(
            period = ?self.cfg.period,
            socket = %self.cfg.stats_socket.display(),
            "Stats publisher started."
        );
        self.tick(ctx);
        ctx.run_interval(self.cfg.period, |act, ctx| act.tick(ctx));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> InterfaceSample {
        let mut s = InterfaceSample {
            name: "loop1".to_owned(),
            internal_name: "loop0".to_owned(),
            sw_if_index: 1,
            kind: Some(Type::SoftwareLoopback),
            admin_up: true,
            link_up: true,
            phys_address: "de:ad:00:00:00:01".to_owned(),
            mtu: 9000,
            ..InterfaceSample::default()
        };
        s.counters.rx.packets = 10;
        s.counters.rx.bytes = 1000;
        s
    }

    #[test]
    fn state_is_ligatos_proto3_json() {
        let json: serde_json::Value = serde_json::from_str(&state_json(&sample())).expect("json");
        assert_eq!(
            json,
            serde_json::json!({
                "name": "loop1",
                "internal_name": "loop0",
                "type": "SOFTWARE_LOOPBACK",
                "if_index": 1,
                "admin_status": "UP",
                "oper_status": "UP",
                "phys_address": "de:ad:00:00:00:01",
                "mtu": 9000,
                "statistics": {"in_packets": "10", "in_bytes": "1000"}
            })
        );
        assert_eq!(state_key("loop1").as_str(), "vpp/status/v2/interface/loop1");
        assert_eq!(state_key("").as_str(), "vpp/status/v2/interface/<invalid>");
    }

    #[test]
    fn metrics_have_one_family_header_and_an_interface_label() {
        let mut out = String::new();
        render_metrics(&[sample()], &mut out);
        assert!(
            out.contains("# TYPE vpp_interface_rx_packets_total counter\n"),
            "{out}"
        );
        assert!(
            out.contains(
                "vpp_interface_rx_bytes_total{interface=\"loop1\",internal_name=\"loop0\",sw_if_index=\"1\"} 1000\n"
            ),
            "{out}"
        );
        assert_eq!(out.matches("# TYPE vpp_interface_link_up gauge").count(), 1);
        let mut empty = String::new();
        render_metrics(&[], &mut empty);
        assert!(empty.is_empty());
    }

    #[test]
    fn samples_keep_the_agents_interfaces_and_join_counters_by_index() {
        let details = vec![
            InterfaceDetails {
                sw_if_index: 0,
                internal_name: "local0".into(),
                ..Default::default()
            },
            InterfaceDetails {
                sw_if_index: 1,
                sup_sw_if_index: 1,
                internal_name: "loop0".into(),
                dev_type: "Loopback".into(),
                tag: "loop1".into(),
                ..Default::default()
            },
            InterfaceDetails {
                sw_if_index: 2,
                sup_sw_if_index: 2,
                internal_name: "tap0".into(),
                dev_type: "virtio".into(),
                ..Default::default()
            },
        ];
        let mut c = InterfaceCounters {
            sw_if_index: 1,
            ..Default::default()
        };
        c.tx.packets = 3;
        let s = samples(&details, &[c]);
        let names: Vec<&str> = s.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["local0", "loop1"],
            "an untagged interface is not the agent's"
        );
        assert_eq!(s[1].counters.tx.packets, 3);
        assert_eq!(s[1].kind, Some(Type::SoftwareLoopback));
        assert_eq!(s[0].counters.sw_if_index, 0);
    }
}
