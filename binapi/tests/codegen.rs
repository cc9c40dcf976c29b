//! Tests of the code generator: the committed output is exactly what the generator produces today, and the
//! generator's decisions (sharing, names, shapes, kinds, defaults, count fields) on small hand-written fixtures.
//!
//! Set `BINAPI_BLESS=1` to rewrite the fixture's expected output after an intended change. This file deliberately
//! does not compile the fixture output; the real generated modules are compiled and round-tripped elsewhere.

use binapi::codegen::plan::ReleaseSpec;
use binapi::codegen::{self, GeneratedFile, RELEASES};
use binapi::{Error, ErrorKind};
use std::path::{Path, PathBuf};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/codegen")
}

const FIXTURE_RELEASES: &[ReleaseSpec] = &[
    ReleaseSpec {
        version: "1.0",
        module: "demo10",
    },
    ReleaseSpec {
        version: "2.0",
        module: "demo20",
    },
];

fn fixture_output() -> Vec<GeneratedFile> {
    let dir = fixture_dir();
    let agent = codegen::read_agent_messages(&dir.join("agent-messages.txt")).expect("agent list");
    codegen::generate(&dir, FIXTURE_RELEASES, &agent).expect("fixture generates")
}

fn file<'a>(files: &'a [GeneratedFile], path: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} generated"))
        .text
}

#[test]
fn committed_generated_code_is_reproducible() {
    let api = codegen::default_api_dir();
    let agent = codegen::read_agent_messages(&api.join("agent-messages.txt")).expect("agent list");
    let files = codegen::generate(&api, RELEASES, &agent).expect("generates");
    let stale = codegen::stale_files(&codegen::default_out_dir(), &files);
    assert!(
        stale.is_empty(),
        "regenerate with `cargo run -p vpp-agent-binapi --bin binapi-gen`: {stale:?} differ"
    );
    let again = codegen::generate(&api, RELEASES, &agent).expect("generates twice");
    assert_eq!(files, again, "generation is deterministic");
}

#[test]
fn fixture_output_matches_expected_files() {
    let files = fixture_output();
    let expected = fixture_dir().join("expected");
    if std::env::var_os("BINAPI_BLESS").is_some() {
        codegen::write_files(&expected, &files).expect("bless");
    }
    let stale = codegen::stale_files(&expected, &files);
    assert!(
        stale.is_empty(),
        "fixture output changed: {stale:?} (BINAPI_BLESS=1 to accept)"
    );
}

#[test]
fn identical_definitions_are_shared_and_different_ones_get_release_suffixes() {
    let files = fixture_output();
    let messages = file(&files, "messages.rs");
    assert!(
        messages.contains("pub struct DemoAdd {"),
        "demo_add is identical in both"
    );
    assert!(messages.contains("pub struct DemoDetails_v10 {"));
    assert!(messages.contains("pub struct DemoDetails_v20 {"));
    // The dump is the same message but answers with different details, so it is not shared.
    assert!(messages.contains("pub struct DemoDump_v10 {}"));
    assert!(messages.contains("impl Dump for DemoDump_v20 {\n    type Details = DemoDetails_v20;"));
    let types = file(&files, "types.rs");
    assert!(types.contains("pub struct Color_v10(pub u8);"));
    assert!(types.contains("pub const BLUE: Self = Self(2);"));
    assert!(types.contains("pub struct Point {"));
    let r20 = file(&files, "demo20.rs");
    assert!(r20.contains("pub use super::messages::DemoDetails_v20 as DemoDetails;"));
    assert!(r20.contains("pub use super::messages::DemoAdd;"));
}

#[test]
fn messages_carry_name_crc_kind_and_header_shape() {
    let files = fixture_output();
    let messages = file(&files, "messages.rs");
    for needle in [
        "const NAME_CRC: &'static str = \"demo_add_11111111\";",
        "const CRC: &'static str = \"22222222\";",
        "impl Request for DemoAdd {\n    type Reply = DemoAddReply;",
        "fn retval(&self) -> Option<i32> {\n        Some(self.retval)",
    ] {
        assert!(messages.contains(needle), "missing {needle}");
    }
    let r10 = file(&files, "demo10.rs");
    for needle in [
        "MessageInfo { name: \"demo_add\", crc: \"11111111\", kind: MessageKind::Request, shape: HeaderShape::Request }",
        "MessageInfo { name: \"demo_add_reply\", crc: \"22222222\", kind: MessageKind::Reply, shape: HeaderShape::Reply }",
        "MessageInfo { name: \"demo_dump\", crc: \"51077d14\", kind: MessageKind::Dump, shape: HeaderShape::Request }",
        "MessageInfo { name: \"demo_details\", crc: \"33333333\", kind: MessageKind::Details, shape: HeaderShape::Reply }",
        "MessageInfo { name: \"demo_event\", crc: \"44444444\", kind: MessageKind::Event, shape: HeaderShape::Event }",
    ] {
        assert!(r10.contains(needle), "missing {needle}");
    }
    assert!(!r10.contains("name: \"not_in_any_release\""));
    // The full table keeps every message of the file, in order, agent's or not.
    assert!(r10.contains("\"demo_event_44444444\",\n            \"demo_unused_55555555\","));
}

#[test]
fn count_fields_are_hidden_and_defaults_applied() {
    let files = fixture_output();
    let messages = file(&files, "messages.rs");
    let add = messages
        .split("pub struct DemoAdd {")
        .nth(1)
        .and_then(|s| s.split("impl Message").next())
        .expect("demo_add body");
    assert!(
        !add.contains("pub n_points"),
        "the count is computed, not stored"
    );
    assert!(add.contains("pub points: Vec<Point>,"));
    assert!(add.contains("pub tag: String,"));
    assert!(add.contains("sw_if_index: Idx(4294967295_u32),"));
    assert!(add.contains("is_add: true,"));
    assert!(add.contains(
        "codec::vla_count::<u8>(\"points\", self.points.len(), u8::MAX as u64)?.encode(out)?;"
    ));
    let types = file(&files, "types.rs");
    assert!(
        types.contains("pub struct ShapeU(pub [u8; 6]);"),
        "union is its largest member"
    );
}

fn scratch_release(json: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let core = dir.path().join("1.0/core");
    std::fs::create_dir_all(&core).expect("mkdir");
    std::fs::write(core.join("bad.api.json"), json).expect("write");
    dir
}

fn generate_scratch(json: &str) -> Result<Vec<GeneratedFile>, Error> {
    let dir = scratch_release(json);
    let agent = ["bad".to_string()].into_iter().collect();
    codegen::generate(dir.path(), &FIXTURE_RELEASES[..1], &agent)
}

#[test]
fn unknown_type_references_are_errors() {
    let err = generate_scratch(
        r#"{"messages": [["bad", ["u16", "_vl_msg_id"], ["vl_api_nope_t", "x"], {"crc": "0x1"}]]}"#,
    )
    .expect_err("unknown type");
    assert_eq!(err.kind(), ErrorKind::Generate);
    assert!(err.to_string().contains("vl_api_nope_t"), "{err}");
}

#[test]
fn malformed_inputs_are_errors_naming_the_file() {
    let err = generate_scratch("{not json").expect_err("bad json");
    assert!(err.to_string().contains("core/bad.api.json"), "{err}");
    let err =
        generate_scratch(r#"{"messages": [["bad", ["u16", "_vl_msg_id"]]]}"#).expect_err("no crc");
    assert!(err.to_string().contains("has no crc"), "{err}");
    let err = generate_scratch(
        r#"{"messages": [["bad", ["u16", "_vl_msg_id"], ["u32", "rest", 0], {"crc": "0x1"}]]}"#,
    )
    .expect_err("legacy array");
    assert!(err.to_string().contains("legacy"), "{err}");
}

#[test]
fn short_crcs_are_zero_padded() {
    let files = generate_scratch(
        r#"{"messages": [["bad", ["u16", "_vl_msg_id"], ["u32", "context"], {"crc": "0xabc"}]]}"#,
    )
    .expect("generates");
    assert!(file(&files, "messages.rs").contains("const CRC: &'static str = \"00000abc\";"));
}

#[test]
fn the_binary_writes_and_checks_output() {
    let bin = env!("CARGO_BIN_EXE_binapi-gen");
    let status = std::process::Command::new(bin)
        .arg("--check")
        .status()
        .expect("runs");
    assert!(status.success(), "committed output is current");

    let out = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .arg("--out")
            .arg(out.path())
            .output()
            .expect("runs")
    };
    let check = run(&["--check"]);
    assert!(!check.status.success(), "an empty folder is out of date");
    assert!(String::from_utf8_lossy(&check.stderr).contains("out of date: types.rs"));
    assert!(run(&[]).status.success());
    assert!(run(&["--check"]).status.success());
    std::fs::write(out.path().join("vpp2306.rs"), "// edited\n").expect("edit");
    let check = run(&["--check"]);
    assert!(String::from_utf8_lossy(&check.stderr).contains("vpp2306.rs"));
    assert!(!check.status.success());
    let bad = std::process::Command::new(bin)
        .arg("--frobnicate")
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
}
