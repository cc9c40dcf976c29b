//! Ligato's fileDB file format, `{"data": [{"key": .., "value": {..}}]}` in JSON or YAML
//! (chosen by the file extension), parsed into store keys and canonical JSON value bytes, and
//! written back for the status file.
//!
//! Values become compact JSON with sorted object keys, so "the value changed" is a byte
//! comparison that ignores formatting. YAML is read with YAML 1.2 scalars (`NO` stays a
//! string, `010` stays a string), matching Ligato's ghodss/yaml.
//!
//! Deliberately not here: file watching and merging files (see the parent module).

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// A file's kind, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Yaml,
}

impl Format {
    /// The format of a path, or `None` when fileDB does not read it.
    pub(crate) fn of(path: &Path) -> Option<Format> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Some(Format::Json),
            Some("yaml" | "yml") => Some(Format::Yaml),
            _ => None,
        }
    }
}

#[derive(Deserialize, Serialize, Default)]
struct FileContent {
    #[serde(default)]
    data: Vec<Item>,
}

#[derive(Deserialize, Serialize)]
struct Item {
    key: String,
    value: serde_json::Value,
}

/// A parse failure: the line (1-based) where known, and the parser's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub line: Option<u64>,
    pub message: String,
}

/// Parses a file's bytes into key -> canonical JSON value.
pub(crate) fn parse(format: Format, bytes: &[u8]) -> Result<BTreeMap<String, Bytes>, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ParseError {
        line: Some(line_of(bytes, e.valid_up_to())),
        message: format!("not UTF-8: {e}"),
    })?;
    if text.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    let content: FileContent = match format {
        Format::Json => serde_json::from_str(text).map_err(|e| ParseError {
            line: Some(e.line() as u64),
            message: e.to_string(),
        })?,
        Format::Yaml => {
            let options = serde_saphyr::options! {
                strict_booleans: true,
                leading_zero_numbers_as_strings: true,
            };
            serde_saphyr::from_str_with_options(text, options).map_err(|e| ParseError {
                line: e.location().map(|l| l.line()),
                message: e.to_string().lines().next().unwrap_or_default().to_owned(),
            })?
        }
    };
    let mut out = BTreeMap::new();
    for (i, item) in content.data.into_iter().enumerate() {
        if item.key.is_empty() {
            return Err(ParseError {
                line: None,
                message: format!("data[{i}] has an empty key"),
            });
        }
        let value = serde_json::to_vec(&item.value).map_err(|e| ParseError {
            line: None,
            message: format!("value of {}: {e}", item.key),
        })?;
        out.insert(item.key, Bytes::from(value));
    }
    Ok(out)
}

/// Writes entries in the file format; values must be JSON.
pub(crate) fn render(format: Format, entries: &BTreeMap<String, Bytes>) -> Result<Vec<u8>, String> {
    let mut data = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let value: serde_json::Value = serde_json::from_slice(value)
            .map_err(|e| format!("value of {key} is not JSON: {e}"))?;
        data.push(Item {
            key: key.clone(),
            value,
        });
    }
    let content = FileContent { data };
    match format {
        Format::Json => serde_json::to_vec_pretty(&content).map_err(|e| e.to_string()),
        Format::Yaml => serde_saphyr::to_string(&content)
            .map(String::into_bytes)
            .map_err(|e| e.to_string()),
    }
}

fn line_of(bytes: &[u8], offset: usize) -> u64 {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml_give_the_same_values() {
        let json = br#"{"data":[{"key":"/vnf-agent/vpp1/config/vpp/v2/interfaces/loop1",
            "value":{"name":"loop1","type":"SOFTWARE_LOOPBACK","enabled":true}}]}"#;
        let yaml = b"data:\n  - key: /vnf-agent/vpp1/config/vpp/v2/interfaces/loop1\n    value:\n      type: SOFTWARE_LOOPBACK\n      name: loop1\n      enabled: true\n";
        let a = parse(Format::Json, json).expect("json");
        let b = parse(Format::Yaml, yaml).expect("yaml");
        assert_eq!(a, b);
        let v = &a["/vnf-agent/vpp1/config/vpp/v2/interfaces/loop1"];
        assert_eq!(
            &v[..],
            br#"{"enabled":true,"name":"loop1","type":"SOFTWARE_LOOPBACK"}"#
        );
    }

    #[test]
    fn yaml_keeps_no_and_leading_zeros_as_strings() {
        let yaml = b"data:\n  - key: /k\n    value:\n      a: NO\n      b: 010\n";
        let v = parse(Format::Yaml, yaml).expect("yaml");
        assert_eq!(&v["/k"][..], br#"{"a":"NO","b":"010"}"#);
    }

    #[test]
    fn errors_carry_the_line() {
        let json = b"{\"data\": [\n  {\"key\": \"/k\",\n   \"value\": {,}}\n]}";
        let err = parse(Format::Json, json).expect_err("broken");
        assert_eq!(err.line, Some(3));
        let yaml = b"data:\n  - key: /k\n    value: [1, 2\n";
        let err = parse(Format::Yaml, yaml).expect_err("broken");
        assert!(err.line.is_some(), "{err:?}");
    }

    #[test]
    fn render_round_trips() {
        let mut m = BTreeMap::new();
        m.insert("/a".to_owned(), Bytes::from_static(br#"{"x":1}"#));
        for f in [Format::Json, Format::Yaml] {
            let bytes = render(f, &m).expect("render");
            assert_eq!(parse(f, &bytes).expect("parse"), m);
        }
        m.insert("/b".to_owned(), Bytes::from_static(b"\xff"));
        assert!(render(Format::Json, &m).is_err());
    }
}
