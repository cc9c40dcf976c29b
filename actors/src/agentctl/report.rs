//! `agentctl report`: one `.tar.gz` with everything needed to debug an agent: versions,
//! status, value states, the NB configuration (per key, and as the `Config` document of
//! `GET /configuration`), the dump, the transaction history (text and
//! JSON), the graph (Graphviz dot), metrics, VPP `show` outputs, the plugin config files
//! agentctl was given and, with `--log FILE`, the agent's log.
//!
//! Every section is collected on its own: one that fails is written as `<section>.error.txt`
//! holding the error, and the report still succeeds. `report.txt` lists every section and its
//! outcome. The archive is written to a temporary name and renamed, so a report file is never
//! half written.
//!
//! Deliberately not here: `.zip` output and anything needing a shell on the agent's host
//! (hardware, `vpp.conf`), which Ligato's report also reads from the local machine only.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Arg, ArgMatches, Command};
use serde_json::{Value as Json, json};

use super::output::{Format, Progress, Table};
use super::{CtlError, Ctx, configure, model, state, vpp};

/// The VPP CLI commands whose output goes into `vpp/`.
pub const VPP_SHOW: &[&str] = &[
    "show version verbose",
    "show interface",
    "show interface address",
    "show bridge-domain",
    "show l2fib verbose",
    "show ip fib",
    "show ip neighbors",
];

/// The archive's top folder.
pub const ROOT: &str = "agentctl-report";

pub fn command() -> Command {
    Command::new("report")
        .about("Write one .tar.gz with the agent's versions, status, config, history, graph, dump, metrics and VPP state")
        .arg(
            Arg::new("out")
                .long("out")
                .short('w')
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help("the archive to write (.tar.gz or .tgz) [default: agentctl-report-<unix time>.tar.gz]"),
        )
        .arg(
            Arg::new("log")
                .long("log")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help("the agent's log file, included as agent/agent.log"),
        )
}

/// One file of the report, or why it could not be made.
#[derive(Debug)]
pub struct Section {
    /// Path inside the report folder, e.g. `agent/graph.dot`.
    pub name: String,
    pub content: Result<Vec<u8>, String>,
}

/// The file name of a VPP command's output: `show l2fib verbose` → `vpp/show-l2fib-verbose.txt`.
pub fn vpp_file(command: &str) -> String {
    format!(
        "vpp/{}.txt",
        command.split_whitespace().collect::<Vec<_>>().join("-")
    )
}

fn text(r: Result<String, CtlError>) -> Result<Vec<u8>, String> {
    r.map(String::into_bytes).map_err(|e| e.to_string())
}

fn render<T: serde::Serialize>(format: Format, r: Result<T, CtlError>) -> Result<Vec<u8>, String> {
    text(r.and_then(|v| format.render(&v)))
}

/// Collects every section from the agent (and the local files named).
pub async fn collect(ctx: &Ctx, log: Option<&Path>, progress: &Progress) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    let mut add = |name: &str, content: Result<Vec<u8>, String>| {
        out.push(Section {
            name: name.to_owned(),
            content,
        });
    };
    let rest = match ctx.rest() {
        Ok(r) => r,
        Err(e) => {
            add("agent.error", Err(e.to_string()));
            return out;
        }
    };
    let all = model::resolve(&["all".to_owned()]).unwrap_or_default();
    let step = |what: &str| progress.set(&format!("report: {what}"));

    step("versions");
    let version = rest.get_json("/info/version", &[]).await;
    let vpp_version = vpp::cli(&rest, "show version").await;
    add(
        "versions.txt",
        Ok(versions_text(ctx, &version, &vpp_version).into_bytes()),
    );
    add("agent/version.json", render(Format::Json, version));

    step("status");
    add(
        "agent/status.json",
        render(Format::Json, state::fetch_status(&rest).await),
    );
    step("values");
    let values = state::fetch_values(&rest, &[]).await;
    add(
        "agent/values.txt",
        text(
            values
                .as_ref()
                .map(|v| state::values_table(v))
                .map_err(clone_err),
        ),
    );
    add("agent/values.json", render(Format::Json, values));

    step("configuration");
    add(
        "agent/config-nb.yaml",
        render(Format::Yaml, state::fetch_dump(&rest, &all, "NB").await),
    );
    add(
        "agent/configuration.yaml",
        text(rest.get_text("/configuration", &[]).await),
    );
    step("dump");
    add(
        "agent/dump-cached.json",
        render(Format::Json, state::fetch_dump(&rest, &all, "cached").await),
    );

    step("transaction history");
    add(
        "agent/txn-history.txt",
        text(
            rest.get_text("/scheduler/txn-history", &[("format", "text")])
                .await,
        ),
    );
    let history = rest.get_json("/scheduler/txn-history", &[]).await;
    add(
        "agent/txn-history-table.txt",
        text(
            history
                .as_ref()
                .map(|h| configure::history_table(h.as_array().map_or(&[][..], Vec::as_slice)))
                .map_err(clone_err),
        ),
    );
    add("agent/txn-history.json", render(Format::Json, history));

    step("graph");
    add(
        "agent/graph.dot",
        text(
            rest.get_text("/scheduler/graph-snapshot", &[("format", "dot")])
                .await,
        ),
    );
    step("metrics");
    add(
        "agent/metrics.txt",
        text(rest.get_text("/metrics", &[]).await),
    );

    for cmd in VPP_SHOW {
        step(cmd);
        add(&vpp_file(cmd), text(vpp::cli(&rest, cmd).await));
    }

    for (name, path) in config_files(ctx) {
        add(
            &format!("agentctl/config-files/{name}"),
            std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display())),
        );
    }
    if let Some(log) = log {
        step("agent log");
        add(
            "agent/agent.log",
            std::fs::read(log).map_err(|e| format!("{}: {e}", log.display())),
        );
    }
    out
}

fn clone_err(e: &CtlError) -> CtlError {
    CtlError::failed(e.to_string())
}

fn versions_text(
    ctx: &Ctx,
    version: &Result<Json, CtlError>,
    vpp_version: &Result<String, CtlError>,
) -> String {
    let agent = match version {
        Ok(v) => format!(
            "{} {} (commit {:?}, {} {})",
            v["App"].as_str().unwrap_or(""),
            v["Version"].as_str().unwrap_or(""),
            v["GitCommit"].as_str().unwrap_or(""),
            v["OS"].as_str().unwrap_or(""),
            v["Arch"].as_str().unwrap_or("")
        ),
        Err(e) => format!("error: {e}"),
    };
    let vpp = match vpp_version {
        Ok(v) => v.trim().to_owned(),
        Err(e) => format!("error: {e}"),
    };
    format!(
        "agentctl: {}\nagent:    {agent}\nvpp:      {vpp}\nagent address: {}\nlabel:    {}\n",
        env!("CARGO_PKG_VERSION"),
        ctx.rest().map(|r| r.address()).unwrap_or_default(),
        ctx.globals.label.as_str()
    )
}

/// The plugin config files agentctl read (`--<plugin>-config`, or found by default name).
fn config_files(ctx: &Ctx) -> Vec<(String, PathBuf)> {
    let c = &ctx.agent_config;
    [
        &c.etcd.source,
        &c.redis.source,
        &c.consul.source,
        &c.bolt.source,
        &c.filedb.source,
        &c.govpp.source,
        &c.http.source,
        &c.grpc.source,
        &c.kvscheduler.source,
        &c.logs.source,
        &c.linux_ifplugin.source,
        &c.vpp_ifplugin.source,
        &c.telemetry.source,
    ]
    .into_iter()
    .flatten()
    .map(|p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string());
        (name, p.clone())
    })
    .collect()
}

/// `report.txt`: when, which agent, and every section's outcome.
fn index(ctx: &Ctx, sections: &[Section], created: u64) -> String {
    let mut t = Table::new(["SECTION", "RESULT"]);
    for s in sections {
        match &s.content {
            Ok(bytes) => t.row([s.name.clone(), format!("ok ({} bytes)", bytes.len())]),
            Err(e) => t.row([format!("{}.error.txt", s.name), format!("error: {e}")]),
        }
    }
    format!(
        "agentctl report\ncreated: {created} (unix time)\nagent: {}\nlabel: {}\n\n{}",
        ctx.rest().map(|r| r.address()).unwrap_or_default(),
        ctx.globals.label.as_str(),
        t.render()
    )
}

fn append(
    tar: &mut tar::Builder<impl Write>,
    name: &str,
    data: &[u8],
    mtime: u64,
) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(mtime);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, format!("{ROOT}/{name}"), data)
}

/// Writes the sections (and `report.txt`) as a gzip-compressed tar to `path`, through a
/// temporary file renamed at the end.
pub fn write_archive(
    ctx: &Ctx,
    sections: &[Section],
    path: &Path,
    created: u64,
) -> Result<(), CtlError> {
    let io = |source: std::io::Error| CtlError::Io {
        path: path.display().to_string(),
        source,
    };
    let tmp = path.with_extension("partial");
    let file = std::fs::File::create(&tmp).map_err(io)?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let written = (|| {
        append(
            &mut tar,
            "report.txt",
            index(ctx, sections, created).as_bytes(),
            created,
        )?;
        for s in sections {
            match &s.content {
                Ok(bytes) => append(&mut tar, &s.name, bytes, created)?,
                Err(e) => append(
                    &mut tar,
                    &format!("{}.error.txt", s.name),
                    format!("{e}\n").as_bytes(),
                    created,
                )?,
            }
        }
        tar.into_inner()?.finish()?.sync_all()
    })();
    match written {
        Ok(()) => std::fs::rename(&tmp, path).map_err(io),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(io(e))
        }
    }
}

pub async fn run(ctx: &Ctx, m: &ArgMatches) -> Result<(), CtlError> {
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let path = m
        .get_one::<PathBuf>("out")
        .cloned()
        .unwrap_or_else(|| PathBuf::from(format!("agentctl-report-{created}.tar.gz")));
    let name = path.to_string_lossy();
    if !(name.ends_with(".tar.gz") || name.ends_with(".tgz")) {
        return Err(CtlError::Usage(format!(
            "report --out {name}: the archive must end in .tar.gz or .tgz"
        )));
    }
    let log = m.get_one::<PathBuf>("log");
    let progress = Progress::start("report: starting");
    let sections = collect(ctx, log.map(PathBuf::as_path), &progress).await;
    progress.set("report: writing the archive");
    let written = write_archive(ctx, &sections, &path, created);
    drop(progress);
    written?;
    let failed: Vec<&str> = sections
        .iter()
        .filter(|s| s.content.is_err())
        .map(|s| s.name.as_str())
        .collect();
    if ctx.globals.output == super::output::Output::Json {
        super::output::print(&super::output::json(&json!({
            "file": path.display().to_string(),
            "sections": sections.len() + 1,
            "failed": failed,
        }))?);
    } else {
        println!(
            "report written to {} ({} sections, {} failed)",
            path.display(),
            sections.len() + 1,
            failed.len()
        );
    }
    if !failed.is_empty() {
        eprintln!(
            "agentctl: report: {} sections failed, each recorded as <section>.error.txt: {}",
            failed.len(),
            failed.join(", ")
        );
    }
    Ok(())
}

/// The entry names of a `.tar.gz` (as [`write_archive`] writes it), in order.
pub fn list_archive(path: &Path) -> std::io::Result<Vec<String>> {
    let file = std::fs::File::open(path)?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut names = Vec::new();
    for entry in archive.entries()? {
        names.push(entry?.path()?.display().to_string());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vpp_commands_name_their_files() {
        assert_eq!(vpp_file("show l2fib verbose"), "vpp/show-l2fib-verbose.txt");
        assert_eq!(vpp_file("show  interface"), "vpp/show-interface.txt");
    }
}
