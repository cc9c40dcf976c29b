//! Decoding one plugin config file from YAML into its typed struct, turning every failure into a
//! [`ConfigError::Parse`] that names the file, the line, the column and the field.
//!
//! serde-saphyr reports where (line and column) and serde_path_to_error reports which field
//! (`loggers[0].level`); we combine the two. It deliberately does not look files up or read them
//! (see `load`), and does not accept YAML 1.1 booleans (`yes`, `on`): strict booleans, as the
//! house's crate notes require.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde_saphyr::{DefaultMessageFormatter, Localizer, Location, RenderOptions, SnippetMode};

use crate::error::ConfigError;

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        with_snippet: false,
    }
}

/// Decodes `text` (the contents of `path`) into `T`. Also returns the top-level keys the file
/// sets, so a caller can tell "set in the file" from "left at its default" (Ligato applies
/// `--http-port` only when the file does not set `endpoint`).
pub(crate) fn decode<T: DeserializeOwned + Default>(
    path: &Path,
    text: &str,
) -> Result<(T, BTreeSet<String>), ConfigError> {
    let mut field: Option<String> = None;
    let decoded = serde_saphyr::with_deserializer_from_str_with_options(text, options(), |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            field = Some(e.path().to_string());
            e.into_inner()
        })
    });
    // The top-level keys; `None` for a null document (`---` or `~` alone), which Ligato reads
    // as "nothing set", as it does an empty file.
    let keys: Result<Option<BTreeMap<String, IgnoredAny>>, _> =
        serde_saphyr::from_str_with_options(text, options());
    match (decoded, keys) {
        (Ok(value), Ok(keys)) => Ok((value, keys.unwrap_or_default().into_keys().collect())),
        (Err(_), Ok(None)) => Ok((T::default(), BTreeSet::new())),
        (Err(e), _) => Err(parse_error(path, text, field.take(), &e)),
        (Ok(_), Err(e)) => Err(parse_error(path, text, None, &e)),
    }
}

/// A localizer that leaves the position out of the message: we print it ourselves, up front.
struct NoPositionSuffix;

impl Localizer for NoPositionSuffix {
    fn attach_location<'a>(&self, base: Cow<'a, str>, _loc: Location) -> Cow<'a, str> {
        base
    }
}

fn parse_error(
    path: &Path,
    text: &str,
    field: Option<String>,
    err: &serde_saphyr::Error,
) -> ConfigError {
    let formatter = DefaultMessageFormatter.with_localizer(&NoPositionSuffix);
    let mut render = RenderOptions::new(&formatter);
    render.snippets = SnippetMode::Off;
    let location = err.location();
    let line = location.map(|l| l.line()).filter(|l| *l > 0);
    // serde_path_to_error says "." for the document itself and "?" for a key it could not
    // name (a syntax error while reading a key); then the key on the error's line, found by
    // indentation, is the best we can say.
    let field = field
        .filter(|f| f != "." && !f.split('.').any(|seg| seg == "?"))
        .or_else(|| line.and_then(|l| field_at_line(text, l)));
    ConfigError::Parse {
        path: path.to_owned(),
        line,
        column: location.map(|l| l.column()).filter(|c| *c > 0),
        field,
        message: err.render_with_options(render),
    }
}

/// One block-style YAML line: `  - key: value` has `indent` 2, `dash`, `key` and `key_col` 4.
struct BlockLine<'a> {
    indent: usize,
    dash: bool,
    key: Option<&'a str>,
    key_col: usize,
}

fn block_line(line: &str) -> Option<BlockLine<'_>> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let content = &line[indent..];
    if content.is_empty() || content.starts_with('#') {
        return None;
    }
    let (dash, body, key_col) = match content.strip_prefix("- ") {
        Some(rest) => {
            let pad = rest.len() - rest.trim_start_matches(' ').len();
            (true, &rest[pad..], indent + 2 + pad)
        }
        None => (content == "-", content, indent),
    };
    let key = body
        .find(": ")
        .or_else(|| body.strip_suffix(':').map(str::len))
        .map(|end| body[..end].trim().trim_matches(|c| c == '"' || c == '\''))
        .filter(|k| !k.is_empty() && !k.contains([' ', '{', '[', '#']));
    Some(BlockLine {
        indent,
        dash,
        key,
        key_col,
    })
}

/// The dotted path (`loggers[1].level`) of the key on 1-based `line`, from indentation; `None`
/// when that line has no `key:` of block-style YAML.
fn field_at_line(text: &str, line: u64) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let idx = usize::try_from(line).ok()?.checked_sub(1)?;
    let target = block_line(lines.get(idx)?)?;
    let mut path = vec![target.key?.to_owned()];
    let mut col = target.key_col;
    // Inside a sequence item: (column of its dash, items seen above it).
    let mut seq = target.dash.then_some((target.indent, 0usize));
    for text_line in lines[..idx].iter().rev() {
        let Some(l) = block_line(text_line) else {
            continue;
        };
        if let Some((dash_col, count)) = seq {
            if l.dash && l.indent == dash_col {
                seq = Some((dash_col, count + 1));
            } else if !l.dash && l.indent <= dash_col {
                let key = l.key?;
                path.push(format!("{key}[{count}]"));
                col = l.key_col;
                seq = None;
            }
            continue;
        }
        if l.key_col > col {
            continue;
        }
        if l.dash && l.key_col == col {
            seq = Some((l.indent, 0));
        } else if l.key_col < col {
            path.push(l.key?.to_owned());
            col = l.key_col;
            seq = l.dash.then_some((l.indent, 0));
        }
        if col == 0 && seq.is_none() {
            break;
        }
    }
    path.reverse();
    Some(path.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
    struct Item {
        name: String,
        level: u32,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
    struct Doc {
        enabled: bool,
        items: Vec<Item>,
    }

    fn err(text: &str) -> String {
        decode::<Doc>(Path::new("x.conf"), text)
            .expect_err(text)
            .to_string()
    }

    #[test]
    fn decodes_and_lists_top_level_keys() {
        let (doc, keys) =
            decode::<Doc>(Path::new("x.conf"), "enabled: true\nitems: [{name: a}]\n").expect("ok");
        assert!(doc.enabled);
        assert_eq!(doc.items[0].name, "a");
        assert_eq!(keys.into_iter().collect::<Vec<_>>(), ["enabled", "items"]);
    }

    #[test]
    fn empty_and_comment_only_files_give_defaults() {
        for text in ["", "# nothing here\n", "---\n", "~\n"] {
            let (doc, keys) = decode::<Doc>(Path::new("x.conf"), text).expect(text);
            assert_eq!(doc, Doc::default());
            assert!(keys.is_empty());
        }
    }

    #[test]
    fn errors_carry_file_line_column_and_nested_field() {
        assert_eq!(
            err("items:\n  - name: a\n    level: high\n"),
            "x.conf:3:12: field `items[0].level`: invalid u32"
        );
        assert_eq!(
            err("enabled: yes\n"),
            "x.conf:1:10: field `enabled`: invalid boolean (strict mode expects true/false)"
        );
        let unknown = err("enabled: true\nbogus: 1\n");
        assert!(
            unknown.starts_with("x.conf:2:1: field `bogus`: unknown field `bogus`"),
            "{unknown}"
        );
    }

    #[test]
    fn field_from_indentation_when_the_parser_names_none() {
        let text = "\
a: 1
loggers:
  - name: x
    level: debug
  - name: y

    level: \"oops
pool:
  idle: 1
compact:
- k: 1
- k: 2
";
        assert_eq!(field_at_line(text, 1).as_deref(), Some("a"));
        assert_eq!(field_at_line(text, 4).as_deref(), Some("loggers[0].level"));
        assert_eq!(field_at_line(text, 5).as_deref(), Some("loggers[1].name"));
        assert_eq!(field_at_line(text, 7).as_deref(), Some("loggers[1].level"));
        assert_eq!(field_at_line(text, 9).as_deref(), Some("pool.idle"));
        assert_eq!(field_at_line(text, 12).as_deref(), Some("compact[1].k"));
        assert_eq!(field_at_line(text, 2).as_deref(), Some("loggers"));
        assert_eq!(field_at_line(text, 6), None);
        assert_eq!(field_at_line(text, 99), None);
        assert_eq!(field_at_line("- 1\n", 1), None);
    }

    #[test]
    fn syntax_error_in_a_key_falls_back_to_the_line_s_key() {
        assert_eq!(
            err("enabled: true\nitems: \"unclosed\n"),
            "x.conf:2:8: field `items`: unclosed quote"
        );
    }

    #[test]
    fn a_document_that_is_not_a_mapping_has_no_field() {
        assert_eq!(err("- 1\n"), "x.conf:1:1: expected mapping start");
    }
}
