//! The worked example of docs/extending.md: Ligato's Linux iptables rule chain
//! (`ligato.linux.iptables.RuleChain`, key `config/linux/iptables/v2/rulechain/<name>`) added
//! to the agent as an extension, so a Ligato user's iptables configuration applies unchanged.
//!
//! Everything the kind needs is in this folder:
//! - the model: `proto/ligato/linux/iptables/iptables.proto`, compiled by `build.rs`, and its
//!   [`NamedModel`] impl (spec and name template, hence the key);
//! - [`RuleChainDescriptor`]: validates a chain, makes it wait for its namespace and the Linux
//!   interfaces its rules name, creates, deletes and retrieves it with the `iptables` command
//!   run inside the namespace (as Ligato does), through the Linux plugin's namespace workers;
//! - [`IptablesExtension`]: registers the model and the descriptor with the agent.
//!
//! The binary in `src/main.rs` is `vpp-agent` plus this extension: one registration line.

use std::process::Command;
use std::sync::Arc;

use actors::extension::{Extension, Host, LinuxHost};
use kvscheduler::{Dependency, Descriptor, KvError, Metadata, MetadataView, Origin, Retrieved};
use linux::{LinuxError, NsRef};
use messages::{Key, ModelError, ModelSpec, NamedModel, Registry, Value};

/// The generated prost types (`ligato.linux.iptables`).
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/ligato.linux.iptables.rs"));
}

pub use proto::RuleChain;
use proto::rule_chain::{ChainType, Policy, Protocol, Table};

/// The encoded `FileDescriptorSet` of the new proto file, for the model registry's JSON.
pub const DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/iptables_descriptor.bin"));

impl NamedModel for RuleChain {
    const SPEC: ModelSpec = ModelSpec::config("linux.iptables", "v2", "rulechain");
    const NAME_TEMPLATE: &'static str = "{{.Name}}";
    fn instance_name(&self) -> String {
        self.name.clone()
    }
}

/// The descriptor's name (Ligato's), shown in dumps, the graph and the transaction log.
pub const DESCRIPTOR: &str = "linux-ipt-rulechain-descriptor";

/// NB key prefix of the model.
pub const KEY_PREFIX: &str = "config/linux/iptables/v2/rulechain/";

/// Key prefix of the built-in Linux interfaces, which rules may refer to.
const LINUX_INTERFACE_PREFIX: &str = "config/linux/interfaces/v2/interface/";

/// Registers the model and the descriptor; see the module docs.
#[derive(Debug, Default)]
pub struct IptablesExtension;

impl Extension for IptablesExtension {
    fn name(&self) -> &str {
        "linux-iptables"
    }

    fn register_models(&self, registry: &mut Registry) -> Result<(), ModelError> {
        registry.add_descriptors(DESCRIPTOR_SET)?;
        registry.register::<RuleChain>()?;
        Ok(())
    }

    fn descriptors(&self, host: &Host) -> Vec<Arc<dyn Descriptor>> {
        let Some(linux) = &host.linux else {
            tracing::warn!("The linux plugin is disabled: iptables rule chains are not applied.");
            return Vec::new();
        };
        vec![Arc::new(RuleChainDescriptor {
            linux: linux.clone(),
        })]
    }
}

fn chain_of(value: &Value) -> Result<&RuleChain, KvError> {
    value
        .as_any()
        .downcast_ref::<RuleChain>()
        .ok_or_else(|| KvError::invalid("value is not a RuleChain", &[]))
}

fn ns_of(c: &RuleChain) -> Result<NsRef, LinuxError> {
    NsRef::from_model(&c.name, c.namespace.as_ref())
}

/// `iptables` or `ip6tables`.
fn program(c: &RuleChain) -> &'static str {
    match c.protocol() {
        Protocol::Ipv6 => "ip6tables",
        Protocol::Ipv4 => "iptables",
    }
}

fn table_name(c: &RuleChain) -> &'static str {
    match c.table() {
        Table::Filter => "filter",
        Table::Nat => "nat",
        Table::Mangle => "mangle",
        Table::Raw => "raw",
        Table::Security => "security",
    }
}

fn chain_name(c: &RuleChain) -> String {
    match c.chain_type() {
        ChainType::Custom => c.chain_name.clone(),
        ChainType::Input => "INPUT".into(),
        ChainType::Output => "OUTPUT".into(),
        ChainType::Forward => "FORWARD".into(),
        ChainType::Prerouting => "PREROUTING".into(),
        ChainType::Postrouting => "POSTROUTING".into(),
    }
}

/// Which built-in chains a table has (iptables' rules, as Ligato checks them).
fn chain_allowed(table: Table, chain: ChainType) -> bool {
    use ChainType::*;
    match table {
        Table::Filter | Table::Security => !matches!(chain, Prerouting | Postrouting),
        Table::Nat => !matches!(chain, Input | Forward),
        Table::Mangle => true,
        Table::Raw => !matches!(chain, Input | Forward | Postrouting),
    }
}

/// Rules are equal when each has the same tokens in any order, as Ligato compares them
/// (`-i eth0 -s 10.0.0.1/32` equals `-s 10.0.0.1/32 -i eth0`).
fn same_rules(a: &[String], b: &[String]) -> bool {
    let tokens = |r: &String| {
        let mut t: Vec<String> = r.split_whitespace().map(str::to_owned).collect();
        t.sort_unstable();
        t
    };
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| tokens(x) == tokens(y))
}

/// The `linux-ipt-rulechain-descriptor`: one iptables chain per value.
#[derive(Debug)]
pub struct RuleChainDescriptor {
    linux: LinuxHost,
}

impl RuleChainDescriptor {
    /// Runs `iptables`-like commands inside the chain's namespace, stopping at the first
    /// failure unless it is allowed (`may_fail`). Returns each command's stdout.
    ///
    /// The Linux plugin's worker thread for the namespace has entered it; a process started
    /// from that thread is in the namespace too.
    fn run(&self, c: &RuleChain, cmds: Vec<(Vec<String>, bool)>) -> Result<Vec<String>, KvError> {
        let ns = ns_of(c)?;
        let prog = program(c);
        let out = self
            .linux
            .netlink
            .run(&ns, "iptables", move |_handle, _ns| {
                Box::pin(async move { Ok(run_all(prog, &cmds)) })
            })?;
        out.map_err(KvError::retriable)
    }

    fn create_chain(&self, c: &RuleChain) -> Result<(), KvError> {
        let (table, chain) = (table_name(c).to_owned(), chain_name(c));
        let base = |op: &str| {
            vec![
                "-w".into(),
                "-t".into(),
                table.clone(),
                op.into(),
                chain.clone(),
            ]
        };
        let mut cmds = Vec::new();
        if c.chain_type() == ChainType::Custom {
            // It may exist already (an earlier run): the flush below makes it ours.
            cmds.push((base("-N"), true));
        }
        if c.table() == Table::Filter && c.default_policy() != Policy::None {
            let mut p = base("-P");
            p.push(c.default_policy().as_str_name().to_owned());
            cmds.push((p, false));
        }
        cmds.push((base("-F"), false));
        for rule in &c.rules {
            let mut a = base("-A");
            a.extend(rule.split_whitespace().map(str::to_owned));
            cmds.push((a, false));
        }
        self.run(c, cmds).map(drop)
    }
}

/// The program's path: from `PATH`, else the sbin directories where Debian installs iptables
/// (an agent started with a bare environment has no `PATH`).
fn locate(prog: &str) -> std::path::PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(Into::into))
        .map(|dir| dir.join(prog))
        .find(|p| p.is_file())
        .unwrap_or_else(|| prog.into())
}

/// Runs the commands in order; `Err` names the first one that failed with its stderr.
fn run_all(prog: &str, cmds: &[(Vec<String>, bool)]) -> Result<Vec<String>, String> {
    let mut outs = Vec::new();
    for (args, may_fail) in cmds {
        let out = Command::new(locate(prog))
            .args(args)
            .output()
            .map_err(|e| format!("cannot run {prog}: {e}"))?;
        if !out.status.success() && !may_fail {
            return Err(format!(
                "{prog} {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        outs.push(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    Ok(outs)
}

impl Descriptor for RuleChainDescriptor {
    fn name(&self) -> &str {
        DESCRIPTOR
    }

    fn key_selector(&self, key: &Key) -> bool {
        key.as_str().starts_with(KEY_PREFIX)
    }

    fn nb_key_prefix(&self) -> Option<&str> {
        Some(KEY_PREFIX)
    }

    fn validate(&self, _key: &Key, value: &Value) -> Result<(), KvError> {
        let c = chain_of(value)?;
        if c.chain_type() == ChainType::Custom && c.chain_name.is_empty() {
            return Err(KvError::invalid(
                "iptables chain of type CUSTOM defined without chain_name",
                &["chain_name"],
            ));
        }
        if !chain_allowed(c.table(), c.chain_type()) {
            return Err(KvError::invalid(
                format!(
                    "chain {} is not valid in table {}",
                    c.chain_type().as_str_name(),
                    table_name(c)
                ),
                &["chain_type"],
            ));
        }
        if c.default_policy() != Policy::None
            && (c.table() != Table::Filter || c.chain_type() == ChainType::Custom)
        {
            return Err(KvError::invalid(
                "default_policy applies only to built-in chains of the FILTER table",
                &["default_policy"],
            ));
        }
        ns_of(c)?;
        Ok(())
    }

    fn equivalent(&self, _key: &Key, old: &Value, new: &Value) -> bool {
        match (chain_of(old), chain_of(new)) {
            (Ok(a), Ok(b)) => {
                let strip = |c: &RuleChain| RuleChain {
                    rules: Vec::new(),
                    ..c.clone()
                };
                strip(a) == strip(b) && same_rules(&a.rules, &b.rules)
            }
            _ => false,
        }
    }

    /// The Linux interfaces the rules name, and the namespace: a chain waits PENDING until
    /// they exist, and is created as soon as they do.
    fn dependencies(&self, _key: &Key, value: &Value) -> Vec<Dependency> {
        let Ok(c) = chain_of(value) else {
            return Vec::new();
        };
        let mut deps: Vec<Dependency> = c
            .interfaces
            .iter()
            .map(|i| {
                Dependency::on_key(
                    format!("interface-exists-{i}"),
                    format!("{LINUX_INTERFACE_PREFIX}{i}"),
                )
            })
            .collect();
        if let Ok(ns) = ns_of(c)
            && let Some(ns_key) = ns.key()
        {
            // The host watcher then reports the namespace when it appears.
            self.linux.watched.add(&ns);
            let label = match ns {
                NsRef::Microservice(_) => "microservice-available",
                _ => "namespace-exists",
            };
            deps.push(Dependency::on_key(label, ns_key));
        }
        deps
    }

    fn create(
        &self,
        _md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        self.create_chain(chain_of(value)?)?;
        Ok(None)
    }

    fn delete(
        &self,
        _md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        let c = chain_of(value)?;
        let (table, chain) = (table_name(c).to_owned(), chain_name(c));
        let base = |op: &str| {
            vec![
                "-w".into(),
                "-t".into(),
                table.clone(),
                op.into(),
                chain.clone(),
            ]
        };
        let mut cmds = vec![(base("-F"), false)];
        if c.chain_type() == ChainType::Custom {
            cmds.push((base("-X"), false));
        }
        match self.run(c, cmds) {
            Ok(_) => Ok(()),
            // The namespace went away, and the chain with it.
            Err(_) if ns_of(c).is_ok_and(|ns| !ns.exists()) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Reads back the rules of the expected chains only: chains the agent did not create are
    /// left alone. (iptables cannot report a chain's default policy per rule listing, so the
    /// policy is taken as desired, as in Ligato.)
    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        let mut out = Vec::new();
        for (key, value) in correlate {
            let Ok(c) = chain_of(value) else {
                continue;
            };
            if !ns_of(c).is_ok_and(|ns| ns.exists()) {
                continue;
            }
            let chain = chain_name(c);
            let args = vec![
                "-w".into(),
                "-t".into(),
                table_name(c).into(),
                "-S".into(),
                chain.clone(),
            ];
            let Ok(listing) = self.run(c, vec![(args, false)]) else {
                continue; // no such chain
            };
            let prefix = format!("-A {chain} ");
            let rules = listing
                .concat()
                .lines()
                .filter_map(|l| l.strip_prefix(&prefix))
                .map(str::to_owned)
                .collect();
            out.push(Retrieved {
                key: key.clone(),
                value: Arc::new(RuleChain { rules, ..c.clone() }),
                metadata: None,
                origin: Origin::FromNb,
            });
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        let mut r = Registry::builtin();
        IptablesExtension.register_models(&mut r).expect("register");
        r
    }

    #[test]
    fn the_model_has_ligatos_key_and_json() {
        let r = registry();
        let v = r
            .decode_json(
                "config/linux/iptables/v2/rulechain/c1",
                br#"{"name":"c1","namespace":{"type":"NSID","reference":"blue"},"table":"FILTER","chain_type":"CUSTOM","chain_name":"VPPAGENT","rules":["-s 10.1.1.1/32 -j DROP"]}"#,
            )
            .expect("decodes")
            .expect("a value");
        assert_eq!(
            r.key_of(&*v).expect("key").as_str(),
            "config/linux/iptables/v2/rulechain/c1"
        );
        assert_eq!(RuleChain::SPEC.key_prefix(), KEY_PREFIX);
        let json = r.encode_json(&*v).expect("encodes");
        assert!(json.contains("\"chain_name\":\"VPPAGENT\""), "{json}");
    }

    #[test]
    fn bad_json_names_the_key() {
        let err = registry()
            .decode_json(
                "config/linux/iptables/v2/rulechain/c1",
                br#"{"table":"NOPE"}"#,
            )
            .expect_err("rejected");
        assert!(err.to_string().contains("c1"), "{err}");
    }

    #[test]
    fn registering_twice_is_refused() {
        let mut r = registry();
        assert!(IptablesExtension.register_models(&mut r).is_err());
    }

    #[test]
    fn rules_compare_by_tokens_in_order() {
        let a = vec!["-i eth0 -s 10.0.0.1/32 -j ACCEPT".to_owned()];
        let b = vec!["-s 10.0.0.1/32 -i eth0 -j ACCEPT".to_owned()];
        let c = vec!["-s 10.0.0.2/32 -i eth0 -j ACCEPT".to_owned()];
        assert!(same_rules(&a, &b));
        assert!(!same_rules(&a, &c));
        assert!(!same_rules(&a, &[]));
    }

    #[test]
    fn tables_allow_their_chains_only() {
        assert!(chain_allowed(Table::Nat, ChainType::Postrouting));
        assert!(!chain_allowed(Table::Nat, ChainType::Input));
        assert!(!chain_allowed(Table::Filter, ChainType::Prerouting));
        assert!(!chain_allowed(Table::Raw, ChainType::Forward));
        assert!(chain_allowed(Table::Mangle, ChainType::Forward));
    }
}
