//! One (sub-)batch's attempts: waiting for its turn (the fixed rate, a slot, the pace, a
//! `Retry-After` pause), signing and posting, classifying what came back, and deciding what
//! next (wait and go again, or the part's end: answered, refused, clock refused, given up,
//! stopped). Throttling never uses up `--retries`.

use super::*;

/// Send one (sub-)batch until a definite answer, a stop, or the retries run out.
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
    let mut tries = Tries::default();
    let mut wait = Duration::ZERO;
    for attempt in 0..=u32::MAX {
        // A stop set while this batch waited for its slot: nothing more leaves.
        if ctx.stop.is_set() {
            return tries.stopped();
        }
        if attempt > 0 {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = ctx.stop.wait() => return tries.stopped(),
            }
            ctx.counters.retries.fetch_add(1, Ordering::Relaxed);
        }
        if !turn(ctx, notes).await {
            return tries.stopped();
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
        match step {
            Step::Retry {
                cause,
                code,
                message,
                maybe_applied,
                at_least,
            } => {
                tracing::debug!(batch = batch_id, attempt, "retryable: {message}");
                tries.maybe_applied |= maybe_applied;
                let clock_said = matches!(cause, Cause::Clock { .. }).then(|| message.clone());
                if let (Cause::Throttle, Some(after)) = (&cause, at_least) {
                    ctx.pause_all(after);
                }
                tries.last = (code, message);
                wait = match next_wait(ctx, cause, &mut tries, notes, clock_said) {
                    Ok(w) => w.max(at_least.unwrap_or_default()),
                    Err(end) => return end,
                };
            }
            step => return part_ended(ctx, step, batch_id, items.len(), &tries),
        }
    }
    gave_up(ctx, tries)
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

/// After a retryable answer: how long to wait before the next attempt, or how the part ends.
/// Only transport failures, unparsable answers and server errors count against `--retries`;
/// throttling has `--give-up-after`, clock refusals three corrections (`clock_said`: the
/// provider's words for one).
fn next_wait<P: Provider>(
    ctx: &SendStage<P>,
    cause: Cause,
    tries: &mut Tries,
    notes: &mut Notes,
    clock_said: Option<String>,
) -> Result<Duration, PartEnd> {
    match cause {
        Cause::Clock { date } => {
            let said = clock_said.unwrap_or_default();
            if !clock_refused(ctx, tries, date, &said) {
                return Err(tries.stopped());
            }
            Ok(Duration::ZERO)
        }
        Cause::Throttle => {
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
            if let Some(stop) = ctx.idle_too_long() {
                ctx.stop.set(Reason::Fatal, stop);
                return Err(tries.stopped());
            }
            let wait = backoff(ctx.backoff, tries.throttles);
            tries.throttles = tries.throttles.saturating_add(1);
            Ok(wait)
        }
        Cause::Transport(_) | Cause::Unparsable | Cause::ServerError => {
            if tries.failures >= ctx.retries {
                return Err(gave_up(ctx, std::mem::take(tries)));
            }
            let wait = backoff(ctx.backoff, tries.failures);
            tries.failures += 1;
            Ok(wait)
        }
    }
}

/// The end of a part on a step that is not a retry: rows answered, refused whole, or a stop.
fn part_ended<P: Provider>(
    ctx: &SendStage<P>,
    step: Step,
    batch_id: u64,
    rows: usize,
    tries: &Tries,
) -> PartEnd {
    match step {
        Step::Rows { rows, unattributed } => {
            ctx.made_progress();
            PartEnd::Rows {
                rows,
                unattributed,
                maybe_applied: tries.maybe_applied,
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
            tries.stopped()
        }
        // Handled by the attempt loop, never passed here; were one, its part would end as
        // one whose retries ran out.
        Step::Retry {
            code,
            message,
            maybe_applied,
            ..
        } => PartEnd::GaveUp {
            code,
            message,
            maybe_applied: maybe_applied || tries.maybe_applied,
        },
    }
}

/// What the attempts of one part have seen so far.
struct Tries {
    /// Some attempt may have reached the provider and been applied.
    maybe_applied: bool,
    /// Timestamp refusals so far.
    clock_refusals: u32,
    /// The code and message of the last retryable failure.
    last: (String, String),
    /// Failures that count against `--retries`, and throttled attempts (which do not).
    failures: u32,
    throttles: u32,
}

impl Default for Tries {
    fn default() -> Tries {
        Tries {
            maybe_applied: false,
            clock_refusals: 0,
            last: ("no_answer".into(), "no answer".into()),
            failures: 0,
            throttles: 0,
        }
    }
}

impl Tries {
    fn stopped(&self) -> PartEnd {
        PartEnd::Stopped {
            maybe_applied: self.maybe_applied,
        }
    }
}

/// A timestamp refusal: correct the clock from the provider's `Date` (once, with a warning).
/// `false` when the refusals persist and the run has been stopped.
fn clock_refused<P: Provider>(
    ctx: &SendStage<P>,
    tries: &mut Tries,
    date: Option<std::time::SystemTime>,
    message: &str,
) -> bool {
    tries.clock_refusals += 1;
    if let Some(skew) = date.and_then(|d| ctx.clock.correct(d)) {
        crate::messages::warn(format_args!(
            "this machine's clock is {:.1} s {} the provider's; signing with the provider's time",
            (skew.abs() as f64) / 1000.0,
            if skew > 0 { "behind" } else { "ahead of" }
        ));
    }
    if tries.clock_refusals <= 3 {
        return true;
    }
    ctx.stop.set(
        Reason::Fatal,
        format!(
            "clock skew: the provider keeps refusing our timestamps ({message}); measured offset {:.1} s. Fix this machine's clock (NTP), then run again with --resume",
            ctx.clock.offset_ms() as f64 / 1000.0
        ),
    );
    false
}

/// The retries of a part ran out. When nothing of this run has ever reached a server, the
/// rest of the file would only grind through the same failure: the run stops, and the rows
/// stay pending for `--resume`.
fn gave_up<P: Provider>(ctx: &SendStage<P>, tries: Tries) -> PartEnd {
    let attempts = ctx.retries + 1;
    if !ctx.reached.load(Ordering::Relaxed) {
        ctx.stop.set(
            Reason::Fatal,
            format!(
                "cannot reach {}: {} (after {attempts} attempts). Check --base-url and the network, then run again with --resume",
                ctx.http.url(),
                tries.last.1,
            ),
        );
        return tries.stopped();
    }
    PartEnd::GaveUp {
        message: format!("gave up after {attempts} attempts: {}", tries.last.1),
        code: tries.last.0,
        maybe_applied: tries.maybe_applied,
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
