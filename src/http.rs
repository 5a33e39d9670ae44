//! The HTTP transport: one signed POST per attempt, classified into what the retry loop needs
//! (an answer, or a transport failure that may or may not have reached the provider), plus
//! backoff with full jitter and `Retry-After` parsing.
//!
//! Invariant: nothing here decides a row's outcome; it only reports what happened on the wire.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use rand::Rng;

/// What one attempt produced.
#[derive(Debug)]
pub enum Reply {
    /// The provider answered with an HTTP status.
    Answered {
        status: u16,
        body: Bytes,
        /// The answer's `Date` header, for clock-skew correction.
        date: Option<SystemTime>,
        retry_after: Option<Duration>,
    },
    /// No (complete) answer. `maybe_applied`: the request may have reached the provider.
    Transport {
        message: String,
        maybe_applied: bool,
    },
}

/// A client bound to one endpoint.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    url: String,
}

impl Http {
    pub fn new(base_url: &str, path: &str, timeout: Duration) -> anyhow::Result<Http> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("custimport/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(1024)
            .build()?;
        Ok(Http {
            client,
            url: format!("{}{}", base_url.trim_end_matches('/'), path),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// POST `body` with `headers`. Never panics, never retries.
    pub async fn post(&self, headers: &[(&'static str, String)], body: Bytes) -> Reply {
        let mut req = self.client.post(&self.url).body(body);
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                return Reply::Transport {
                    message: describe(&e),
                    maybe_applied: !e.is_connect(),
                }
            }
        };
        let status = resp.status().as_u16();
        let h = resp.headers();
        let date = h
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| httpdate::parse_http_date(s).ok());
        let retry_after = h
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| parse_retry_after(s, SystemTime::now()));
        match resp.bytes().await {
            Ok(body) => Reply::Answered {
                status,
                body,
                date,
                retry_after,
            },
            Err(e) => Reply::Transport {
                message: format!("the answer was cut short: {}", describe(&e)),
                maybe_applied: true,
            },
        }
    }
}

/// A one-line description of a transport error, without URLs' query strings or secrets
/// (requests carry no secret; the URL is the public endpoint).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut short"
    } else {
        "the connection failed"
    };
    let mut cause = String::new();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        cause = s.to_string();
        src = s.source();
    }
    if cause.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} ({cause})")
    }
}

/// Longest wait a `Retry-After` may impose.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(120);
/// Longest backoff between attempts.
pub const BACKOFF_CAP: Duration = Duration::from_secs(30);

/// `Retry-After` as seconds or an HTTP date, capped.
pub fn parse_retry_after(v: &str, now: SystemTime) -> Option<Duration> {
    let v = v.trim();
    let d = if let Ok(secs) = v.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = httpdate::parse_http_date(v).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(d.min(RETRY_AFTER_CAP))
}

/// Exponential backoff with full jitter: uniform in `[0, min(cap, base * 2^attempt))`.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let ceiling = base
        .checked_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX))
        .unwrap_or(BACKOFF_CAP)
        .min(BACKOFF_CAP);
    if ceiling.is_zero() {
        return Duration::ZERO;
    }
    let ms = rand::rng().random_range(0..=ceiling.as_millis().max(1) as u64);
    Duration::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("100000", now), Some(RETRY_AFTER_CAP));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(7)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_is_bounded_and_grows() {
        let base = Duration::from_millis(100);
        for attempt in 0..40 {
            let d = backoff(base, attempt);
            assert!(d <= BACKOFF_CAP);
            assert!(d <= base * 2u32.saturating_pow(attempt.min(20)) || d <= BACKOFF_CAP);
        }
        assert_eq!(backoff(Duration::ZERO, 3), Duration::ZERO);
        // Full jitter: over many draws the spread covers most of the window.
        let max = (0..200).map(|_| backoff(base, 3)).max().unwrap_or_default();
        assert!(max > Duration::from_millis(400), "{max:?}");
    }
}
