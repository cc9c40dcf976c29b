//! The `vpp-agent` binary's command line, run as a user would: `-h` lists every plugin config
//! flag and env var, config files are found by flag, env var and config dir, and a broken file
//! stops the agent with exit code 2 and a message naming the file and line.

use std::process::{Command, Output};

fn agent(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vpp-agent"));
    cmd.args(args).env_clear();
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run vpp-agent")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_lists_every_plugin_flag_and_env_var() {
    let out = agent(&["-h"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let help = stdout(&out);
    for plugin in config::PLUGINS {
        assert!(
            help.contains(&format!("--{}", plugin.flag)),
            "missing --{}:\n{help}",
            plugin.flag
        );
        assert!(help.contains(plugin.env), "missing {}:\n{help}", plugin.env);
    }
    for flag in [
        "--microservice-label",
        "MICROSERVICE_LABEL",
        "--config-dir",
        "CONFIG_DIR",
    ] {
        assert!(help.contains(flag), "missing {flag}:\n{help}");
    }
}

#[test]
fn defaults_run_the_embedded_store_only() {
    let out = agent(&["--print-config"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("microservice label: vpp1"), "{text}");
    assert!(text.contains("kv stores: bolt\n"), "{text}");
}

#[test]
fn flag_env_and_config_dir_find_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("etcd.conf"),
        "endpoints: [\"127.0.0.1:2379\"]\n",
    )
    .expect("write");
    let d = dir.path().to_str().expect("utf8");
    // env var + config dir
    let out = agent(
        &["--print-config"],
        &[("ETCD_CONFIG", "etcd.conf"), ("CONFIG_DIR", d)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("kv stores: etcd\n"), "{text}");
    // Ligato's single-dash flag, label from the flag beating the env var
    let out = agent(
        &[
            "-etcd-config",
            &format!("{d}/etcd.conf"),
            "--microservice-label",
            "vpp7",
            "--print-config",
        ],
        &[("MICROSERVICE_LABEL", "vpp3")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("microservice label: vpp7"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_broken_config_file_is_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("etcd.conf");
    std::fs::write(
        &path,
        "endpoints:\n  - 127.0.0.1:2379\ndial-timeout: soon\n",
    )
    .expect("write");
    let out = agent(&["--etcd-config", path.to_str().expect("utf8")], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("etcd.conf"), "{err}");
    assert!(err.contains("dial-timeout"), "{err}");
    assert!(err.contains('3'), "no line number: {err}");
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    let out = agent(&["--no-such-flag"], &[]);
    assert_eq!(out.status.code(), Some(2));
}
