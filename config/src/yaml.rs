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
        (Err(e), _) => Err(parse_error(path, field.take(), &e)),
        (Ok(_), Err(e)) => Err(parse_error(path, None, &e)),
    }
}

/// A localizer that leaves the position out of the message: we print it ourselves, up front.
struct NoPositionSuffix;

impl Localizer for NoPositionSuffix {
    fn attach_location<'a>(&self, base: Cow<'a, str>, _loc: Location) -> Cow<'a, str> {
        base
    }
}

fn parse_error(path: &Path, field: Option<String>, err: &serde_saphyr::Error) -> ConfigError {
    let formatter = DefaultMessageFormatter.with_localizer(&NoPositionSuffix);
    let mut render = RenderOptions::new(&formatter);
    render.snippets = SnippetMode::Off;
    let location = err.location();
    ConfigError::Parse {
        path: path.to_owned(),
        line: location.map(|l| l.line()).filter(|l| *l > 0),
        column: location.map(|l| l.column()).filter(|c| *c > 0),
        // serde_path_to_error says "." for the document itself and "?" for a key it could not
        // name; neither tells the user anything.
        field: field.filter(|f| f != "." && f != "?"),
        message: err.render_with_options(render),
    }
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
    fn a_document_that_is_not_a_mapping_has_no_field() {
        assert_eq!(err("- 1\n"), "x.conf:1:1: expected mapping start");
    }
}
