//! Tests of the inspection endpoints, the counters, latency, routing and shutdown.
//!
//! Invariant: inspection requests are never counted as provider requests.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{client, get_json, it_body, nx_body, start, start_default, Req};
use crate::{FaultKind, SandboxConfig};

#[tokio::test]
async fn inspection_endpoints_and_reset() {
    let sb = start_default().await;
    assert!(sb.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(
        sb.base_url(),
        format!("http://127.0.0.1:{}", sb.addr().port())
    );
    let nx = nx_body(
        1,
        json!([{"full_name": "A\u{FFFD}", "sms_phone": "1", "weight": 2}]),
    );
    assert_eq!(Req::nxlink(nx).send(&sb).await.code(), 0);
    let persons = json!([{"phoneNumber": "5", "properties": {"amount": 1}}, {"phoneNumber": "6"}]);
    Req::itnio(it_body(1001, persons)).send(&sb).await;
    Req::nxlink("{}").set("sign", "bad").send(&sb).await;

    let customers = get_json(&sb, "/_sandbox/nxlink/customers").await;
    assert_eq!(
        customers,
        json!([{"full_name": "A\u{FFFD}", "sms_phone": "1", "weight": 2,
            "customerId": 1_214_631_327_620_775_936_u64, "tenant_id": 1}])
    );
    let job = get_json(&sb, "/_sandbox/itnio/jobs/1001").await;
    assert_eq!(
        job,
        json!([{"phoneNumber": "5", "properties": {"amount": 1}}])
    );
    assert_eq!(get_json(&sb, "/_sandbox/itnio/jobs/4").await, json!([]));

    let stats = get_json(&sb, "/_sandbox/stats").await;
    assert_eq!(stats["requests"], json!(3));
    assert_eq!(stats["in_flight"], json!(0));
    assert_eq!(stats["max_in_flight"], json!(1));
    assert_eq!(stats["rejected_signatures"], json!(1));
    assert_eq!(stats["rows_received"], json!(3));
    assert_eq!(stats["replacement_chars"], json!(1));
    assert_eq!(stats["faults"]["500"], json!(0));
    assert_eq!(
        stats["faults"].as_object().map(|f| f.len()),
        Some(FaultKind::ALL.len())
    );
    assert_eq!(stats["redirected_requests"], json!(0));
    // The refused signature is the one event; its trace id is the one of the answer.
    let events = get_json(&sb, "/_sandbox/events").await;
    let list = events.as_array().expect("events are a list");
    assert_eq!(list.len(), 1, "{events}");
    assert_eq!(list[0]["seq"], json!(1));
    assert_eq!(list[0]["provider"], json!("nxlink"));
    assert_eq!(list[0]["code"], json!(1003));
    assert_eq!(list[0]["fault"], json!(null));
    assert_eq!(list[0]["trace_id"].as_str().map(str::len), Some(32));

    let r = client()
        .post(format!("{}/_sandbox/reset", sb.base_url()))
        .send()
        .await
        .expect("reset");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(get_json(&sb, "/_sandbox/nxlink/customers").await, json!([]));
    assert_eq!(get_json(&sb, "/_sandbox/itnio/jobs/1001").await, json!([]));
    assert_eq!(get_json(&sb, "/_sandbox/events").await, json!([]));
    let stats = sb.stats();
    assert_eq!(
        (stats.requests, stats.rows_received, stats.max_in_flight),
        (0, 0, 0)
    );
    // Ids restart too.
    let nx = nx_body(1, json!([{"full_name": "B", "sms_phone": "2"}]));
    let v = Req::nxlink(nx).send(&sb).await.json();
    assert_eq!(
        v["data"]["successItems"][0]["customerId"].as_u64(),
        Some(1_214_631_327_620_775_936)
    );
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let sb = start_default().await;
    let http = client();
    let status = |r: reqwest::Response| r.status().as_u16();
    let url = |p: &str| format!("{}{}", sb.base_url(), p);
    assert_eq!(
        status(http.get(url("/nope")).send().await.expect("404")),
        404
    );
    assert_eq!(
        status(
            http.get(url("/aivoice/importCustomer"))
                .send()
                .await
                .expect("405")
        ),
        405
    );
    assert_eq!(
        status(
            http.get(url("/_sandbox/itnio/jobs/x"))
                .send()
                .await
                .expect("404")
        ),
        404
    );
    assert_eq!(
        status(http.get(url("/_sandbox/reset")).send().await.expect("404")),
        404
    );
    assert_eq!(sb.stats().requests, 0);
}

#[tokio::test]
async fn latency_delays_answers_and_counts_in_flight() {
    let sb = start(SandboxConfig {
        latency: Duration::from_millis(200),
        ..SandboxConfig::default()
    })
    .await;
    let t0 = Instant::now();
    let send = |i: u32| {
        let body = nx_body(1, json!([{"full_name": "n", "sms_phone": format!("{i}")}]));
        let sb = &sb;
        async move { Req::nxlink(body).send(sb).await.code() }
    };
    let (a, b, c, d, e) = tokio::join!(send(0), send(1), send(2), send(3), send(4));
    let codes = [a, b, c, d, e];
    assert_eq!(codes, [0; 5]);
    let elapsed = t0.elapsed();
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    let stats = sb.stats();
    assert_eq!((stats.in_flight, stats.max_in_flight), (0, 5));
    assert_eq!(sb.nxlink_customers().len(), 5);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let sb = start_default().await;
    let addr = sb.addr();
    sb.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn serve_reports_a_busy_port() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = busy.local_addr().expect("addr").port();
    let err = crate::serve(port, SandboxConfig::default())
        .await
        .expect_err("port taken");
    assert!(
        err.to_string().contains("cannot listen on 127.0.0.1:"),
        "{err}"
    );
}

/// Throughput and memory of the sandbox with the client in the same process:
/// `cargo test --release --lib bench_throughput -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_throughput() {
    const WORKERS: u64 = 8;
    const PER_WORKER: u64 = 500;
    let sb = std::sync::Arc::new(start_default().await);
    let http = client();
    let t0 = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..WORKERS {
        let (sb, http) = (sb.clone(), http.clone());
        tasks.spawn(async move {
            for r in 0..PER_WORKER {
                let rows: Vec<_> = (0..100u64)
                    .map(|i| {
                        let n = (w * PER_WORKER + r) * 100 + i;
                        json!({"full_name": format!("Customer {n}"),
                            "whats_app_phone": format!("62{n:010}"),
                            "email": format!("c{n}@example.com"), "country": "Indonesia", "gender": 1})
                    })
                    .collect();
                let req = Req::nxlink(nx_body(1, json!(rows)));
                let reply = req.try_send(&sb, &http).await.expect("sent");
                assert_eq!(reply.code(), 0);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap_or_else(|e| panic!("a worker failed: {e}"));
    }
    let elapsed = t0.elapsed();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .unwrap_or("");
    let requests = WORKERS * PER_WORKER;
    eprintln!(
        "{requests} requests in {elapsed:?} = {:.0}/s; {} customers held; {rss}",
        requests as f64 / elapsed.as_secs_f64(),
        sb.stats().rows_received
    );
}
