//! Broken config files: YAML syntax errors, unknown fields, wrong types, bad durations and other
//! bad values. Each error must name the file, the line (and column) and the field, and none may
//! panic.
//!
//! It deliberately checks the whole message where it is ours and only the stable part where the
//! text comes from the YAML parser.

use std::path::PathBuf;

use config::*;

/// Writes `yaml` as the plugin's file, loads it through `--<plugin>-config` and returns the
/// error and the file's path.
fn fail(plugin: &str, yaml: &str) -> (ConfigError, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(format!("{plugin}.conf"));
    std::fs::write(&path, yaml).expect("write");
    let flag = format!("--{plugin}-config={}", path.display());
    let err = AgentConfig::from_args(["vpp-agent", flag.as_str()], &Environment::default())
        .expect_err(yaml);
    (err, path, dir)
}

/// Asserts the error is a parse error at `line:column` of the file, on `field`, whose message
/// contains `needle`.
fn assert_parse(plugin: &str, yaml: &str, line: u64, column: u64, field: &str, needle: &str) {
    let (err, path, _dir) = fail(plugin, yaml);
    let text = err.to_string();
    let prefix = format!("{}:{line}:{column}: field `{field}`: ", path.display());
    assert!(
        text.starts_with(&prefix),
        "want prefix {prefix:?}, got {text:?}"
    );
    assert!(text.contains(needle), "want {needle:?} in {text:?}");
    assert_eq!(err.kind(), ConfigErrorKind::Parse);
    let ConfigError::Parse {
        line: l,
        column: c,
        field: f,
        ..
    } = &err
    else {
        panic!("not a parse error: {err:?}");
    };
    assert_eq!(
        (*l, *c, f.as_deref()),
        (Some(line), Some(column), Some(field))
    );
}

#[test]
fn yaml_syntax_error() {
    assert_parse(
        "etcd",
        "dial-timeout: 1s\nendpoints: [\"127.0.0.1:2379\"\noperation-timeout: 3s\n",
        3,
        18,
        "endpoints",
        "illegal placement of ':' indicator",
    );
}

#[test]
fn yaml_unclosed_quote() {
    let (err, path, _dir) = fail(
        "etcd",
        "dial-timeout: 1s\ncert-file: \"/etc/cert.pem\nkey-file: k\n",
    );
    let ConfigError::Parse {
        path: p,
        line,
        field,
        ..
    } = &err
    else {
        panic!("not a parse error: {err:?}");
    };
    assert_eq!(p, &path);
    assert!(line.is_some(), "{err}");
    assert_eq!(field.as_deref(), Some("cert-file"), "{err}");
}

#[test]
fn bad_indentation() {
    // A continuation line folds into the plain scalar above it, as YAML says; the result is
    // then a bad duration on the first line.
    assert_parse(
        "govpp",
        "reply-timeout: 1s\n  trace-enabled: true\n",
        1,
        16,
        "reply-timeout",
        "invalid duration \"1s trace-enabled\"",
    );
}

#[test]
fn unknown_field() {
    assert_parse(
        "etcd",
        "dial-timeout: 1s\ndial-timout: 2s\n",
        2,
        1,
        "dial-timout",
        "unknown field `dial-timout`",
    );
}

#[test]
fn unknown_nested_field() {
    assert_parse(
        "redis",
        "pool:\n  idle-timeout: 1m\n  max-conns: 3\n",
        3,
        3,
        "pool.max-conns",
        "unknown field `max-conns`",
    );
}

#[test]
fn wrong_type() {
    assert_parse(
        "linux-ifplugin",
        "disabled: false\ngo-routines-count: many\n",
        2,
        20,
        "go-routines-count",
        "invalid",
    );
}

#[test]
fn wrong_type_list_for_scalar() {
    assert_parse("consul", "address: [a, b]\n", 1, 10, "address", "");
}

#[test]
fn bad_duration() {
    assert_parse(
        "govpp",
        "\n# comment\nreply-timeout: 2 seconds\n",
        3,
        16,
        "reply-timeout",
        "invalid duration \"2 seconds\"",
    );
}

#[test]
fn duration_without_unit() {
    assert_parse(
        "etcd",
        "dial-timeout: \"5\"\n",
        1,
        15,
        "dial-timeout",
        "missing unit",
    );
}

#[test]
fn negative_duration() {
    assert_parse(
        "kvscheduler",
        "retry-period: -1s\n",
        1,
        15,
        "retry-period",
        "negative",
    );
}

#[test]
fn yaml_1_1_boolean_is_rejected() {
    assert_parse(
        "http",
        "disabled: yes\n",
        1,
        11,
        "disabled",
        "invalid boolean",
    );
}

#[test]
fn bad_enum_value() {
    assert_parse(
        "grpc",
        "network: sctp\n",
        1,
        10,
        "network",
        "unknown variant `sctp`",
    );
}

#[test]
fn bad_log_level_in_a_list() {
    assert_parse(
        "logs",
        "loggers:\n  - name: a\n    level: loud\n",
        3,
        12,
        "loggers[0].level",
        "unknown log level \"loud\"",
    );
}

#[test]
fn bad_http_endpoint() {
    assert_parse(
        "http",
        "endpoint: localhost\n",
        1,
        11,
        "endpoint",
        "not host:port",
    );
}

#[test]
fn bad_file_mode() {
    assert_parse(
        "bolt",
        "file-mode: 0999\n",
        1,
        12,
        "file-mode",
        "invalid file mode",
    );
}

#[test]
fn bad_status_publisher() {
    assert_parse(
        "vpp-ifplugin",
        "status-publishers: [etcd, kafka]\n",
        1,
        27,
        "status-publishers[1]",
        "unknown variant `kafka`",
    );
}

#[test]
fn duplicate_key_names_the_key() {
    assert_parse(
        "telemetry",
        "disabled: true\ndisabled: false\n",
        2,
        1,
        "disabled",
        "duplicate mapping key: disabled",
    );
}

#[test]
fn document_that_is_not_a_mapping() {
    let (err, path, _dir) = fail("filedb", "- /tmp/a\n");
    assert_eq!(
        err.to_string(),
        format!("{}:1:1: expected mapping start", path.display())
    );
}
