//! **A test double of Consul's KV HTTP API — not Consul.** No Consul server can be installed
//! on the project's machines, so the Consul backend is tested against this in-process HTTP
//! server, which is itself cross-checked by an independent client (py-consul, see
//! `connectors/tests/consul_double_check.py`).
//!
//! It implements what the backend and py-consul use, with Consul's rules:
//! - `GET /v1/kv/<key>`: JSON entries with base64 `Value`; `recurse` (its *presence* means
//!   true, as in Consul's `kvs_endpoint.go`); blocking queries with `index` + `wait`; a 404
//!   for no match that still carries `X-Consul-Index`.
//! - `PUT` with `cas` and `flags`, a 413 over 512 KiB; `DELETE` with `recurse` and `cas`.
//! - `X-Consul-Index` of a query: the highest modify index of the matched keys or of their
//!   deletions (tombstones), else the index of the whole KV table.
//! - An optional ACL token (`X-Consul-Token` or `?token=`); a wrong one gets a 403.
//!
//! Deliberately not here: sessions, locks, `keys`/`separator`, transactions, consistency
//! modes (accepted and ignored), and durability (state lives in memory).

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::TestResult;

const MAX_VALUE: usize = 512 * 1024;
const MAX_WAIT: Duration = Duration::from_secs(600);
const DEFAULT_WAIT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
struct Entry {
    value: Vec<u8>,
    flags: u64,
    create_index: u64,
    modify_index: u64,
}

#[derive(Debug, Default)]
struct Kv {
    index: u64,
    entries: BTreeMap<String, Entry>,
    tombstones: BTreeMap<String, u64>,
}

struct Shared {
    kv: Mutex<Kv>,
    changed: watch::Sender<u64>,
    token: Option<String>,
}

/// The running double; dropping it stops it.
#[derive(Debug)]
pub struct ConsulDouble {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl ConsulDouble {
    /// Starts the double on a free loopback port.
    pub async fn start() -> TestResult<Self> {
        Self::start_on("127.0.0.1:0".parse()?, None).await
    }

    /// Starts the double on `addr`, requiring `token` when given.
    pub async fn start_on(addr: SocketAddr, token: Option<String>) -> TestResult<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (changed, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            kv: Mutex::new(Kv::default()),
            changed,
            token,
        });
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                let svc = hyper::service::service_fn(move |req| handle(shared.clone(), req));
                conns.spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Ok(ConsulDouble { addr, task })
    }

    /// Where the API listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for ConsulDouble {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Resp = Response<Full<Bytes>>;

fn reply(status: StatusCode, index: Option<u64>, body: impl Into<Bytes>) -> Resp {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    if let Some(index) = index {
        h.insert("X-Consul-Index", index.into());
        h.insert(
            "X-Consul-KnownLeader",
            hyper::header::HeaderValue::from_static("true"),
        );
        h.insert("X-Consul-LastContact", 0.into());
    }
    h.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(hex) = std::str::from_utf8(&bytes[i + 1..i + 3])
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Query parameters; a parameter without a value maps to "" (presence is what counts).
fn params(query: Option<&str>) -> HashMap<String, String> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect()
}

/// Parses a Go duration as Consul accepts it for `wait` (`10s`, `100ms`, `5m`).
fn parse_wait(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.')?;
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

fn query_index(kv: &Kv, key: &str, recurse: bool) -> (u64, Vec<(String, Entry)>) {
    let matched: Vec<(String, Entry)> = if recurse {
        kv.entries
            .range(key.to_owned()..)
            .take_while(|(k, _)| k.starts_with(key))
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect()
    } else {
        kv.entries
            .get(key)
            .map(|e| vec![(key.to_owned(), e.clone())])
            .unwrap_or_default()
    };
    let mut index = matched
        .iter()
        .map(|(_, e)| e.modify_index)
        .max()
        .unwrap_or(0);
    let tomb = if recurse {
        kv.tombstones
            .range(key.to_owned()..)
            .take_while(|(k, _)| k.starts_with(key))
            .map(|(_, i)| *i)
            .max()
    } else {
        kv.tombstones.get(key).copied()
    };
    index = index.max(tomb.unwrap_or(0));
    if index == 0 {
        index = kv.index.max(1);
    }
    (index, matched)
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Resp, Infallible> {
    let Some(raw_key) = req.uri().path().strip_prefix("/v1/kv/") else {
        return Ok(reply(
            StatusCode::NOT_FOUND,
            None,
            "only /v1/kv/ is implemented by this double",
        ));
    };
    let key = percent_decode(raw_key);
    let p = params(req.uri().query());
    if let Some(required) = &shared.token {
        let given = req
            .headers()
            .get("X-Consul-Token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| p.get("token").cloned());
        if given.as_deref() != Some(required.as_str()) {
            return Ok(reply(StatusCode::FORBIDDEN, None, "Permission denied"));
        }
    }
    let method = req.method().clone();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return Ok(reply(StatusCode::BAD_REQUEST, None, e.to_string())),
    };
    Ok(match method {
        Method::GET => get(&shared, &key, &p).await,
        Method::PUT => put(&shared, key, &p, body),
        Method::DELETE => delete(&shared, &key, &p),
        _ => reply(StatusCode::METHOD_NOT_ALLOWED, None, "method not allowed"),
    })
}

async fn get(shared: &Shared, key: &str, p: &HashMap<String, String>) -> Resp {
    let recurse = p.contains_key("recurse");
    let min_index: Option<u64> = p.get("index").and_then(|i| i.parse().ok());
    let wait = p
        .get("wait")
        .and_then(|w| parse_wait(w))
        .unwrap_or(DEFAULT_WAIT)
        .min(MAX_WAIT);
    let mut rx = shared.changed.subscribe();
    let deadline = tokio::time::Instant::now() + wait;
    let (index, matched) = loop {
        let (index, matched) = match shared.kv.lock() {
            Ok(kv) => query_index(&kv, key, recurse),
            Err(_) => return reply(StatusCode::INTERNAL_SERVER_ERROR, None, "poisoned"),
        };
        match min_index {
            Some(min) if min > 0 && index <= min => {
                if tokio::time::timeout_at(deadline, rx.changed())
                    .await
                    .is_err()
                {
                    break (index, matched);
                }
            }
            _ => break (index, matched),
        }
    };
    if matched.is_empty() {
        return reply(StatusCode::NOT_FOUND, Some(index), "");
    }
    let list: Vec<serde_json::Value> = matched
        .into_iter()
        .map(|(k, e)| {
            serde_json::json!({
                "LockIndex": 0,
                "Key": k,
                "Flags": e.flags,
                "Value": if e.value.is_empty() { serde_json::Value::Null } else {
                    serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(&e.value))
                },
                "CreateIndex": e.create_index,
                "ModifyIndex": e.modify_index,
            })
        })
        .collect();
    reply(
        StatusCode::OK,
        Some(index),
        serde_json::to_vec(&list).unwrap_or_default(),
    )
}

fn put(shared: &Shared, key: String, p: &HashMap<String, String>, body: Bytes) -> Resp {
    if body.len() > MAX_VALUE {
        return reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
            format!("Value exceeds {MAX_VALUE} byte limit"),
        );
    }
    let Ok(mut kv) = shared.kv.lock() else {
        return reply(StatusCode::INTERNAL_SERVER_ERROR, None, "poisoned");
    };
    if let Some(cas) = p.get("cas").and_then(|c| c.parse::<u64>().ok()) {
        let current = kv.entries.get(&key).map(|e| e.modify_index);
        let ok = match (cas, current) {
            (0, None) => true,
            (0, Some(_)) => false,
            (c, Some(m)) => c == m,
            (_, None) => false,
        };
        if !ok {
            return reply(StatusCode::OK, None, "false");
        }
    }
    kv.index += 1;
    let index = kv.index;
    let flags = p.get("flags").and_then(|f| f.parse().ok()).unwrap_or(0);
    let create_index = kv
        .entries
        .get(&key)
        .map(|e| e.create_index)
        .unwrap_or(index);
    kv.tombstones.remove(&key);
    kv.entries.insert(
        key,
        Entry {
            value: body.to_vec(),
            flags,
            create_index,
            modify_index: index,
        },
    );
    shared.changed.send_replace(index);
    reply(StatusCode::OK, None, "true")
}

fn delete(shared: &Shared, key: &str, p: &HashMap<String, String>) -> Resp {
    let Ok(mut kv) = shared.kv.lock() else {
        return reply(StatusCode::INTERNAL_SERVER_ERROR, None, "poisoned");
    };
    if let Some(cas) = p.get("cas").and_then(|c| c.parse::<u64>().ok())
        && kv.entries.get(key).map(|e| e.modify_index) != Some(cas)
    {
        return reply(StatusCode::OK, None, "false");
    }
    let doomed: Vec<String> = if p.contains_key("recurse") {
        kv.entries
            .range(key.to_owned()..)
            .take_while(|(k, _)| k.starts_with(key))
            .map(|(k, _)| k.clone())
            .collect()
    } else if kv.entries.contains_key(key) {
        vec![key.to_owned()]
    } else {
        Vec::new()
    };
    if !doomed.is_empty() {
        kv.index += 1;
        let index = kv.index;
        for k in doomed {
            kv.entries.remove(&k);
            kv.tombstones.insert(k, index);
        }
        shared.changed.send_replace(index);
    }
    reply(StatusCode::OK, None, "true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_durations() {
        assert_eq!(parse_wait("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_wait("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_wait("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_wait("x"), None);
    }

    #[test]
    fn presence_of_recurse_means_true() {
        let p = params(Some("recurse&index=3"));
        assert!(p.contains_key("recurse"));
        assert_eq!(p.get("index").map(String::as_str), Some("3"));
        assert_eq!(percent_decode("a%20b%2Fc"), "a b/c");
    }
}
