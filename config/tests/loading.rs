//! Where configuration comes from: defaults with no file at all, `<PLUGIN>_CONFIG` env vars,
//! flags winning over env, the config-dir lookup, Ligato's default `<plugin>.conf` name, an
//! explicit path that does not exist, the label and port flags, and which stores and servers
//! are enabled. The environment is injected; the process env is never touched.
//!
//! It deliberately does not test file contents (see `full_files.rs`, `bad_files.rs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use config::*;

fn env(pairs: &[(&str, &str)]) -> Environment {
    pairs.iter().copied().collect()
}

fn load(args: &[&str], vars: &[(&str, &str)]) -> Result<AgentConfig, ConfigError> {
    let mut argv = vec!["vpp-agent"];
    argv.extend_from_slice(args);
    AgentConfig::from_args(argv, &env(vars))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn no_files_at_all_gives_ligato_defaults() {
    let cfg = load(&[], &[]).expect("defaults");
    assert_eq!(cfg.microservice_label, "vpp1");
    assert_eq!(cfg.config_dir, PathBuf::from("."));
    for (name, source) in cfg.sources() {
        assert_eq!(source, None, "{name} should not be configured");
    }
    assert_eq!(cfg.kv_stores, [KvStore::Bolt]);
    assert!(!cfg.grpc_enabled);
    assert!(cfg.http_enabled());
    assert_eq!(cfg.http.config.endpoint, "127.0.0.1:9191");
    assert_eq!(cfg.etcd.config.endpoints, ["127.0.0.1:2379"]);
    assert_eq!(cfg.etcd.config.dial_timeout, Duration::from_secs(1));
    assert_eq!(cfg.govpp.config.binapi_socket_path, "/run/vpp/api.sock");
    assert!(cfg.govpp.config.resync_after_reconnect);
    assert_eq!(cfg.govpp.config.reply_timeout, Duration::from_secs(1));
    assert_eq!(cfg.grpc.config.endpoint, "127.0.0.1:9111");
    assert_eq!(cfg.kvscheduler.config.transaction_history_age_limit, 1440);
    assert!(cfg.kvscheduler.config.print_txn_summary);
    assert_eq!(cfg.logs.config.default_level, LogLevel::Info);
    assert_eq!(cfg.linux_ifplugin.config.go_routines_count, 10);
    assert_eq!(cfg.bolt.config.file_mode, FileMode(0o660));
    assert_eq!(
        cfg.telemetry.config.polling_interval,
        Duration::from_secs(30)
    );
}

#[test]
fn env_var_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "li.conf", "go-routines-count: 3\n");
    let p = path.to_str().expect("utf8");
    let cfg = load(&[], &[("LINUX_IFPLUGIN_CONFIG", p)]).expect("load");
    assert_eq!(cfg.linux_ifplugin.config.go_routines_count, 3);
    assert_eq!(cfg.linux_ifplugin.source.as_deref(), Some(path.as_path()));
}

#[test]
fn flag_wins_over_env() {
    let dir = tempfile::tempdir().expect("tempdir");
    let from_env = write(dir.path(), "env.conf", "endpoints: [env:2379]\n");
    let from_flag = write(dir.path(), "flag.conf", "endpoints: [flag:2379]\n");
    let flag = format!("--etcd-config={}", from_flag.display());
    let cfg = load(
        &[&flag],
        &[("ETCD_CONFIG", from_env.to_str().expect("utf8"))],
    )
    .expect("load");
    assert_eq!(cfg.etcd.config.endpoints, ["flag:2379"]);
    assert_eq!(cfg.etcd.source.as_deref(), Some(from_flag.as_path()));

    let cfg = load(
        &["--microservice-label", "from-flag"],
        &[("MICROSERVICE_LABEL", "from-env")],
    )
    .expect("load");
    assert_eq!(cfg.microservice_label, "from-flag");
}

#[test]
fn relative_path_is_looked_up_in_the_config_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        dir.path(),
        "vpp1-redis-in-dir.conf",
        "endpoint: 127.0.0.1:6379\n",
    );
    let d = dir.path().to_str().expect("utf8");

    let cfg = load(
        &[
            "--config-dir",
            d,
            "--redis-config",
            "vpp1-redis-in-dir.conf",
        ],
        &[],
    )
    .expect("flag config dir");
    assert_eq!(cfg.redis.config.endpoint, "127.0.0.1:6379");
    assert_eq!(cfg.redis.source.as_deref(), Some(file.as_path()));
    assert_eq!(cfg.config_dir, dir.path());

    let cfg = load(
        &[],
        &[
            ("CONFIG_DIR", d),
            ("REDIS_CONFIG", "vpp1-redis-in-dir.conf"),
        ],
    )
    .expect("env config dir");
    assert_eq!(cfg.redis.source.as_deref(), Some(file.as_path()));
    assert_eq!(cfg.kv_stores, [KvStore::Redis]);
}

#[test]
fn path_as_given_wins_over_the_config_dir() {
    let given = tempfile::tempdir().expect("tempdir");
    let other = tempfile::tempdir().expect("tempdir");
    let real = write(given.path(), "consul.conf", "address: given:8500\n");
    write(other.path(), "consul.conf", "address: dir:8500\n");
    let args = [
        "--config-dir",
        other.path().to_str().expect("utf8"),
        "--consul-config",
        real.to_str().expect("utf8"),
    ];
    let cfg = load(&args, &[]).expect("load");
    assert_eq!(cfg.consul.config.address, "given:8500");
}

#[test]
fn default_file_name_is_found_in_the_config_dir_as_ligato_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "etcd.conf", "endpoints: [dir:2379]\n");
    let cfg = load(&["--config-dir", dir.path().to_str().expect("utf8")], &[]).expect("load");
    assert_eq!(cfg.etcd.source.as_deref(), Some(file.as_path()));
    assert_eq!(cfg.etcd.config.endpoints, ["dir:2379"]);
    assert_eq!(cfg.kv_stores, [KvStore::Etcd]);
    assert_eq!(cfg.redis.source, None);
}

#[test]
fn an_empty_flag_value_means_no_file_even_with_a_default_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "etcd.conf", "endpoints: [dir:2379]\n");
    let d = dir.path().to_str().expect("utf8");
    let cfg = load(&["--config-dir", d, "--etcd-config="], &[]).expect("load");
    assert_eq!(cfg.etcd.source, None);
    assert_eq!(cfg.kv_stores, [KvStore::Bolt]);
}

#[test]
fn explicit_path_that_exists_nowhere_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_str().expect("utf8");
    let err = load(
        &["--config-dir", d, "--etcd-config", "missing-etcd.conf"],
        &[],
    )
    .expect_err("missing file");
    assert_eq!(err.kind(), ConfigErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        format!(
            "etcd config file missing-etcd.conf (from --etcd-config) not found, also looked in {d}/missing-etcd.conf"
        )
    );

    let err = load(&[], &[("LINUX_IFPLUGIN_CONFIG", "/nonexistent/li.conf")]).expect_err("env");
    let text = err.to_string();
    assert!(text.starts_with("linux-ifplugin config file /nonexistent/li.conf (from env LINUX_IFPLUGIN_CONFIG) not found"), "{text}");
}

#[test]
fn a_directory_is_not_a_config_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_str().expect("utf8");
    let err = load(&["--govpp-config", d], &[]).expect_err("dir");
    assert_eq!(err.kind(), ConfigErrorKind::Io);
    assert!(
        err.to_string()
            .starts_with(&format!("cannot read govpp config file {d}: ")),
        "{err}"
    );
}

#[test]
fn stores_are_enabled_by_their_files_and_bolt_is_the_fallback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let etcd = write(dir.path(), "e.conf", "");
    let filedb = write(dir.path(), "f.conf", "configuration-paths: [/tmp]\n");
    let bolt = write(dir.path(), "b.conf", "db-path: /tmp/x.db\n");
    let e = format!("--etcd-config={}", etcd.display());
    let f = format!("--filedb-config={}", filedb.display());
    let b = format!("--bolt-config={}", bolt.display());

    assert_eq!(load(&[&e], &[]).expect("etcd").kv_stores, [KvStore::Etcd]);
    assert_eq!(
        load(&[&e, &f], &[]).expect("etcd+filedb").kv_stores,
        [KvStore::Etcd, KvStore::FileDb]
    );
    let cfg = load(&[&e, &b], &[]).expect("etcd+bolt");
    assert_eq!(cfg.kv_stores, [KvStore::Etcd, KvStore::Bolt]);
    assert!(cfg.kv_store_enabled(KvStore::Bolt));
    assert!(!cfg.kv_store_enabled(KvStore::Redis));
    assert_eq!(load(&[&b], &[]).expect("bolt").kv_stores, [KvStore::Bolt]);
}

#[test]
fn etcd_endpoints_fall_back_to_env() {
    let dir = tempfile::tempdir().expect("tempdir");
    let etcd = write(dir.path(), "e.conf", "dial-timeout: 2s\n");
    let e = format!("--etcd-config={}", etcd.display());
    let cfg = load(&[&e], &[("ETCD_ENDPOINTS", "10.0.0.1:2379,10.0.0.2:2379")]).expect("load");
    assert_eq!(
        cfg.etcd.config.endpoints,
        ["10.0.0.1:2379", "10.0.0.2:2379"]
    );
}

#[test]
fn http_port_sets_the_endpoint_unless_the_file_does() {
    let cfg = load(&["--http-port", "9999"], &[("HTTP_PORT", "8888")]).expect("flag");
    assert_eq!(cfg.http.config.endpoint, "127.0.0.1:9999");
    let cfg = load(&[], &[("HTTP_PORT", "8888")]).expect("env");
    assert_eq!(cfg.http.config.endpoint, "127.0.0.1:8888");

    let dir = tempfile::tempdir().expect("tempdir");
    let with_endpoint = write(dir.path(), "h1.conf", "endpoint: 0.0.0.0:7000\n");
    let without = write(dir.path(), "h2.conf", "read-timeout: 5s\n");
    let h1 = format!("--http-config={}", with_endpoint.display());
    let h2 = format!("--http-config={}", without.display());
    let cfg = load(&[&h1, "--http-port=9999"], &[]).expect("file endpoint");
    assert_eq!(cfg.http.config.endpoint, "0.0.0.0:7000");
    let cfg = load(&[&h2, "--http-port=9999"], &[]).expect("file without endpoint");
    assert_eq!(cfg.http.config.endpoint, "127.0.0.1:9999");
    assert_eq!(cfg.http.config.read_timeout, Duration::from_secs(5));
}

#[test]
fn grpc_runs_with_a_file_or_a_port() {
    assert!(!load(&[], &[]).expect("none").grpc_enabled);
    let cfg = load(&[], &[("GRPC_PORT", "9444")]).expect("port");
    assert!(cfg.grpc_enabled);
    assert_eq!(cfg.grpc.config.endpoint, "127.0.0.1:9444");
    assert_eq!(cfg.grpc.source, None);

    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "g.conf", "network: tcp4\n");
    let g = format!("--grpc-config={}", file.display());
    let cfg = load(&[&g], &[]).expect("file");
    assert!(cfg.grpc_enabled);
    assert_eq!(cfg.grpc.config.endpoint, "127.0.0.1:9111");
    assert_eq!(cfg.grpc.config.network, GrpcNetwork::Tcp4);
}

#[test]
fn bad_ports_and_labels_are_errors_naming_their_origin() {
    let err = load(&["--http-port", "http"], &[]).expect_err("port");
    assert_eq!(
        err.to_string(),
        "invalid value \"http\" for --http-port: not a port number (0-65535)"
    );
    let err = load(&[], &[("GRPC_PORT", "70000")]).expect_err("port");
    assert!(err.to_string().contains("for env GRPC_PORT"), "{err}");
    let err = load(&[], &[("MICROSERVICE_LABEL", "a/b")]).expect_err("label");
    assert_eq!(err.kind(), ConfigErrorKind::BadValue);
    assert!(
        err.to_string()
            .starts_with("invalid value \"a/b\" for env MICROSERVICE_LABEL"),
        "{err}"
    );
}

#[test]
fn ligato_env_overrides_apply_after_loading() {
    let cfg = load(
        &[],
        &[("INITIAL_LOGLVL", "debug"), ("GOVPPMUX_NOSOCK", "1")],
    )
    .expect("load");
    assert_eq!(cfg.logs.config.default_level, LogLevel::Debug);
    assert!(cfg.govpp.config.connect_via_shm);

    let dir = tempfile::tempdir().expect("tempdir");
    let logs = write(dir.path(), "logs.conf", "default-level: error\n");
    let l = format!("--logs-config={}", logs.display());
    let cfg = load(&[&l], &[]).expect("file");
    assert_eq!(cfg.logs.config.default_level, LogLevel::Error);
    let cfg = load(&[&l], &[("INITIAL_LOGLVL", "debug")]).expect("env wins, as in Ligato");
    assert_eq!(cfg.logs.config.default_level, LogLevel::Debug);

    let consul = write(dir.path(), "consul.conf", "resync-after-reconnect: true\n");
    let c = format!("--consul-config={}", consul.display());
    let cfg = load(&[&c], &[("CONSUL_HTTP_ADDR", "10.1.1.1:8500")]).expect("consul env");
    assert_eq!(cfg.consul.config.address, "10.1.1.1:8500");
    let consul = write(dir.path(), "consul2.conf", "address: file:8500\n");
    let c = format!("--consul-config={}", consul.display());
    let cfg = load(&[&c], &[("CONSUL_HTTP_ADDR", "10.1.1.1:8500")]).expect("consul file");
    assert_eq!(cfg.consul.config.address, "file:8500");

    let vif = write(dir.path(), "vif.conf", "status-publishers: [etcd]\n");
    let v = format!("--vpp-ifplugin-config={}", vif.display());
    let cfg = load(&[&v], &[("VPP_STATUS_PUBLISHERS", "redis, consul")]).expect("publishers");
    assert_eq!(
        cfg.vpp_ifplugin.config.status_publishers,
        [
            StatusPublisher::Etcd,
            StatusPublisher::Redis,
            StatusPublisher::Consul
        ]
    );
    let err = load(&[], &[("VPP_STATUS_PUBLISHERS", "kafka")]).expect_err("bad publisher");
    assert!(
        err.to_string()
            .contains("unknown status publisher \"kafka\""),
        "{err}"
    );

    let err = load(&[], &[("INITIAL_LOGLVL", "loud")]).expect_err("bad level");
    assert!(
        err.to_string()
            .starts_with("invalid value \"loud\" for env INITIAL_LOGLVL"),
        "{err}"
    );
}

#[test]
fn ligato_single_dash_flags_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "k.conf", "enable-txn-simulation: true\n");
    let k = format!("-kvscheduler-config={}", file.display());
    let cfg = load(&[&k, "-microservice-label=vpp9"], &[]).expect("load");
    assert!(cfg.kvscheduler.config.enable_txn_simulation);
    assert_eq!(cfg.microservice_label, "vpp9");
}

#[test]
fn help_is_a_cli_error_for_the_binary_to_print() {
    let err = load(&["--help"], &[]).expect_err("help");
    assert_eq!(err.kind(), ConfigErrorKind::Cli);
    let ConfigError::Cli(clap_err) = err else {
        panic!("expected a clap error");
    };
    assert_eq!(clap_err.kind(), clap::error::ErrorKind::DisplayHelp);
    let help = clap_err.to_string();
    assert!(help.contains("--linux-ifplugin-config <PATH>"), "{help}");
    assert!(help.contains("[env: LINUX_IFPLUGIN_CONFIG]"), "{help}");
}

#[test]
fn load_file_reads_one_plugin_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "t.conf", "polling-interval: 10s\n");
    let t: TelemetryConfig = load_file(&file).expect("load");
    assert_eq!(t.publish_period(), Duration::from_secs(10));
}

#[test]
fn a_command_without_our_args_is_an_error_not_a_panic() {
    let matches = clap::Command::new("other")
        .try_get_matches_from(["other"])
        .expect("parse");
    let err = AgentConfig::from_matches(&matches, &Environment::default()).expect_err("no args");
    assert_eq!(err.kind(), ConfigErrorKind::Cli);
    assert!(
        err.to_string()
            .starts_with("the command line has no usable --config-dir argument"),
        "{err}"
    );

    let matches = clap::Command::new("vpp-agent")
        .args(args())
        .arg(
            clap::Arg::new("verbose")
                .long("verbose")
                .action(clap::ArgAction::SetTrue),
        )
        .try_get_matches_from(["vpp-agent", "--verbose", "--microservice-label=x"])
        .expect("parse");
    let cfg =
        AgentConfig::from_matches(&matches, &Environment::default()).expect("extended command");
    assert_eq!(cfg.microservice_label, "x");
}
