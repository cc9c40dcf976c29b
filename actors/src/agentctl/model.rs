//! `agentctl model list [PATTERN]` and `model inspect MODEL...`: the models agentctl knows,
//! from the built-in registry (the same one the agent is built with; the agent offers no model
//! listing over REST). Also [`resolve`], which turns the MODEL arguments of `dump`, `values`
//! and `inspect` into models.
//!
//! A model is named as Ligato names it (`vpp.interfaces`, `vpp.l2.bridge-domain`), by its
//! proto message (`ligato.vpp.interfaces.Interface`), by a `*` pattern, or `all`.

use clap::{Arg, ArgMatches, Command};
use messages::Model;
use messages::registry::builtin;
use prost_reflect::{Cardinality, Kind};
use serde::Serialize;

use super::output::{self, Output, Table, matches_pattern};
use super::{CtlError, Ctx};

pub fn command() -> Command {
    Command::new("model")
        .about("Show the known models")
        .subcommand_required(true)
        .subcommand(
            Command::new("list")
                .visible_aliases(["ls", "l"])
                .about("List the models (matching PATTERN: a substring, or a glob with *)")
                .arg(Arg::new("pattern")),
        )
        .subcommand(
            Command::new("inspect")
                .visible_alias("i")
                .about("Show a model's key layout and proto fields")
                .arg(Arg::new("model").required(true).num_args(1..)),
        )
}

/// The models named by `names` (each a model name, a proto message name, a `*` pattern, or
/// `all`), in registry order, without duplicates; an unknown name is a usage error.
pub fn resolve(names: &[String]) -> Result<Vec<&'static Model>, CtlError> {
    let reg = builtin();
    let mut out: Vec<&'static Model> = Vec::new();
    for name in names {
        let found: Vec<&'static Model> = if name == "all" {
            reg.models().iter().collect()
        } else if name.contains('*') {
            reg.models()
                .iter()
                .filter(|m| matches_pattern(name, &m.spec().model_name()))
                .collect()
        } else {
            reg.model_by_name(name)
                .or_else(|| reg.model_for_message(name))
                .into_iter()
                .collect()
        };
        if found.is_empty() {
            return Err(CtlError::Usage(format!(
                "unknown model {name:?} (`agentctl model list` shows the known models)"
            )));
        }
        for m in found {
            if !out.iter().any(|o| o.proto_name() == m.proto_name()) {
                out.push(m);
            }
        }
    }
    Ok(out)
}

/// The model whose key prefix `key` has, as (model name, instance name).
pub fn split_key(key: &str) -> (String, String) {
    match builtin().parse_key(key) {
        Ok((m, name)) => (m.spec().model_name(), name.to_owned()),
        Err(_) => (String::new(), key.to_owned()),
    }
}

#[derive(Debug, Serialize)]
struct FieldInfo {
    name: String,
    number: u32,
    #[serde(rename = "type")]
    kind: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    repeated: bool,
}

#[derive(Debug, Serialize)]
struct ModelInfo {
    name: String,
    class: &'static str,
    module: &'static str,
    version: &'static str,
    #[serde(rename = "type")]
    type_name: &'static str,
    proto_name: String,
    key_prefix: String,
    name_template: &'static str,
    fields: Vec<FieldInfo>,
}

fn kind_name(k: &Kind) -> String {
    match k {
        Kind::Message(m) => m.full_name().to_owned(),
        Kind::Enum(e) => e.full_name().to_owned(),
        other => format!("{other:?}").to_lowercase(),
    }
}

fn info(m: &Model) -> ModelInfo {
    let fields = builtin()
        .pool()
        .get_message_by_name(m.proto_name())
        .map(|d| {
            d.fields()
                .map(|f| FieldInfo {
                    name: f.name().to_owned(),
                    number: f.number(),
                    kind: if f.is_map() {
                        "map".to_owned()
                    } else {
                        kind_name(&f.kind())
                    },
                    repeated: f.cardinality() == Cardinality::Repeated && !f.is_map(),
                })
                .collect()
        })
        .unwrap_or_default();
    let spec = m.spec();
    ModelInfo {
        name: spec.model_name(),
        class: spec.class,
        module: spec.module,
        version: spec.version,
        type_name: spec.type_name,
        proto_name: m.proto_name().to_owned(),
        key_prefix: m.key_prefix().to_owned(),
        name_template: m.name_template(),
        fields,
    }
}

pub fn run(ctx: &Ctx, m: &ArgMatches) -> Result<(), CtlError> {
    match m.subcommand() {
        Some(("list", a)) => {
            let pattern = a.get_one::<String>("pattern");
            let models: Vec<&Model> = builtin()
                .models()
                .iter()
                .filter(|m| pattern.is_none_or(|p| matches_pattern(p, &m.spec().model_name())))
                .collect();
            if ctx.globals.output == Output::Json {
                let list: Vec<ModelInfo> = models.iter().map(|m| info(m)).collect();
                output::print(&output::json(&list)?);
                return Ok(());
            }
            let mut t = Table::new(["MODEL NAME", "CLASS", "PROTO MESSAGE", "KEY PREFIX"]);
            for m in models {
                t.row([
                    m.spec().model_name(),
                    m.spec().class.to_owned(),
                    m.proto_name().to_owned(),
                    m.key_prefix().to_owned(),
                ]);
            }
            output::print(&t.render());
            Ok(())
        }
        Some(("inspect", a)) => {
            let names: Vec<String> = a
                .get_many::<String>("model")
                .map(|v| v.cloned().collect())
                .unwrap_or_default();
            let list: Vec<ModelInfo> = resolve(&names)?.into_iter().map(info).collect();
            let text = if ctx.globals.output == Output::Json {
                output::json(&list)?
            } else {
                ctx.globals.format().render(&list)?
            };
            output::print(&text);
            Ok(())
        }
        _ => Err(CtlError::Usage("unknown model command".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Result<Vec<String>, CtlError> {
        let args: Vec<String> = v.iter().map(|s| (*s).to_owned()).collect();
        resolve(&args).map(|ms| ms.iter().map(|m| m.spec().model_name()).collect())
    }

    #[test]
    fn models_resolve_by_name_message_pattern_or_all() {
        assert_eq!(
            names(&["vpp.interfaces"]).ok(),
            Some(vec!["vpp.interfaces".to_owned()])
        );
        assert_eq!(
            names(&["ligato.vpp.l2.BridgeDomain", "vpp.l2.bridge-domain"]).ok(),
            Some(vec!["vpp.l2.bridge-domain".to_owned()])
        );
        let l2 = names(&["vpp.l2.*"]).unwrap_or_default();
        assert!(
            l2.len() >= 3 && l2.iter().all(|n| n.starts_with("vpp.l2.")),
            "{l2:?}"
        );
        assert_eq!(
            names(&["all"]).map(|v| v.len()).ok(),
            Some(builtin().models().len())
        );
        let err = names(&["vpp.nope"]).err();
        assert!(matches!(err, Some(CtlError::Usage(ref m)) if m.contains("vpp.nope")));
    }

    #[test]
    fn inspect_lists_proto_fields() {
        let m = builtin()
            .model_by_name("vpp.interfaces")
            .unwrap_or_else(|| panic!("vpp.interfaces"));
        let i = info(m);
        assert_eq!(i.key_prefix, "config/vpp/v2/interfaces/");
        assert!(
            i.fields
                .iter()
                .any(|f| f.name == "name" && f.number == 1 && f.kind == "string")
        );
        assert_eq!(
            split_key("config/vpp/v2/interfaces/tap1"),
            ("vpp.interfaces".to_owned(), "tap1".to_owned())
        );
    }
}
