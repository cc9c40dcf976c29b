//! Golden tests for every model: one folder per case under `tests/golden/`.
//!
//! `valid/<case>/` holds `key` (the key Ligato builds), `input.json` (a value as a user writes
//! it) and optionally `output.json` (the canonical JSON we write back; `input.json` when
//! absent). `invalid/<case>/` holds `key`, `input.json` and `error` (the exact error text).
//! Adding a folder adds a case. `BLESS=1` writes missing `error` files for review.

use std::fs;
use std::path::{Path, PathBuf};

use messages::registry::builtin;

fn cases(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(kind);
    let mut out: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no golden cases in {}", dir.display());
    out
}

fn read(dir: &Path, file: &str) -> String {
    fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{}/{file}: {e}", dir.display()))
}

fn json(text: &str, what: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}"))
}

#[test]
fn valid_values_give_ligato_keys_and_round_trip() {
    let reg = builtin();
    for dir in cases("valid") {
        let case = dir.file_name().expect("name").to_string_lossy().to_string();
        let key = read(&dir, "key").trim().to_owned();
        let input = read(&dir, "input.json");
        let expected_out = if dir.join("output.json").exists() {
            read(&dir, "output.json")
        } else {
            input.clone()
        };

        // value from key: the key names its model
        let (model, name) = reg
            .parse_key(&key)
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert!(!name.is_empty(), "{case}");

        // decode, and the key from the value is the Ligato key
        let value = reg
            .decode_json(&key, input.as_bytes())
            .unwrap_or_else(|e| panic!("{case}: {e}"))
            .unwrap_or_else(|| panic!("{case}: decoded as a delete"));
        assert_eq!(value.type_name(), model.proto_name(), "{case}");
        assert_eq!(reg.key_of(&*value).expect("key_of").as_str(), key, "{case}");

        // canonical JSON: original names, enum names, defaults omitted
        let out = reg
            .encode_json(&*value)
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(
            json(&out, &case),
            json(&expected_out, &case),
            "{case}: canonical JSON"
        );

        // round trip through our own output, and through the protobuf wire form
        let again = reg
            .decode_json(&key, out.as_bytes())
            .unwrap_or_else(|e| panic!("{case}: {e}"))
            .expect("value");
        assert!(again.eq_value(&*value), "{case}: JSON round trip");
        let wire = model
            .decode_proto(&value.encode_proto())
            .expect("wire decode");
        assert!(wire.eq_value(&*value), "{case}: wire round trip");
    }
}

#[test]
fn invalid_inputs_give_clear_errors() {
    let reg = builtin();
    let bless = std::env::var_os("BLESS").is_some();
    for dir in cases("invalid") {
        let case = dir.file_name().expect("name").to_string_lossy().to_string();
        let key = read(&dir, "key").trim().to_owned();
        let input = read(&dir, "input.json");
        let err = match reg.decode_json(&key, input.as_bytes()) {
            Ok(v) => panic!("{case}: accepted: {v:?}"),
            Err(e) => e.to_string(),
        };
        let path = dir.join("error");
        if !path.exists() && bless {
            fs::write(&path, format!("{err}\n")).expect("bless");
            continue;
        }
        assert_eq!(err, read(&dir, "error").trim_end(), "{case}");
        assert!(
            err.contains(&key),
            "{case}: error does not name the key: {err}"
        );
    }
}

#[test]
fn empty_value_is_a_delete() {
    let reg = builtin();
    for v in ["", "  \n"] {
        let got = reg
            .decode_json("config/vpp/v2/interfaces/loop1", v.as_bytes())
            .expect("ok");
        assert!(got.is_none());
    }
}

#[test]
fn every_model_has_a_golden_case() {
    let reg = builtin();
    let keys: Vec<String> = cases("valid")
        .iter()
        .map(|d| read(d, "key").trim().to_owned())
        .collect();
    for model in reg.models() {
        assert!(
            keys.iter().any(|k| k.starts_with(model.key_prefix())),
            "model {} has no golden case",
            model.spec()
        );
    }
}
