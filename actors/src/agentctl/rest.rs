//! agentctl's REST client of the agent (`http://<host>:<http-port>`): GET and POST with the
//! global timeout and basic auth, Ligato's error shapes (`{"Error":"..."}` or a JSON string)
//! turned into [`CtlError::Api`], and a refused or unresolvable connection into one clear
//! [`CtlError::Unreachable`] naming the address.
//!
//! It deliberately knows no paths: the command modules do.

use reqwest::{Method, StatusCode, Url};
use serde_json::Value as Json;

use super::{CtlError, Globals};

/// The agent's REST API.
#[derive(Debug, Clone)]
pub struct AgentRest {
    base: Url,
    client: reqwest::Client,
    auth: Option<(String, String)>,
    timeout: std::time::Duration,
}

/// A response with its status, for the callers that accept non-2xx (readiness).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
}

impl AgentRest {
    pub fn new(g: &Globals) -> Result<Self, CtlError> {
        let host = if g.host.contains(':') && !g.host.starts_with('[') {
            format!("[{}]", g.host)
        } else {
            g.host.clone()
        };
        let base = Url::parse(&format!("http://{host}:{}/", g.http_port))
            .map_err(|e| CtlError::Usage(format!("invalid --host {:?}: {e}", g.host)))?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(g.timeout.min(std::time::Duration::from_secs(10)))
            .timeout(g.timeout)
            .build()
            .map_err(|e| CtlError::failed(format!("http client: {e}")))?;
        Ok(AgentRest {
            base,
            client,
            auth: g.basic_auth.clone(),
            timeout: g.timeout,
        })
    }

    /// `http://host:port` (for messages).
    pub fn address(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_owned()
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, CtlError> {
        let mut url = self
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|e| CtlError::failed(format!("bad path {path}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    fn transport_error(&self, what: &str, e: &reqwest::Error) -> CtlError {
        if e.is_connect() {
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                reason = s.to_string();
                source = s.source();
            }
            return CtlError::Unreachable {
                addr: self.address(),
                reason,
            };
        }
        if e.is_timeout() {
            return CtlError::Failed(format!(
                "{what}: the agent at {} did not answer within {} (--timeout)",
                self.address(),
                config::duration::format_go_duration(self.timeout)
            ));
        }
        CtlError::Failed(format!("{what} at {}: {e}", self.address()))
    }

    /// Sends a request and returns status and body, whatever the status.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Json>,
    ) -> Result<Answer, CtlError> {
        let what = format!("{method} {path}");
        let mut req = self
            .client
            .request(method, self.url(path, query)?)
            .header("accept", "application/json");
        if let Some((user, pass)) = &self.auth {
            req = req.basic_auth(user, Some(pass));
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| self.transport_error(&what, &e))?;
        let status = resp.status();
        let body = resp
            .text()
            .await
            .map_err(|e| self.transport_error(&what, &e))?;
        Ok(Answer { status, body })
    }

    /// The body of a 2xx answer; anything else is [`CtlError::Api`] with the agent's message.
    async fn checked(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Json>,
    ) -> Result<String, CtlError> {
        let answer = self.request(method.clone(), path, query, body).await?;
        if answer.status.is_success() {
            return Ok(answer.body);
        }
        Err(api_error(&format!("{method} {path}"), &answer))
    }

    /// GET, the body as text.
    pub async fn get_text(&self, path: &str, query: &[(&str, &str)]) -> Result<String, CtlError> {
        self.checked(Method::GET, path, query, None).await
    }

    /// GET, the body as JSON.
    pub async fn get_json(&self, path: &str, query: &[(&str, &str)]) -> Result<Json, CtlError> {
        let text = self.get_text(path, query).await?;
        parse_json(path, &text)
    }

    /// POST with an optional JSON body, the answer as JSON.
    pub async fn post_json(
        &self,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Json>,
    ) -> Result<Json, CtlError> {
        let text = self.checked(Method::POST, path, query, body).await?;
        parse_json(path, &text)
    }
}

fn parse_json(path: &str, text: &str) -> Result<Json, CtlError> {
    serde_json::from_str(text).map_err(|e| {
        CtlError::failed(format!(
            "{path}: the agent's answer is not json ({e}): {}",
            text.chars().take(200).collect::<String>()
        ))
    })
}

/// The agent's error message: Ligato's `{"Error":"..."}`, a JSON string, or the raw body.
pub fn api_error(what: &str, answer: &Answer) -> CtlError {
    let message = match serde_json::from_str::<Json>(&answer.body) {
        Ok(Json::Object(o)) => o
            .get("Error")
            .and_then(Json::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| answer.body.clone()),
        Ok(Json::String(s)) => s,
        _ => answer.body.trim().to_owned(),
    };
    let message = if answer.status == StatusCode::UNAUTHORIZED {
        format!("{message} (check --http-basic-auth or AGENTCTL_HTTP_BASIC_AUTH)")
    } else {
        message.trim_end().to_owned()
    };
    CtlError::Api {
        what: what.to_owned(),
        status: answer.status.as_u16(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ligato_error_shapes_give_the_message() {
        let a = |status: u16, body: &str| Answer {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
            body: body.to_owned(),
        };
        let text = |e: CtlError| e.to_string();
        assert_eq!(
            text(api_error(
                "GET /x",
                &a(404, r#"{"Error":"unknown key prefix"}"#)
            )),
            "GET /x: the agent answered http 404: unknown key prefix"
        );
        assert_eq!(
            text(api_error(
                "POST /vpp/command",
                &a(
                    400,
                    r#""400 Bad request: vppclicommand parameter missing or empty\n""#
                )
            )),
            "POST /vpp/command: the agent answered http 400: 400 Bad request: vppclicommand parameter missing or empty"
        );
        assert!(text(api_error("GET /", &a(401, "{}"))).contains("--http-basic-auth"));
    }
}
