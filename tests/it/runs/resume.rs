//! Interrupted and killed runs: signals, the journal, `--resume`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::env::{cell, wait_for_exit, TestEnv};

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

fn signal(child: &Child, sig: i32) {
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, sig);
    }
}

/// The row numbers of `success.csv`, sorted.
fn success_rows(env: &TestEnv) -> Vec<u64> {
    let mut rows: Vec<u64> = env
        .csv_rows("success.csv")
        .iter()
        .map(|r| cell(r, "row").parse().unwrap())
        .collect();
    rows.sort();
    rows
}

/// Each row exactly once across the reports, all succeeded, all held.
fn check_complete(env: &TestEnv, n: usize) {
    assert_eq!(success_rows(env), (1..=n as u64).collect::<Vec<_>>());
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
    assert_eq!(wait_for_exit(child, Duration::from_secs(30)), 143);
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
    assert_eq!(wait_for_exit(child, Duration::from_secs(60)), 0);
    check_complete(&env, 60);
}

/// The rows the journal in the report directory records with a final outcome (a torn last
/// line, as a kill mid-write leaves, is skipped as `--resume` skips it).
fn journalled_final(env: &TestEnv) -> Vec<u64> {
    let journal = std::fs::read_to_string(env.out().join("journal.jsonl")).unwrap();
    let mut rows = Vec::new();
    for line in journal.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(done) = v.get("done") else {
            continue;
        };
        for key in ["failed", "unknown", "unchanged"] {
            assert!(done.get(key).is_none(), "no row can end {key} here: {line}");
        }
        for key in ["ok", "present"] {
            for span in done
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                rows.extend(span[0].as_u64().unwrap()..=span[1].as_u64().unwrap());
            }
        }
    }
    rows.sort();
    rows
}

/// The sandbox's count of rows received, once requests a killed run left in its socket have
/// all arrived (two readings 300 ms apart agree).
fn settled_rows_received(env: &TestEnv) -> u64 {
    let mut last = env.stats()["rows_received"].as_u64().unwrap();
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = env.stats()["rows_received"].as_u64().unwrap();
        if now == last {
            return now;
        }
        last = now;
    }
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
        let _ = wait_for_exit(child, Duration::from_secs(10));
        let before = settled_rows_received(&env);
        assert!(
            before < 300,
            "case {i}: the run finished before the kill; raise the latency"
        );
        // Reports are never left half-written: only complete files or none.
        assert!(!env.out().join("success.csv").exists());
        // What the killed run recorded as answered: each of these rows was acknowledged, and
        // no more than it sent.
        let acknowledged = journalled_final(&env);
        let mut unique = acknowledged.clone();
        unique.dedup();
        assert_eq!(unique, acknowledged, "case {i}: a row recorded twice");
        assert!(acknowledged.len() as u64 <= before, "case {i}");

        let child = spawn(
            &env,
            &input,
            &["--batch-size", "10", "--concurrency", "3", "--resume"],
        );
        assert_eq!(
            wait_for_exit(child, Duration::from_secs(60)),
            0,
            "case {i} (kill after {delay} ms): {}",
            said(&env)
        );
        check_complete(&env, 300);
        // The resume sent exactly the rows without a recorded answer, each once: no
        // acknowledged row again, none left out. (Rows answered but not yet recorded when the
        // process died are among those sent again, which the provider deduplicates.)
        let resent = env.stats()["rows_received"].as_u64().unwrap() - before;
        assert_eq!(
            resent,
            300 - acknowledged.len() as u64,
            "case {i} (kill after {delay} ms): {} rows acknowledged before the kill",
            acknowledged.len()
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
    assert_eq!(
        wait_for_exit(child, Duration::from_secs(30)),
        130,
        "{}",
        said(&slow)
    );
    assert!(
        said(&slow).contains("second signal, exiting now"),
        "{}",
        said(&slow)
    );
    // The journal left behind resumes against a server that answers at once: every row
    // arrives there once, and the run completes. A resume keeps its run's endpoint, so the
    // journal is pointed at the fast server, as if the slow one had recovered.
    let fast = TestEnv::new();
    let journal = slow.out().join("journal.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(text.contains(&slow.base_url));
    std::fs::write(&journal, text.replace(&slow.base_url, &fast.base_url)).unwrap();
    let child = spawn_to(
        &slow,
        &fast.base_url,
        &input,
        &["--batch-size", "2", "--concurrency", "4", "--resume"],
    );
    assert_eq!(
        wait_for_exit(child, Duration::from_secs(60)),
        0,
        "{}",
        said(&slow)
    );
    assert_eq!(success_rows(&slow), (1..=40).collect::<Vec<_>>());
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

/// Every succeeded row's `customer_id` in success.csv is the id the sandbox gave its phone.
fn check_ids(env: &TestEnv) {
    let held: std::collections::HashMap<String, String> = env
        .held_nxlink()
        .iter()
        .map(|c| {
            (
                c["whats_app_phone"].as_str().unwrap().to_owned(),
                c["customerId"].to_string(),
            )
        })
        .collect();
    let rows = env.csv_rows("success.csv");
    assert!(!rows.is_empty());
    for r in rows {
        let phone = cell(&r, "whats_app_phone");
        assert_eq!(
            Some(cell(&r, "customer_id")),
            held.get(phone).map(String::as_str),
            "row {}",
            cell(&r, "row")
        );
    }
}

/// Wait until the journal's text satisfies `ready` (the run's own record of its progress).
fn wait_for_journal(env: &TestEnv, ready: impl Fn(&str) -> bool) {
    let journal = env.out().join("journal.jsonl");
    let start = Instant::now();
    while !ready(&std::fs::read_to_string(&journal).unwrap_or_default()) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the journal never showed the expected progress: {}",
            said(env)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[test]
fn a_clean_run_journals_a_tenth_of_its_input_and_no_report_cells() {
    let env = TestEnv::new();
    let input = env.write("big.csv", rows_csv(20_000));
    env.cmd("nxlink").arg(&input).assert().code(0);
    let input_len = std::fs::metadata(&input).unwrap().len();
    let journal = env.read("journal.jsonl");
    assert!(
        journal.len() as u64 * 10 <= input_len,
        "journal {} bytes for an input of {input_len}",
        journal.len()
    );
    let success = env.read("success.csv");
    let first = &env.csv_rows("success.csv")[0];
    for cell_of_report in [cell(first, "customer_id"), cell(first, "whats_app_phone")] {
        assert!(
            !journal.contains(cell_of_report),
            "{cell_of_report} in the journal"
        );
    }
    check_ids(&env);

    // Resuming the finished run sends nothing and writes the same success lines (the customer
    // ids read back from its success.csv).
    let requests = env.stats()["requests"].as_u64().unwrap();
    env.cmd("nxlink")
        .arg(&input)
        .arg("--resume")
        .assert()
        .code(0);
    assert_eq!(env.stats()["requests"].as_u64().unwrap(), requests);
    assert_eq!(
        sorted_lines(&env.read("success.csv")),
        sorted_lines(&success)
    );
    assert!(!env.out().join(".success.csv.earlier").exists());
}

#[test]
fn resume_refuses_when_the_success_report_is_gone() {
    let env = TestEnv::new();
    let input = env.write("a.csv", rows_csv(5));
    env.cmd("nxlink").arg(&input).assert().code(0);
    std::fs::remove_file(env.out().join("success.csv")).unwrap();
    let requests = env.stats()["requests"].as_u64().unwrap();
    let out = env.out().display().to_string();
    env.cmd("nxlink")
        .arg(&input)
        .arg("--resume")
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!(
            "error: --resume: the journal in {out} records 5 row(s) as succeeded (the first: row 1) whose line is in none of {out}/success.csv, {out}/.success.csv.part and {out}/.success.csv.earlier: the earlier run's success report was removed or damaged. Those rows are held by the provider and are not sent again"
        )));
    assert_eq!(env.stats()["requests"].as_u64().unwrap(), requests);
    assert!(!env.out().join(".success.csv.part").exists());
}

#[test]
fn after_a_power_failure_rows_past_the_last_checkpoint_without_their_line_are_sent_again() {
    let env = TestEnv::new();
    let input = env.write("a.csv", rows_csv(250));
    env.cmd("nxlink").arg(&input).assert().code(0);
    // What a power failure can leave: the journal's last outcomes reached the disk, but
    // neither the mark of the checkpoint after them nor the success lines synced with them.
    let journal = env.read("journal.jsonl");
    let lines: Vec<&str> = journal.lines().collect();
    assert_eq!(lines.last(), Some(&r#"{"synced":true}"#), "{journal}");
    // The outcomes written after the mark before the last one: the trailing `done` lines.
    let marked = lines.len() - 1;
    let first_unmarked = lines[..marked]
        .iter()
        .rposition(|l| !l.starts_with(r#"{"done""#))
        .map_or(0, |i| i + 1);
    let mut unmarked = Vec::new();
    for l in &lines[first_unmarked..marked] {
        let v: Value = serde_json::from_str(l).unwrap();
        for span in v["done"]["ok"].as_array().unwrap() {
            unmarked.extend(span[0].as_u64().unwrap()..=span[1].as_u64().unwrap());
        }
    }
    assert!(!unmarked.is_empty(), "{journal}");
    let all = lines[..marked].join("\n") + "\n";
    std::fs::write(env.out().join("journal.jsonl"), all).unwrap();
    let success = env.read("success.csv");
    let lost: String = success
        .lines()
        .filter(|l| {
            let row: u64 = l.split(',').next().unwrap().parse().unwrap_or(0);
            !unmarked.contains(&row)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::remove_file(env.out().join("success.csv")).unwrap();
    std::fs::write(env.out().join(".success.csv.part"), lost).unwrap();
    std::fs::remove_file(env.out().join("summary.json")).unwrap();
    std::fs::remove_file(env.out().join("failed.csv")).unwrap();

    let received = env.stats()["rows_received"].as_u64().unwrap();
    env.cmd("nxlink")
        .arg(&input)
        .arg("--resume")
        .assert()
        .code(0);
    // Exactly those rows went again, and every row has its line with the provider's id.
    assert_eq!(
        env.stats()["rows_received"].as_u64().unwrap(),
        received + unmarked.len() as u64
    );
    assert_eq!(success_rows(&env), (1..=250).collect::<Vec<_>>());
    let rows = env.csv_rows("success.csv");
    assert!(rows.iter().all(|r| !cell(r, "customer_id").is_empty()));
    assert_eq!(env.held_nxlink().len(), 250);
    assert_eq!(env.summary()["succeeded"], json!(250));
}

#[test]
fn a_version_2_journal_is_resumed_with_its_own_success_cells() {
    let env = TestEnv::new();
    let input = env.write("a.csv", rows_csv(6));
    env.cmd("nxlink").arg(&input).assert().code(0);
    // The same run as a journal of version 2 would have recorded it, killed after its first
    // batch: rows 1-3 succeeded (cells in the journal), 4 sent without an answer, 5-6 unsent.
    let journal = env.read("journal.jsonl");
    let header = journal
        .lines()
        .next()
        .unwrap()
        .replace(&format!("\"version\":{}", 4), "\"version\":2");
    assert!(header.contains("\"version\":2"), "{header}");
    let v2 = [
        header.as_str(),
        r#"{"sent":{"batch":1,"rows":[1,2,3,4]}}"#,
        r#"{"done":[[1,"succeeded",false,["11","62810000001","N1"]],[2,"succeeded",false,["12","62810000002","N2"]],[3,"succeeded",true,["","62810000003","N3"]]]}"#,
    ];
    for name in ["success.csv", "failed.csv", "summary.json"] {
        std::fs::remove_file(env.out().join(name)).unwrap();
    }
    std::fs::write(env.out().join("journal.jsonl"), v2.join("\n") + "\n").unwrap();
    let received = env.stats()["rows_received"].as_u64().unwrap();
    env.cmd("nxlink")
        .arg(&input)
        .arg("--resume")
        .assert()
        .code(0);
    assert_eq!(
        env.stats()["rows_received"].as_u64().unwrap(),
        received + 3,
        "rows 4-6 sent again, 1-3 not"
    );
    let ids: Vec<(String, String)> = {
        let mut rows: Vec<(String, String)> = env
            .csv_rows("success.csv")
            .iter()
            .map(|r| (cell(r, "row").to_owned(), cell(r, "customer_id").to_owned()))
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(
        ids[..3],
        [
            ("1".into(), "11".into()),
            ("2".into(), "12".into()),
            ("3".into(), "".into())
        ]
    );
    assert_eq!(ids.len(), 6);
    assert!(ids[3..].iter().all(|(_, id)| !id.is_empty()), "{ids:?}");
    let s = env.summary();
    assert_eq!(s["succeeded"], json!(6));
    assert_eq!(s["already_present"], json!(1));
}

#[test]
fn killed_twice_then_resumed_keeps_every_customer_id() {
    let env = TestEnv::latency(100);
    let input = env.write("k.csv", rows_csv(300));
    let args = ["--batch-size", "10", "--concurrency", "3"];
    let child = spawn(&env, &input, &args);
    // Killed once rows have succeeded: their lines are only in .success.csv.part.
    wait_for_journal(&env, |j| j.contains("\"ok\""));
    signal(&child, libc::SIGKILL);
    let _ = wait_for_exit(child, Duration::from_secs(10));
    assert!(env.out().join(".success.csv.part").exists());
    let len = std::fs::metadata(env.out().join("journal.jsonl"))
        .unwrap()
        .len() as usize;

    // Killed again once the resumed run recorded outcomes of its own: the earlier lines are
    // kept in .success.csv.earlier meanwhile.
    let child = spawn(&env, &input, &[&args[..], &["--resume"]].concat());
    wait_for_journal(&env, |j| j.len() > len && j[len..].contains("\"ok\""));
    signal(&child, libc::SIGKILL);
    let _ = wait_for_exit(child, Duration::from_secs(10));
    assert!(env.out().join(".success.csv.earlier").exists());
    assert!(
        env.stats()["rows_received"].as_u64().unwrap() < 300,
        "the run finished before the kill; raise the latency"
    );

    let child = spawn(&env, &input, &[&args[..], &["--resume"]].concat());
    assert_eq!(
        wait_for_exit(child, Duration::from_secs(60)),
        0,
        "{}",
        said(&env)
    );
    check_complete(&env, 300);
    check_ids(&env);
    for gone in [".success.csv.earlier", ".success.csv.part"] {
        assert!(!env.out().join(gone).exists(), "{gone}");
    }
}
