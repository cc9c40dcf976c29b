//! What the agent holds, over REST: `agentctl dump MODEL...` (`/scheduler/dump`, `--view`
//! cached, NB or SB), `values [MODEL...]` (`/scheduler/status`, the value-state table) and
//! `status` (`/info/version`, `/readiness` and a count of values by state).
//!
//! It deliberately only reads.

use clap::{Arg, ArgMatches, Command, builder::PossibleValuesParser};
use serde_json::{Value as Json, json};

use super::output::{self, Output, Table};
use super::rest::AgentRest;
use super::{CtlError, Ctx, model};

pub fn dump_command() -> Command {
    Command::new("dump")
        .about("Dump the values of MODEL(s) the agent holds (a model name, a * pattern, or all)")
        .arg(Arg::new("model").required(true).num_args(1..))
        .arg(
            Arg::new("view")
                .long("view")
                .value_parser(PossibleValuesParser::new(["cached", "NB", "SB"]))
                .default_value("cached")
                .help("cached: what the agent believes is applied; NB: desired; SB: the dataplane"),
        )
}

pub fn values_command() -> Command {
    Command::new("values")
        .about("Show the state of every value (of MODEL(s)): CONFIGURED, PENDING, FAILED...")
        .arg(Arg::new("model").num_args(0..))
}

pub fn status_command() -> Command {
    Command::new("status").about("Show the agent's version, readiness and value states")
}

fn models_arg(m: &ArgMatches) -> Vec<String> {
    m.get_many::<String>("model")
        .map(|v| v.cloned().collect())
        .unwrap_or_default()
}

/// The dumped values of `models` in `view`, concatenated (`[{"Key","Value","Origin"}]`).
pub async fn fetch_dump(
    rest: &AgentRest,
    models: &[&messages::Model],
    view: &str,
) -> Result<Vec<Json>, CtlError> {
    let mut all = Vec::new();
    for m in models {
        let items = rest
            .get_json(
                "/scheduler/dump",
                &[("key-prefix", m.key_prefix()), ("view", view)],
            )
            .await?;
        match items {
            Json::Array(items) => all.extend(items),
            Json::Null => {}
            other => {
                return Err(CtlError::failed(format!(
                    "/scheduler/dump: expected an array, got {other}"
                )));
            }
        }
    }
    Ok(all)
}

fn origin(n: &Json) -> &'static str {
    match n.as_i64() {
        Some(1) => "from-NB",
        Some(2) => "from-SB",
        _ => "unknown",
    }
}

/// A dumped item as `{key, model, origin, value}` (the value's proto JSON).
fn plain_item(item: &Json) -> Json {
    let key = item["Key"].as_str().unwrap_or("");
    let (model, _) = model::split_key(key);
    json!({
        "key": key,
        "model": model,
        "origin": origin(&item["Origin"]),
        "value": item["Value"]["ProtoMsgData"],
    })
}

pub async fn dump(ctx: &Ctx, m: &ArgMatches) -> Result<(), CtlError> {
    let models = model::resolve(&models_arg(m))?;
    let view = m.get_one::<String>("view").map_or("cached", String::as_str);
    let rest = ctx.rest()?;
    let items = fetch_dump(&rest, &models, view).await?;
    let text = if ctx.globals.output == Output::Json {
        output::json(&items)?
    } else if let Some(format) = ctx.globals.format {
        let plain: Vec<Json> = items.iter().map(plain_item).collect();
        format.render(&plain)?
    } else {
        let mut t = Table::new(["MODEL", "NAME", "ORIGIN", "VALUE"]);
        for item in &items {
            let key = item["Key"].as_str().unwrap_or("");
            let (model, name) = model::split_key(key);
            t.row([
                model,
                name,
                origin(&item["Origin"]).to_owned(),
                item["Value"]["ProtoMsgData"].to_string(),
            ]);
        }
        t.render()
    };
    output::print(&text);
    Ok(())
}

/// `/scheduler/status` for `models` (all values when empty).
pub async fn fetch_values(
    rest: &AgentRest,
    models: &[&messages::Model],
) -> Result<Vec<Json>, CtlError> {
    if models.is_empty() {
        return as_array(
            "/scheduler/status",
            rest.get_json("/scheduler/status", &[]).await?,
        );
    }
    let mut all = Vec::new();
    for m in models {
        let answer = rest
            .get_json("/scheduler/status", &[("key-prefix", m.key_prefix())])
            .await?;
        all.extend(as_array("/scheduler/status", answer)?);
    }
    Ok(all)
}

fn as_array(path: &str, v: Json) -> Result<Vec<Json>, CtlError> {
    match v {
        Json::Array(a) => Ok(a),
        Json::Null => Ok(Vec::new()),
        other => Err(CtlError::failed(format!(
            "{path}: expected an array, got {other}"
        ))),
    }
}

/// A field of a value status under its Ligato or snake_case name.
fn field<'a>(v: &'a Json, snake: &str, camel: &str) -> &'a Json {
    let f = &v[snake];
    if f.is_null() { &v[camel] } else { f }
}

/// The value-state table (`values`): a row per value, its derived values (`↳ key`) below it.
pub fn values_table(statuses: &[Json]) -> String {
    let mut t = Table::new(["MODEL", "NAME", "STATE", "DETAILS", "LAST OP", "ERROR"]);
    for s in statuses {
        let derived = s["derived_values"]
            .as_array()
            .or_else(|| s["derivedValues"].as_array())
            .map_or(&[][..], Vec::as_slice);
        status_row(&mut t, &s["value"], false);
        for d in derived {
            status_row(&mut t, d, true);
        }
    }
    t.render()
}

fn status_row(t: &mut Table, v: &Json, derived: bool) {
    let key = v["key"].as_str().unwrap_or("");
    let (model, name) = if derived {
        (String::new(), format!("\u{21b3} {key}"))
    } else {
        model::split_key(key)
    };
    let details = v["details"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(Json::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    t.row([
        model,
        name,
        v["state"].as_str().unwrap_or("NONEXISTENT").to_owned(),
        details,
        field(v, "last_operation", "lastOperation")
            .as_str()
            .unwrap_or("")
            .to_owned(),
        v["error"].as_str().unwrap_or("").to_owned(),
    ]);
}

pub async fn values(ctx: &Ctx, m: &ArgMatches) -> Result<(), CtlError> {
    let models = model::resolve(&models_arg(m))?;
    let rest = ctx.rest()?;
    let statuses = fetch_values(&rest, &models).await?;
    let text = if ctx.globals.output == Output::Json {
        output::json(&statuses)?
    } else {
        values_table(&statuses)
    };
    output::print(&text);
    Ok(())
}

/// The status document: version, readiness and value states.
pub async fn fetch_status(rest: &AgentRest) -> Result<Json, CtlError> {
    let version = rest.get_json("/info/version", &[]).await?;
    let ready = rest
        .request(reqwest::Method::GET, "/readiness", &[], None)
        .await?;
    let probe: Json = serde_json::from_str(&ready.body).unwrap_or(Json::Null);
    let statuses = fetch_values(rest, &[]).await?;
    let mut states = serde_json::Map::new();
    for s in &statuses {
        let state = s["value"]["state"].as_str().unwrap_or("NONEXISTENT");
        let n = states.get(state).and_then(Json::as_u64).unwrap_or(0);
        states.insert(state.to_owned(), json!(n + 1));
    }
    // Store connections, from the agent's metrics (absent from older agents: left out).
    let connectors: serde_json::Map<String, Json> = match rest.get_text("/metrics", &[]).await {
        Ok(text) => super::metrics::parse(&text)
            .get("vpp_agent_connector_up")
            .map(|f| {
                f.samples
                    .iter()
                    .filter_map(|(series, v)| {
                        let name = series.split("connector=\"").nth(1)?.split('"').next()?;
                        Some((name.to_owned(), json!(*v >= 1.0)))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        Err(_) => serde_json::Map::new(),
    };
    Ok(json!({
        "agent": rest.address(),
        "connectors": connectors,
        "ready": ready.status.is_success(),
        "version": version,
        "readiness": probe,
        "values": states,
    }))
}

fn unix_time(v: &Json) -> String {
    match v.as_u64() {
        Some(s) if s > 0 => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            format!("{s} (unix; {}s ago)", now.saturating_sub(s))
        }
        _ => "-".to_owned(),
    }
}

pub async fn status(ctx: &Ctx, _m: &ArgMatches) -> Result<(), CtlError> {
    let rest = ctx.rest()?;
    let doc = fetch_status(&rest).await?;
    if ctx.globals.output == Output::Json {
        output::print(&output::json(&doc)?);
        return Ok(());
    }
    let v = &doc["version"];
    let text = |j: &Json| j.as_str().unwrap_or("").to_owned();
    let mut t = Table::new(["FIELD", "VALUE"]);
    t.row(["Agent".to_owned(), text(&doc["agent"])]);
    t.row([
        "Version".to_owned(),
        format!("{} {}", text(&v["App"]), text(&v["Version"])),
    ]);
    if !text(&v["GitCommit"]).is_empty() {
        t.row(["Commit".to_owned(), text(&v["GitCommit"])]);
    }
    t.row([
        "State".to_owned(),
        if doc["ready"].as_bool() == Some(true) {
            "OK (ready)".to_owned()
        } else {
            "INIT (not ready: first resync not applied)".to_owned()
        },
    ]);
    t.row([
        "Started".to_owned(),
        unix_time(&doc["readiness"]["start_time"]),
    ]);
    let values = doc["values"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "none".to_owned());
    t.row(["Values".to_owned(), values]);
    if let Some(c) = doc["connectors"].as_object().filter(|c| !c.is_empty()) {
        let stores = c
            .iter()
            .map(|(name, up)| format!("{name} {}", if up == true { "connected" } else { "down" }))
            .collect::<Vec<_>>()
            .join(", ");
        t.row(["Stores".to_owned(), stores]);
    }
    output::print(&t.render());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_values_follow_their_value() {
        let statuses = vec![json!({
            "value": {"key": "config/vpp/v2/interfaces/loop1", "state": "CONFIGURED", "last_operation": "CREATE"},
            "derived_values": [{"key": "vpp/interface/loop1/address/static/10.0.0.1/24", "state": "PENDING", "details": ["vrf-table"]}],
        })];
        let table = values_table(&statuses);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(
            lines[1].starts_with("vpp.interfaces") && lines[1].contains("CREATE"),
            "{table}"
        );
        assert!(
            lines[2].contains("\u{21b3} vpp/interface/loop1/address")
                && lines[2].contains("vrf-table"),
            "{table}"
        );
    }
}
