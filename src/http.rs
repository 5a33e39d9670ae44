//! The HTTP transport: one signed POST per attempt, classified into what the retry loop needs
//! (an answer, or a transport failure that may or may not have reached the provider), plus
//! `Retry-After` parsing (the backoff is the retry policy's, in `pipeline/retry/policy.rs`).
//!
//! Invariant: nothing here decides a row's outcome; it only reports what happened on the wire.

use std::time::{Duration, SystemTime};

use bytes::Bytes;

/// The largest answer body read; a longer one is cut off and counts as unparsable.
pub(crate) const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// What kind of transport failure an attempt met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransportKind {
    /// No connection could be made (refused, unreachable, DNS, connect timeout).
    Connect,
    /// The server's TLS certificate is not trusted (or TLS failed before any request left).
    Tls,
    /// The request or its answer took longer than `--timeout`.
    Timeout,
    /// The connection broke, or the answer was cut short.
    Cut,
    /// The answer body was larger than [`MAX_ANSWER_BYTES`]; reading stopped there.
    TooLarge,
}

impl TransportKind {
    /// Whether the request may have reached the provider (and been applied).
    pub(crate) fn maybe_applied(self) -> bool {
        !matches!(self, TransportKind::Connect | TransportKind::Tls)
    }

    /// The outcome code of rows whose retries ran out on this kind of failure.
    pub(crate) fn code(self) -> &'static str {
        match self {
            TransportKind::Connect => "connect_error",
            TransportKind::Tls => "tls_error",
            TransportKind::Timeout => "timeout",
            TransportKind::Cut => "connection_error",
            TransportKind::TooLarge => "answer_too_large",
        }
    }
}

/// What one attempt produced.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// The provider answered with an HTTP status.
    Answered {
        status: u16,
        body: Bytes,
        /// The answer's `Date` header, for clock-skew correction.
        date: Option<SystemTime>,
        retry_after: Option<Duration>,
        /// The `Location` header of a redirect, as text (never followed).
        location: Option<String>,
    },
    /// No (complete) answer.
    Transport {
        kind: TransportKind,
        message: String,
    },
}

/// A client bound to one endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    url: String,
    /// Unit tests of the retry loop: replies handed out in order instead of sending.
    #[cfg(test)]
    script: Option<std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<Reply>>>>,
}

impl Http {
    /// A client for `base_url` + `path`. Redirects are never followed; a plain-http (loopback)
    /// endpoint is reached directly, never through a proxy.
    pub(crate) fn new(base_url: &str, path: &str, timeout: Duration) -> anyhow::Result<Http> {
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("custimport/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(1024);
        if base_url.starts_with("http://") {
            builder = builder.no_proxy();
        }
        Ok(Http {
            client: builder.build()?,
            url: format!("{}{}", base_url.trim_end_matches('/'), path),
            #[cfg(test)]
            script: None,
        })
    }

    /// A client that sends nothing and answers each attempt with the next of `replies`
    /// (a connection error once they run out).
    #[cfg(test)]
    pub(crate) fn scripted(replies: Vec<Reply>) -> Http {
        let mut h = Http::new("http://127.0.0.1:9", "/test", Duration::from_secs(1))
            .unwrap_or_else(|e| panic!("test client: {e}"));
        h.script = Some(std::sync::Arc::new(std::sync::Mutex::new(replies.into())));
        h
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// POST `body` with `headers`. Never panics, never retries, never follows a redirect, never
    /// reads more than [`MAX_ANSWER_BYTES`] of an answer.
    pub(crate) async fn post(&self, headers: &[(&'static str, String)], body: Bytes) -> Reply {
        #[cfg(test)]
        if let Some(script) = &self.script {
            let next = script.lock().ok().and_then(|mut s| s.pop_front());
            return next.unwrap_or(Reply::Transport {
                kind: TransportKind::Connect,
                message: "script ended".into(),
            });
        }
        let mut req = self.client.post(&self.url).body(body);
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                let (kind, message) = describe(&e);
                return Reply::Transport { kind, message };
            }
        };
        let status = resp.status().as_u16();
        let h = resp.headers();
        let text = |name| {
            h.get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
        };
        let date = text(reqwest::header::DATE).and_then(|s| httpdate::parse_http_date(s).ok());
        let retry_after = text(reqwest::header::RETRY_AFTER)
            .and_then(|s| parse_retry_after(s, SystemTime::now()));
        let location = h
            .get(reqwest::header::LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let too_large = || Reply::Transport {
            kind: TransportKind::TooLarge,
            message: format!(
                "the answer is larger than {} MiB; not read further",
                MAX_ANSWER_BYTES / (1024 * 1024)
            ),
        };
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
        {
            return too_large();
        }
        let mut buf = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if buf.len() + chunk.len() > MAX_ANSWER_BYTES {
                        // Dropping the response closes the connection: an endless answer ends here.
                        return too_large();
                    }
                    buf.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let (kind, message) = describe(&e);
                    let kind = if kind == TransportKind::Timeout {
                        kind
                    } else {
                        TransportKind::Cut
                    };
                    return Reply::Transport {
                        kind,
                        message: format!("the answer was cut short: {message}"),
                    };
                }
            }
        }
        Reply::Answered {
            status,
            body: Bytes::from(buf),
            date,
            retry_after,
            location,
        }
    }
}

/// Whether `e` is (or wraps, inside I/O errors) an error of the TLS layer: the server's
/// certificate was refused, or the handshake failed.
fn is_tls(e: &(dyn std::error::Error + 'static)) -> bool {
    if e.downcast_ref::<rustls::Error>().is_some() {
        return true;
    }
    match e
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        Some(inner) => is_tls(inner),
        None => false,
    }
}

/// The kind of a transport error and a one-line description of it, without URLs' query
/// strings or secrets (requests carry no secret; the URL is the public endpoint).
fn describe(e: &reqwest::Error) -> (TransportKind, String) {
    let mut cause = String::new();
    let mut tls = false;
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        tls |= is_tls(s);
        cause = s.to_string();
        src = s.source();
    }
    let (kind, what) = if tls {
        (TransportKind::Tls, "the TLS handshake failed")
    } else if e.is_connect() {
        (TransportKind::Connect, "could not connect")
    } else if e.is_timeout() {
        (TransportKind::Timeout, "timed out")
    } else if e.is_body() || e.is_decode() {
        (TransportKind::Cut, "the answer was cut short")
    } else {
        (TransportKind::Cut, "the connection failed")
    };
    let cause = crate::provider::answer::escape_control(&cause).into_owned();
    if cause.is_empty() {
        (kind, what.to_owned())
    } else {
        (kind, format!("{what} ({cause})"))
    }
}

/// Longest wait a `Retry-After` may impose.
pub(crate) const RETRY_AFTER_CAP: Duration = Duration::from_secs(120);

/// `Retry-After` as seconds or an HTTP date, capped.
pub(crate) fn parse_retry_after(v: &str, now: SystemTime) -> Option<Duration> {
    let v = v.trim();
    let d = if let Ok(secs) = v.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = httpdate::parse_http_date(v).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(d.min(RETRY_AFTER_CAP))
}

mod connect;
pub(crate) use connect::{connect, Connection};

#[cfg(test)]
mod tests;
