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
pub(crate) const AUTO_START: usize = 4;
pub(crate) const AUTO_MAX: usize = 64;

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
pub(crate) struct Limiter {
    sem: Arc<Semaphore>,
    max: usize,
    adaptive: bool,
    state: Mutex<State>,
}

impl Limiter {
    /// A fixed ceiling of `max` requests in flight, lowered only on throttling.
    pub(crate) fn new(max: usize) -> Limiter {
        Limiter::start(max.max(1), max.max(1), false)
    }

    /// `--concurrency auto`: from [`AUTO_START`] up to [`AUTO_MAX`], following latency.
    pub(crate) fn auto() -> Limiter {
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

    /// Whether one request in flight is all that is allowed now.
    pub(crate) fn at_floor(&self) -> bool {
        self.state.lock().map(|s| s.current <= 1).unwrap_or(false)
    }

    /// Requests allowed in flight now.
    pub(crate) fn current(&self) -> usize {
        self.state.lock().map(|s| s.current).unwrap_or(self.max)
    }

    /// Wait for a slot.
    pub(crate) async fn acquire(&self) -> OwnedSemaphorePermit {
        loop {
            if let Ok(p) = self.sem.clone().acquire_owned().await {
                return p;
            }
        }
    }

    /// A slot if one is free right now.
    pub(crate) fn try_acquire(&self) -> Option<OwnedSemaphorePermit> {
        self.sem.clone().try_acquire_owned().ok()
    }

    /// Give a slot back after a batch; `ok` when the batch was not throttled; `latency`, the
    /// time of its one request when it took one (adaptive mode learns from it).
    pub(crate) fn release(
        &self,
        permit: OwnedSemaphorePermit,
        ok: bool,
        latency: Option<Duration>,
    ) {
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
    pub(crate) fn throttle(&self) -> Option<usize> {
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

/// What the progress bar shows of the pace: the requests allowed in flight and, once paced,
/// the requests per second (the send stage sets it, the collector shows it).
#[derive(Debug, Default)]
pub(crate) struct LoadView {
    in_flight: std::sync::atomic::AtomicUsize,
    /// Requests per second × 1000; 0 when not paced.
    milli_rate: std::sync::atomic::AtomicU64,
}

impl LoadView {
    pub(crate) fn set(&self, in_flight: usize, rate: Option<f64>) {
        use std::sync::atomic::Ordering::Relaxed;
        self.in_flight.store(in_flight, Relaxed);
        let milli = rate.map_or(0, |r| (r * 1000.0).clamp(1.0, 1e12) as u64);
        self.milli_rate.store(milli, Relaxed);
    }

    /// `12 in flight`, `1 in flight, 2.9 requests/s`; empty before the first batch.
    pub(crate) fn describe(&self) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let n = self.in_flight.load(Relaxed);
        if n == 0 {
            return String::new();
        }
        match self.milli_rate.load(Relaxed) {
            0 => format!("{n} in flight"),
            m => format!("{n} in flight, {:.1} requests/s", m as f64 / 1000.0),
        }
    }
}

/// `--rate auto`: no pause between requests until the provider throttles with one request in
/// flight; from then on a gap between requests that grows by half on each throttled answer
/// and shrinks by 1 % with each accepted one (gone again below a millisecond).
#[derive(Debug, Default)]
pub(crate) struct Pace {
    state: Mutex<PaceState>,
}

#[derive(Debug, Default)]
struct PaceState {
    gap: Option<Duration>,
    /// When the next request may leave.
    next: Option<tokio::time::Instant>,
    /// When the last request left, to size the first gap.
    last: Option<tokio::time::Instant>,
}

/// The first gap when throttling starts with one request in flight, at the least.
const FIRST_GAP: Duration = Duration::from_millis(50);

impl Pace {
    /// Wait for this request's turn (at once while no gap is set).
    pub(crate) async fn wait(&self) {
        let at = {
            let Ok(mut s) = self.state.lock() else {
                return;
            };
            let now = tokio::time::Instant::now();
            let at = match (s.gap, s.next) {
                (Some(gap), Some(next)) if next > now => {
                    s.next = Some(next + gap);
                    next
                }
                (Some(gap), _) => {
                    s.next = Some(now + gap);
                    now
                }
                (None, _) => now,
            };
            s.last = Some(at);
            at
        };
        // Not even a zero wait when no gap is set: tokio's timer fires on its next
        // millisecond tick, a millisecond per request for nothing.
        if at > tokio::time::Instant::now() {
            tokio::time::sleep_until(at).await;
        }
    }

    /// A throttled answer; `at_floor` when one request is in flight (concurrency can go no
    /// lower). Returns the new gap when it changed.
    pub(crate) fn throttled(&self, at_floor: bool) -> Option<Duration> {
        let mut s = self.state.lock().ok()?;
        let gap = match s.gap {
            Some(g) => g.saturating_mul(3) / 2,
            None if at_floor => s
                .last
                .map(|l| l.elapsed())
                .unwrap_or_default()
                .max(FIRST_GAP),
            None => return None,
        };
        s.gap = Some(gap.min(Duration::from_secs(60)));
        s.gap
    }

    /// An accepted answer: a little faster.
    pub(crate) fn accepted(&self) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        if let Some(g) = s.gap {
            let g = g.mul_f64(0.99);
            s.gap = (g >= Duration::from_millis(1)).then_some(g);
        }
    }

    /// The current rate in requests per second, when paced.
    pub(crate) fn rate(&self) -> Option<f64> {
        let s = self.state.lock().ok()?;
        s.gap.map(|g| 1.0 / g.as_secs_f64().max(1e-9))
    }
}

/// Build a requests-per-second limiter (burst of one request); `None` for a rate whose period
/// is not a duration (the command line bounds the rate, so this is not met in practice).
pub(crate) fn rate_limiter(rate: f64) -> Option<DefaultDirectRateLimiter> {
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

    #[tokio::test(start_paused = true)]
    async fn pace_starts_at_the_floor_grows_by_half_and_shrinks_slowly() {
        let p = Pace::default();
        assert_eq!(
            p.throttled(false),
            None,
            "no pace while concurrency can still go down"
        );
        assert_eq!(p.rate(), None);
        let t0 = tokio::time::Instant::now();
        p.wait().await;
        assert_eq!(t0.elapsed(), Duration::ZERO);
        assert_eq!(p.throttled(true), Some(FIRST_GAP));
        assert_eq!(p.throttled(true), Some(FIRST_GAP * 3 / 2));
        // Requests now leave one gap apart.
        let t0 = tokio::time::Instant::now();
        for _ in 0..3 {
            p.wait().await;
        }
        assert_eq!(t0.elapsed(), FIRST_GAP * 3); // the first at once, then two gaps of 75 ms
        for _ in 0..100 {
            p.accepted();
        }
        let rate = p.rate().unwrap();
        assert!((rate - 13.3 / 0.366).abs() < 1.0, "{rate}");
        for _ in 0..1000 {
            p.accepted();
        }
        assert_eq!(p.rate(), None, "below a millisecond the pace is gone");
    }

    #[test]
    fn the_load_is_described_for_the_progress_bar() {
        let v = LoadView::default();
        assert_eq!(v.describe(), "");
        v.set(12, None);
        assert_eq!(v.describe(), "12 in flight");
        v.set(1, Some(2.94));
        assert_eq!(v.describe(), "1 in flight, 2.9 requests/s");
    }

    async fn futures_held(l: &Limiter, n: usize) -> Vec<OwnedSemaphorePermit> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(l.acquire().await);
        }
        v
    }
}
