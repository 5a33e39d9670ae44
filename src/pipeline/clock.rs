//! The clock used to sign requests: local time plus a correction learnt from the provider's
//! `Date` header when it says our timestamp expired.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Skews below this are left alone (the `Date` header has one-second resolution).
const TOLERANCE_MS: i64 = 2_000;

#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset_ms: AtomicI64,
    corrected: AtomicBool,
}

fn system_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

impl Clock {
    /// Milliseconds since the epoch, corrected.
    pub(crate) fn now_ms(&self) -> i64 {
        system_ms(SystemTime::now()) + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Learn the provider's time. Returns the measured skew in ms when this is the first
    /// correction (so the caller can say so once).
    pub(crate) fn correct(&self, server: SystemTime) -> Option<i64> {
        let skew = system_ms(server) - system_ms(SystemTime::now());
        if skew.abs() < TOLERANCE_MS {
            return None;
        }
        self.offset_ms.store(skew, Ordering::Relaxed);
        (!self.corrected.swap(true, Ordering::SeqCst)).then_some(skew)
    }

    pub(crate) fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests;
