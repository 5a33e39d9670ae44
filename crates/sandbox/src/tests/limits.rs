//! The hidden limits over HTTP: 429 past a rate (with or without `Retry-After`) or past a number
//! in flight, a queue past a knee, and the `throttled` count.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{nx_body, start, Req};
use crate::SandboxConfig;

fn nx(i: u32) -> Req {
    Req::nxlink(nx_body(
        1,
        json!([{"full_name": "Jack", "whats_app_phone": format!("62811{i:04}")}]),
    ))
}

#[tokio::test]
async fn past_the_rate_requests_get_429_without_retry_after_and_apply_nothing() {
    let sb = start(SandboxConfig::default().limit_rps(3)).await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let r = nx(i).send(&sb).await;
        assert_eq!(r.retry_after, None);
        statuses.push(r.status);
    }
    // A bucket of 3: the burst passes, the rest within the same second is throttled.
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    assert_eq!(sb.nxlink_customers().len(), 3);
    let s = sb.stats();
    assert_eq!((s.requests, s.throttled), (5, 2));
    // A reset fills the bucket and zeroes the count.
    sb.reset();
    assert_eq!(nx(9).send(&sb).await.status, 200);
    assert_eq!(sb.stats().throttled, 0);
}

#[tokio::test]
async fn throttled_answers_carry_retry_after_when_asked() {
    let sb = start(SandboxConfig::default().limit_rps(1).retry_after(2)).await;
    assert_eq!(nx(1).send(&sb).await.status, 200);
    let r = nx(2).send(&sb).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.retry_after.as_deref(), Some("2"));
}

#[tokio::test]
async fn past_the_number_in_flight_requests_get_429() {
    let sb = start(
        SandboxConfig::default()
            .limit_conc(2)
            .latency(Duration::from_millis(300)),
    )
    .await;
    let reqs = [nx(1), nx(2), nx(3)];
    let (a, b, c) = tokio::join!(reqs[0].send(&sb), reqs[1].send(&sb), reqs[2].send(&sb));
    let mut statuses = vec![a.status, b.status, c.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 429]);
    assert_eq!(sb.stats().throttled, 1);
    assert_eq!(sb.nxlink_customers().len(), 2);
}

#[tokio::test]
async fn past_the_knee_requests_wait_their_turn_and_none_is_throttled() {
    let sb = start(
        SandboxConfig::default()
            .queue_latency(2)
            .latency(Duration::from_millis(200)),
    )
    .await;
    let t0 = Instant::now();
    let reqs = [nx(1), nx(2), nx(3), nx(4)];
    let (a, b, c, d) = tokio::join!(
        reqs[0].send(&sb),
        reqs[1].send(&sb),
        reqs[2].send(&sb),
        reqs[3].send(&sb)
    );
    assert!([a, b, c, d].iter().all(|r| r.status == 200));
    // Two at a time, 200 ms each: the last two answers after two turns.
    assert!(
        t0.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(sb.stats().throttled, 0);
    assert_eq!(sb.nxlink_customers().len(), 4);
}
