//! Fault injection tests: one per kind, each checking the answer and whether the request was
//! applied, plus reproducibility of the seeded draws over HTTP.
//!
//! Invariant: every test uses a plan whose chosen kind has probability 1 (or a fixed seed).

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{it_body, nx_body, start, Req};
use crate::{Sandbox, SandboxConfig};

async fn with_plan(plan: &str) -> Sandbox {
    start(SandboxConfig {
        faults: plan.parse().expect("valid plan"),
        fault_seed: 1,
        ..SandboxConfig::default()
    })
    .await
}

fn nx_one() -> Req {
    Req::nxlink(nx_body(
        1,
        json!([{"full_name": "Jack", "whats_app_phone": "62811"}]),
    ))
}

fn fault_count(sb: &Sandbox, kind: &str) -> u64 {
    sb.stats().faults.get(kind).copied().unwrap_or(0)
}

#[tokio::test]
async fn http_500_applies_nothing() {
    let sb = with_plan("500=1").await;
    let r = nx_one().send(&sb).await;
    assert_eq!(r.status, 500);
    assert!(sb.nxlink_customers().is_empty());
    assert_eq!(fault_count(&sb, "500"), 1);
}

#[tokio::test]
async fn http_503_and_429_carry_retry_after() {
    for (plan, status) in [("503=1", 503), ("429=1", 429)] {
        let sb = with_plan(plan).await;
        let r = Req::itnio(it_body(9, json!([{"phoneNumber": "1"}])))
            .send(&sb)
            .await;
        assert_eq!(r.status, status);
        assert_eq!(r.retry_after.as_deref(), Some("1"));
        assert!(sb.itnio_persons(9).is_empty());
    }
}

#[tokio::test]
async fn reset_closes_the_connection_with_rst() {
    let sb = with_plan("reset=1").await;
    let req = nx_one();
    let mut raw = format!("POST {} HTTP/1.1\r\nHost: sandbox\r\n", req.path);
    for (n, v) in &req.headers {
        raw.push_str(&format!("{n}: {v}\r\n"));
    }
    raw.push_str(&format!(
        "Content-Length: {}\r\n\r\n{}",
        req.body.len(),
        req.body
    ));
    let mut stream = tokio::net::TcpStream::connect(sb.addr())
        .await
        .expect("connect");
    stream.write_all(raw.as_bytes()).await.expect("write");
    let mut buf = [0u8; 256];
    let got = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("closed promptly");
    let err = got.expect_err("no answer, only a reset");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
    // reqwest sees an error too, and nothing was applied.
    assert!(req.try_send(&sb, &super::client()).await.is_err());
    assert!(sb.nxlink_customers().is_empty());
    assert_eq!(fault_count(&sb, "reset"), 2);
    assert_eq!(sb.stats().in_flight, 0);
}

#[tokio::test]
async fn garbage_is_200_not_json_and_applies_nothing() {
    let sb = with_plan("garbage=1").await;
    let r = nx_one().send(&sb).await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&r.text).is_err());
    assert!(sb.nxlink_customers().is_empty());
}

#[tokio::test]
async fn truncated_is_applied_and_cut() {
    let sb = with_plan("truncated=1").await;
    let r = nx_one().send(&sb).await;
    assert_eq!(r.status, 200);
    assert!(r.text.starts_with("{\"code\":0"));
    assert!(serde_json::from_str::<serde_json::Value>(&r.text).is_err());
    assert_eq!(sb.nxlink_customers().len(), 1);
}

#[tokio::test]
async fn applied500_is_applied() {
    let sb = with_plan("applied500=1").await;
    let req = Req::itnio(it_body(9, json!([{"phoneNumber": "1"}])));
    assert_eq!(req.send(&sb).await.status, 500);
    assert_eq!(sb.itnio_persons(9).len(), 1);
    assert_eq!(fault_count(&sb, "applied500"), 1);
}

#[tokio::test]
async fn late_is_applied_but_answers_after_the_client_gave_up() {
    let sb = with_plan("late=1,late_ms=400").await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(150))
        .build()
        .expect("client");
    let err = nx_one().try_send(&sb, &http).await.expect_err("times out");
    assert!(err.is_timeout());
    assert_eq!(sb.nxlink_customers().len(), 1);
    assert_eq!(fault_count(&sb, "late"), 1);
}

#[tokio::test]
async fn slow_answers_correctly_after_the_delay() {
    let sb = with_plan("slow=1,slow_ms=200").await;
    let t0 = Instant::now();
    let r = nx_one().send(&sb).await;
    assert!(t0.elapsed() >= Duration::from_millis(200));
    assert_eq!(r.code(), 0);
    assert_eq!(sb.nxlink_customers().len(), 1);
}

#[tokio::test]
async fn skew_answers_timestamp_expired_and_applies_nothing() {
    let sb = with_plan("skew=1").await;
    assert_eq!(nx_one().send(&sb).await.code(), 1004);
    let r = Req::itnio(it_body(9, json!([{"phoneNumber": "1"}])))
        .send(&sb)
        .await;
    assert_eq!(r.status_code(), "-4");
    assert!(sb.nxlink_customers().is_empty());
    assert!(sb.itnio_persons(9).is_empty());
    assert_eq!(fault_count(&sb, "skew"), 2);
}

#[tokio::test]
async fn seeded_draws_replay_after_reset() {
    let sb = with_plan("500=0.5").await;
    let mut runs = Vec::new();
    for _ in 0..2 {
        let mut statuses = Vec::new();
        for i in 0..16 {
            let body = nx_body(1, json!([{"full_name": "n", "sms_phone": format!("{i}")}]));
            statuses.push(Req::nxlink(body).send(&sb).await.status);
        }
        runs.push(statuses);
        super::client()
            .post(format!("{}/_sandbox/reset", sb.base_url()))
            .send()
            .await
            .expect("reset");
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].contains(&500) && runs[0].contains(&200));
}
