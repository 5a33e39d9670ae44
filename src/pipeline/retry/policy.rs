//! The retry policy: after a retryable failure, how long to wait before the next attempt, or
//! whether the part gives up or the run stops. Pure: no clock, no I/O; the jitter is a plain
//! function the policy is built with, so tests draw deterministically.
//!
//! Rules: transport failures, unreadable answers and server errors count against `--retries`
//! and back off from their own count; throttling never counts against `--retries` and backs off
//! from its own count (`--give-up-after`, judged by the sender, bounds it); a refused
//! timestamp is retried at once after the sender corrected the clock, three times, and the
//! fourth refusal stops the run. Every wait is at least what the provider asked for
//! (`Retry-After`). Once any attempt may have reached the provider, giving up says so.

use std::time::Duration;

use rand::Rng;

use super::{Cause, Retry};

/// Longest backoff between attempts.
pub(crate) const BACKOFF_CAP: Duration = Duration::from_secs(30);

/// Timestamp refusals retried (each after a clock correction) before the run stops.
const CLOCK_CORRECTIONS: u32 = 3;

/// What follows a retryable failure, for one (sub-)batch. Built once per run from
/// `--retries` and `--backoff-ms`; each part keeps its own [`Attempts`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    /// `--retries`: failures that count, beyond the first attempt, before giving up.
    retries: u32,
    /// `--backoff-ms`: the first backoff's ceiling; it doubles per count, up to `backoff_cap`.
    backoff_base: Duration,
    backoff_cap: Duration,
    /// Timestamp refusals retried before the run stops.
    clock_corrections: u32,
    /// Draws a wait in `[0, ceiling]` (full jitter; a fixed rule in tests).
    jitter: fn(Duration) -> Duration,
}

/// What the attempts of one part have seen so far.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Attempts {
    /// Some attempt may have reached the provider and been applied.
    maybe_applied: bool,
    /// Failures that count against `--retries`.
    failures: u32,
    /// Throttled attempts (which do not).
    throttles: u32,
    /// Timestamp refusals.
    clock_refusals: u32,
}

impl Attempts {
    /// Whether some attempt so far may have reached the provider and been applied.
    pub(crate) fn maybe_applied(&self) -> bool {
        self.maybe_applied
    }
}

/// What the run knows beyond the failure itself, for the policy's messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts<'a> {
    /// The endpoint.
    pub(crate) url: &'a str,
    /// Whether any attempt of this run (this one included) has reached a server.
    pub(crate) reached: bool,
    /// The clock's offset from the provider's, in milliseconds, after this attempt's correction.
    pub(crate) clock_offset_ms: i64,
}

/// What to do after a retryable failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Wait this long, then try again.
    Wait(Duration),
    /// The part's retries ran out: its rows end with this code and message, `unknown` when
    /// `maybe_applied`, `failed` otherwise.
    GiveUp {
        code: String,
        message: String,
        maybe_applied: bool,
    },
    /// Nothing more should be sent: stop the run with this message.
    Stop { message: String },
}

impl RetryPolicy {
    /// `retries` counted failures after the first attempt, backoff from `backoff_base`.
    pub(crate) fn new(retries: u32, backoff_base: Duration) -> RetryPolicy {
        RetryPolicy {
            retries,
            backoff_base,
            backoff_cap: BACKOFF_CAP,
            clock_corrections: CLOCK_CORRECTIONS,
            jitter: full_jitter,
        }
    }

    /// The same policy drawing its waits with `jitter` (given each wait's ceiling).
    #[cfg(test)]
    pub(crate) fn with_jitter(self, jitter: fn(Duration) -> Duration) -> RetryPolicy {
        RetryPolicy { jitter, ..self }
    }

    /// What follows `retry`, the failure of the latest attempt of the part `attempts` counts.
    pub(crate) fn after(
        &self,
        attempts: &mut Attempts,
        retry: Retry,
        facts: &Facts<'_>,
    ) -> Decision {
        attempts.maybe_applied |= retry.maybe_applied;
        let wait = match retry.cause {
            Cause::Clock { .. } => {
                attempts.clock_refusals = attempts.clock_refusals.saturating_add(1);
                if attempts.clock_refusals > self.clock_corrections {
                    return Decision::Stop {
                        message: format!(
                            "clock skew: the provider keeps refusing our timestamps ({}); measured offset {:.1} s. Fix this machine's clock (NTP), then run again with --resume",
                            retry.message,
                            facts.clock_offset_ms as f64 / 1000.0
                        ),
                    };
                }
                Duration::ZERO
            }
            Cause::Throttle => {
                let wait = self.backoff(attempts.throttles);
                attempts.throttles = attempts.throttles.saturating_add(1);
                wait
            }
            Cause::Transport(_) | Cause::Unparsable | Cause::ServerError => {
                if attempts.failures >= self.retries {
                    return self.give_up(attempts, retry, facts);
                }
                let wait = self.backoff(attempts.failures);
                attempts.failures += 1;
                wait
            }
        };
        Decision::Wait(wait.max(retry.at_least.unwrap_or_default()))
    }

    /// The retries of a part ran out. When nothing of this run has ever reached a server, the
    /// rest of the file would only grind through the same failure: the run stops, and the rows
    /// stay pending for `--resume`.
    fn give_up(&self, attempts: &Attempts, retry: Retry, facts: &Facts<'_>) -> Decision {
        let tries = match self.retries {
            0 => "1 attempt".to_owned(),
            n => format!("{} attempts", u64::from(n) + 1),
        };
        if !facts.reached {
            return Decision::Stop {
                message: format!(
                    "cannot reach {}: {} (after {tries}). Check --base-url and the network, then run again with --resume",
                    facts.url, retry.message,
                ),
            };
        }
        Decision::GiveUp {
            code: retry.code,
            message: format!("gave up after {tries}: {}", retry.message),
            maybe_applied: attempts.maybe_applied,
        }
    }

    /// The ceiling of the backoff after `count` earlier ones of its kind:
    /// `min(cap, base * 2^count)`.
    pub(crate) fn ceiling(&self, count: u32) -> Duration {
        self.backoff_base
            .checked_mul(1u32.checked_shl(count.min(20)).unwrap_or(u32::MAX))
            .unwrap_or(self.backoff_cap)
            .min(self.backoff_cap)
    }

    /// The backoff after `count` earlier ones of its kind: drawn up to its ceiling.
    fn backoff(&self, count: u32) -> Duration {
        let ceiling = self.ceiling(count);
        (self.jitter)(ceiling).min(ceiling)
    }
}

/// Full jitter: uniform in `[0, ceiling]`, at millisecond grain.
pub(crate) fn full_jitter(ceiling: Duration) -> Duration {
    if ceiling.is_zero() {
        return Duration::ZERO;
    }
    let ms = rand::rng().random_range(0..=ceiling.as_millis().max(1) as u64);
    Duration::from_millis(ms)
}

#[cfg(test)]
mod tests;
