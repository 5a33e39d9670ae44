//! The sandbox's log of the bad answers it gave: every injected fault and every whole-request
//! refusal, with the row a fault picked and the trace id a refusal carried, so that a test can
//! tell which row should have ended how. Served by `GET /_sandbox/events`.
//!
//! Invariant: only faulted or refused requests are logged (a clean request never takes the
//! lock), at most [`KEEP`] entries are kept (the oldest are dropped), and `seq` numbers every
//! entry since the start or the last reset, so a dropped entry shows as a gap.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

/// How many entries are kept.
pub(crate) const KEEP: usize = 1000;

/// One bad answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Event {
    /// 1 for the first entry since the start or the last reset.
    pub seq: u64,
    /// `nxlink` or `itnio`.
    pub provider: &'static str,
    /// Customers / persons in the request (0 when the body did not parse).
    pub rows: usize,
    /// The fault's form (`vague_string`, ...), or `None` for a refusal by the rules.
    pub fault: Option<&'static str>,
    /// The code (nxlink) or status (itnio) of a refusal answer.
    pub code: Option<i64>,
    /// The message (nxlink) or reason (itnio) of a refusal answer.
    pub message: Option<String>,
    /// The nxlink `traceId` of the answer.
    pub trace_id: Option<String>,
    /// The row (0-based index in the request) the fault is about.
    pub row: Option<usize>,
    /// That row's phone, as sent.
    pub phone: Option<String>,
    /// Where a redirect pointed.
    pub location: Option<String>,
}

/// The log.
#[derive(Debug, Default)]
pub(crate) struct Events {
    inner: Mutex<Log>,
}

#[derive(Debug, Default)]
struct Log {
    seq: u64,
    kept: VecDeque<Event>,
}

impl Events {
    /// Adds `event` (its `seq` is set here).
    pub(crate) fn push(&self, mut event: Event) {
        let mut log = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        log.seq += 1;
        event.seq = log.seq;
        if log.kept.len() == KEEP {
            log.kept.pop_front();
        }
        log.kept.push_back(event);
    }

    /// The kept entries, oldest first.
    pub(crate) fn list(&self) -> Vec<Event> {
        let log = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        log.kept.iter().cloned().collect()
    }

    /// Forgets every entry; numbering restarts at 1.
    pub(crate) fn reset(&self) {
        *self.inner.lock().unwrap_or_else(|e| e.into_inner()) = Log::default();
    }
}

#[cfg(test)]
mod tests;
