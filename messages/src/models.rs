//! The built-in models: Ligato's VPP and Linux configuration messages with their specs and
//! name templates, rendered exactly as Ligato's Go templates render them (including the
//! `ipnet` helper's quirks: masked network in canonical text, `<invalid>/0` when the CIDR
//! does not parse, the raw text for `alloc:` references).
//!
//! Validation of field contents (is this MAC well formed?) is the descriptors' job, not this
//! module's: a key is built for any value, as Ligato does.

use std::net::IpAddr;

use crate::model::{ModelSpec, NamedModel};
use crate::proto::{linux_interfaces, linux_l3, vpp_interfaces, vpp_l2, vpp_l3};

/// Go's `ipnet` template function: `Some((network, mask))` for a CIDR (`<invalid>`, 0 when it
/// does not parse), `None` for a netalloc reference (`alloc:...`).
pub fn ipnet(s: &str) -> Option<(String, u8)> {
    if s.starts_with("alloc:") {
        return None;
    }
    Some(parse_cidr(s).unwrap_or_else(|| ("<invalid>".to_owned(), 0)))
}

/// Parses `addr/len` as Go's `net.ParseCIDR` and returns the masked network and the length.
pub fn parse_cidr(s: &str) -> Option<(String, u8)> {
    let (addr, len) = s.split_once('/')?;
    if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) || len.len() > 3 {
        return None;
    }
    let len: u8 = len.parse().ok()?;
    let ip: IpAddr = addr.parse().ok()?;
    let net = match ip {
        IpAddr::V4(v4) => {
            if len > 32 {
                return None;
            }
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            IpAddr::V4((u32::from(v4) & mask).into())
        }
        IpAddr::V6(v6) => {
            if len > 128 {
                return None;
            }
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            IpAddr::V6((u128::from(v6) & mask).into())
        }
    };
    Some((net.to_string(), len))
}

impl NamedModel for vpp_interfaces::Interface {
    const SPEC: ModelSpec = ModelSpec::config("vpp", "v2", "interfaces");
    const NAME_TEMPLATE: &'static str = "{{.Name}}";
    fn instance_name(&self) -> String {
        self.name.clone()
    }
}

impl NamedModel for vpp_l2::BridgeDomain {
    const SPEC: ModelSpec = ModelSpec::config("vpp.l2", "v2", "bridge-domain");
    const NAME_TEMPLATE: &'static str = "{{.Name}}";
    fn instance_name(&self) -> String {
        self.name.clone()
    }
}

impl NamedModel for vpp_l2::FibEntry {
    const SPEC: ModelSpec = ModelSpec::config("vpp.l2", "v2", "fib");
    const NAME_TEMPLATE: &'static str = "{{.BridgeDomain}}/mac/{{.PhysAddress}}";
    fn instance_name(&self) -> String {
        format!("{}/mac/{}", self.bridge_domain, self.phys_address)
    }
}

impl NamedModel for vpp_l2::XConnectPair {
    const SPEC: ModelSpec = ModelSpec::config("vpp.l2", "v2", "xconnect");
    const NAME_TEMPLATE: &'static str = "{{.ReceiveInterface}}";
    fn instance_name(&self) -> String {
        self.receive_interface.clone()
    }
}

impl NamedModel for vpp_l3::Route {
    const SPEC: ModelSpec = ModelSpec::config("vpp", "v2", "route");
    const NAME_TEMPLATE: &'static str = concat!(
        r#"{{if .OutgoingInterface}}{{printf "if/%s/" .OutgoingInterface}}{{end}}"#,
        r#"vrf/{{.VrfId}}/"#,
        r#"{{with ipnet .DstNetwork}}{{printf "dst/%s/%d/" .IP .MaskSize}}"#,
        r#"{{else}}{{printf "dst/%s/" .DstNetwork}}{{end}}"#,
        r#"{{if .NextHopAddr}}gw/{{.NextHopAddr}}{{end}}"#
    );
    fn instance_name(&self) -> String {
        let mut name = String::new();
        if !self.outgoing_interface.is_empty() {
            name.push_str(&format!("if/{}/", self.outgoing_interface));
        }
        name.push_str(&format!("vrf/{}/", self.vrf_id));
        match ipnet(&self.dst_network) {
            Some((ip, mask)) => name.push_str(&format!("dst/{ip}/{mask}/")),
            None => name.push_str(&format!("dst/{}/", self.dst_network)),
        }
        if !self.next_hop_addr.is_empty() {
            name.push_str(&format!("gw/{}", self.next_hop_addr));
        }
        name
    }
}

impl NamedModel for vpp_l3::ArpEntry {
    const SPEC: ModelSpec = ModelSpec::config("vpp", "v2", "arp");
    const NAME_TEMPLATE: &'static str = "{{.Interface}}/{{.IpAddress}}";
    fn instance_name(&self) -> String {
        format!("{}/{}", self.interface, self.ip_address)
    }
}

impl NamedModel for vpp_l3::VrfTable {
    const SPEC: ModelSpec = ModelSpec::config("vpp", "v2", "vrf-table");
    const NAME_TEMPLATE: &'static str = "id/{{.Id}}/protocol/{{.Protocol}}";
    fn instance_name(&self) -> String {
        // Go prints an enum by name, and an unknown number as the number itself.
        let protocol = vpp_l3::vrf_table::Protocol::try_from(self.protocol)
            .map(|p| p.as_str_name().to_owned())
            .unwrap_or_else(|_| self.protocol.to_string());
        format!("id/{}/protocol/{protocol}", self.id)
    }
}

impl NamedModel for linux_interfaces::Interface {
    const SPEC: ModelSpec = ModelSpec::config("linux.interfaces", "v2", "interface");
    const NAME_TEMPLATE: &'static str = "{{.Name}}";
    fn instance_name(&self) -> String {
        self.name.clone()
    }
}

impl NamedModel for linux_l3::Route {
    const SPEC: ModelSpec = ModelSpec::config("linux.l3", "v2", "route");
    const NAME_TEMPLATE: &'static str = concat!(
        r#"{{with ipnet .DstNetwork}}{{printf "%s/%d" .IP .MaskSize}}"#,
        r#"{{else}}{{.DstNetwork}}{{end}}/{{.OutgoingInterface}}"#
    );
    fn instance_name(&self) -> String {
        match ipnet(&self.dst_network) {
            Some((ip, mask)) => format!("{ip}/{mask}/{}", self.outgoing_interface),
            None => format!("{}/{}", self.dst_network, self.outgoing_interface),
        }
    }
}

impl NamedModel for linux_l3::ArpEntry {
    const SPEC: ModelSpec = ModelSpec::config("linux.l3", "v2", "arp");
    const NAME_TEMPLATE: &'static str = "{{.Interface}}/{{.IpAddress}}";
    fn instance_name(&self) -> String {
        format!("{}/{}", self.interface, self.ip_address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipnet_like_go() {
        assert_eq!(ipnet("10.10.0.5/24"), Some(("10.10.0.0".into(), 24)));
        assert_eq!(ipnet("2001:DB8::0001/32"), Some(("2001:db8::".into(), 32)));
        assert_eq!(ipnet("INVALID"), Some(("<invalid>".into(), 0)));
        assert_eq!(ipnet("10.0.0.1"), Some(("<invalid>".into(), 0)));
        assert_eq!(ipnet("10.0.0.0/33"), Some(("<invalid>".into(), 0)));
        assert_eq!(ipnet("0.0.0.0/0"), Some(("0.0.0.0".into(), 0)));
        assert_eq!(ipnet("alloc:net1/memif2"), None);
    }
}
