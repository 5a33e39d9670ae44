//! Concurrency and rate control for requests: a semaphore whose size adapts (lowered when the
//! provider says we are too fast, raised again gradually after successes) and an optional
//! requests-per-second pace.
//!
//! With `--concurrency auto` the bound follows the provider, in the manner of TCP's congestion
//! control and vector's adaptive request concurrency (AIMD on round-trip time and back-pressure):
//! it starts at 4 and, while answers come back unthrottled and about as fast as the fastest
//! seen, grows by one for every such answer (doubling per round trip); once latency grows with
//! load (past twice the fastest) it is cut by a quarter and then grows by one per round trip
//! only (and only per round trip from the start when answers come faster than [`JITTER`]). A
//! throttled answer halves the requests really in flight, or lowers them to what the rate
//! accepted in the last second needs at the fastest latency (Little's law), and remembers where throttling
//! started: growth back to that level waits [`PROBE_ROUNDS`] round trips. Only answers to
//! requests sent after the last cut can cut again (one cut per round trip). It stays between 1
//! and 64. A fixed `--concurrency N` is a ceiling that only throttling lowers.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Successful batches needed before a fixed concurrency is raised by one again.
const RAISE_AFTER: usize = 20;

/// `--concurrency auto`: where it starts and its ceiling.
pub(crate) const AUTO_START: usize = 4;
pub(crate) const AUTO_MAX: usize = 64;

/// Latency above twice the floor by more than this is latency that grew with load (below it,
/// the noise of a busy machine).
const JITTER: Duration = Duration::from_millis(20);

/// Round trips without throttling before the bound goes back to where it was throttled.
pub(crate) const PROBE_ROUNDS: usize = 16;

#[derive(Debug)]
struct State {
    current: usize,
    debt: usize,
    streak: usize,
    /// Adaptive only: the fastest answer seen, and whether the bound still doubles per round
    /// trip (no congestion seen yet).
    floor: Option<Duration>,
    slow_start: bool,
    /// The bound at the last throttled answer (forgotten once passed without throttling).
    throttled_at: Option<usize>,
    /// When the bound was last cut: answers to requests sent before cut no more.
    cut_at: Option<Instant>,
    /// When the unthrottled answers of the last second came.
    recent: std::collections::VecDeque<Instant>,
}

impl State {
    /// Whether a request sent at `sent` went out after the last cut.
    fn after_cut(&self, sent: Instant) -> bool {
        self.cut_at.is_none_or(|at| sent >= at)
    }
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
                throttled_at: None,
                cut_at: None,
                recent: Default::default(),
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
    /// time of its one request and when it was sent, when it took one (adaptive mode learns
    /// from it).
    pub(crate) fn release(
        &self,
        permit: Option<OwnedSemaphorePermit>,
        ok: bool,
        latency: Option<(Duration, Instant)>,
    ) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        match permit {
            Some(p) if s.debt > 0 => {
                s.debt -= 1;
                p.forget();
            }
            p => drop(p),
        }
        if self.adaptive {
            if let (true, Some((l, sent))) = (ok, latency) {
                self.adapt(&mut s, l, sent);
            }
            return;
        }
        if ok {
            s.streak += 1;
            if s.streak >= RAISE_AFTER && s.current < self.max {
                s.streak = 0;
                self.raise(&mut s);
            }
        } else {
            s.streak = 0;
        }
    }

    /// One more slot.
    fn raise(&self, s: &mut State) {
        s.current += 1;
        if s.debt > 0 {
            s.debt -= 1;
        } else {
            self.sem.add_permits(1);
        }
    }

    /// Adaptive mode, after an unthrottled answer that took `latency` (sent at `sent`).
    fn adapt(&self, s: &mut State, latency: Duration, sent: Instant) {
        let floor = *s.floor.get_or_insert(latency);
        if latency < floor {
            s.floor = Some(latency);
        }
        let now = Instant::now();
        while s
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1))
        {
            s.recent.pop_front();
        }
        s.recent.push_back(now);
        // Latency that grew with load: more in flight only queues at the provider.
        if latency > floor.saturating_mul(2) + JITTER {
            if s.after_cut(sent) {
                s.slow_start = false;
                s.streak = 0;
                let target = (s.current * 3 / 4).max(1);
                self.cut_to(s, target);
                tracing::info!(
                    concurrency = s.current,
                    latency_ms = latency.as_millis() as u64,
                    floor_ms = floor.as_millis() as u64,
                    "latency grows with load: fewer requests in flight"
                );
            }
            return;
        }
        s.streak += 1;
        // Slow start: one more per answer; after congestion: one more per round trip, and
        // back to where throttling started only after PROBE_ROUNDS round trips.
        // Answers faster than the noise: more in flight gains little, one more per round trip.
        let needed = match s.throttled_at {
            _ if s.slow_start && latency >= JITTER => 1,
            Some(t) if s.current + 1 >= t => s.current * PROBE_ROUNDS,
            _ => s.current,
        };
        if s.streak >= needed && s.current < self.max {
            s.streak = 0;
            self.raise(s);
            if s.throttled_at.is_some_and(|t| s.current > t) {
                s.throttled_at = None;
            }
            tracing::info!(
                concurrency = s.current,
                "answers stay fast: one more request in flight"
            );
        }
    }

    /// Lower the bound to `target` slots (slots in use are forgotten as they come back) and
    /// remember the cut.
    fn cut_to(&self, s: &mut State, target: usize) {
        s.cut_at = Some(Instant::now());
        while s.current > target {
            s.current -= 1;
            match self.sem.try_acquire() {
                Ok(p) => p.forget(),
                Err(_) => s.debt += 1,
            }
        }
    }

    /// The provider asked us to slow down, answering a request sent at `sent`: one slot fewer
    /// (never below one), or half as many in adaptive mode, once per round trip. Returns
    /// the new concurrency when it changed.
    pub(crate) fn throttle(&self, sent: Instant) -> Option<usize> {
        let mut s = self.state.lock().ok()?;
        s.streak = 0;
        if s.current <= 1 {
            return None;
        }
        if self.adaptive {
            if !s.after_cut(sent) {
                return None;
            }
            s.slow_start = false;
            // Half of what was really in flight (TCP's FlightSize / 2): a bound that answers
            // faster than they are sent never filled says nothing.
            let held = (s.current + s.debt).saturating_sub(self.sem.available_permits());
            let in_flight = held.clamp(1, s.current);
            s.throttled_at = Some(in_flight);
            // And no more than the rate accepted in the last second needs (Little's law).
            let needs = match (s.recent.len(), s.floor) {
                (0, _) | (_, None) => usize::MAX,
                (n, Some(f)) => (n as f64 * f.as_secs_f64()).ceil() as usize,
            };
            self.cut_to(&mut s, (in_flight / 2).min(needs).max(1));
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
/// flight; from then on a gap between requests, AIMD on the rate in the manner of the AWS SDKs'
/// adaptive retry mode: the first gap allows 90 % of the requests accepted in the last second;
/// a throttled answer (to a request sent after the last cut) makes the rate 15 % lower and
/// remembers the rate it was throttled at, but never below a quarter of the first pace (a
/// provider that refuses a share of requests whatever the rate would otherwise slow the run to
/// a halt); each accepted answer raises the rate by 2 % while below 90 % of that rate, by 0.1 %
/// above it (gone again below a millisecond's gap).
#[derive(Debug, Default)]
pub(crate) struct Pace {
    state: Mutex<PaceState>,
}

#[derive(Debug, Default)]
struct PaceState {
    gap: Option<Duration>,
    /// The gap when throttling last happened.
    throttled_gap: Option<Duration>,
    /// The widest gap throttling may set: [`SLOWEST`] times the first. Throttling that goes on
    /// however slowly requests leave (a provider refusing a share of requests at random) does
    /// not slow the run toward a halt.
    widest: Option<Duration>,
    /// When the next request may leave.
    next: Option<Instant>,
    /// When the gap was last widened: throttled answers to earlier requests are not counted.
    cut_at: Option<Instant>,
    /// When the answers of the last second were accepted.
    accepted: std::collections::VecDeque<Instant>,
}

/// The widest first gap, and the widest gap.
const FIRST_GAP_MAX: Duration = Duration::from_secs(2);
const GAP_MAX: Duration = Duration::from_secs(60);
/// How much slower than the first pace throttling may make the run.
const SLOWEST: u32 = 4;

impl Pace {
    /// Wait for this request's turn (at once while no gap is set).
    pub(crate) async fn wait(&self) {
        let at = {
            let Ok(mut s) = self.state.lock() else {
                return;
            };
            let now = Instant::now();
            match (s.gap, s.next) {
                (Some(gap), Some(next)) if next > now => {
                    s.next = Some(next + gap);
                    next
                }
                (Some(gap), _) => {
                    s.next = Some(now + gap);
                    now
                }
                (None, _) => now,
            }
        };
        // Not even a zero wait when no gap is set: tokio's timer fires on its next
        // millisecond tick, a millisecond per request for nothing.
        if at > tokio::time::Instant::now() {
            tokio::time::sleep_until(at).await;
        }
    }

    /// A throttled answer to a request sent at `sent`; `at_floor` when one request is in flight
    /// (concurrency can go no lower). Returns the new gap when it changed.
    pub(crate) fn throttled(&self, at_floor: bool, sent: Instant) -> Option<Duration> {
        let mut s = self.state.lock().ok()?;
        let now = Instant::now();
        if s.cut_at.is_some_and(|at| sent < at) {
            return None;
        }
        let gap = match s.gap {
            Some(g) => {
                s.throttled_gap = Some(g);
                g.div_f64(0.85).min(s.widest.unwrap_or(GAP_MAX))
            }
            None if at_floor => {
                let recent = s.recent(now).max(1) as f64;
                s.throttled_gap = Some(Duration::from_secs_f64(1.0 / recent));
                let first = Duration::from_secs_f64(1.0 / (0.9 * recent)).min(FIRST_GAP_MAX);
                s.widest = Some(s.widest.unwrap_or((first * SLOWEST).min(GAP_MAX)));
                first
            }
            None => return None,
        };
        s.gap = Some(gap);
        s.cut_at = Some(now);
        s.next = Some(now + gap);
        s.gap
    }

    /// An accepted answer: a little faster.
    pub(crate) fn accepted(&self) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        let now = Instant::now();
        s.recent(now);
        s.accepted.push_back(now);
        if let Some(g) = s.gap {
            let near = s.throttled_gap.is_some_and(|t| g.mul_f64(0.9) <= t);
            let g = g.div_f64(if near { 1.001 } else { 1.02 });
            s.gap = (g >= Duration::from_millis(1)).then_some(g);
        }
    }

    /// The current rate in requests per second, when paced.
    pub(crate) fn rate(&self) -> Option<f64> {
        let s = self.state.lock().ok()?;
        s.gap.map(|g| 1.0 / g.as_secs_f64().max(1e-9))
    }
}

impl PaceState {
    /// Answers accepted in the last second (older ones forgotten).
    fn recent(&mut self, now: Instant) -> usize {
        while self
            .accepted
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1))
        {
            self.accepted.pop_front();
        }
        self.accepted.len()
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
mod tests;
