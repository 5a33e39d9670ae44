//! One (sub-)batch's attempts: waiting for its turn (the fixed rate, a slot, the pace, a
//! `Retry-After` pause), signing and posting, classifying what came back, and carrying out
//! what the retry policy decides after a retryable failure (wait and go again, give up, stop
//! the run). The policy ([`RetryPolicy`](super::retry::RetryPolicy)) decides; this file waits,
//! corrects the clock, pauses the run, gives the slot back and sets the stop.

use super::*;

/// Send one (sub-)batch until a definite answer, a stop, or the policy gives up.
pub(super) async fn attempt_loop<P: Provider>(
    ctx: &SendStage<P>,
    batch_id: u64,
    items: &[Item<P::Customer>],
    buf: &mut Vec<u8>,
    notes: &mut Notes,
) -> PartEnd {
    notes.parts += 1;
    let customers: Vec<&P::Customer> = items.iter().map(|i| &i.customer).collect();
    ctx.provider.write_body(&customers, buf);
    // Serialised once; every attempt sends (and signs) these same bytes.
    let body = Bytes::from(std::mem::take(buf));
    let mut tries = Attempts::default();
    let mut wait = Duration::ZERO;
    let mut attempt: u32 = 0;
    loop {
        // A stop set while this batch waited for its slot: nothing more leaves.
        if ctx.stop.is_set() {
            return stopped(&tries);
        }
        if attempt > 0 {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = ctx.stop.wait() => return stopped(&tries),
            }
            ctx.counters.retries.fetch_add(1, Ordering::Relaxed);
        }
        if !turn(ctx, notes).await {
            return stopped(&tries);
        }
        // Signed now, after every wait: the timestamp is fresh for this attempt.
        let headers = ctx.provider.headers(&body, ctx.clock.now_ms());
        ctx.counters.requests.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(batch = batch_id, rows = items.len(), attempt, "sending");
        let sent_at = tokio::time::Instant::now();
        let reply = ctx.http.post(&headers, body.clone()).await;
        if attempt == 0 {
            notes.latency = Some((sent_at.elapsed(), sent_at));
        }
        notes.sent_at = Some(sent_at);
        let step = retry::classify(reply, ctx.http.url(), |b| {
            ctx.provider.interpret(b, &customers)
        });
        if step.reached_server() {
            ctx.reached.store(true, Ordering::Relaxed);
        }
        let failure = match step {
            Step::Retry(failure) => failure,
            step => return part_ended(ctx, step, batch_id, items.len(), &tries),
        };
        tracing::debug!(batch = batch_id, attempt, "retryable: {}", failure.message);
        wait = match next_wait(ctx, failure, &mut tries, notes) {
            Ok(w) => w,
            Err(end) => return end,
        };
        attempt = attempt.saturating_add(1);
    }
}

/// Wait for this attempt's turn: the fixed rate, a slot (given back while a throttled attempt
/// waited), the pace, a `Retry-After` pause. False when the run stops meanwhile.
async fn turn<P: Provider>(ctx: &SendStage<P>, notes: &mut Notes) -> bool {
    if let Some(rate) = &ctx.rate {
        rate.until_ready().await;
    }
    if notes.permit.is_none() {
        tokio::select! {
            biased;
            p = ctx.limiter.acquire() => notes.permit = Some(p),
            _ = ctx.stop.wait() => return false,
        }
    }
    if let Some(pace) = &ctx.pace {
        // Biased: a request whose turn has come leaves, as before the stop.
        tokio::select! {
            biased;
            _ = pace.wait() => {}
            _ = ctx.stop.wait() => return false,
        }
    }
    ctx.paused().await;
    true
}

/// After a retryable answer: what the sender does first (correct the clock, pause the run
/// on a throttle's `Retry-After`, give the slot back, stop once throttled too long), then what
/// the policy decides: how long to wait before the next attempt, or how the part ends.
fn next_wait<P: Provider>(
    ctx: &SendStage<P>,
    failure: Retry,
    tries: &mut Attempts,
    notes: &mut Notes,
) -> Result<Duration, PartEnd> {
    match failure.cause {
        Cause::Clock { date } => correct_clock(ctx, date),
        Cause::Throttle => {
            if let Some(after) = failure.at_least {
                ctx.pause_all(after);
            }
            throttled(ctx, notes);
            if let Some(stop) = ctx.idle_too_long() {
                ctx.stop.set(Reason::Fatal, stop);
                return Err(stopped(tries));
            }
        }
        Cause::Transport(_) | Cause::Unparsable | Cause::ServerError => {}
    }
    let facts = Facts {
        url: ctx.http.url(),
        reached: ctx.reached.load(Ordering::Relaxed),
        clock_offset_ms: ctx.clock.offset_ms(),
    };
    match ctx.policy.after(tries, failure, &facts) {
        Decision::Wait(wait) => Ok(wait),
        Decision::GiveUp {
            code,
            message,
            maybe_applied,
        } => Err(PartEnd::GaveUp {
            code,
            message,
            maybe_applied,
        }),
        Decision::Stop { message } => {
            ctx.stop.set(Reason::Fatal, message);
            Err(stopped(tries))
        }
    }
}

/// A throttled attempt: lower the concurrency (and, at one request in flight, the pace), and
/// give the slot back while it waits.
fn throttled<P: Provider>(ctx: &SendStage<P>, notes: &mut Notes) {
    notes.throttled = true;
    let sent = notes.sent_at.unwrap_or_else(tokio::time::Instant::now);
    let at_floor = ctx.limiter.at_floor();
    say_throttle(ctx, sent);
    ctx.limiter.release(notes.permit.take(), false, None);
    if let Some(gap) = ctx.pace.as_ref().and_then(|p| p.throttled(at_floor, sent)) {
        tracing::info!(
            rate = 1.0 / gap.as_secs_f64().max(1e-9),
            "throttled with one request in flight: requests per second lowered"
        );
    }
}

/// The end of a part on a step that is not a retry: rows answered, refused whole, or a stop.
fn part_ended<P: Provider>(
    ctx: &SendStage<P>,
    step: Step,
    batch_id: u64,
    rows: usize,
    tries: &Attempts,
) -> PartEnd {
    match step {
        Step::Rows { rows, unattributed } => {
            ctx.made_progress();
            PartEnd::Rows {
                rows,
                unattributed,
                maybe_applied: tries.maybe_applied(),
            }
        }
        Step::Refused {
            code,
            message,
            bisect,
        } => {
            tracing::info!(
                batch = batch_id,
                rows,
                "the provider refused the request whole: {code} {message}"
            );
            PartEnd::Refused {
                code,
                message,
                bisect,
            }
        }
        Step::Stop { message } => {
            tracing::info!(batch = batch_id, "stopping: {message}");
            ctx.stop.set(Reason::Fatal, message);
            stopped(tries)
        }
        // Handled by the attempt loop, never passed here; were one, its part would end as
        // one whose retries ran out.
        Step::Retry(Retry {
            code,
            message,
            maybe_applied,
            ..
        }) => PartEnd::GaveUp {
            code,
            message,
            maybe_applied: maybe_applied || tries.maybe_applied(),
        },
    }
}

/// The part's end when the run stops before a definite answer.
fn stopped(tries: &Attempts) -> PartEnd {
    PartEnd::Stopped {
        maybe_applied: tries.maybe_applied(),
    }
}

/// A timestamp refusal: correct the clock from the provider's `Date` (once, with a warning).
fn correct_clock<P: Provider>(ctx: &SendStage<P>, date: Option<std::time::SystemTime>) {
    if let Some(skew) = date.and_then(|d| ctx.clock.correct(d)) {
        crate::messages::warn(format_args!(
            "this machine's clock is {:.1} s {} the provider's; signing with the provider's time",
            (skew.abs() as f64) / 1000.0,
            if skew > 0 { "behind" } else { "ahead of" }
        ));
    }
}

fn say_throttle<P: Provider>(ctx: &SendStage<P>, sent: tokio::time::Instant) {
    if let Some(now) = ctx.limiter.throttle(sent) {
        tracing::info!("the provider asks us to slow down; concurrency lowered to {now}");
        if !ctx.throttle_said.swap(true, Ordering::Relaxed) {
            crate::messages::warn(format_args!("the provider asks us to slow down; lowering concurrency (now {now}), raising it again gradually"));
        }
    }
}
