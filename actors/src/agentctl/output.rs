//! How agentctl prints: `-o table|json` (tables for humans, JSON for scripts), `-f yaml|json`
//! for values, plain aligned tables, and a progress indicator on stderr that shows only when
//! stderr is a terminal.
//!
//! It deliberately prints nothing itself except the progress indicator; commands get strings.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::ValueEnum;
use serde::Serialize;

use super::CtlError;

/// `-o/--output`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Aligned tables and plain text.
    #[default]
    Table,
    /// One JSON document.
    Json,
}

/// `-f/--format`: how values are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Yaml,
    Json,
}

impl Format {
    /// `value` as YAML, or as pretty JSON; always ends with a newline.
    pub fn render<T: Serialize>(self, value: &T) -> Result<String, CtlError> {
        let mut text = match self {
            Format::Json => serde_json::to_string_pretty(value)
                .map_err(|e| CtlError::failed(format!("json output: {e}")))?,
            Format::Yaml => serde_saphyr::to_string(value)
                .map_err(|e| CtlError::failed(format!("yaml output: {e}")))?,
        };
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(text)
    }
}

/// Pretty JSON with a final newline (`-o json`).
pub fn json<T: Serialize>(value: &T) -> Result<String, CtlError> {
    Format::Json.render(value)
}

/// A text table: a header row and rows, columns separated by at least two spaces.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table, each line trimmed at the end; cells with newlines are cut to their first
    /// line.
    pub fn render(&self) -> String {
        let cell = |s: &str| s.lines().next().unwrap_or("").to_owned();
        let all: Vec<Vec<String>> = std::iter::once(&self.header)
            .chain(&self.rows)
            .map(|r| r.iter().map(|c| cell(c)).collect())
            .collect();
        let cols = all.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..cols)
            .map(|i| {
                all.iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| c.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for r in &all {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                line.push_str(c);
                if i + 1 < r.len() {
                    let pad = widths[i] - c.chars().count() + 2;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Prints `text` to stdout as is (commands build whole outputs first).
pub fn print(text: &str) {
    print!("{text}");
}

/// A spinner with a message on stderr, redrawn every 100 ms while a long operation runs; a
/// no-op unless stderr is a terminal. Needs a tokio runtime.
#[derive(Debug)]
pub struct Progress {
    message: Option<Arc<Mutex<String>>>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    pub fn start(message: &str) -> Self {
        if !std::io::stderr().is_terminal() {
            return Progress {
                message: None,
                ticker: None,
            };
        }
        let shared = Arc::new(Mutex::new(message.to_owned()));
        let msg = shared.clone();
        let ticker = tokio::spawn(async move {
            const FRAMES: [char; 4] = ['|', '/', '-', '\\'];
            let mut i = 0usize;
            loop {
                let text = msg.lock().map(|m| m.clone()).unwrap_or_default();
                eprint!("\r\x1b[2K{} {text}", FRAMES[i % FRAMES.len()]);
                i += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Progress {
            message: Some(shared),
            ticker: Some(ticker),
        }
    }

    /// Changes the message shown.
    pub fn set(&self, message: &str) {
        if let Some(m) = &self.message
            && let Ok(mut m) = m.lock()
        {
            *m = message.to_owned();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(t) = self.ticker.take() {
            t.abort();
            eprint!("\r\x1b[2K");
        }
    }
}

/// Whether `name` matches `pattern`: `*` matches any run of characters; a pattern without `*`
/// matches as a substring.
pub fn matches_pattern(pattern: &str, name: &str) -> bool {
    if !pattern.contains('*') {
        return name.contains(pattern);
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let mut t = Table::new(["KEY", "STATE"]);
        t.row(["config/a", "CONFIGURED"]);
        t.row(["b", "PENDING\nmore"]);
        assert_eq!(
            t.render(),
            "KEY       STATE\nconfig/a  CONFIGURED\nb         PENDING\n"
        );
    }

    #[test]
    fn values_render_as_yaml_or_json() {
        let v = serde_json::json!({"name": "tap1", "enabled": true});
        let yaml = Format::Yaml.render(&v).unwrap_or_default();
        assert!(yaml.contains("name: tap1"), "{yaml}");
        let back: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap_or_default();
        assert_eq!(back, v);
        let json = Format::Json.render(&v).unwrap_or_default();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json).ok(),
            Some(v)
        );
    }

    #[test]
    fn patterns_glob_or_substring() {
        assert!(matches_pattern("interfaces", "vpp.interfaces"));
        assert!(matches_pattern("vpp.*", "vpp.l2.bridge-domain"));
        assert!(matches_pattern("*fib*", "vpp.l2.fib"));
        assert!(!matches_pattern("linux.*", "vpp.interfaces"));
        assert!(matches_pattern("*", "x"));
    }
}
