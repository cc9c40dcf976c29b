//! One complete config file per plugin, every field set away from its default, loaded through
//! the real flag path: each must decode to exactly the expected struct, and must really set
//! every field (so a field missing from the decoder, or renamed, fails here).
//!
//! It deliberately does not test lookup or error reporting (see `loading.rs`, `bad_files.rs`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use config::table::flatten;
use config::*;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Loads `yaml` as the plugin's file via `--<plugin>-config`, checks it equals `want`, and that
/// every field differs from the default.
fn check<T: PluginConfig + PartialEq>(
    yaml: &str,
    want: T,
    pick: impl Fn(&AgentConfig) -> (&T, Option<&std::path::Path>),
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(format!("{}.yaml", T::INFO.name));
    std::fs::write(&path, yaml).expect("write");
    let flag = format!("--{}={}", T::INFO.flag, path.display());
    let cfg = AgentConfig::from_args(["vpp-agent", flag.as_str()], &Environment::default())
        .unwrap_or_else(|e| panic!("{}: {e}", T::INFO.name));
    let (got, source) = pick(&cfg);
    assert_eq!(got, &want, "{}", T::INFO.name);
    assert_eq!(source, Some(path.as_path()));

    let defaults: BTreeMap<String, serde_json::Value> =
        flatten(&serde_json::to_value(T::default()).expect("json"))
            .into_iter()
            .collect();
    let loaded = serde_json::to_value(got).expect("json");
    for (name, value) in flatten(&loaded) {
        if let Some(default) = defaults.get(&name) {
            assert_ne!(
                &value,
                default,
                "{}: {name} is not set by the full file",
                T::INFO.name
            );
        }
    }
    for row in T::INFO.fields {
        let prefix = row.name;
        assert!(
            flatten(&loaded)
                .iter()
                .any(|(n, _)| n == prefix || n.starts_with(&format!("{prefix}."))),
            "{}: {prefix} missing after load",
            T::INFO.name
        );
    }
}

#[test]
fn etcd() {
    let yaml = "\
endpoints: [\"172.17.0.1:2379\", \"172.17.0.2:2379\"]
dial-timeout: 2s
operation-timeout: 1500ms
insecure-transport: true
insecure-skip-tls-verify: true
cert-file: /etc/etcd/cert.pem
key-file: /etc/etcd/key.pem
ca-file: /etc/etcd/ca.pem
auto-compact: 1h
resync-after-reconnect: true
allow-delayed-start: true
reconnect-interval: 3000000000
session-ttl: 10
expand-env-variables: true
";
    let want = EtcdConfig {
        endpoints: vec!["172.17.0.1:2379".into(), "172.17.0.2:2379".into()],
        dial_timeout: secs(2),
        operation_timeout: ms(1500),
        insecure_transport: true,
        insecure_skip_tls_verify: true,
        cert_file: "/etc/etcd/cert.pem".into(),
        key_file: "/etc/etcd/key.pem".into(),
        ca_file: "/etc/etcd/ca.pem".into(),
        auto_compact: secs(3600),
        resync_after_reconnect: true,
        allow_delayed_start: true,
        reconnect_interval: secs(3),
        session_ttl: 10,
        expand_env_variables: true,
    };
    check(yaml, want, |c| (&c.etcd.config, c.etcd.source.as_deref()));
}

#[test]
fn redis() {
    let yaml = "\
endpoint: 127.0.0.1:6379
endpoints: [10.0.0.1:26379]
db: 2
enable-query-on-slave: true
tls:
  enabled: true
  skip-verify: true
  cert-file: c.pem
  key-file: k.pem
  ca-file: ca.pem
max-rediects: 4
route-by-latency: true
master-name: mymaster
password: secret
dial-timeout: 1s
read-timeout: 2s
write-timeout: 4s
pool:
  max-connections: 20
  busy-timeout: 5s
  idle-timeout: 1m
  idle-check-frequency: 30s
";
    let want = RedisConfig {
        endpoint: "127.0.0.1:6379".into(),
        endpoints: vec!["10.0.0.1:26379".into()],
        db: 2,
        enable_query_on_slave: true,
        tls: RedisTls {
            enabled: true,
            skip_verify: true,
            cert_file: "c.pem".into(),
            key_file: "k.pem".into(),
            ca_file: "ca.pem".into(),
        },
        max_redirects: 4,
        route_by_latency: true,
        master_name: "mymaster".into(),
        password: "secret".into(),
        dial_timeout: secs(1),
        read_timeout: secs(2),
        write_timeout: Some(secs(4)),
        pool: RedisPool {
            max_connections: Some(20),
            busy_timeout: Some(secs(5)),
            idle_timeout: secs(60),
            idle_check_frequency: secs(30),
        },
    };
    assert_eq!(want.client_kind(), RedisClientKind::Sentinel);
    check(yaml, want, |c| (&c.redis.config, c.redis.source.as_deref()));
}

#[test]
fn consul() {
    let yaml = "address: 0.0.0.0:8500\nresync-after-reconnect: true\n";
    let want = ConsulConfig {
        address: "0.0.0.0:8500".into(),
        resync_after_reconnect: true,
    };
    check(yaml, want, |c| {
        (&c.consul.config, c.consul.source.as_deref())
    });
}

#[test]
fn bolt() {
    let yaml = "\
db-path: /var/lib/agent/bolt.db
file-mode: 0654
lock-timeout: 100ms
filter-duplicate-notifications: true
";
    let want = BoltConfig {
        db_path: PathBuf::from("/var/lib/agent/bolt.db"),
        file_mode: FileMode(0o654),
        lock_timeout: ms(100),
        filter_duplicate_notifications: true,
    };
    check(yaml, want, |c| (&c.bolt.config, c.bolt.source.as_deref()));
}

#[test]
fn filedb() {
    let yaml = "configuration-paths: [/etc/agent/data, /etc/agent/more.yaml]\nstatus-path: /tmp/status.json\n";
    let want = FileDbConfig {
        configuration_paths: vec!["/etc/agent/data".into(), "/etc/agent/more.yaml".into()],
        status_path: "/tmp/status.json".into(),
    };
    check(yaml, want, |c| {
        (&c.filedb.config, c.filedb.source.as_deref())
    });
}

#[test]
fn govpp() {
    let yaml = "\
resync-after-reconnect: false
reply-timeout: 3s
connect-via-shm: true
shm-prefix: vpp1
binapi-socket-path: /run/vpp-api.sock
stats-socket-path: /run/vpp/stats2.sock
retry-request-count: 2
retry-request-timeout: 1s
retry-connect-count: 3
retry-connect-timeout: 2s
proxy-enabled: false
health-check-probe-interval: 5s
health-check-reply-timeout: 1s
health-check-threshold: 3
trace-enabled: true
";
    let want = GovppConfig {
        resync_after_reconnect: false,
        reply_timeout: secs(3),
        connect_via_shm: true,
        shm_prefix: "vpp1".into(),
        binapi_socket_path: "/run/vpp-api.sock".into(),
        stats_socket_path: "/run/vpp/stats2.sock".into(),
        retry_request_count: 2,
        retry_request_timeout: secs(1),
        retry_connect_count: 3,
        retry_connect_timeout: secs(2),
        proxy_enabled: false,
        health_check_probe_interval: secs(5),
        health_check_reply_timeout: secs(1),
        health_check_threshold: 3,
        trace_enabled: true,
    };
    check(yaml, want, |c| (&c.govpp.config, c.govpp.source.as_deref()));
}

#[test]
fn http() {
    let yaml = "\
endpoint: 0.0.0.0:8080
disabled: true
read-timeout: 10s
read-header-timeout: 2s
write-timeout: 10s
idle-timeout: 1m
max-header-bytes: 65536
server-cert-file: server.crt
server-key-file: server.key
client-basic-auth: [\"admin:pass\"]
client-cert-files: [ca.crt]
enable-token-auth: true
token-expiration: 1h
users:
  - name: alice
    password_hash: $2a$10$abc
    permissions: [admin]
password-hash-cost: 10
sign-key: s3cret
rate-limiter:
  limit: 2.5
  burst: 5
";
    let want = HttpConfig {
        endpoint: "0.0.0.0:8080".into(),
        disabled: true,
        read_timeout: secs(10),
        read_header_timeout: secs(2),
        write_timeout: secs(10),
        idle_timeout: secs(60),
        max_header_bytes: 65536,
        server_cert_file: "server.crt".into(),
        server_key_file: "server.key".into(),
        client_basic_auth: vec!["admin:pass".into()],
        client_cert_files: vec!["ca.crt".into()],
        enable_token_auth: true,
        token_expiration: secs(3600),
        users: vec![HttpUser {
            name: "alice".into(),
            password_hash: "$2a$10$abc".into(),
            permissions: vec!["admin".into()],
        }],
        password_hash_cost: 10,
        sign_key: "s3cret".into(),
        rate_limiter: Some(RateLimiter {
            limit: 2.5,
            burst: 5,
        }),
    };
    check(yaml, want, |c| (&c.http.config, c.http.source.as_deref()));
}

#[test]
fn grpc() {
    let yaml = "\
endpoint: /var/run/agent.sock
permission: 660
force-socket-removal: true
network: unix
max-msg-size: 8388608
max-concurrent-streams: 100
insecure-transport: true
cert-file: g.crt
key-file: g.key
ca-files: [ca1.crt, ca2.crt]
extended-logging: true
prometheus-metrics: true
";
    let want = GrpcConfig {
        endpoint: "/var/run/agent.sock".into(),
        permission: SocketPermission::from_bits(0o660).expect("bits"),
        force_socket_removal: true,
        network: GrpcNetwork::Unix,
        max_msg_size: 8_388_608,
        max_concurrent_streams: 100,
        insecure_transport: true,
        cert_file: "g.crt".into(),
        key_file: "g.key".into(),
        ca_files: vec!["ca1.crt".into(), "ca2.crt".into()],
        extended_logging: true,
        prometheus_metrics: true,
    };
    check(yaml, want, |c| (&c.grpc.config, c.grpc.source.as_deref()));
}

#[test]
fn kvscheduler() {
    let yaml = "\
record-transaction-history: false
transaction-history-age-limit: 60
permanently-recorded-init-period: 10
enable-txn-simulation: true
print-txn-summary: false
retry-period: 500ms
retry-max-count: 0
retry-backoff: false
";
    let want = KvSchedulerConfig {
        record_transaction_history: false,
        transaction_history_age_limit: 60,
        permanently_recorded_init_period: 10,
        enable_txn_simulation: true,
        print_txn_summary: false,
        retry_period: ms(500),
        retry_max_count: 0,
        retry_backoff: false,
    };
    check(yaml, want, |c| {
        (&c.kvscheduler.config, c.kvscheduler.source.as_deref())
    });
}

#[test]
fn logs() {
    let yaml = "\
default-level: debug
loggers:
  - name: kvscheduler
    level: warning
  - name: govppmux
    level: ERROR
hooks:
  syslog:
    protocol: udp
    address: 127.0.0.1
    port: 514
    levels: [error, panic]
";
    let want = LogsConfig {
        default_level: LogLevel::Debug,
        loggers: vec![
            LoggerLevel {
                name: "kvscheduler".into(),
                level: LogLevel::Warn,
            },
            LoggerLevel {
                name: "govppmux".into(),
                level: LogLevel::Error,
            },
        ],
        hooks: [(
            "syslog".to_owned(),
            LogHook {
                protocol: "udp".into(),
                address: "127.0.0.1".into(),
                port: 514,
                levels: vec![LogLevel::Error, LogLevel::Panic],
            },
        )]
        .into_iter()
        .collect(),
    };
    check(yaml, want, |c| (&c.logs.config, c.logs.source.as_deref()));
}

#[test]
fn linux_ifplugin() {
    let yaml = "disabled: true\ngo-routines-count: 4\n";
    let want = LinuxIfPluginConfig {
        disabled: true,
        go_routines_count: 4,
    };
    check(yaml, want, |c| {
        (&c.linux_ifplugin.config, c.linux_ifplugin.source.as_deref())
    });
}

#[test]
fn vpp_ifplugin() {
    let yaml = "mtu: 9000\nstatus-publishers: [etcd, redis]\n";
    let want = VppIfPluginConfig {
        mtu: 9000,
        status_publishers: vec![StatusPublisher::Etcd, StatusPublisher::Redis],
    };
    check(yaml, want, |c| {
        (&c.vpp_ifplugin.config, c.vpp_ifplugin.source.as_deref())
    });
}

#[test]
fn telemetry() {
    let yaml =
        "polling-interval: 5s\ndisabled: true\nprometheus-disabled: true\nskipped: [nodes]\n";
    let want = TelemetryConfig {
        polling_interval: secs(5),
        disabled: true,
        prometheus_disabled: true,
        skipped: vec![TelemetryMetric::Nodes],
    };
    check(yaml, want, |c| {
        (&c.telemetry.config, c.telemetry.source.as_deref())
    });
}

#[test]
fn every_plugin_has_a_full_file_test() {
    let tested = [
        "etcd",
        "redis",
        "consul",
        "bolt",
        "filedb",
        "govpp",
        "http",
        "grpc",
        "kvscheduler",
        "logs",
        "linux-ifplugin",
        "vpp-ifplugin",
        "telemetry",
    ];
    let all: Vec<&str> = PLUGINS.iter().map(|p| p.name).collect();
    assert_eq!(all, tested);
}

#[test]
fn ligato_key_spellings_are_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    // cn-infra's HTTP config leaves these fields untagged, so Ligato matches them by Go field
    // name in any case; its sample file writes `disable` and hyphenated timeouts.
    let http = dir.path().join("http.conf");
    std::fs::write(
        &http,
        "Endpoint: :9191\ndisable: true\nReadTimeout: 1s\nreadheadertimeout: 2s\n\
         WriteTimeout: 3s\nidletimeout: 0\nmaxheaderbytes: 10\n",
    )
    .expect("write");
    let got: HttpConfig = load_file(&http).expect("http");
    assert_eq!(got.endpoint, ":9191");
    assert!(got.disabled);
    assert_eq!(
        (
            got.read_timeout,
            got.read_header_timeout,
            got.write_timeout,
            got.idle_timeout
        ),
        (secs(1), secs(2), secs(3), Duration::ZERO)
    );
    assert_eq!(got.max_header_bytes, 10);

    let redis = dir.path().join("redis.conf");
    std::fs::write(&redis, "endpoints: [a:1, b:2]\nmax-redirects: 3\n").expect("write");
    let got: RedisConfig = load_file(&redis).expect("redis");
    assert_eq!(got.max_redirects, 3);
    assert_eq!(got.client_kind(), RedisClientKind::Cluster);

    let bolt = dir.path().join("bolt.conf");
    std::fs::write(
        &bolt,
        "db-path: /tmp/b.db\nfile-mode: 432\nlock-timeout: 0s\n",
    )
    .expect("write");
    let got: BoltConfig = load_file(&bolt).expect("bolt");
    assert_eq!(got.file_mode, FileMode(0o660));

    let grpc = dir.path().join("grpc.conf");
    std::fs::write(
        &grpc,
        "endpoint: 0.0.0.0:9111\npermission: 000\nnetwork: tcp\n",
    )
    .expect("write");
    let got: GrpcConfig = load_file(&grpc).expect("grpc");
    assert_eq!(got.permission.mode(), 0o777);
}
