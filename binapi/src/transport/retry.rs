//! Connecting with retries: exponential backoff while VPP is not up yet (socket missing, handshake refused),
//! up to an overall deadline.
//!
//! It deliberately retries only the connect; a call that fails on a live connection is the caller's to retry
//! (see [`crate::Error::is_retriable`]).

use super::{Client, Config};
use crate::error::Error;
use std::time::Duration;

/// How [`connect_with_retry`] waits between attempts.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    /// Give up after this long in total.
    pub deadline: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(50),
            max: Duration::from_secs(2),
            deadline: Duration::from_secs(30),
        }
    }
}

/// Connects, retrying retriable failures (VPP not up yet, socket missing) with exponential backoff.
pub async fn connect_with_retry(config: Config, backoff: Backoff) -> Result<Client, Error> {
    let start = tokio::time::Instant::now();
    let mut wait = backoff.initial;
    loop {
        match Client::connect(config.clone()).await {
            Ok(c) => return Ok(c),
            Err(e) if retriable_connect(&e) && start.elapsed() + wait < backoff.deadline => {
                tracing::debug!(error = %e, "vpp not reachable yet, retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(backoff.max);
            }
            Err(e) => return Err(e),
        }
    }
}

fn retriable_connect(e: &Error) -> bool {
    matches!(e, Error::Connect { .. } | Error::Handshake { .. }) || e.is_retriable()
}
