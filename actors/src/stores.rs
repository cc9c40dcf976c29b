//! Maps the plugin config files (`config` crate) to the connectors' backend options: one
//! place where Ligato's field names meet the backends. Unsupported combinations (Redis
//! cluster or sentinel mode) are errors naming the file's field, never silently ignored.

use config::{AgentConfig, KvStore, RedisClientKind};
use connectors::{
    BackendOptions, ConsulOptions, EmbeddedOptions, EtcdOptions, FileDbOptions, RedisOptions,
    RedisTlsOptions,
};

/// The backend options of every enabled store, with the source name each is known by.
pub fn backend_options(cfg: &AgentConfig) -> Result<Vec<(KvStore, BackendOptions)>, String> {
    cfg.kv_stores
        .iter()
        .map(|s| Ok((*s, options_for(cfg, *s)?)))
        .collect()
}

fn options_for(cfg: &AgentConfig, store: KvStore) -> Result<BackendOptions, String> {
    Ok(match store {
        KvStore::Etcd => {
            let c = &cfg.etcd.config;
            let mut o = EtcdOptions::new(c.endpoints.clone());
            o.dial_timeout = c.dial_timeout;
            o.operation_timeout = c.operation_timeout;
            o.insecure_transport = c.insecure_transport;
            o.insecure_skip_tls_verify = c.insecure_skip_tls_verify;
            o.cert_file = nonempty(&c.cert_file);
            o.key_file = nonempty(&c.key_file);
            o.ca_file = nonempty(&c.ca_file);
            o.auto_compact = (!c.auto_compact.is_zero()).then_some(c.auto_compact);
            o.reconnect_interval = c.reconnect_interval;
            o.allow_delayed_start = c.allow_delayed_start;
            BackendOptions::Etcd(o)
        }
        KvStore::Redis => {
            let c = &cfg.redis.config;
            if c.client_kind() != RedisClientKind::Node {
                return Err(format!(
                    "redis config {}: only a single node (`endpoint`) is supported; \
                     cluster and sentinel modes are not",
                    source(&cfg.redis.source)
                ));
            }
            let mut o = RedisOptions::new(c.endpoint.clone());
            o.db = i64::from(c.db);
            o.password = (!c.password.is_empty()).then(|| c.password.clone());
            o.tls = c.tls.enabled.then(|| RedisTlsOptions {
                skip_verify: c.tls.skip_verify,
                cert_file: nonempty(&c.tls.cert_file),
                key_file: nonempty(&c.tls.key_file),
                ca_file: nonempty(&c.tls.ca_file),
            });
            o.dial_timeout = c.dial_timeout;
            o.read_timeout = c.read_timeout;
            BackendOptions::Redis(o)
        }
        KvStore::Consul => {
            BackendOptions::Consul(ConsulOptions::new(cfg.consul.config.address.clone()))
        }
        KvStore::Bolt => {
            let c = &cfg.bolt.config;
            let mut o = EmbeddedOptions::new(c.db_path.clone());
            o.file_mode = Some(c.file_mode.bits());
            o.lock_timeout = c.lock_timeout;
            BackendOptions::Embedded(o)
        }
        KvStore::FileDb => {
            let c = &cfg.filedb.config;
            let mut o = FileDbOptions::new(c.configuration_paths.clone());
            o.status_path = c.status_path().map(|p| p.to_path_buf());
            BackendOptions::FileDb(o)
        }
    })
}

fn nonempty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn source(p: &Option<std::path::PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "(defaults)".to_owned())
}
