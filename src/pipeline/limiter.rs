//! Concurrency and rate control for requests: a semaphore whose size adapts (lowered when the
//! provider says we are too fast, raised again gradually after successes) and an optional
//! requests-per-second token bucket.
//!
//! With `--concurrency auto` the bound also follows the provider's latency, in the manner of
//! TCP's congestion control and vector's adaptive request concurrency: it starts at 4 and,
//! while answers come back unthrottled and about as fast as the fastest seen, grows by one
//! for every such answer (doubling per round trip); once latency grows with load (past twice
//! the fastest) it is cut by a quarter and then grows by one per round trip only; a throttled
//! answer halves it. It stays between 1 and 64. A fixed `--concurrency N` is a ceiling that
//! only throttling lowers.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Successful batches needed before concurrency is raised by one again.
const RAISE_AFTER: usize = 20;

/// `--concurrency auto`: where it starts and its ceiling.
pub const AUTO_START: usize = 4;
pub const AUTO_MAX: usize = 64;

#[derive(Debug)]
struct State {
    current: usize,
    debt: usize,
    streak: usize,
    /// Adaptive only: the fastest answer seen, and whether the bound still doubles per round
    /// trip (no congestion seen yet).
    floor: Option<Duration>,
    slow_start: bool,
}

/// Adaptive bound on requests in flight.
#[derive(Debug)]
pub struct Limiter {
    sem: Arc<Semaphore>,
    max: usize,
    adaptive: bool,
    state: Mutex<State>,
}

impl Limiter {
    /// A fixed ceiling of `max` requests in flight, lowered only on throttling.
    pub fn new(max: usize) -> Limiter {
        Limiter::start(max.max(1), max.max(1), false)
    }

    /// `--concurrency auto`: from [`AUTO_START`] up to [`AUTO_MAX`], following latency.
    pub fn auto() -> Limiter {
        Limiter::start(AUTO_START, AUTO_MAX, true)
    }

    fn start(current: usize, max: usize, adaptive: bool) -> Limiter {
        Limiter {
            sem: Arc::new(Semaphore::new(current)),
            max,
            adaptive,
            state: Mutex::new(State {
                current,
                debt: 0,
                streak: 0,
                floor: None,
                slow_start: adaptive,
            }),
        }
    }

    /// Requests allowed in flight now.
    #[cfg(test)]
    pub fn current(&self) -> usize {
        self.state.lock().map(|s| s.current).unwrap_or(self.max)
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

    /// Give a slot back after a batch; `ok` when the batch was not throttled; `latency`, the
    /// time of its one request when it took one (adaptive mode learns from it).
    pub fn release(&self, permit: OwnedSemaphorePermit, ok: bool, latency: Option<Duration>) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        if s.debt > 0 {
            s.debt -= 1;
            permit.forget();
        } else {
            drop(permit);
        }
        if self.adaptive {
            if let (true, Some(l)) = (ok, latency) {
                self.adapt(&mut s, l);
            }
            return;
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

    /// Adaptive mode, after an unthrottled answer that took `latency`.
    fn adapt(&self, s: &mut State, latency: Duration) {
        let floor = *s.floor.get_or_insert(latency);
        if latency < floor {
            s.floor = Some(latency);
        }
        // Latency that grew with load: more in flight only queues at the provider.
        if latency > floor.saturating_mul(2) + Duration::from_millis(5) {
            s.slow_start = false;
            s.streak = 0;
            let target = (s.current * 3 / 4).max(1);
            self.lower_to(s, target);
            tracing::info!(
                concurrency = s.current,
                latency_ms = latency.as_millis() as u64,
                floor_ms = floor.as_millis() as u64,
                "latency grows with load: fewer requests in flight"
            );
            return;
        }
        s.streak += 1;
        // Slow start: one more per answer; after congestion: one more per round trip.
        let needed = if s.slow_start { 1 } else { s.current };
        if s.streak >= needed && s.current < self.max {
            s.streak = 0;
            s.current += 1;
            tracing::debug!(
                concurrency = s.current,
                "answers stay fast: one more request in flight"
            );
            if s.debt > 0 {
                s.debt -= 1;
            } else {
                self.sem.add_permits(1);
            }
        }
    }

    /// Lower the bound to `target` slots: slots in use are forgotten as they come back.
    fn lower_to(&self, s: &mut State, target: usize) {
        while s.current > target {
            s.current -= 1;
            match self.sem.try_acquire() {
                Ok(p) => p.forget(),
                Err(_) => s.debt += 1,
            }
        }
    }

    /// The provider asked us to slow down: one slot fewer (never below one), or half as many in
    /// adaptive mode. Returns the new concurrency when it changed.
    pub fn throttle(&self) -> Option<usize> {
        let mut s = self.state.lock().ok()?;
        s.streak = 0;
        if s.current <= 1 {
            return None;
        }
        if self.adaptive {
            s.slow_start = false;
            let target = (s.current / 2).max(1);
            self.lower_to(&mut s, target);
        } else {
            s.current -= 1;
            s.debt += 1;
        }
        Some(s.current)
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
        l.release(a, false, None);
        l.release(b, false, None);
        l.release(c, false, None);
        assert_eq!(l.sem.available_permits(), 1);
        for _ in 0..RAISE_AFTER {
            let p = l.acquire().await;
            l.release(p, true, None);
        }
        assert_eq!(l.current(), 2);
        assert_eq!(l.sem.available_permits(), 2);
    }

    /// Release `n` batches one after another, each taking `ms`.
    async fn answers(l: &Limiter, n: usize, ms: u64) {
        for _ in 0..n {
            let p = l.acquire().await;
            l.release(p, true, Some(Duration::from_millis(ms)));
        }
    }

    #[tokio::test]
    async fn auto_grows_while_latency_stays_near_its_floor_up_to_64() {
        let l = Limiter::auto();
        assert_eq!(l.current(), AUTO_START);
        answers(&l, 10, 200).await;
        assert_eq!(l.current(), AUTO_START + 10, "one more per answer at first");
        answers(&l, 200, 210).await;
        assert_eq!(l.current(), AUTO_MAX);
        assert_eq!(l.sem.available_permits(), AUTO_MAX);
    }

    #[tokio::test]
    async fn auto_backs_off_when_latency_grows_with_load_then_grows_slowly() {
        let l = Limiter::auto();
        answers(&l, 20, 100).await;
        assert_eq!(l.current(), 24);
        // Latency past twice the floor: a quarter fewer.
        answers(&l, 1, 250).await;
        assert_eq!(l.current(), 18);
        assert_eq!(l.sem.available_permits(), 18);
        // Then one more per round trip (18 answers), not per answer.
        answers(&l, 17, 100).await;
        assert_eq!(l.current(), 18);
        answers(&l, 1, 100).await;
        assert_eq!(l.current(), 19);
    }

    #[tokio::test]
    async fn auto_halves_on_throttling_and_never_goes_below_one() {
        let l = Limiter::auto();
        answers(&l, 12, 50).await;
        assert_eq!(l.current(), 16);
        assert_eq!(l.throttle(), Some(8));
        assert_eq!(l.sem.available_permits(), 8);
        for want in [4, 2, 1] {
            assert_eq!(l.throttle(), Some(want));
        }
        assert_eq!(l.throttle(), None);
        assert_eq!(l.sem.available_permits(), 1);
        // Slots in use when it halves are forgotten as they come back.
        let l = Limiter::auto();
        let held: Vec<_> = futures_held(&l, 4).await;
        assert_eq!(l.throttle(), Some(2));
        for p in held {
            l.release(p, false, None);
        }
        assert_eq!(l.sem.available_permits(), 2);
    }

    async fn futures_held(l: &Limiter, n: usize) -> Vec<OwnedSemaphorePermit> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(l.acquire().await);
        }
        v
    }
}
