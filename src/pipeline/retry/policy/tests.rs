//! Tables of retryable failures and the decisions the policy makes after each, without tokio:
//! the jitter is fixed (the ceiling itself, or zero), so every wait is exact.

use std::time::Duration;

use super::*;
use crate::http::TransportKind;

const URL: &str = "https://api.example/x";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `--retries retries`, `--backoff-ms 100`, every wait drawn at its ceiling.
fn policy(retries: u32) -> RetryPolicy {
    RetryPolicy::new(retries, ms(100)).with_jitter(|ceiling| ceiling)
}

fn failure(cause: Cause, code: &str, maybe_applied: bool) -> Retry {
    Retry {
        cause,
        code: code.into(),
        message: format!("{code} said"),
        maybe_applied,
        at_least: None,
    }
}

fn transport(kind: TransportKind) -> Retry {
    failure(Cause::Transport(kind), kind.code(), kind.maybe_applied())
}

fn throttle() -> Retry {
    failure(Cause::Throttle, "http_429", false)
}

fn server_error() -> Retry {
    failure(Cause::ServerError, "http_503", true)
}

fn clock() -> Retry {
    failure(Cause::Clock { date: None }, "retry", false)
}

fn at_least(mut retry: Retry, wait: Duration) -> Retry {
    retry.at_least = Some(wait);
    retry
}

fn wait(n: u64) -> Decision {
    Decision::Wait(ms(n))
}

fn gave_up(attempts: u32, code: &str, maybe_applied: bool) -> Decision {
    Decision::GiveUp {
        code: code.into(),
        message: match attempts {
            1 => format!("gave up after 1 attempt: {code} said"),
            n => format!("gave up after {n} attempts: {code} said"),
        },
        maybe_applied,
    }
}

/// The decisions after each of `failures`, in order, for one part of a run that has reached a
/// server, with the clock 2.5 s behind.
fn decide(policy: RetryPolicy, failures: Vec<Retry>) -> Vec<Decision> {
    decide_with(policy, failures, true)
}

fn decide_with(policy: RetryPolicy, failures: Vec<Retry>, reached: bool) -> Vec<Decision> {
    let facts = Facts {
        url: URL,
        reached,
        clock_offset_ms: 2500,
    };
    let mut attempts = Attempts::default();
    failures
        .into_iter()
        .map(|f| policy.after(&mut attempts, f, &facts))
        .collect()
}

#[test]
fn transport_failures_back_off_up_to_the_retries_then_give_up() {
    use TransportKind::{Connect, Cut, Timeout, TooLarge};
    let table = [
        // (--retries, failures, decisions)
        (
            2,
            vec![transport(Timeout); 3],
            vec![wait(100), wait(200), gave_up(3, "timeout", true)],
        ),
        (
            0,
            vec![transport(Cut)],
            vec![gave_up(1, "connection_error", true)],
        ),
        (
            1,
            vec![transport(Connect); 2],
            vec![wait(100), gave_up(2, "connect_error", false)],
        ),
        // Once an attempt may have been applied, giving up says so, whatever the last one was.
        (
            1,
            vec![transport(TooLarge), transport(Connect)],
            vec![wait(100), gave_up(2, "connect_error", true)],
        ),
        (
            3,
            vec![
                server_error(),
                transport(Connect),
                transport(Timeout),
                server_error(),
            ],
            vec![
                wait(100),
                wait(200),
                wait(400),
                gave_up(4, "http_503", true),
            ],
        ),
    ];
    for (retries, failures, want) in table {
        assert_eq!(
            decide(policy(retries), failures),
            want,
            "--retries {retries}"
        );
    }
}

#[test]
fn unreadable_answers_count_against_the_retries() {
    let unreadable = failure(Cause::Unparsable, "http_202", true);
    assert_eq!(
        decide(policy(1), vec![unreadable.clone(), unreadable]),
        vec![wait(100), gave_up(2, "http_202", true)]
    );
}

#[test]
fn a_run_that_never_reached_a_server_stops_instead_of_giving_up() {
    let decisions = decide_with(policy(2), vec![transport(TransportKind::Connect); 3], false);
    assert_eq!(
        decisions,
        vec![
            wait(100),
            wait(200),
            Decision::Stop {
                message: "cannot reach https://api.example/x: connect_error said (after 3 attempts). Check --base-url and the network, then run again with --resume".into()
            }
        ]
    );
}

#[test]
fn throttles_never_use_up_the_retries() {
    // With none allowed, five throttles are waited out; the first failure that counts ends it.
    let mut failures = vec![throttle(); 5];
    failures.push(transport(TransportKind::Timeout));
    assert_eq!(
        decide(policy(0), failures),
        vec![
            wait(100),
            wait(200),
            wait(400),
            wait(800),
            wait(1600),
            gave_up(1, "timeout", true)
        ]
    );
    // One retry: the counted failures back off from their own count, not the throttles'.
    let mut failures = vec![throttle(); 5];
    failures.extend([server_error(), server_error()]);
    let decisions = decide(policy(1), failures);
    assert_eq!(decisions[5..], [wait(100), gave_up(2, "http_503", true)]);
}

#[test]
fn throttles_back_off_from_their_own_count() {
    let failures = vec![
        server_error(),
        server_error(),
        throttle(),
        throttle(),
        server_error(),
    ];
    assert_eq!(
        decide(policy(5), failures),
        vec![wait(100), wait(200), wait(100), wait(200), wait(400)]
    );
}

#[test]
fn clock_refusals_retry_at_once_three_times_then_stop() {
    let stop = Decision::Stop {
        message: "clock skew: the provider keeps refusing our timestamps (retry said); measured offset 2.5 s. Fix this machine's clock (NTP), then run again with --resume".into(),
    };
    assert_eq!(
        decide(policy(10), vec![clock(); 4]),
        vec![wait(0), wait(0), wait(0), stop.clone()]
    );
    // Clock refusals use up no retry, and failures no correction.
    let failures = vec![
        clock(),
        clock(),
        clock(),
        transport(TransportKind::Timeout),
        clock(),
    ];
    assert_eq!(
        decide(policy(1), failures),
        vec![wait(0), wait(0), wait(0), wait(100), stop]
    );
    let failures = vec![server_error(), clock(), clock(), clock(), server_error()];
    assert_eq!(
        decide(policy(1), failures),
        vec![
            wait(100),
            wait(0),
            wait(0),
            wait(0),
            gave_up(2, "http_503", true)
        ]
    );
}

#[test]
fn the_backoff_doubles_up_to_its_cap() {
    let decisions = decide(policy(40), vec![server_error(); 40]);
    let waits: Vec<Duration> = decisions
        .iter()
        .map(|d| match d {
            Decision::Wait(w) => *w,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(waits[..3], [ms(100), ms(200), ms(400)]);
    // 100 ms * 2^8 = 25.6 s; 2^9 would be 51.2 s: the cap from there on.
    assert_eq!(waits[8], ms(25_600));
    assert!(waits[9..].iter().all(|w| *w == BACKOFF_CAP), "{waits:?}");
    assert_eq!(policy(0).ceiling(u32::MAX), BACKOFF_CAP);
    // A zero base never waits.
    let zero = RetryPolicy::new(5, Duration::ZERO).with_jitter(|ceiling| ceiling);
    let decisions = decide(
        zero,
        vec![throttle(), server_error(), server_error(), throttle()],
    );
    assert_eq!(decisions, vec![wait(0); 4]);
}

#[test]
fn a_jitter_beyond_the_ceiling_is_held_to_it() {
    let wild = RetryPolicy::new(3, ms(100)).with_jitter(|_| Duration::from_secs(3600));
    assert_eq!(
        decide(wild, vec![server_error(), throttle()]),
        vec![wait(100), wait(100)]
    );
}

#[test]
fn retry_after_raises_the_wait() {
    let none = RetryPolicy::new(3, ms(100)).with_jitter(|_| Duration::ZERO);
    let failures = vec![
        at_least(throttle(), ms(7000)),
        at_least(server_error(), ms(5000)),
        server_error(),
        at_least(clock(), ms(300)),
    ];
    assert_eq!(
        decide(none, failures.clone()),
        vec![wait(7000), wait(5000), wait(0), wait(300)]
    );
    // A Retry-After shorter than the backoff leaves the backoff.
    let failures = vec![
        at_least(server_error(), ms(50)),
        at_least(throttle(), ms(30_000)),
    ];
    assert_eq!(decide(policy(3), failures), vec![wait(100), wait(30_000)]);
}

#[test]
fn full_jitter_stays_under_the_ceiling_and_spreads() {
    assert_eq!(full_jitter(Duration::ZERO), Duration::ZERO);
    let ceiling = ms(800);
    let draws: Vec<Duration> = (0..200).map(|_| full_jitter(ceiling)).collect();
    assert!(draws.iter().all(|d| *d <= ceiling), "{draws:?}");
    // Uniform over the window: 200 draws all under half of it would be a broken jitter.
    assert!(draws.iter().any(|d| *d > ms(400)), "{draws:?}");
    assert!(draws.iter().any(|d| *d < ms(400)), "{draws:?}");
}
