//! Request counters of the sandbox, kept in atomics so that counting never takes a lock.
//!
//! Invariant: `in_flight` rises exactly once per provider request and falls exactly once, when its
//! [`InFlight`] guard drops (answered, faulted or abandoned by the client), and a reset never
//! touches it, so it cannot underflow; `max_in_flight` is never below `in_flight`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::Serialize;

use super::faults::{FaultKind, KINDS};

/// A snapshot of the counters, as served by `GET /_sandbox/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Provider requests received (both providers, faulted ones included).
    pub requests: u64,
    /// Provider requests being handled right now (latency wait included).
    pub in_flight: u64,
    /// The highest `in_flight` seen since the start or the last reset.
    pub max_in_flight: u64,
    /// Provider requests answered HTTP 429 by a hidden limit (`SandboxConfig::limits`); the
    /// `429` and `throttle` faults count under `faults` only.
    pub throttled: u64,
    /// Requests refused because their signature did not verify (nxlink 1003 / itnio -1 on `Sign`).
    pub rejected_signatures: u64,
    /// Customers / persons in the bodies of provider requests that parsed as JSON.
    pub rows_received: u64,
    /// Provider requests whose body contained U+FFFD (a sign of a lossy decoding upstream).
    pub replacement_chars: u64,
    /// Requests to the target of the `redirect` faults (a client that follows a redirect).
    pub redirected_requests: u64,
    /// Faults injected, per kind name (every kind listed). A kind of several forms (`vague`,
    /// `contradict`, `fullwidth`, `redirect`) counts under its own name and under the form it
    /// took; a kind without a form for the request's provider is not injected nor counted.
    pub faults: BTreeMap<String, u64>,
}

/// The live counters.
#[derive(Debug)]
pub(crate) struct Counters {
    requests: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    throttled: AtomicU64,
    rejected_signatures: AtomicU64,
    rows_received: AtomicU64,
    replacement_chars: AtomicU64,
    redirected_requests: AtomicU64,
    faults: [AtomicU64; KINDS],
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            requests: AtomicU64::default(),
            in_flight: AtomicU64::default(),
            max_in_flight: AtomicU64::default(),
            throttled: AtomicU64::default(),
            rejected_signatures: AtomicU64::default(),
            rows_received: AtomicU64::default(),
            replacement_chars: AtomicU64::default(),
            redirected_requests: AtomicU64::default(),
            faults: std::array::from_fn(|_| AtomicU64::default()),
        }
    }
}

/// Decrements `in_flight` when dropped.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Counters>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Counters {
    /// Counts a new provider request and returns the guard that ends it.
    pub(crate) fn begin(self: &Arc<Self>) -> InFlight {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(Arc::clone(self))
    }

    pub(crate) fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn rejected_signature(&self) {
        self.rejected_signatures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn rows(&self, n: usize) {
        self.rows_received.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn replacement_char(&self) {
        self.replacement_chars.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn redirected(&self) {
        self.redirected_requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn fault(&self, kind: FaultKind) {
        self.faults[kind.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Zeroes everything but `in_flight`; `max_in_flight` restarts from the current `in_flight`.
    pub(crate) fn reset(&self) {
        for c in [
            &self.requests,
            &self.throttled,
            &self.rejected_signatures,
            &self.rows_received,
            &self.replacement_chars,
            &self.redirected_requests,
        ]
        .into_iter()
        .chain(self.faults.iter())
        {
            c.store(0, Ordering::Relaxed);
        }
        self.max_in_flight
            .store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let faults = FaultKind::ALL
            .into_iter()
            .map(|k| {
                (
                    k.as_str().to_string(),
                    self.faults[k.index()].load(Ordering::Relaxed),
                )
            })
            .collect();
        Stats {
            requests: self.requests.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::SeqCst),
            max_in_flight: self.max_in_flight.load(Ordering::SeqCst),
            throttled: self.throttled.load(Ordering::Relaxed),
            rejected_signatures: self.rejected_signatures.load(Ordering::Relaxed),
            rows_received: self.rows_received.load(Ordering::Relaxed),
            replacement_chars: self.replacement_chars.load(Ordering::Relaxed),
            redirected_requests: self.redirected_requests.load(Ordering::Relaxed),
            faults,
        }
    }
}

/// True when `body` holds the UTF-8 encoding of U+FFFD.
pub(crate) fn has_replacement_char(body: &[u8]) -> bool {
    body.windows(3).any(|w| w == [0xEF, 0xBF, 0xBD])
}
