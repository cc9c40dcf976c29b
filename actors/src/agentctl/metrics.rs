//! `agentctl metrics [list [PATTERN]]` and `metrics get METRIC`: the agent's Prometheus
//! metrics (REST `/metrics`), parsed from the text format into families and samples.
//!
//! It deliberately reads only `/metrics` (Ligato's per-name `/metrics/<name>` is not served).

use std::collections::BTreeMap;

use clap::{Arg, ArgMatches, Command};
use serde::Serialize;

use super::output::{self, Output, Table, matches_pattern};
use super::{CtlError, Ctx};

pub fn command() -> Command {
    Command::new("metrics")
        .about("Show the agent's metrics (default: list them)")
        .subcommand(
            Command::new("list")
                .visible_alias("l")
                .about("List the metric families (matching PATTERN: a substring, or a glob with *)")
                .arg(Arg::new("pattern")),
        )
        .subcommand(
            Command::new("get")
                .about("Show the samples of one metric family")
                .arg(Arg::new("metric").required(true)),
        )
}

/// One metric family from the text format.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Family {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub help: String,
    /// `name{labels}` → value.
    pub samples: BTreeMap<String, f64>,
}

/// Parses Prometheus text format 0.0.4 into families by name (samples before any `# TYPE`
/// form an `untyped` family).
pub fn parse(text: &str) -> BTreeMap<String, Family> {
    fn take(families: &mut BTreeMap<String, Family>, name: &str) -> Family {
        families.remove(name).unwrap_or_else(|| Family {
            name: name.to_owned(),
            kind: "untyped".to_owned(),
            ..Family::default()
        })
    }
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let f = if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            let mut f = take(&mut families, name);
            f.help = help.to_owned();
            f
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            let mut f = take(&mut families, name);
            f.kind = kind.to_owned();
            f
        } else if line.starts_with('#') {
            continue;
        } else if let Some((series, value)) = line.rsplit_once(' ') {
            let name = series.split('{').next().unwrap_or(series);
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .filter(|b| families.contains_key(*b))
                .unwrap_or(name)
                .to_owned();
            let mut f = take(&mut families, &base);
            if let Ok(v) = value.parse::<f64>() {
                f.samples.insert(series.to_owned(), v);
            }
            f
        } else {
            continue;
        };
        families.insert(f.name.clone(), f);
    }
    families
}

pub async fn run(ctx: &Ctx, m: &ArgMatches) -> Result<(), CtlError> {
    let rest = ctx.rest()?;
    let families = parse(&rest.get_text("/metrics", &[]).await?);
    match m.subcommand() {
        None | Some(("list", _)) => {
            let pattern = m
                .subcommand()
                .and_then(|(_, a)| a.get_one::<String>("pattern"));
            let list: Vec<&Family> = families
                .values()
                .filter(|f| pattern.is_none_or(|p| matches_pattern(p, &f.name)))
                .collect();
            if ctx.globals.output == Output::Json {
                output::print(&output::json(&list)?);
                return Ok(());
            }
            let mut t = Table::new(["METRIC", "TYPE", "SAMPLES", "HELP"]);
            for f in list {
                t.row([
                    f.name.clone(),
                    f.kind.clone(),
                    f.samples.len().to_string(),
                    f.help.clone(),
                ]);
            }
            output::print(&t.render());
            Ok(())
        }
        Some(("get", a)) => {
            let name = a.get_one::<String>("metric").map_or("", String::as_str);
            let f = families.get(name).ok_or_else(|| {
                CtlError::failed(format!(
                    "unknown metric {name:?} (`agentctl metrics list` shows the metrics)"
                ))
            })?;
            if ctx.globals.output == Output::Json {
                output::print(&output::json(f)?);
                return Ok(());
            }
            let mut t = Table::new(["SERIES", "VALUE"]);
            for (series, v) in &f.samples {
                t.row([series.clone(), v.to_string()]);
            }
            output::print(&t.render());
            Ok(())
        }
        _ => Err(CtlError::Usage("unknown metrics command".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_parses_into_families() {
        let text = "# HELP a_total Things.\n# TYPE a_total counter\na_total 3\n\
                    # TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 0.5\nh_count 1\n\
                    b{x=\"y z\"} 2\n";
        let f = parse(text);
        assert_eq!(f["a_total"].kind, "counter");
        assert_eq!(f["a_total"].help, "Things.");
        assert_eq!(f["a_total"].samples["a_total"], 3.0);
        assert_eq!(f["h"].samples.len(), 3);
        assert_eq!(f["b"].kind, "untyped");
        assert_eq!(f["b"].samples["b{x=\"y z\"}"], 2.0);
    }
}
