//! `cli_inband`: VPP's debug CLI as the simulator answers it. `show` commands print in VPP's
//! layout (the format strings of `l2_fib.c`, `l2_bd.c`, `interface_cli.c`), with unique-prefix
//! abbreviations (`sh int`, `sh l2fib verbose`); a few configuration commands let tests change
//! VPP behind the agent's back (drift), exactly as an operator with `vppctl` would.
//!
//! It is not a general CLI: anything else answers retval -1 and `unknown input` as VPP does.

use std::net::IpAddr;

use crate::state::{BdFlags, L2Mode, Mac, NONE, Prefix, Vpp};

/// The reply of one CLI command: VPP's retval and the text it printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliReply {
    pub retval: i32,
    pub text: String,
}

impl CliReply {
    fn ok(text: String) -> Self {
        CliReply { retval: 0, text }
    }

    fn err(text: impl Into<String>) -> Self {
        CliReply {
            retval: -1,
            text: format!("{}\n", text.into()),
        }
    }
}

/// VPP's `%=Ns`: centred in `w` columns, the odd space going left.
pub fn center(s: &str, w: usize) -> String {
    let len = s.chars().count();
    if len >= w {
        return s.to_owned();
    }
    let pad = w - len;
    let left = pad - pad / 2;
    format!("{}{s}{}", " ".repeat(left), " ".repeat(pad / 2))
}

/// Matches `words` against a command `path` where each input word may be a prefix of the
/// path word (`sh int` matches `show interface`); returns the remaining words.
fn matches<'a>(words: &'a [&'a str], path: &str) -> Option<&'a [&'a str]> {
    let path: Vec<&str> = path.split(' ').collect();
    if words.len() < path.len() {
        return None;
    }
    for (w, p) in words.iter().zip(&path) {
        if w.is_empty() || !p.starts_with(w) {
            return None;
        }
    }
    Some(&words[path.len()..])
}

/// Runs one CLI command against the simulated VPP.
pub fn execute(vpp: &mut Vpp, pid: u32, cmd: &str) -> CliReply {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let w = words.as_slice();
    if w.is_empty() {
        return CliReply::ok(String::new());
    }
    if let Some(rest) = matches(w, "show version") {
        return CliReply::ok(show_version(vpp, pid, rest));
    }
    if matches(w, "show plugins").is_some() {
        return CliReply::ok(show_plugins(vpp));
    }
    if let Some(rest) = matches(w, "show interface address")
        && rest.is_empty()
    {
        return CliReply::ok(show_interface_address(vpp));
    }
    if let Some(rest) = matches(w, "show interface") {
        return CliReply::ok(show_interface(vpp, rest));
    }
    if let Some(rest) = matches(w, "show bridge-domain") {
        return show_bridge_domain(vpp, rest);
    }
    if matches(w, "show l2fib").is_some() {
        return CliReply::ok(show_l2fib(vpp));
    }
    if let Some(rest) = matches(w, "show ip fib") {
        return CliReply::ok(show_ip_fib(vpp, false, rest));
    }
    if let Some(rest) = matches(w, "show ip6 fib") {
        return CliReply::ok(show_ip_fib(vpp, true, rest));
    }
    if matches(w, "show ip neighbors").is_some() || matches(w, "show ip neighbor").is_some() {
        return CliReply::ok(show_ip_neighbors(vpp));
    }
    config_command(vpp, w).unwrap_or_else(|| CliReply::err(format!("unknown input `{cmd}'")))
}

fn show_version(vpp: &Vpp, pid: u32, rest: &[&str]) -> String {
    let version = format!("v{}-release", vpp.version);
    match rest.first().copied() {
        Some(v) if "verbose".starts_with(v) => format!(
            "Version:                  {version}\nCompiled by:              vpp-sim\nCompile host:             vpp-sim\nCompile date:             2026-01-01T00:00:00\nCompile location:         /vpp-sim\nCompiler:                 rustc\nCurrent PID:              {pid}\n"
        ),
        Some(c) if "cmdline".starts_with(c) => "Command line arguments:\n  vpp-sim\n".to_owned(),
        _ => format!("vpp {version} built by vpp-sim on vpp-sim at 2026-01-01T00:00:00\n"),
    }
}

const PLUGINS: &[(&str, &str)] = &[
    ("af_packet_plugin.so", "af_packet"),
    (
        "memif_plugin.so",
        "Packet Memory Interface (memif) -- Experimental",
    ),
    ("vxlan_plugin.so", "VxLan Tunnels"),
];

fn show_plugins(vpp: &Vpp) -> String {
    let mut out = String::from(" Plugin path is: /usr/lib/x86_64-linux-gnu/vpp_plugins\n\n");
    out.push_str("     Plugin                                   Version                          Description\n");
    for (i, (name, desc)) in PLUGINS.iter().enumerate() {
        out.push_str(&format!(
            "  {}. {:<40} {:<32} {desc}\n",
            i + 1,
            name,
            format!("{}-release", vpp.version)
        ));
    }
    out
}

fn show_interface(vpp: &Vpp, filter: &[&str]) -> String {
    let mut out = format!(
        "{}{}{}{}{}{}\n",
        center("Name", 32),
        center("Idx", 5),
        center("State", 10),
        center("MTU (L3/IP4/IP6/MPLS)", 21),
        center("Counter", 16),
        center("Count", 16)
    );
    for iface in vpp.interfaces() {
        if let Some(name) = filter.first()
            && iface.name != *name
        {
            continue;
        }
        let state = if iface.admin_up { "up" } else { "down" };
        let m = iface.mtu;
        let mtu = format!("{}/{}/{}/{}", m[0], m[1], m[2], m[3]);
        let mut line = format!(
            "{:<32}{}{}{}",
            iface.name,
            center(&iface.sw_if_index.to_string(), 5),
            center(state, 10),
            center(&mtu, 21)
        );
        let counters = [
            ("rx packets", iface.rx_packets),
            ("rx bytes", iface.rx_bytes),
            ("tx packets", iface.tx_packets),
            ("tx bytes", iface.tx_bytes),
        ];
        let mut first = true;
        for (name, value) in counters.iter().filter(|(_, v)| *v > 0) {
            if !first {
                line.push('\n');
                line.push_str(&" ".repeat(68));
            }
            line.push_str(&format!("{name:<16}{value:>16}"));
            first = false;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn show_interface_address(vpp: &Vpp) -> String {
    let mut out = String::new();
    for iface in vpp.interfaces() {
        let state = if iface.admin_up { "up" } else { "dn" };
        out.push_str(&format!("{} ({state}):\n", iface.name));
        match iface.l2 {
            L2Mode::Bridge { bd_id, bvi, shg } => {
                let idx = vpp.bridge_domain(bd_id).map(|b| b.bd_index).unwrap_or(NONE);
                let bvi = if bvi { "bvi" } else { "" };
                out.push_str(&format!(
                    "  L2 bridge bd-id {bd_id} idx {idx} shg {shg} {bvi}\n"
                ));
            }
            L2Mode::Xconnect { tx } => {
                out.push_str(&format!("  L2 xconnect {}\n", vpp.name_or_stale(tx)));
            }
            L2Mode::L3 => {}
        }
        for (addr, len) in &iface.addresses {
            let af = usize::from(addr.is_ipv6());
            let table = iface.table[af];
            if table == 0 {
                out.push_str(&format!("  L3 {addr}/{len}\n"));
            } else {
                let fam = if addr.is_ipv6() { "ip6" } else { "ip4" };
                out.push_str(&format!("  L3 {addr}/{len} {fam} table-id {table}\n"));
            }
        }
    }
    out
}

fn uu_cfg(flood: bool) -> &'static str {
    if flood { "flood" } else { "drop" }
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

fn show_bridge_domain(vpp: &Vpp, rest: &[&str]) -> CliReply {
    let (selected, detail): (Vec<u32>, bool) = match rest.first() {
        None => (vpp.bridge_domains().map(|b| b.bd_id).collect(), false),
        Some(id) => {
            let Ok(id) = id.parse::<u32>() else {
                return CliReply::err(format!("unknown input `{}'", rest.join(" ")));
            };
            if vpp.bridge_domain(id).is_none() || id == 0 {
                return CliReply::ok(format!("bridge-domain {id} not in use\n"));
            }
            (
                vec![id],
                rest.get(1).is_some_and(|d| "detail".starts_with(d)),
            )
        }
    };
    if selected.is_empty() {
        return CliReply::ok("no bridge-domains in use\n".to_owned());
    }
    let mut out = format!(
        "{} {} {} {} {} {} {} {} {} {}\n",
        center("BD-ID", 8),
        center("Index", 7),
        center("BSN", 4),
        center("Age(min)", 9),
        center("Learning", 9),
        center("U-Forwrd", 9),
        center("UU-Flood", 11),
        center("Flooding", 9),
        center("ARP-Term", 9),
        center("BVI-Intf", 11)
    );
    for id in selected {
        let Some(bd) = vpp.bridge_domain(id) else {
            continue;
        };
        let age = if bd.mac_age == 0 {
            "off".to_owned()
        } else {
            bd.mac_age.to_string()
        };
        let bvi = bd
            .bvi
            .map(|b| vpp.name_or_stale(b))
            .unwrap_or_else(|| "N/A".to_owned());
        out.push_str(&format!(
            "{} {} {} {} {} {} {} {} {} {}\n",
            center(&bd.bd_id.to_string(), 8),
            center(&bd.bd_index.to_string(), 7),
            center("0", 4),
            center(&age, 9),
            center(on_off(bd.learn), 9),
            center(on_off(bd.forward), 9),
            center(uu_cfg(bd.uu_flood), 11),
            center(on_off(bd.flood), 9),
            center(on_off(bd.arp_term), 9),
            center(&bvi, 11)
        ));
        if detail && !bd.members.is_empty() {
            out.push_str(&format!(
                "\n{}{}{}{}{}{}{}\n",
                center("Interface", 30),
                center("If-idx", 7),
                center("ISN", 5),
                center("SHG", 5),
                center("BVI", 5),
                center("TxFlood", 9),
                center("VLAN-Tag-Rewrite", 30)
            ));
            for (sw, shg) in &bd.members {
                let is_bvi = if bd.bvi == Some(*sw) { "*" } else { "-" };
                out.push_str(&format!(
                    "{}{}{}{}{}{}{}\n",
                    center(&vpp.name_or_stale(*sw), 30),
                    center(&sw.to_string(), 7),
                    center("1", 5),
                    center(&shg.to_string(), 5),
                    center(is_bvi, 5),
                    center("*", 9),
                    center("none", 30)
                ));
            }
        }
        if detail && !bd.tag.is_empty() {
            out.push_str(&format!("\n  BD-Tag: {}\n", bd.tag));
        }
    }
    CliReply::ok(out)
}

fn show_l2fib(vpp: &Vpp) -> String {
    let mut out = String::new();
    let mut total = 0;
    for ((mac, bd_index), e) in vpp.l2fib_raw() {
        if total == 0 {
            out.push_str(&format!(
                "{}{}{}{}{}{}{}{}{}\n",
                center("Mac-Address", 19),
                center("BD-Idx", 7),
                center("If-Idx", 7),
                center("BSN-ISN", 8),
                center("Age(min)", 9),
                center("static", 7),
                center("filter", 7),
                center("bvi", 5),
                center("Interface-Name", 30)
            ));
        }
        total += 1;
        let if_idx = if e.sw_if_index == NONE {
            -1
        } else {
            i64::from(e.sw_if_index)
        };
        let star = |b: bool| if b { "*" } else { "-" };
        out.push_str(&format!(
            "{}{}{} {:>3}/{:<3}{}{}{}{}{}\n",
            center(&mac.to_string(), 19),
            center(&bd_index.to_string(), 7),
            center(&if_idx.to_string(), 7),
            0,
            0,
            center("-", 9),
            center(star(e.static_mac), 7),
            center(star(e.filter_mac), 7),
            center(star(e.bvi_mac), 5),
            center(&vpp.name_or_stale(e.sw_if_index), 30)
        ));
    }
    out.push_str(&format!(
        "L2FIB total/learned entries: {total}/0  Last scan time: 0.0000e0sec  Learn limit: 16777216 \n"
    ));
    out
}

fn show_ip_fib(vpp: &Vpp, ip6: bool, rest: &[&str]) -> String {
    let only: Option<u32> = match rest {
        [t, id, ..] if "table".starts_with(t) => id.parse().ok(),
        _ => None,
    };
    let mut out = String::new();
    for (is_ip6, table_id, name) in vpp.tables() {
        if is_ip6 != ip6 || only.is_some_and(|t| t != table_id) {
            continue;
        }
        out.push_str(&format!("{name}, fib_index:{table_id}, flow hash:[src dst sport dport proto flowlabel ] epoch:0 flags:none locks:[API:1, ]\n"));
        for route in vpp.fib_entries(table_id, ip6) {
            out.push_str(&format!(
                "{}\n",
                Prefix {
                    addr: route.prefix.network(),
                    len: route.prefix.len
                }
            ));
            for path in &route.paths {
                let what = match path.path_type {
                    1 => "local".to_owned(),
                    2 => "dpo-drop".to_owned(),
                    _ => match path.next_hop {
                        Some(nh) if !nh.is_unspecified() => {
                            format!("via {nh} {}", vpp.name_or_stale(path.sw_if_index))
                        }
                        _ if path.sw_if_index != NONE => {
                            format!("attached {}", vpp.name_or_stale(path.sw_if_index))
                        }
                        _ => format!("deag table {}", path.table_id),
                    },
                };
                out.push_str(&format!(
                    "  [@0]: {what} weight:{} pref:{}\n",
                    path.weight, path.preference
                ));
            }
        }
    }
    out
}

fn show_ip_neighbors(vpp: &Vpp) -> String {
    let mut out = format!(
        "{:>10}{:>25}{:>21}{:>20}{:>24}\n",
        "Time", "IP", "Flags", "Ethernet", "Interface"
    );
    for is_ip6 in [false, true] {
        for n in vpp.neighbors(NONE, is_ip6) {
            let flags = if n.flags & 1 != 0 { "S" } else { "D" };
            out.push_str(&format!(
                "{:>10.4}{:>25}{:>21}{:>20}{:>24}\n",
                0.0,
                n.ip,
                flags,
                n.mac.to_string(),
                vpp.name_or_stale(n.sw_if_index)
            ));
        }
    }
    out
}

fn iface_index(vpp: &Vpp, name: &str) -> Option<u32> {
    vpp.interface_by_name(name).map(|i| i.sw_if_index)
}

/// The configuration commands the simulator understands (a small subset of VPP's).
fn config_command(vpp: &mut Vpp, w: &[&str]) -> Option<CliReply> {
    if let Some(rest) = matches(w, "test traffic") {
        return Some(crate::stats::traffic_command(vpp, rest));
    }
    if let Some(rest) = matches(w, "create loopback interface") {
        let mac = match rest {
            [m, addr, ..] if "mac".starts_with(m) => addr.parse().ok()?,
            _ => Mac::default(),
        };
        return Some(match vpp.create_loopback(mac) {
            Ok(i) => CliReply::ok(format!("{}\n", vpp.name_or_stale(i))),
            Err(rv) => CliReply::err(format!("create loopback failed: {rv}")),
        });
    }
    if let Some(rest) = matches(w, "delete loopback interface intfc") {
        let idx = rest.first().and_then(|n| iface_index(vpp, n));
        return Some(match idx.map(|i| vpp.delete_loopback(i)) {
            Some(Ok(())) => CliReply::ok(String::new()),
            _ => CliReply::err("delete loopback interface: interface not found"),
        });
    }
    if let Some(rest) = matches(w, "set interface state") {
        let (Some(name), Some(state)) = (rest.first(), rest.get(1)) else {
            return Some(CliReply::err("set interface state: missing interface name"));
        };
        let Some(idx) = iface_index(vpp, name) else {
            return Some(CliReply::err(format!("unknown input `{name}'")));
        };
        let up = match *state {
            "up" => 1,
            "down" => 0,
            other => return Some(CliReply::err(format!("unknown input `{other}'"))),
        };
        return Some(vpp.set_flags(idx, up).map_or_else(
            |rv| CliReply::err(format!("sw_interface_set_flags failed: {rv}")),
            |()| CliReply::ok(String::new()),
        ));
    }
    if let Some(rest) = matches(w, "set interface l2 bridge") {
        let (Some(name), Some(bd)) = (rest.first(), rest.get(1).and_then(|b| b.parse().ok()))
        else {
            return Some(CliReply::err(
                "set interface l2 bridge: missing interface or bd-id",
            ));
        };
        let Some(idx) = iface_index(vpp, name) else {
            return Some(CliReply::err(format!("unknown input `{name}'")));
        };
        let bvi = rest.get(2) == Some(&"bvi");
        return Some(
            vpp.set_l2_bridge(idx, bd, u32::from(bvi), 0, true)
                .map_or_else(
                    |rv| CliReply::err(format!("set interface l2 bridge failed: {rv}")),
                    |()| CliReply::ok(String::new()),
                ),
        );
    }
    if let Some(rest) = matches(w, "set interface l3") {
        let idx = rest.first().and_then(|n| iface_index(vpp, n))?;
        return Some(vpp.set_l2_bridge(idx, 0, 0, 0, false).map_or_else(
            |rv| CliReply::err(format!("set interface l3 failed: {rv}")),
            |()| CliReply::ok(String::new()),
        ));
    }
    if let Some(rest) = matches(w, "set interface ip address") {
        let (is_add, rest) = match rest.first() {
            Some(&"del") => (false, &rest[1..]),
            _ => (true, rest),
        };
        let idx = rest.first().and_then(|n| iface_index(vpp, n))?;
        let (addr, len) = rest.get(1)?.split_once('/')?;
        let prefix = Prefix {
            addr: addr.parse::<IpAddr>().ok()?,
            len: len.parse().ok()?,
        };
        return Some(vpp.add_del_address(idx, is_add, false, prefix).map_or_else(
            |rv| CliReply::err(format!("set interface ip address: failed: {rv}")),
            |()| CliReply::ok(String::new()),
        ));
    }
    if let Some(rest) = matches(w, "create bridge-domain") {
        let id: u32 = rest.first()?.parse().ok()?;
        let mut flags = BdFlags {
            flood: true,
            uu_flood: true,
            forward: true,
            learn: true,
            ..BdFlags::default()
        };
        let mut del = false;
        let mut i = 1;
        while i < rest.len() {
            let val = rest.get(i + 1).and_then(|v| v.parse::<u8>().ok());
            match (rest[i], val) {
                ("del", _) => {
                    del = true;
                    i += 1;
                    continue;
                }
                ("learn", Some(v)) => flags.learn = v != 0,
                ("forward", Some(v)) => flags.forward = v != 0,
                ("uu-flood", Some(v)) => flags.uu_flood = v != 0,
                ("flood", Some(v)) => flags.flood = v != 0,
                ("arp-term", Some(v)) => flags.arp_term = v != 0,
                ("mac-age", Some(v)) => flags.mac_age = v,
                (other, _) => return Some(CliReply::err(format!("unknown input `{other}'"))),
            }
            i += 2;
        }
        if id == 0 {
            return Some(CliReply::err(
                "create bridge-domain: bridge domain 0 can not be modified",
            ));
        }
        let result = if del {
            vpp.bd_del(id)
        } else {
            vpp.bd_add(id, flags)
        };
        return Some(match result {
            Ok(()) if del => CliReply::ok(String::new()),
            Ok(()) => CliReply::ok(format!("bridge-domain {id}\n")),
            Err(rv) if rv.0 == -120 => {
                CliReply::err("create bridge-domain: bridge domain in use - remove members")
            }
            Err(rv) if rv.0 == -6 => {
                CliReply::err("create bridge-domain: bridge domain ID does not exist")
            }
            Err(rv) => CliReply::err(format!("create bridge-domain: bd_add_del returned {rv}")),
        });
    }
    if let Some(rest) = matches(w, "l2fib add") {
        let mac: Mac = rest.first()?.parse().ok()?;
        let bd: u32 = rest.get(1)?.parse().ok()?;
        let filter = rest.get(2) == Some(&"filter");
        let idx = if filter {
            NONE
        } else {
            rest.get(2).and_then(|n| iface_index(vpp, n))?
        };
        let is_static = rest.contains(&"static");
        return Some(
            match vpp.l2fib_add_del(mac, bd, idx, true, is_static, filter, false) {
                Ok(()) => CliReply::ok(String::new()),
                Err(rv) if rv.0 == -6 => {
                    CliReply::err(format!("l2fib add: bridge domain ID {bd} invalid"))
                }
                Err(rv) => CliReply::err(format!("l2fib add: failed: {rv}")),
            },
        );
    }
    if let Some(rest) = matches(w, "l2fib del") {
        let mac: Mac = rest.first()?.parse().ok()?;
        let bd: u32 = rest.get(1)?.parse().ok()?;
        if vpp.bridge_domain(bd).is_none() {
            return Some(CliReply::err(format!(
                "l2fib del: bridge domain ID {bd} invalid"
            )));
        }
        return Some(
            match vpp.l2fib_add_del(mac, bd, 0, false, false, false, false) {
                Ok(()) => CliReply::ok(String::new()),
                Err(_) => CliReply::err(format!("l2fib del: address {mac} not found")),
            },
        );
    }
    None
}
