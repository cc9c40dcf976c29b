//! `agentctl vpp cli COMMAND...` and `vpp info`: VPP's CLI through the agent's REST
//! `/vpp/command` (Ligato's govppmux endpoint), so no access to VPP's socket is needed.
//!
//! It deliberately sends only what it is given: no command is refused or rewritten here.

use clap::{Arg, ArgMatches, Command};
use serde_json::{Value as Json, json};

use super::output::{self, Output};
use super::rest::AgentRest;
use super::{CtlError, Ctx};

pub fn command() -> Command {
    Command::new("vpp")
        .about("Talk to VPP through the agent")
        .subcommand_required(true)
        .subcommand(
            Command::new("cli")
                .visible_alias("c")
                .about("Run a VPP CLI command (several words are joined with spaces)")
                .arg(
                    Arg::new("command")
                        .required(true)
                        .num_args(1..)
                        .trailing_var_arg(true)
                        .allow_hyphen_values(true),
                ),
        )
        .subcommand(
            Command::new("info")
                .visible_alias("i")
                .about("Show VPP's version"),
        )
}

/// Runs one CLI command; returns its output text.
pub async fn cli(rest: &AgentRest, command: &str) -> Result<String, CtlError> {
    let answer = rest
        .post_json(
            "/vpp/command",
            &[],
            Some(&json!({ "vppclicommand": command })),
        )
        .await?;
    match answer {
        Json::String(s) => Ok(s),
        other => Err(CtlError::failed(format!(
            "/vpp/command: expected the output as a json string, got {other}"
        ))),
    }
}

fn with_newline(mut s: String) -> String {
    if !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// The `Version:` line of `show version verbose`, or its first line.
pub fn version_of(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("Version:").map(|v| v.trim().to_owned()))
        .or_else(|| text.lines().next().map(|l| l.trim().to_owned()))
        .unwrap_or_default()
}

pub async fn run(ctx: &Ctx, m: &ArgMatches) -> Result<(), CtlError> {
    let rest = ctx.rest()?;
    match m.subcommand() {
        Some(("cli", a)) => {
            let words: Vec<String> = a
                .get_many::<String>("command")
                .map(|v| v.cloned().collect())
                .unwrap_or_default();
            let command = words.join(" ");
            if command.trim().is_empty() {
                return Err(CtlError::Usage("vpp cli: the command is empty".to_owned()));
            }
            let out = cli(&rest, &command).await?;
            if ctx.globals.output == Output::Json {
                output::print(&output::json(
                    &json!({ "command": command, "output": out }),
                )?);
            } else {
                output::print(&with_newline(out));
            }
            Ok(())
        }
        Some(("info", _)) => {
            let out = cli(&rest, "show version verbose").await?;
            if ctx.globals.output == Output::Json {
                output::print(&output::json(
                    &json!({ "version": version_of(&out), "show_version": out }),
                )?);
            } else {
                output::print(&with_newline(out));
            }
            Ok(())
        }
        _ => Err(CtlError::Usage("unknown vpp command".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_line_is_found() {
        assert_eq!(
            version_of("Version:                  v23.06-release\nCompiled by: x\n"),
            "v23.06-release"
        );
        assert_eq!(version_of("vpp v21.01 built by\n"), "vpp v21.01 built by");
    }
}
