//! The sending stage: batches dispatched under the concurrency bound and rate limit, each
//! signed afresh and retried per the retry policy, whole-batch refusals bisected, and every
//! row's outcome handed to the collector.
//!
//! Invariants: a request is re-signed with a fresh timestamp on every attempt, after waiting
//! for its slot and its backoff; a row is `succeeded` only on the provider's word; a row whose
//! request may have been applied but never got a definite answer is `unknown`, never dropped.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use governor::DefaultDirectRateLimiter;
use tokio::sync::mpsc::{Receiver, Sender};
use tokio::sync::OwnedSemaphorePermit;
use tokio::task::JoinSet;

use super::budget::Budget;
use super::clock::Clock;
use super::limiter::{rate_limiter, Limiter, Pace};
use super::retry::{self, Attempts, Cause, Decision, Facts, Retry, RetryPolicy, Step};
use super::{Batch, Event, Item, Outcome, Shared, WriteFailure};
use crate::config::{MaxFailures, Settings};
use crate::http::Http;
use crate::journal::Journal;
use crate::provider::{Provider, RowAnswer};
use crate::resume::Resume;
use crate::stop::{Reason, Stop};

/// Request counters shared with the summary.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
}

/// How the send stage behaves: the settings it reads, as one value.
#[derive(Debug, Clone)]
pub(crate) struct SendOptions {
    /// `--retries`: attempts after the first for failures that may pass (never throttling).
    pub(crate) retries: u32,
    /// `--backoff`: the first backoff, doubled per attempt.
    pub(crate) backoff: Duration,
    /// Whether a batch refused whole is split to find the rows the provider refuses.
    pub(crate) bisect: bool,
    /// `--concurrency`; `None` is `auto`.
    pub(crate) concurrency: Option<usize>,
    /// `--rate`; `None` is `auto`: no rate until throttling reaches one request in flight.
    pub(crate) rate: Option<f64>,
    /// `--max-failures`.
    pub(crate) max_failures: Option<MaxFailures>,
    /// `--give-up-after`.
    pub(crate) give_up_after: Duration,
}

impl SendOptions {
    pub(crate) fn of(settings: &Settings) -> SendOptions {
        SendOptions {
            retries: settings.retries,
            backoff: settings.backoff,
            bisect: settings.bisect,
            concurrency: settings.concurrency,
            rate: settings.rate,
            max_failures: settings.max_failures,
            give_up_after: settings.give_up_after,
        }
    }
}

/// Everything a batch sender needs.
pub(crate) struct SendStage<P: Provider> {
    provider: Arc<P>,
    http: Http,
    /// What follows a retryable failure (`--retries`, `--backoff-ms`).
    policy: RetryPolicy,
    bisect: bool,
    stop: Stop,
    clock: Clock,
    limiter: Limiter,
    rate: Option<DefaultDirectRateLimiter>,
    /// `--rate N`, as given (for `-v`).
    fixed_rate: Option<f64>,
    counters: Arc<Counters>,
    events: Sender<Event<P::Customer>>,
    journal: Option<Arc<Journal>>,
    /// `--max-failures`, judged here as each part of a batch ends.
    budget: Budget,
    /// The run being resumed: its rows sent without an outcome may be held by the provider.
    resume: Option<Arc<Resume>>,
    /// Set when the journal cannot be written (the collector shares it).
    write_failure: WriteFailure,
    throttle_said: AtomicBool,
    /// Whether any attempt of this run has reached a server (anything but a failed connection).
    reached: AtomicBool,
    /// Whole-request refusals that bisection traced to single rows, all failing alike.
    suspect: std::sync::Mutex<Suspect>,
    /// `--give-up-after`: the run stops when the provider has throttled for this long without
    /// answering any batch.
    give_up_after: Duration,
    /// Until when every request waits, after a throttled answer's `Retry-After`.
    paused_until: std::sync::Mutex<Option<tokio::time::Instant>>,
    /// What the progress bar shows of the pace.
    load: Arc<super::limiter::LoadView>,
    /// `--rate auto`: the pace set once throttling reaches one request in flight.
    pace: Option<super::limiter::Pace>,
    /// When a batch was last answered (or the stage started).
    answered_at: std::sync::Mutex<tokio::time::Instant>,
    /// Seats the provider said do not exist (by lower-case name), with its code and message:
    /// later rows assigned to one fail without being sent.
    refused_seats: std::sync::Mutex<std::collections::HashMap<String, (String, String)>>,
}

impl<P: Provider> SendStage<P> {
    /// The send stage of a run: its options, where requests go, where outcomes go, and what
    /// the stages share.
    pub(crate) fn new(
        options: SendOptions,
        provider: Arc<P>,
        http: Http,
        events: Sender<Event<P::Customer>>,
        shared: &Shared,
    ) -> SendStage<P> {
        let (rate, pace) = match options.rate {
            Some(r) => (rate_limiter(r), None),
            None => (None, Some(Pace::default())),
        };
        SendStage {
            provider,
            http,
            policy: RetryPolicy::new(options.retries, options.backoff),
            bisect: options.bisect,
            stop: shared.stop.clone(),
            clock: Clock::default(),
            limiter: options.concurrency.map_or_else(Limiter::auto, Limiter::new),
            rate,
            fixed_rate: options.rate,
            counters: Arc::new(Counters::default()),
            events,
            journal: shared.journal.clone(),
            budget: Budget::new(options.max_failures),
            resume: shared.resume.clone(),
            write_failure: shared.write_failure.clone(),
            throttle_said: AtomicBool::new(false),
            reached: AtomicBool::new(false),
            suspect: std::sync::Mutex::new(Suspect::default()),
            refused_seats: Default::default(),
            give_up_after: options.give_up_after,
            pace,
            load: shared.load.clone(),
            paused_until: std::sync::Mutex::new(None),
            answered_at: std::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    /// The stage's request counters, for the summary.
    pub(crate) fn counters(&self) -> Arc<Counters> {
        self.counters.clone()
    }

    /// A throttled answer said `Retry-After`: no request of the run leaves before then.
    fn pause_all(&self, after: Duration) {
        let until = tokio::time::Instant::now() + after;
        if let Ok(mut p) = self.paused_until.lock() {
            if p.is_none_or(|at| at < until) {
                *p = Some(until);
            }
        }
    }

    /// Wait out a pause that a `Retry-After` asked for (at once when there is none).
    async fn paused(&self) {
        let until = self.paused_until.lock().ok().and_then(|p| *p);
        // A pause over is no wait (a timer would still cost a millisecond tick).
        if let Some(until) = until.filter(|u| *u > tokio::time::Instant::now()) {
            tokio::select! {
                _ = tokio::time::sleep_until(until) => {}
                _ = self.stop.wait() => {}
            }
        }
    }

    /// A batch was answered: the provider is taking work.
    fn made_progress(&self) {
        if let Some(p) = &self.pace {
            p.accepted();
        }
        if let Ok(mut at) = self.answered_at.lock() {
            *at = tokio::time::Instant::now();
        }
    }

    /// While throttled: the stop message once no batch was answered for `--give-up-after`.
    fn idle_too_long(&self) -> Option<String> {
        let idle = self.answered_at.lock().ok()?.elapsed();
        (idle >= self.give_up_after).then(|| {
            format!(
                "the provider kept throttling (HTTP 429 or its \"too frequent\" code) and answered no batch for {} s (--give-up-after); the rows not sent are pending: run again later with --resume",
                idle.as_secs()
            )
        })
    }

    /// The refusal remembered for the seat of `item`, if its seat was refused in this run.
    fn refused_for(&self, item: &Item<P::Customer>) -> Option<(String, String)> {
        let seat = self.provider.seat_of(&item.customer)?;
        let seats = self.refused_seats.lock().ok()?;
        seats.get(&seat.trim().to_lowercase()).cloned()
    }

    /// A whole-request refusal naming a seat some of `items` are assigned to: remember it, and
    /// split `items` into the rows of that seat and the others. `None`: not such a refusal.
    fn seat_refusal(
        &self,
        fin: &PartEnd,
        items: &mut Vec<Item<P::Customer>>,
    ) -> Option<Vec<Item<P::Customer>>> {
        let PartEnd::Refused { code, message, .. } = fin else {
            return None;
        };
        let seat = self.provider.refused_seat(code, message)?.to_lowercase();
        let of_seat = |i: &Item<P::Customer>| {
            self.provider
                .seat_of(&i.customer)
                .is_some_and(|s| s.trim().to_lowercase() == seat)
        };
        if !items.iter().any(of_seat) {
            return None;
        }
        if let Ok(mut seats) = self.refused_seats.lock() {
            seats.insert(seat.clone(), (code.clone(), message.clone()));
        }
        let (bad, rest): (Vec<_>, Vec<_>) = std::mem::take(items).into_iter().partition(of_seat);
        *items = rest;
        tracing::info!(seat = %seat, rows = bad.len(), "a seat that does not exist: its rows fail, the others are sent again");
        Some(bad)
    }

    /// Report `items` with their outcomes, judging `--max-failures` first.
    async fn part_done(&self, items: Vec<Item<P::Customer>>, outcomes: Vec<Outcome>) {
        if let Some(message) = self.budget.record(&outcomes) {
            self.stop.set(Reason::MaxFailures, message);
        }
        let done: Vec<(Item<P::Customer>, Outcome)> = items.into_iter().zip(outcomes).collect();
        let _ = self.events.send(Event::Done(done)).await;
    }

    /// Rows whose seat was refused earlier in the run fail at once, as the provider said.
    async fn fail_refused_seats(&self, items: Vec<Item<P::Customer>>) -> Vec<Item<P::Customer>> {
        // Nearly every run has none: then no row's seat is looked up.
        if self.refused_seats.lock().map_or(true, |s| s.is_empty()) {
            return items;
        }
        let mut failed = Vec::new();
        let mut outcomes = Vec::new();
        let mut rest = Vec::with_capacity(items.len());
        for item in items {
            match self.refused_for(&item) {
                Some((code, message)) => {
                    outcomes.push(Outcome::Failed { code, message });
                    failed.push(item);
                }
                None => rest.push(item),
            }
        }
        if !failed.is_empty() {
            self.part_done(failed, outcomes).await;
        }
        rest
    }
}

/// A dry run's send stage: each batch is counted as the request it would be, and nothing is
/// sent.
pub(crate) async fn plan_only<C>(mut batches: Receiver<Batch<C>>, events: Sender<Event<C>>) {
    while let Some(batch) = batches.recv().await {
        let rows = batch.items.len() as u64;
        let _ = events.send(Event::Valid { rows }).await;
    }
}

/// Dispatch batches until the reader is done, then wait for every batch in flight.
pub(crate) async fn dispatch<P: Provider>(
    ctx: Arc<SendStage<P>>,
    mut batches: Receiver<Batch<P::Customer>>,
) {
    let mut tasks = JoinSet::new();
    while let Some(batch) = batches.recv().await {
        if ctx.stop.is_set() {
            let _ = ctx.events.send(Event::pending(batch.items)).await;
            continue;
        }
        let permit = tokio::select! {
            p = ctx.limiter.acquire() => p,
            _ = ctx.stop.wait() => {
                let _ = ctx.events.send(Event::pending(batch.items)).await;
                continue;
            }
        };
        // Group commit: take the batches that are ready and have a free slot too, so one
        // journal sync covers them all.
        let mut ready = vec![(batch, permit)];
        while ready.len() < 64 {
            let Some(permit) = ctx.limiter.try_acquire() else {
                break;
            };
            match batches.try_recv() {
                Ok(b) => ready.push((b, permit)),
                Err(_) => {
                    drop(permit);
                    break;
                }
            }
        }
        if let Some(j) = &ctx.journal {
            let rows: Vec<u64> = ready
                .iter()
                .flat_map(|(b, _)| b.items.iter().map(|i| i.row))
                .collect();
            // The journal entries are written (and, where the provider's answers depend on
            // them, synced to disk) before the batches may leave.
            let written = if ctx.provider.spec().resend_needs_history {
                // A disk flush takes a while: off the async thread, so answers keep flowing.
                let j = j.clone();
                tokio::task::spawn_blocking(move || j.sent(&rows, true))
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e)))
            } else {
                j.sent(&rows, false)
            };
            if let Err(e) = written {
                ctx.write_failure.set("the journal", &e);
                ctx.stop
                    .set(Reason::Fatal, format!("cannot write the journal: {e}"));
                for (b, _permit) in ready {
                    let _ = ctx.events.send(Event::pending(b.items)).await;
                }
                continue;
            }
        }
        while let Some(done) = tasks.try_join_next() {
            bug_goes_on(done);
        }
        for (b, permit) in ready {
            tasks.spawn(send_batch(ctx.clone(), b, permit));
        }
    }
    while let Some(done) = tasks.join_next().await {
        bug_goes_on(done);
    }
}

/// A sender that panicked is a bug: the panic goes on unwinding in the run (exit 101), instead
/// of its rows silently having no outcome.
fn bug_goes_on(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

/// What the sending of one batch showed of the provider, for the concurrency limiter.
#[derive(Debug, Default)]
struct Notes {
    /// Some attempt was throttled.
    throttled: bool,
    /// How long the first request took, and when it was sent.
    latency: Option<(Duration, tokio::time::Instant)>,
    /// When the last request was sent.
    sent_at: Option<tokio::time::Instant>,
    /// The batch's slot; given back while a throttled attempt waits, taken again to resend (so
    /// a lowered concurrency holds back resends too).
    permit: Option<OwnedSemaphorePermit>,
    /// Requests parts sent (more than one after a refusal split the batch).
    parts: u32,
}

/// How a (sub-)batch ended.
enum PartEnd {
    Rows {
        rows: Vec<RowAnswer>,
        unattributed: Vec<String>,
        maybe_applied: bool,
    },
    Refused {
        code: String,
        message: String,
        bisect: bool,
    },
    /// Retries ran out. `maybe_applied`: some attempt may have reached the provider.
    GaveUp {
        code: String,
        message: String,
        maybe_applied: bool,
    },
    /// The run stops; nothing of this batch was applied (or it is unknown whether).
    Stopped { maybe_applied: bool },
}

async fn send_batch<P: Provider>(
    ctx: Arc<SendStage<P>>,
    batch: Batch<P::Customer>,
    permit: OwnedSemaphorePermit,
) {
    let mut notes = Notes {
        permit: Some(permit),
        ..Notes::default()
    };
    let mut stack: Vec<Vec<Item<P::Customer>>> = vec![batch.items];
    // The provider sizes the body buffer (it knows the rows' lengths).
    let mut buf = Vec::new();
    // Whether every part of this batch ended as a single row refused whole with one code.
    let mut leaves = Leaves::default();
    while let Some(items) = stack.pop() {
        let mut items = ctx.fail_refused_seats(items).await;
        if items.is_empty() {
            continue;
        }
        let fin = attempt_loop(&ctx, batch.id, &items, &mut buf, &mut notes).await;
        let seat_refused = if ctx.bisect {
            ctx.seat_refusal(&fin, &mut items)
        } else {
            None
        };
        if let Some(bad) = seat_refused {
            // The seat's rows fail with the provider's word; the others go again.
            leaves.other = true;
            let outcomes = outcomes(&ctx, fin, &bad).await;
            ctx.part_done(bad, outcomes).await;
            if !items.is_empty() {
                stack.push(items);
            }
            continue;
        }
        leaves.see(&fin, items.len());
        let outcomes = match fin {
            PartEnd::Refused { bisect: true, .. }
                if ctx.bisect && items.len() > 1 && !ctx.stop.is_set() =>
            {
                let mut left = items;
                let right = left.split_off(left.len() / 2);
                tracing::debug!(
                    batch = batch.id,
                    left = left.len(),
                    right = right.len(),
                    "bisecting a refused batch"
                );
                stack.push(right);
                stack.push(left);
                continue;
            }
            fin => outcomes(&ctx, fin, &items).await,
        };
        ctx.part_done(items, outcomes).await;
    }
    if ctx.bisect {
        judge_suspect(&ctx, leaves);
    }
    ctx.limiter.release(
        notes.permit.take(),
        !notes.throttled,
        notes.latency.filter(|_| notes.parts == 1),
    );
    // The rate in force: the pace `--rate auto` set, or `--rate N`; shown by the progress bar
    // and, one line per batch, by `-v`.
    let rate = ctx.pace.as_ref().and_then(Pace::rate).or(ctx.fixed_rate);
    let concurrency = ctx.limiter.current();
    ctx.load.set(concurrency, rate);
    let rate = match rate {
        Some(r) => format!("{r:.2}/s"),
        None => "auto (not limited)".to_owned(),
    };
    tracing::info!(
        batch = batch.id,
        requests = notes.parts,
        concurrency,
        rate = %rate,
        "batch done"
    );
}

mod attempt;
mod outcome;
use attempt::attempt_loop;
use outcome::*;

#[cfg(test)]
mod tests;
