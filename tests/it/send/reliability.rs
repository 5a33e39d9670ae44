//! Faults, retries, concurrency bound, unknown outcomes: every row ends exactly once.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::env::{cell, TestEnv};

fn rows_csv(n: usize) -> String {
    let mut s = String::from("name,phone\n");
    for i in 1..=n {
        s.push_str(&format!("N{i},6281{i:07}\n"));
    }
    s
}

/// Every input row appears exactly once across success.csv and failed.csv; succeeded rows are
/// held by the sandbox. Returns outcome per row.
fn check_accounting(env: &TestEnv, n: usize) -> BTreeMap<u64, String> {
    let mut seen: BTreeMap<u64, String> = BTreeMap::new();
    for r in env.csv_rows("success.csv") {
        let row: u64 = cell(&r, "row").parse().unwrap();
        assert!(
            seen.insert(row, "succeeded".into()).is_none(),
            "row {row} twice"
        );
    }
    for r in env.csv_rows("failed.csv") {
        let row: u64 = cell(&r, "custimport_row").parse().unwrap();
        let o = cell(&r, "custimport_outcome").to_owned();
        assert!(seen.insert(row, o).is_none(), "row {row} twice");
    }
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        (1..=n as u64).collect::<Vec<_>>()
    );
    let held: BTreeSet<String> = env
        .held_nxlink()
        .iter()
        .map(|c| c["whats_app_phone"].as_str().unwrap().to_owned())
        .collect();
    for (row, o) in &seen {
        let phone = format!("6281{row:07}");
        if o == "succeeded" {
            assert!(held.contains(&phone), "row {row} succeeded but is not held");
        }
        if o == "failed" || o == "pending" {
            assert!(!held.contains(&phone), "row {row} is {o} but is held");
        }
    }
    let s = env.summary();
    let count = |k: &str| seen.values().filter(|o| *o == k).count() as u64;
    for k in ["succeeded", "failed", "unknown", "pending", "rejected"] {
        assert_eq!(s[k], json!(count(k)), "{k}: {s}");
    }
    assert_eq!(s["total"], json!(n));
    seen
}

#[test]
fn concurrency_is_bounded() {
    let env = TestEnv::latency(80);
    let input = env.write("c.csv", rows_csv(24));
    env.cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "1", "--concurrency", "3"])
        .assert()
        .code(0);
    let st = env.stats();
    let max = st["max_in_flight"].as_u64().unwrap();
    assert!(max <= 3, "{st}");
    assert!(max >= 2, "concurrency not used: {st}");
    assert_eq!(st["requests"], json!(24));
}

#[test]
fn retries_recover_from_500_429_and_resets() {
    // Probabilities and retries keep the chance that a batch exhausts its retries below 1e-5.
    for spec in [
        "500=0.3",
        "429=0.3",
        "reset=0.3",
        "503=0.3",
        "garbage=0.3",
        "truncated=0.3",
        "applied500=0.3",
        "slow=0.3,slow_ms=50",
    ] {
        let env = TestEnv::faults(spec, 11);
        let input = env.write("r.csv", rows_csv(60));
        env.cmd("nxlink")
            .arg(&input)
            .args(["--batch-size", "5", "--retries", "10"])
            .assert()
            .code(0);
        let s = env.summary();
        assert_eq!(s["succeeded"], json!(60), "{spec}: {s}");
        if !spec.starts_with("slow") {
            assert!(s["retries"].as_u64().unwrap() > 0, "{spec}: {s}");
        }
        check_accounting(&env, 60);
    }
}

#[test]
fn nxlink_items_naming_no_row_of_the_request_leave_the_listed_rows_confirmed() {
    // `stray` adds a success item with an index beyond the request. Every row is still listed
    // exactly once and nothing contradicts it, so every row is confirmed (contract: "What
    // counts as an answer"); the exit code is 0 unless the item is counted as unattributed.
    let env = TestEnv::faults("stray=1.0", 11);
    let input = env.write("r.csv", rows_csv(12));
    let out = env
        .cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "5"])
        .output()
        .unwrap();
    let s = env.summary();
    assert_eq!(s["succeeded"], json!(12), "{s}");
    assert_eq!(s["requests"], json!(3), "{s}");
    let seen = check_accounting(&env, 12);
    assert!(seen.values().all(|o| o == "succeeded"), "{seen:?}");
    let want = if s["unattributed"] == json!(0) { 0 } else { 1 };
    assert_eq!(out.status.code(), Some(want), "{s}");
    assert_eq!(s["exit_code"], json!(want));
}

#[test]
fn mixed_faults_never_lose_or_duplicate_a_row() {
    let env = TestEnv::faults(
        "500=0.1,429=0.05,reset=0.05,garbage=0.05,truncated=0.05,applied500=0.05,slow=0.05",
        3,
    );
    let input = env.write("m.csv", rows_csv(400));
    env.cmd("nxlink")
        .arg(&input)
        .args([
            "--batch-size",
            "10",
            "--concurrency",
            "6",
            "--retries",
            "14",
        ])
        .assert()
        .code(0);
    let seen = check_accounting(&env, 400);
    assert!(seen.values().all(|o| o == "succeeded"));
    // Upserts: nothing is held twice.
    assert_eq!(env.held_nxlink().len(), 400);
}

#[test]
fn answers_lost_after_apply_end_unknown_not_succeeded() {
    let env = TestEnv::faults("late=1.0,late_ms=1500", 1);
    let input = env.write("u.csv", rows_csv(6));
    env.cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "3", "--retries", "1", "--timeout", "0.3"])
        .assert()
        .code(1);
    let seen = check_accounting(&env, 6);
    assert!(seen.values().all(|o| o == "unknown"), "{seen:?}");
    let failed = env.csv_rows("failed.csv");
    assert!(failed
        .iter()
        .all(|r| cell(r, "custimport_code") == "timeout"));
}

#[test]
fn retry_clock_skew_answers() {
    // One request at a time: the seeded fault sequence is then the same on every run.
    let env = TestEnv::faults("skew=0.3", 5);
    let input = env.write("k.csv", rows_csv(30));
    env.cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "3", "--concurrency", "1"])
        .assert()
        .code(0);
    check_accounting(&env, 30);
}

#[test]
fn itnio_retry_after_apply_counts_already_present_as_success() {
    let env = TestEnv::faults("applied500=0.3", 9);
    let input = env.write("i.csv", rows_csv(40));
    env.cmd("itnio")
        .args(["--job", "9"])
        .arg(&input)
        .args(["--batch-size", "4", "--retries", "10"])
        .assert()
        .code(0);
    let s = env.summary();
    assert_eq!(s["succeeded"], json!(40));
    assert!(s["already_present"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(env.held_itnio(9).len(), 40);
}

#[test]
fn a_skewed_clock_is_corrected_once_from_the_date_header() {
    let env = TestEnv::with(custimport_sandbox::SandboxConfig {
        clock_offset_ms: 300_000,
        ..Default::default()
    });
    let input = env.write("c.csv", rows_csv(12));
    env.cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "3", "--concurrency", "1"])
        .assert()
        .code(0)
        .stderr(
            predicates::str::is_match(r"clock is (299|300)\.\d s behind the provider's").unwrap(),
        );
    check_accounting(&env, 12);
    let env = TestEnv::with(custimport_sandbox::SandboxConfig {
        clock_offset_ms: -120_000,
        ..Default::default()
    });
    let input = env.write("c.csv", rows_csv(4));
    env.cmd("itnio")
        .args(["--job", "9"])
        .arg(&input)
        .assert()
        .code(0);
}

#[test]
fn a_clock_that_cannot_be_corrected_stops_the_run() {
    let env = TestEnv::faults("skew=1.0", 2);
    let input = env.write("c.csv", rows_csv(5));
    env.cmd("nxlink")
        .arg(&input)
        .assert()
        .code(3)
        .stderr(predicates::str::contains("clock skew"));
    let s = env.summary();
    assert_eq!(s["pending"], json!(5));
    assert!(env.held_nxlink().is_empty());
}

#[test]
fn max_failures_stops_the_run() {
    let env = TestEnv::new();
    let mut csv = String::from("name,phone,seat\n");
    for i in 1..=40 {
        csv.push_str(&format!("N{i},6281{i:07},ghost{i}@elsewhere\n"));
    }
    let input = env.write("m.csv", csv);
    env.cmd("nxlink")
        .arg(&input)
        .args([
            "--strict-binding",
            "--batch-size",
            "2",
            "--concurrency",
            "1",
            "--max-failures",
            "3",
        ])
        .assert()
        .code(3)
        .stderr(predicates::str::contains("--max-failures"));
    let s = env.summary();
    let failed = s["failed"].as_u64().unwrap();
    // Judged as each batch ends, before the next may leave: two batches of two, exactly.
    assert_eq!(failed, 4, "{s}");
    assert_eq!(failed + s["pending"].as_u64().unwrap(), 40, "{s}");
}

#[test]
fn rate_limits_requests_per_second() {
    let env = TestEnv::new();
    let input = env.write("r.csv", rows_csv(16));
    let start = std::time::Instant::now();
    env.cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "1", "--concurrency", "8", "--rate", "10"])
        .assert()
        .code(0);
    // 16 requests at 10/s: at least 1.5 s (only a lower bound is checked).
    assert!(
        start.elapsed() >= std::time::Duration::from_millis(1400),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(env.stats()["requests"], json!(16));
}

#[test]
fn http_429_lowers_concurrency_and_says_so() {
    let env = TestEnv::faults("throttle=0.25", 8);
    let input = env.write("t.csv", rows_csv(30));
    env.cmd("nxlink")
        .arg(&input)
        .args(["--batch-size", "2", "--concurrency", "4", "--retries", "12"])
        .assert()
        .code(0)
        .stderr(predicates::str::contains("lowering concurrency"));
    check_accounting(&env, 30);
}
