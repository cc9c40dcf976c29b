//! A thin client for Consul's KV HTTP API on `reqwest`: `GET /v1/kv/<key>` (with `recurse`,
//! and `index` + `wait` for blocking queries), `PUT` and `DELETE`. About 150 lines instead of
//! a Consul crate: consul-rs has no KV API, rs-consul always sends `recurse=<bool>` (Consul
//! treats the parameter's presence as true) and drops the index of a 404, and the `consul`
//! crate JSON-encodes values (see ARCHITECTURE.md and shared/reference/crates.md).
//!
//! Deliberately not here: sessions, locks, transactions, `cas`, and the leading-`/` rule
//! (the backend trims keys before they get here).

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use reqwest::StatusCode;
use serde::Deserialize;

use crate::error::{ConnectorError, Result, Store};

/// Consul's default `kv_max_value_size`, reported when Consul answers 413.
pub const MAX_VALUE: usize = 512 * 1024;

/// One entry of a KV listing, with its store key (no leading `/`).
#[derive(Debug)]
pub(crate) struct Entry {
    pub key: String,
    pub value: Bytes,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawEntry {
    key: String,
    value: Option<String>,
}

/// The HTTP client.
#[derive(Debug, Clone)]
pub(crate) struct KvClient {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    timeout: Duration,
}

/// Percent-encodes a key for the URL path, keeping `/`.
fn encode_path(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl KvClient {
    /// A client for `address` (`host:port` or an `http://` URL).
    pub(crate) fn new(address: &str, token: Option<String>, timeout: Duration) -> Result<Self> {
        let base = if address.starts_with("http://") || address.starts_with("https://") {
            address.trim_end_matches('/').to_owned()
        } else {
            format!("http://{address}")
        };
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ConnectorError::Connect {
                store: Store::Consul,
                endpoint: base.clone(),
                source: Box::new(e),
            })?;
        Ok(KvClient {
            http,
            base,
            token,
            timeout,
        })
    }

    fn url(&self, key: &str) -> String {
        format!("{}/v1/kv/{}", self.base, encode_path(key))
    }

    fn request(&self, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
        let req = self.http.request(method, url);
        match &self.token {
            Some(t) => req.header("X-Consul-Token", t),
            None => req,
        }
    }

    fn send_err(
        &self,
        op: &'static str,
        key: &str,
        e: reqwest::Error,
        after: Duration,
    ) -> ConnectorError {
        if e.is_timeout() {
            ConnectorError::Timeout {
                store: Store::Consul,
                op,
                key: key.to_owned(),
                after,
            }
        } else {
            ConnectorError::Disconnected {
                store: Store::Consul,
                op,
                key: key.to_owned(),
                source: Box::new(e),
            }
        }
    }

    fn status_err(op: &'static str, key: &str, status: StatusCode, body: String) -> ConnectorError {
        if status.is_server_error() {
            ConnectorError::Disconnected {
                store: Store::Consul,
                op,
                key: key.to_owned(),
                source: format!("http {status}: {body}").into(),
            }
        } else {
            ConnectorError::Rejected {
                store: Store::Consul,
                op,
                key: key.to_owned(),
                reason: format!("http {status}: {}", body.trim()),
            }
        }
    }

    /// Lists a prefix (`?recurse`); with `block = Some((index, wait))` it is a blocking query
    /// that returns when the prefix changes past `index` or after `wait`. Returns the
    /// `X-Consul-Index` (also sent with a 404) and the entries.
    pub(crate) async fn list(
        &self,
        prefix: &str,
        block: Option<(u64, Duration)>,
    ) -> Result<(u64, Vec<Entry>)> {
        let mut url = format!("{}?recurse", self.url(prefix));
        let mut timeout = self.timeout;
        if let Some((index, wait)) = block {
            url.push_str(&format!("&index={index}&wait={}ms", wait.as_millis()));
            // Consul adds up to wait/16 of jitter.
            timeout += wait + wait / 16;
        }
        let resp = self
            .request(reqwest::Method::GET, url)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| self.send_err("list", prefix, e, timeout))?;
        let index = resp
            .headers()
            .get("X-Consul-Index")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let status = resp.status();
        if !status.is_success() && status != StatusCode::NOT_FOUND {
            let body = resp.text().await.unwrap_or_default();
            return Err(Self::status_err("list", prefix, status, body));
        }
        let Some(index) = index else {
            return Err(ConnectorError::Protocol {
                store: Store::Consul,
                op: "list",
                key: prefix.to_owned(),
                detail: format!("http {status} without X-Consul-Index"),
            });
        };
        if status == StatusCode::NOT_FOUND {
            return Ok((index, Vec::new()));
        }
        let raw: Vec<RawEntry> = resp.json().await.map_err(|e| ConnectorError::Protocol {
            store: Store::Consul,
            op: "list",
            key: prefix.to_owned(),
            detail: e.to_string(),
        })?;
        let mut entries = Vec::with_capacity(raw.len());
        for r in raw {
            let value = match r.value {
                Some(b64) => base64::engine::general_purpose::STANDARD
                    .decode(b64.as_bytes())
                    .map_err(|e| ConnectorError::Protocol {
                        store: Store::Consul,
                        op: "list",
                        key: r.key.clone(),
                        detail: format!("value is not base64: {e}"),
                    })?,
                None => Vec::new(),
            };
            entries.push(Entry {
                key: r.key,
                value: Bytes::from(value),
            });
        }
        Ok((index, entries))
    }

    /// Reads one key (`?raw` would lose the 404/empty distinction, so the JSON form is used).
    pub(crate) async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        let resp = self
            .request(reqwest::Method::GET, self.url(key))
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| self.send_err("get", key, e, self.timeout))?;
        let status = resp.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            return Err(Self::status_err("get", key, status, body));
        }
        let raw: Vec<RawEntry> = resp.json().await.map_err(|e| ConnectorError::Protocol {
            store: Store::Consul,
            op: "get",
            key: key.to_owned(),
            detail: e.to_string(),
        })?;
        let Some(entry) = raw.into_iter().find(|e| e.key == key) else {
            return Ok(None);
        };
        let value = entry.value.unwrap_or_default();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.as_bytes())
            .map_err(|e| ConnectorError::Protocol {
                store: Store::Consul,
                op: "get",
                key: key.to_owned(),
                detail: format!("value is not base64: {e}"),
            })?;
        Ok(Some(Bytes::from(bytes)))
    }

    /// Writes one key with the raw value as the body.
    pub(crate) async fn put(&self, key: &str, value: Bytes) -> Result<()> {
        // No local check: a Consul agent may be configured with another kv_max_value_size, so
        // its 413 decides (the limit reported is Consul's default).
        let size = value.len();
        let resp = self
            .request(reqwest::Method::PUT, self.url(key))
            .timeout(self.timeout)
            .body(value)
            .send()
            .await
            .map_err(|e| self.send_err("put", key, e, self.timeout))?;
        let status = resp.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Err(ConnectorError::ValueTooLarge {
                store: Store::Consul,
                key: key.to_owned(),
                size,
                limit: MAX_VALUE,
            });
        }
        let body = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(Self::status_err("put", key, status, body));
        }
        if body.trim() != "true" {
            return Err(ConnectorError::Protocol {
                store: Store::Consul,
                op: "put",
                key: key.to_owned(),
                detail: format!("expected true, got {body:?}"),
            });
        }
        Ok(())
    }

    /// Deletes one key (no `recurse`).
    pub(crate) async fn delete(&self, key: &str) -> Result<()> {
        let resp = self
            .request(reqwest::Method::DELETE, self.url(key))
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| self.send_err("delete", key, e, self.timeout))?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            return Err(Self::status_err("delete", key, status, body));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::encode_path;

    #[test]
    fn keys_are_percent_encoded_except_slashes() {
        assert_eq!(
            encode_path("vnf-agent/vpp1/a b?c"),
            "vnf-agent/vpp1/a%20b%3Fc"
        );
    }
}
