//! Concurrency and rate control for requests: a semaphore whose size adapts (lowered when the
//! provider says we are too fast, raised again gradually after successes) and an optional
//! requests-per-second token bucket.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Successful batches needed before concurrency is raised by one again.
const RAISE_AFTER: usize = 20;

#[derive(Debug)]
struct State {
    current: usize,
    debt: usize,
    streak: usize,
}

/// Adaptive bound on requests in flight.
#[derive(Debug)]
pub struct Limiter {
    sem: Arc<Semaphore>,
    max: usize,
    state: Mutex<State>,
}

impl Limiter {
    pub fn new(max: usize) -> Limiter {
        let max = max.max(1);
        Limiter {
            sem: Arc::new(Semaphore::new(max)),
            max,
            state: Mutex::new(State {
                current: max,
                debt: 0,
                streak: 0,
            }),
        }
    }

    /// Wait for a slot.
    pub async fn acquire(&self) -> OwnedSemaphorePermit {
        loop {
            if let Ok(p) = self.sem.clone().acquire_owned().await {
                return p;
            }
        }
    }

    /// A slot if one is free right now.
    pub fn try_acquire(&self) -> Option<OwnedSemaphorePermit> {
        self.sem.clone().try_acquire_owned().ok()
    }

    /// Give a slot back after a batch; `ok` when the batch was not throttled.
    pub fn release(&self, permit: OwnedSemaphorePermit, ok: bool) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        if s.debt > 0 {
            s.debt -= 1;
            permit.forget();
        } else {
            drop(permit);
        }
        if ok {
            s.streak += 1;
            if s.streak >= RAISE_AFTER && s.current < self.max {
                s.streak = 0;
                s.current += 1;
                if s.debt > 0 {
                    s.debt -= 1;
                } else {
                    self.sem.add_permits(1);
                }
            }
        } else {
            s.streak = 0;
        }
    }

    /// The provider asked us to slow down: one slot fewer (never below one). Returns the new
    /// concurrency when it changed.
    pub fn throttle(&self) -> Option<usize> {
        let mut s = self.state.lock().ok()?;
        s.streak = 0;
        if s.current <= 1 {
            return None;
        }
        s.current -= 1;
        s.debt += 1;
        Some(s.current)
    }

    #[cfg(test)]
    pub fn current(&self) -> usize {
        self.state.lock().map(|s| s.current).unwrap_or(self.max)
    }
}

/// Build a requests-per-second limiter (burst of one request); `None` for a rate whose period
/// is not a duration (the command line bounds the rate, so this is not met in practice).
pub fn rate_limiter(rate: f64) -> Option<DefaultDirectRateLimiter> {
    let period = Duration::try_from_secs_f64(1.0 / rate).ok()?;
    let quota = Quota::with_period(period)?.allow_burst(NonZeroU32::MIN);
    Some(RateLimiter::direct(quota))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn throttle_lowers_and_successes_raise() {
        let l = Limiter::new(3);
        assert_eq!(l.throttle(), Some(2));
        assert_eq!(l.throttle(), Some(1));
        assert_eq!(l.throttle(), None);
        // Two permits must be forgotten as they come back.
        let a = l.acquire().await;
        let b = l.acquire().await;
        let c = l.acquire().await;
        l.release(a, false);
        l.release(b, false);
        l.release(c, false);
        assert_eq!(l.sem.available_permits(), 1);
        for _ in 0..RAISE_AFTER {
            let p = l.acquire().await;
            l.release(p, true);
        }
        assert_eq!(l.current(), 2);
        assert_eq!(l.sem.available_permits(), 2);
    }
}
