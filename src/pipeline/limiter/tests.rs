//! Unit tests of the concurrency limiter and the pace, under a paused clock.

use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::test(start_paused = true)]
async fn a_fixed_bound_loses_a_slot_per_throttle_and_regains_one_per_20_clean_batches() {
    let l = Limiter::new(3);
    let now = Instant::now();
    assert_eq!(l.throttle(now), Some(2));
    assert_eq!(l.throttle(now), Some(1));
    assert_eq!(l.throttle(now), None);
    // Two permits must be forgotten as they come back.
    let a = l.acquire().await;
    let b = l.acquire().await;
    let c = l.acquire().await;
    for p in [a, b, c] {
        l.release(Some(p), false, None);
    }
    assert_eq!(l.sem.available_permits(), 1);
    for _ in 0..RAISE_AFTER {
        let p = l.acquire().await;
        l.release(Some(p), true, None);
    }
    assert_eq!(l.current(), 2);
    assert_eq!(l.sem.available_permits(), 2);
}

/// `n` answers one after another, each sent now and taking `latency` (the paused clock
/// moves by it).
async fn answers(l: &Limiter, n: usize, latency: u64) {
    for _ in 0..n {
        let p = l.acquire().await;
        let sent = Instant::now();
        tokio::time::advance(ms(latency)).await;
        l.release(Some(p), true, Some((ms(latency), sent)));
    }
}

#[tokio::test(start_paused = true)]
async fn auto_doubles_per_round_trip_while_latency_stays_near_its_floor_up_to_64() {
    let l = Limiter::auto();
    assert_eq!(l.current(), AUTO_START);
    answers(&l, 10, 200).await;
    assert_eq!(l.current(), AUTO_START + 10, "one more per answer at first");
    // Noise under twice the floor plus JITTER is not load.
    answers(&l, 200, 200 * 2 + 19).await;
    assert_eq!(l.current(), AUTO_MAX);
    assert_eq!(l.sem.available_permits(), AUTO_MAX);
}

#[tokio::test(start_paused = true)]
async fn auto_cuts_a_quarter_once_per_round_trip_when_latency_grows_with_load() {
    let l = Limiter::auto();
    answers(&l, 20, 100).await;
    assert_eq!(l.current(), 24);
    // A queue past a knee: answers to requests sent before the cut take 300 ms too.
    let before = Instant::now();
    tokio::time::advance(ms(300)).await;
    let p = l.acquire().await;
    l.release(Some(p), true, Some((ms(300), before)));
    assert_eq!(l.current(), 18, "a quarter fewer");
    for _ in 0..10 {
        let p = l.acquire().await;
        l.release(Some(p), true, Some((ms(300), before)));
    }
    assert_eq!(l.current(), 18, "one cut per round trip");
    assert_eq!(l.sem.available_permits(), 18);
    // Then one more per round trip (18 answers), not per answer.
    answers(&l, 17, 100).await;
    assert_eq!(l.current(), 18);
    answers(&l, 1, 100).await;
    assert_eq!(l.current(), 19);
}

#[tokio::test(start_paused = true)]
async fn auto_halves_on_throttling_once_per_round_trip_and_probes_back_slowly() {
    // A provider that takes 2 in flight: the defaults start at 4.
    let l = Limiter::auto();
    let held = futures_held(&l, 4).await;
    let sent = Instant::now();
    tokio::time::advance(ms(1)).await;
    assert_eq!(l.throttle(sent), Some(2));
    assert_eq!(l.throttle(sent), None, "the same round trip");
    for p in held {
        l.release(Some(p), false, None);
    }
    assert_eq!(l.sem.available_permits(), 2);
    // 3 was never tried: one more after a round trip at 2.
    answers(&l, 2, 50).await;
    assert_eq!(l.current(), 3);
    // Throttled with 3 in flight: back to 1, then one more per round trip up to 2.
    let held = futures_held(&l, 3).await;
    assert_eq!(l.throttle(Instant::now()), Some(1));
    for p in held {
        l.release(Some(p), false, None);
    }
    answers(&l, 1, 50).await;
    assert_eq!(l.current(), 2);
    // A probe at 3, where it was throttled, waits PROBE_ROUNDS round trips.
    answers(&l, 2 * PROBE_ROUNDS - 1, 50).await;
    assert_eq!(l.current(), 2);
    answers(&l, 1, 50).await;
    assert_eq!(l.current(), 3);
    // Answers faster than requests leave: what was really in flight (one) is halved.
    tokio::time::advance(ms(1)).await;
    assert_eq!(l.throttle(Instant::now()), Some(1));
    assert_eq!(l.throttle(Instant::now()), None, "never below one");
}

#[tokio::test(start_paused = true)]
async fn fast_answers_grow_the_bound_per_round_trip_and_a_throttle_cuts_to_what_the_rate_needs() {
    // A rate limit in front of a fast server: answers in 1 ms.
    let l = Limiter::auto();
    answers(&l, 4 + 5 + 6, 1).await;
    assert_eq!(l.current(), 7, "one more per round trip, not per answer");
    let held = futures_held(&l, 6).await;
    // 15 accepted in the last second at 1 ms need one request in flight, not 3.
    assert_eq!(l.throttle(Instant::now()), Some(1));
    for p in held {
        l.release(Some(p), false, None);
    }
    assert_eq!(l.sem.available_permits(), 1);
    assert!(l.at_floor());
}

#[tokio::test(start_paused = true)]
async fn no_pace_until_throttled_at_one_in_flight() {
    let p = Pace::default();
    assert_eq!(p.throttled(false, Instant::now()), None);
    assert_eq!(p.rate(), None);
    let t0 = Instant::now();
    for _ in 0..5 {
        p.wait().await;
    }
    assert_eq!(t0.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_sets_a_pace_of_90_percent_of_what_was_accepted_then_aimd() {
    let p = Pace::default();
    // Ten requests per second accepted, then a throttle at one in flight.
    for _ in 0..10 {
        p.accepted();
        tokio::time::advance(ms(95)).await;
    }
    let sent = Instant::now();
    tokio::time::advance(ms(1)).await;
    let gap = p.throttled(true, sent).unwrap();
    assert!((p.rate().unwrap() - 9.0).abs() < 0.01, "{gap:?}");
    // Throttled answers to requests sent before that change nothing.
    assert_eq!(p.throttled(true, sent), None);
    // Requests now leave one gap apart.
    let t0 = Instant::now();
    for _ in 0..3 {
        p.wait().await;
    }
    // The first one gap after the throttle (the paused clock counts whole milliseconds).
    assert!(
        t0.elapsed().abs_diff(gap * 3) <= ms(1),
        "{:?}",
        t0.elapsed()
    );
    // Near the rate it was throttled at, 0.1 % faster per accepted answer.
    p.accepted();
    assert!((p.rate().unwrap() - 9.009).abs() < 0.001);
    // Throttled again: 15 % slower; then 2 % faster per answer up to 90 % of that rate.
    let r = p.rate().unwrap();
    tokio::time::advance(ms(1)).await;
    p.throttled(true, Instant::now()).unwrap();
    assert!((p.rate().unwrap() - r * 0.85).abs() < 0.001);
    p.accepted();
    assert!((p.rate().unwrap() - r * 0.85 * 1.02).abs() < 0.001);
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

#[tokio::test(start_paused = true)]
async fn throttling_whatever_the_rate_slows_the_pace_to_a_quarter_of_the_first_at_most() {
    let p = Pace::default();
    for _ in 0..10 {
        p.accepted();
        tokio::time::advance(ms(95)).await;
    }
    tokio::time::advance(ms(1)).await;
    let first = p.throttled(true, Instant::now()).unwrap();
    // Forty throttles in a row, each to a request sent after the last cut: without a floor the
    // pace would fall to 0.85^40 of the first, under 0.2 %.
    for _ in 0..40 {
        tokio::time::advance(ms(1)).await;
        p.throttled(true, Instant::now());
    }
    let first_rate = 1.0 / first.as_secs_f64();
    let rate = p.rate().unwrap();
    assert!(
        (rate - first_rate / 4.0).abs() < 0.01,
        "{rate} vs {first_rate}"
    );
    // Accepted answers raise it again.
    p.accepted();
    assert!(p.rate().unwrap() > rate);
}
