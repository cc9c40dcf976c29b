//! HTTP basic auth against cn-infra's `client-basic-auth` list (`user:password` entries): the
//! configured pairs are base64-encoded once and compared with the `Authorization` header.
//!
//! Deliberately not here: password hashing and token auth (cn-infra's `users` and
//! `enable-token-auth`).

use actix_web::dev::ServiceRequest;
use actix_web::http::header::AUTHORIZATION;

/// The accepted `Authorization` header values; empty allows everyone.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    headers: Vec<String>,
}

impl Credentials {
    pub fn new(pairs: &[String]) -> Self {
        Credentials {
            headers: pairs
                .iter()
                .map(|p| format!("Basic {}", base64(p.as_bytes())))
                .collect(),
        }
    }

    /// Whether `req` may be served.
    pub fn allows(&self, req: &ServiceRequest) -> bool {
        if self.headers.is_empty() {
            return true;
        }
        let Some(given) = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
        else {
            return false;
        };
        self.headers.iter().any(|h| eq_constant_time(h, given))
    }
}

fn eq_constant_time(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Standard base64 with padding.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("user:pass", "dXNlcjpwYXNz"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn constant_time_compare_is_equality() {
        assert!(eq_constant_time("abc", "abc"));
        assert!(!eq_constant_time("abc", "abd"));
        assert!(!eq_constant_time("abc", "ab"));
    }
}
