//! The send loop under a paused clock, against scripted replies: waits, attempts, bisection and
//! the outcome each row ends with. No network: `Http::scripted` hands out the replies in order.

use std::time::Duration;

use bytes::Bytes;
use serde_json::Map;
use tokio::sync::mpsc;

use super::*;
use crate::http::{Reply, TransportKind};
use crate::input::RecordData;
use crate::provider::itnio::{Itnio, Person};

fn itnio() -> Arc<Itnio> {
    Arc::new(crate::fixtures::itnio())
}

fn item(row: u64) -> Item<Person> {
    Item {
        row,
        customer: Person {
            name: None,
            phone_number: format!("62811000000{row}"),
            gender: None,
            properties: Map::new(),
        },
        data: RecordData::Line(String::new()),
    }
}

fn ok(body: &str) -> Reply {
    Reply::Answered {
        status: 200,
        body: Bytes::from(body.to_owned()),
        date: None,
        retry_after: None,
        location: None,
    }
}

fn status(code: u16, retry_after: Option<u64>) -> Reply {
    Reply::Answered {
        status: code,
        body: Bytes::new(),
        date: None,
        retry_after: retry_after.map(Duration::from_secs),
        location: None,
    }
}

fn transport(kind: TransportKind) -> Reply {
    Reply::Transport {
        kind,
        message: format!("{kind:?}"),
    }
}

/// The options of these tests: a 100 ms backoff, bisection, a fixed concurrency, no
/// `--max-failures`.
fn options(retries: u32, concurrency: usize) -> SendOptions {
    SendOptions {
        retries,
        backoff: Duration::from_millis(100),
        bisect: true,
        concurrency: Some(concurrency),
        rate: None,
        max_failures: None,
        give_up_after: Duration::from_secs(600),
    }
}

/// Send one batch of `rows` rows through the loop with these replies; the rows' outcomes by
/// row number, the requests made, the stop, and how much (virtual) time passed.
async fn send(
    rows: u64,
    replies: Vec<Reply>,
    retries: u32,
) -> (Vec<(u64, Outcome)>, u64, Stop, Duration) {
    let (tx, mut rx) = mpsc::channel(64);
    let stop = Stop::default();
    let shared = Shared {
        stop: stop.clone(),
        ..Shared::default()
    };
    let ctx = Arc::new(SendStage::new(
        options(retries, 1),
        itnio(),
        Http::scripted(replies),
        tx,
        &shared,
    ));
    let started = tokio::time::Instant::now();
    let permit = ctx.limiter.acquire().await;
    let batch = Batch {
        id: 1,
        items: (1..=rows).map(item).collect(),
    };
    send_batch(ctx.clone(), batch, permit).await;
    let elapsed = started.elapsed();
    let requests = ctx.counters.requests.load(Ordering::Relaxed);
    drop(ctx);
    let mut out = vec![];
    while let Some(ev) = rx.recv().await {
        if let Event::Done(done) = ev {
            out.extend(done.into_iter().map(|(i, o)| (i.row, o)));
        }
    }
    out.sort_by_key(|(r, _)| *r);
    (out, requests, stop, elapsed)
}

fn succeeded(already_present: bool) -> Outcome {
    Outcome::Succeeded {
        id: None,
        already_present,
    }
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_and_the_retry_succeeds() {
    let (out, requests, stop, elapsed) = send(
        2,
        vec![status(503, Some(7)), ok(r#"{"status":"0","data":[]}"#)],
        3,
    )
    .await;
    assert_eq!(out, vec![(1, succeeded(false)), (2, succeeded(false))]);
    assert_eq!(requests, 2);
    assert!(!stop.is_set());
    assert!(elapsed >= Duration::from_secs(7), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
}

#[tokio::test(start_paused = true)]
async fn already_exists_after_a_timeout_is_a_success() {
    let line = r#"{"status":"0","data":["The customer already exists in this task,Phone Number:628110000001"]}"#;
    let (out, requests, _, _) = send(2, vec![transport(TransportKind::Timeout), ok(line)], 3).await;
    assert_eq!(out, vec![(1, succeeded(true)), (2, succeeded(false))]);
    assert_eq!(requests, 2);
    // On a first send the same answer is a failure.
    let (out, _, _, _) = send(2, vec![ok(line)], 3).await;
    assert!(matches!(&out[0].1, Outcome::Failed { code, .. } if code == "already_exists"));
}

#[tokio::test(start_paused = true)]
async fn retries_run_out_unknown_when_maybe_applied_failed_when_not() {
    let (out, requests, stop, _) = send(1, vec![transport(TransportKind::Timeout); 3], 2).await;
    assert_eq!(requests, 3);
    assert!(
        matches!(&out[0].1, Outcome::Unknown { code, message } if code == "timeout" && message.starts_with("gave up after 3 attempts"))
    );
    assert!(
        !stop.is_set(),
        "a server was reached (the request timed out after connecting)"
    );
    // Throttling uses up no retry: with none allowed, three 429s are waited out and the row
    // goes through on the fourth attempt.
    let mut replies = vec![status(429, None); 3];
    replies.push(ok(r#"{"status":"0","data":[]}"#));
    let (out, requests, stop, _) = send(1, replies, 0).await;
    assert_eq!(out, vec![(1, succeeded(false))]);
    assert_eq!(requests, 4);
    assert!(!stop.is_set());
}

#[tokio::test(start_paused = true)]
async fn never_reaching_a_server_stops_the_run_with_rows_pending() {
    let (out, requests, stop, _) = send(2, vec![transport(TransportKind::Connect); 4], 3).await;
    assert_eq!(requests, 4);
    assert_eq!(out, vec![(1, Outcome::Pending), (2, Outcome::Pending)]);
    assert!(stop.message().is_some_and(|m| m.contains("cannot reach")));
}

#[tokio::test(start_paused = true)]
async fn a_redirect_stops_at_once() {
    let redirect = Reply::Answered {
        status: 307,
        body: Bytes::new(),
        date: None,
        retry_after: None,
        location: Some("https://elsewhere.example/x".into()),
    };
    let (out, requests, stop, _) = send(2, vec![redirect], 5).await;
    assert_eq!(requests, 1);
    assert_eq!(out, vec![(1, Outcome::Pending), (2, Outcome::Pending)]);
    assert!(stop
        .message()
        .is_some_and(|m| m.contains("https://elsewhere.example/x")));
}

#[tokio::test(start_paused = true)]
async fn bisection_isolates_the_refused_row() {
    let refused = r#"{"status":"-27","reason":"bad parameter"}"#;
    let fine = r#"{"status":"0","data":[]}"#;
    // 4 rows, row 3 bad: [1-4] refused, [1-2] fine, [3-4] refused, [3] refused, [4] fine.
    let (out, requests, stop, _) = send(
        4,
        vec![ok(refused), ok(fine), ok(refused), ok(refused), ok(fine)],
        0,
    )
    .await;
    assert_eq!(requests, 5);
    assert!(!stop.is_set());
    assert_eq!(out[0], (1, succeeded(false)));
    assert_eq!(out[1], (2, succeeded(false)));
    assert!(matches!(&out[2].1, Outcome::Failed { code, .. } if code == "-27"));
    assert_eq!(out[3], (4, succeeded(false)));
}

#[tokio::test(start_paused = true)]
async fn the_clock_refusal_retries_at_once_then_stops() {
    let skew = r#"{"status":"-4","reason":"timestamp expired"}"#;
    let (out, requests, stop, elapsed) = send(1, vec![ok(skew); 6], 10).await;
    assert_eq!(
        requests, 4,
        "three corrections, then the fourth refusal stops the run"
    );
    assert_eq!(out, vec![(1, Outcome::Pending)]);
    assert!(stop.message().is_some_and(|m| m.contains("clock skew")));
    assert_eq!(
        elapsed,
        Duration::ZERO,
        "a clock refusal is retried without waiting"
    );
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_pauses_every_request_of_the_run() {
    let (tx, _rx) = mpsc::channel(64);
    let ctx = Arc::new(SendStage::new(
        options(0, 2),
        itnio(),
        Http::scripted(vec![ok(r#"{"status":"0","data":[]}"#)]),
        tx,
        &Shared::default(),
    ));
    // Another batch's throttled answer said Retry-After: 5.
    ctx.pause_all(Duration::from_secs(5));
    let started = tokio::time::Instant::now();
    let permit = ctx.limiter.acquire().await;
    let batch = Batch {
        id: 2,
        items: vec![item(1)],
    };
    send_batch(ctx.clone(), batch, permit).await;
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(ctx.counters.requests.load(Ordering::Relaxed), 1);
}
