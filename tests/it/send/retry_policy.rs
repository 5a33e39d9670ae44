//! The retry policy through the binary: the exact give-up and stop messages, how many requests
//! each rule allows, a `Retry-After` raising the backoff, and the outcome each row ends with.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::env::{cell, TestEnv};

fn rows(n: u32) -> String {
    let mut s = String::from("name,phone\n");
    for i in 1..=n {
        s.push_str(&format!("N{i},6281{i:07}\n"));
    }
    s
}

/// Every row of `failed.csv` as (row, outcome, code, message).
fn failed(env: &TestEnv) -> Vec<(String, String, String, String)> {
    env.csv_rows("failed.csv")
        .iter()
        .map(|r| {
            let get = |c: &str| cell(r, c).to_owned();
            (
                get("custimport_row"),
                get("custimport_outcome"),
                get("custimport_code"),
                get("custimport_error"),
            )
        })
        .collect()
}

#[test]
fn server_errors_use_up_the_retries_then_the_rows_are_unknown() {
    let env = TestEnv::faults("500=1.0", 3);
    let input = env.write("c.csv", rows(4));
    env.cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "2", "--concurrency", "1", "--retries", "2"])
        .assert()
        .code(1);
    let s = env.summary();
    // Two batches, three attempts each: the first and `--retries 2` more.
    assert_eq!(
        (s["requests"].clone(), s["retries"].clone()),
        (json!(6), json!(4)),
        "{s}"
    );
    assert_eq!(
        (s["unknown"].clone(), s["succeeded"].clone()),
        (json!(4), json!(0)),
        "{s}"
    );
    let message = "gave up after 3 attempts: the provider answered HTTP 500";
    let want: Vec<_> = (1..=4)
        .map(|row| {
            (
                row.to_string(),
                "unknown".into(),
                "http_500".into(),
                message.into(),
            )
        })
        .collect();
    assert_eq!(failed(&env), want);
    assert!(env.held_nxlink().is_empty());
}

#[test]
fn no_retries_is_one_attempt_per_batch() {
    let env = TestEnv::faults("500=1.0", 3);
    let input = env.write("c.csv", rows(3));
    env.cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "3", "--retries", "0"])
        .assert()
        .code(1);
    assert_eq!(env.summary()["requests"], json!(1));
    let got = failed(&env);
    assert_eq!(got.len(), 3);
    assert!(
        got.iter()
            .all(|(_, outcome, code, message)| outcome == "unknown"
                && code == "http_500"
                && message == "gave up after 1 attempt: the provider answered HTTP 500"),
        "{got:?}"
    );
}

#[test]
fn a_retry_after_raises_the_backoff() {
    // 503 says Retry-After: 1; the backoff alone would be at most 10 ms (--backoff-ms 10).
    let env = TestEnv::faults("503=1.0", 3);
    let input = env.write("c.csv", rows(2));
    let started = Instant::now();
    env.cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "2", "--retries", "1"])
        .assert()
        .code(1);
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert_eq!(env.summary()["requests"], json!(2));
    let got = failed(&env);
    assert!(
        got.iter().all(|(_, _, code, message)| code == "http_503"
            && message == "gave up after 2 attempts: the provider answered HTTP 503"),
        "{got:?}"
    );
}

#[test]
fn refused_timestamps_are_corrected_three_times_then_the_run_stops() {
    let env = TestEnv::faults("skew=1.0", 3);
    let input = env.write("c.csv", rows(3));
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "3", "--concurrency", "1", "--retries", "0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let message = regex::Regex::new(
        r"clock skew: the provider keeps refusing our timestamps \([^\n]*timestamp expired[^\n]*\); measured offset -?\d+\.\d s\. Fix this machine's clock \(NTP\), then run again with --resume",
    )
    .unwrap();
    assert!(message.is_match(&err), "{err}");
    let s = env.summary();
    // Refusals use up no retry: the first attempt, three corrected ones, then the stop.
    assert_eq!(s["requests"], json!(4), "{s}");
    assert_eq!(s["pending"], json!(3), "{s}");
    assert!(env.held_nxlink().is_empty());
}

#[test]
fn a_run_that_never_reaches_a_server_stops_after_one_batchs_retries() {
    // Bind and drop: a port where nothing listens now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = TestEnv::at(&format!("http://127.0.0.1:{port}"));
    let input = env.write("c.csv", rows(4));
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "2", "--concurrency", "1", "--retries", "1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let message = regex::Regex::new(&format!(
        r"cannot reach http://127\.0\.0\.1:{port}/saas/cdp/openapi/customers/batch_create: could not connect[^\n]* \(after 2 attempts\)\. Check --base-url and the network, then run again with --resume"
    ))
    .unwrap();
    assert!(message.is_match(&err), "{err}");
    let s = env.summary();
    assert_eq!(
        (s["requests"].clone(), s["pending"].clone()),
        (json!(2), json!(4)),
        "{s}"
    );
    let got = failed(&env);
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(
        got.iter().all(|(_, outcome, _, _)| outcome == "pending"),
        "{got:?}"
    );
}
