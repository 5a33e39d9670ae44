//! Hidden limits: the sandbox can behave like a provider that throttles or slows down past a
//! limit it never documents, so that the importer's adaptive concurrency and rate can be
//! measured and tested against each kind.
//!
//! - `rps`: a token bucket holding at most N requests, refilled at N per second (so N requests
//!   per second on average, a burst of N after a quiet second); a request that finds it empty is
//!   answered HTTP 429, with `Retry-After: SECS` when `retry_after` is set, otherwise without.
//! - `conc`: a request arriving while N requests are already being served is answered HTTP 429
//!   (with the same `Retry-After` rule).
//! - `queue`: at most K requests are served at once, each for the base latency; the others wait
//!   their turn in arrival order, so a request arriving with n in flight takes about
//!   `latency × ceil(n / K)`: every K requests beyond the first K add the base latency again.
//!
//! Invariant: a throttled request is answered at once (no latency), applies nothing, takes no
//! token and no serving place, and is counted in the stats (`throttled`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hyper::header::{HeaderValue, RETRY_AFTER};
use hyper::{Response, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::body::Body;
use super::http::plain;

/// The limits a sandbox hides (all off by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Requests per second accepted (token bucket of this size, refilled at this rate).
    pub rps: Option<u32>,
    /// Requests served at once; more are answered 429.
    pub conc: Option<u32>,
    /// `Retry-After` seconds on the 429 answers of `rps` and `conc` (none when unset).
    pub retry_after: Option<u32>,
    /// Requests served at once before the others queue (latency grows past this knee).
    pub queue: Option<u32>,
}

/// The live state of the limits.
#[derive(Debug)]
pub(crate) struct Gate {
    limits: Limits,
    /// Tokens and when they were last counted.
    bucket: Mutex<(f64, Instant)>,
    /// Requests admitted and not yet answered (for `conc`).
    serving: Arc<AtomicU64>,
    queue: Option<Arc<Semaphore>>,
}

/// Held while a request is admitted: frees its place (and its queue slot) when dropped.
#[derive(Debug)]
pub(crate) struct Admitted {
    serving: Arc<AtomicU64>,
    slot: Option<OwnedSemaphorePermit>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.serving.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Gate {
    pub(crate) fn new(limits: Limits) -> Gate {
        let full = f64::from(limits.rps.unwrap_or(0));
        Gate {
            limits,
            bucket: Mutex::new((full, Instant::now())),
            serving: Arc::default(),
            queue: limits
                .queue
                .map(|k| Arc::new(Semaphore::new(k.max(1) as usize))),
        }
    }

    /// Admit a request (waiting for a serving place under `queue`), or the 429 answer that
    /// throttles it.
    pub(crate) async fn admit(&self) -> Result<Admitted, Response<Body>> {
        let cap = self.limits.conc.map_or(u64::MAX, u64::from);
        let taken = self
            .serving
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < cap).then_some(n + 1)
            });
        if taken.is_err() {
            return Err(self.too_many());
        }
        let mut guard = Admitted {
            serving: Arc::clone(&self.serving),
            slot: None,
        };
        if !self.take_token() {
            return Err(self.too_many());
        }
        if let Some(q) = &self.queue {
            guard.slot = Arc::clone(q).acquire_owned().await.ok();
        }
        Ok(guard)
    }

    /// Take one token of the `rps` bucket; true when there was one (or no `rps` limit).
    fn take_token(&self) -> bool {
        let Some(rps) = self.limits.rps else {
            return true;
        };
        let rps = f64::from(rps.max(1));
        let mut b = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let tokens = (b.0 + now.duration_since(b.1).as_secs_f64() * rps).min(rps);
        *b = (tokens, now);
        if tokens >= 1.0 {
            b.0 = tokens - 1.0;
            true
        } else {
            false
        }
    }

    /// HTTP 429, with `Retry-After` when configured.
    fn too_many(&self) -> Response<Body> {
        let mut r = plain(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
        if let Some(secs) = self.limits.retry_after {
            r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        r
    }

    /// Forget the tokens spent (a reset): the bucket is full again.
    pub(crate) fn reset(&self) {
        let full = f64::from(self.limits.rps.unwrap_or(0));
        *self.bucket.lock().unwrap_or_else(|e| e.into_inner()) = (full, Instant::now());
    }
}
