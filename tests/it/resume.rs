//! Interrupted and killed runs: signals, the journal, `--resume`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::env::{cell, TestEnv};

fn rows_csv(n: usize) -> String {
    let mut s = String::from("name,phone\n");
    for i in 1..=n {
        s.push_str(&format!("N{i},6281{i:07}\n"));
    }
    s
}

fn spawn(env: &TestEnv, input: &std::path::Path, extra: &[&str]) -> Child {
    spawn_to(env, &env.base_url, input, extra)
}

/// [`spawn`], sending to `base_url` instead of the environment's own sandbox.
fn spawn_to(env: &TestEnv, base_url: &str, input: &std::path::Path, extra: &[&str]) -> Child {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("custimport"));
    c.current_dir(env.dir.path())
        .env_clear()
        .env("HOME", env.dir.path())
        .env("CUSTIMPORT_NXLINK_ACCESS_KEY", "sandbox")
        .env("CUSTIMPORT_NXLINK_ACCESS_SECRET", "sandbox-secret")
        .env("CUSTIMPORT_NXLINK_TENANT_ID", "1")
        .env("CUSTIMPORT_NXLINK_APP_KEY", "sandbox")
        .arg("nxlink")
        .arg(input)
        .args(["--base-url", base_url, "--out"])
        .arg(env.out())
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(env.path("stderr.txt"))
                .unwrap(),
        ));
    c.spawn().unwrap()
}

/// What the runs of this test said on stderr (for failure messages).
fn said(env: &TestEnv) -> String {
    std::fs::read_to_string(env.path("stderr.txt")).unwrap_or_default()
}

/// Wait until the run has recorded a batch as sent in its journal (it is sending).
fn wait_for_sending(env: &TestEnv) {
    let journal = env.out().join("journal.jsonl");
    let start = Instant::now();
    while !std::fs::read_to_string(&journal).is_ok_and(|j| j.contains("\"sent\"")) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the run never started sending: {}",
            said(env)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Wait until the runs of this test said `what` on stderr.
fn wait_for_said(env: &TestEnv, what: &str) {
    let start = Instant::now();
    while !said(env).contains(what) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the run never said {what:?}: {}",
            said(env)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn wait(mut child: Child, limit: Duration) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code().unwrap_or(-1);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("custimport did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, sig);
    }
}

/// Each row exactly once across the reports, all succeeded, all held.
fn check_complete(env: &TestEnv, n: usize) {
    let mut rows: Vec<u64> = env
        .csv_rows("success.csv")
        .iter()
        .map(|r| cell(r, "row").parse().unwrap())
        .collect();
    rows.sort();
    assert_eq!(rows, (1..=n as u64).collect::<Vec<_>>());
    assert!(env.csv_rows("failed.csv").is_empty());
    assert_eq!(env.held_nxlink().len(), n);
    let s = env.summary();
    assert_eq!(s["succeeded"], json!(n));
    assert_eq!(s["total"], json!(n));
}

#[test]
fn sigterm_drains_then_resume_completes() {
    let env = TestEnv::latency(150);
    let input = env.write("t.csv", rows_csv(60));
    let child = spawn(&env, &input, &["--batch-size", "2", "--concurrency", "2"]);
    wait_for_sending(&env);
    signal(&child, libc::SIGTERM);
    assert_eq!(wait(child, Duration::from_secs(30)), 143);
    let s = env.summary();
    assert_eq!(s["interrupted"], json!(true));
    assert_eq!(s["exit_code"], json!(143));
    let pending = s["pending"].as_u64().unwrap();
    assert!(pending > 0 && pending < 60, "{s}");
    assert_eq!(
        s["succeeded"].as_u64().unwrap() + pending + s["unknown"].as_u64().unwrap(),
        60,
        "{s}"
    );

    let child = spawn(
        &env,
        &input,
        &["--batch-size", "2", "--concurrency", "4", "--resume"],
    );
    assert_eq!(wait(child, Duration::from_secs(60)), 0);
    check_complete(&env, 60);
}

#[test]
fn sigkill_then_resume_loses_nothing_and_resends_no_acknowledged_batch() {
    // Two kills at random moments after sending began, in a run that takes about a second.
    let delays: Vec<u64> = (0..2).map(|_| rand::random_range(0..500)).collect();
    println!("kill delays after the first batch was journalled: {delays:?} ms");
    for (i, &delay) in delays.iter().enumerate() {
        let env = TestEnv::latency(100);
        let input = env.write("k.csv", rows_csv(300));
        let child = spawn(&env, &input, &["--batch-size", "10", "--concurrency", "3"]);
        wait_for_sending(&env);
        std::thread::sleep(Duration::from_millis(delay));
        signal(&child, libc::SIGKILL);
        let _ = wait(child, Duration::from_secs(10));
        let before = env.stats()["rows_received"].as_u64().unwrap();
        assert!(
            before < 300,
            "case {i}: the run finished before the kill; raise the latency"
        );
        // Reports are never left half-written: only complete files or none.
        assert!(!env.out().join("success.csv").exists());

        let child = spawn(
            &env,
            &input,
            &["--batch-size", "10", "--concurrency", "3", "--resume"],
        );
        assert_eq!(
            wait(child, Duration::from_secs(60)),
            0,
            "case {i} (kill after {delay} ms): {}",
            said(&env)
        );
        check_complete(&env, 300);
        let received = env.stats()["rows_received"].as_u64().unwrap();
        // Only batches in flight at the kill (at most concurrency x batch) may be sent twice.
        assert!(
            received <= 300 + 3 * 10,
            "case {i}: {received} rows received for 300"
        );
    }
}

#[test]
fn resume_refuses_another_input() {
    let env = TestEnv::new();
    let input = env.write("a.csv", rows_csv(3));
    env.cmd("nxlink").arg(&input).assert().code(0);
    let other = env.write("b.csv", rows_csv(4));
    env.cmd("nxlink")
        .arg(&other)
        .arg("--resume")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not the input of the run"));
    // Resuming a finished run sends nothing and rewrites the same reports.
    let before = env.stats()["requests"].as_u64().unwrap();
    env.cmd("nxlink")
        .arg(&input)
        .arg("--resume")
        .assert()
        .code(0);
    assert_eq!(env.stats()["requests"].as_u64().unwrap(), before);
    check_complete(&env, 3);
}

#[test]
fn a_second_signal_exits_at_once_and_resume_still_works() {
    // Every answer takes a minute: a run that waited for its requests in flight could not end
    // within the 30 s allowed below, and no batch is acknowledged before the signals.
    let slow = TestEnv::latency(60_000);
    let input = slow.write("t.csv", rows_csv(40));
    let child = spawn(&slow, &input, &["--batch-size", "2", "--concurrency", "2"]);
    wait_for_sending(&slow);
    signal(&child, libc::SIGINT);
    // The second signal comes once the first was heard (the run says it is stopping).
    wait_for_said(&slow, "custimport: stopping:");
    signal(&child, libc::SIGINT);
    assert_eq!(wait(child, Duration::from_secs(30)), 130, "{}", said(&slow));
    assert!(
        said(&slow).contains("second signal, exiting now"),
        "{}",
        said(&slow)
    );
    // The journal left behind resumes against a server that answers at once: every row
    // arrives there once, and the run completes.
    let fast = TestEnv::new();
    let child = spawn_to(
        &slow,
        &fast.base_url,
        &input,
        &["--batch-size", "2", "--concurrency", "4", "--resume"],
    );
    assert_eq!(wait(child, Duration::from_secs(60)), 0, "{}", said(&slow));
    let mut rows: Vec<u64> = slow
        .csv_rows("success.csv")
        .iter()
        .map(|r| cell(r, "row").parse().unwrap())
        .collect();
    rows.sort();
    assert_eq!(rows, (1..=40).collect::<Vec<_>>());
    assert_eq!(fast.held_nxlink().len(), 40);
    assert_eq!(fast.stats()["rows_received"], json!(40));
    assert_eq!(slow.summary()["succeeded"], json!(40));
}

#[test]
fn resume_without_a_journal_starts_afresh() {
    let env = TestEnv::new();
    let input = env.write("a.csv", rows_csv(3));
    env.cmd("nxlink")
        .arg(&input)
        .arg("--resume")
        .assert()
        .code(0)
        .stderr(predicates::str::contains("nothing to resume"));
    check_complete(&env, 3);
}
