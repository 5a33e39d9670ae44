//! itnio end to end against the sandbox.

use predicates::prelude::*;
use serde_json::{json, Value};

use crate::env::{by_row, cell, TestEnv};

fn held(env: &TestEnv, job: u64) -> std::collections::BTreeMap<String, Value> {
    env.held_itnio(job)
        .into_iter()
        .map(|p| (p["phoneNumber"].as_str().unwrap_or_default().to_owned(), p))
        .collect()
}

#[test]
fn leads_fixture_into_job_9() {
    let env = TestEnv::new();
    env.cmd("itnio")
        .args(["--job", "9"])
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/leads.csv"))
        .assert()
        .code(1);
    let h = held(&env, 9);
    assert_eq!(h.len(), 9, "{h:?}");
    assert_eq!(
        h["6281234567801"],
        json!({"name": "Budi Santoso", "phoneNumber": "6281234567801", "gender": "MALE",
               "properties": {"amount": "1500000", "due_date": "2026-12-01", "证件后4位": "0235"}})
    );
    // Empty cells are left out of properties, and an empty gender is omitted.
    assert_eq!(
        h["081234567805"],
        json!({"name": "Agus Wijaya", "phoneNumber": "081234567805",
               "properties": {"amount": "750000", "due_date": "2026-12-15"}})
    );
    assert!(h["6285711117811"].get("name").is_none());
    let failed = by_row(&env.csv_rows("failed.csv"), "custimport_row");
    let codes: Vec<(u64, &str)> = failed
        .iter()
        .map(|(r, row)| (*r, cell(row, "custimport_code")))
        .collect();
    assert_eq!(
        codes,
        vec![
            (7, "invalid_phone"),
            (8, "duplicate_in_file"),
            (10, "invalid_gender")
        ]
    );
    assert!(cell(&failed[&8], "custimport_error").contains("row 1"));
    let success = env.csv_rows("success.csv");
    assert_eq!(success.len(), 9);
    assert_eq!(
        success[0]
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>(),
        vec!["row", "phone_number", "name", "source_row"]
    );
}

#[test]
fn jsonl_properties_keep_types_and_map_renames() {
    let env = TestEnv::new();
    let input = env.write(
        "l.jsonl",
        "{\"nama\":\"Ann\",\"hp\":\"0812 1\",\"income\":3000,\"vip\":true,\"Amount Due\":\"5\"}\n\
         {\"name\":\"Bob\",\"phone\":62812000002,\"sex\":\"female\",\"note\":null}\n",
    );
    env.cmd("itnio")
        .args(["--job", "9", "--map", "properties.amount=Amount Due"])
        .arg(&input)
        .assert()
        .code(0);
    let h = held(&env, 9);
    assert_eq!(
        h["08121"]["properties"],
        json!({"income": 3000, "vip": true, "amount": "5"})
    );
    assert_eq!(
        h["62812000002"],
        json!({"name": "Bob", "phoneNumber": "62812000002", "gender": "FEMALE"})
    );
}

#[test]
fn already_in_job_fails_on_a_first_send() {
    let env = TestEnv::new();
    let first = env.write("a.csv", "name,phone\nA,6281000001\n");
    env.cmd("itnio")
        .args(["--job", "77"])
        .arg(&first)
        .assert()
        .code(0);
    std::fs::remove_dir_all(env.out()).unwrap();
    let second = env.write("b.csv", "name,phone\nA,6281000001\nB,6281000002\n");
    env.cmd("itnio")
        .args(["--job", "77"])
        .arg(&second)
        .assert()
        .code(1);
    let failed = env.csv_rows("failed.csv");
    assert_eq!(failed.len(), 1);
    assert_eq!(cell(&failed[0], "custimport_outcome"), "failed");
    assert_eq!(cell(&failed[0], "custimport_code"), "already_exists");
    assert_eq!(
        cell(&failed[0], "custimport_error"),
        "The customer already exists in this task"
    );
    assert_eq!(env.summary()["succeeded"], json!(1));
}

#[test]
fn missing_script_variable_fails_the_row() {
    // Sandbox jobs 1000..=1999 need the property `amount`.
    let env = TestEnv::new();
    let input = env.write(
        "p.csv",
        "name,phone,amount\nA,6281000001,10\nB,6281000002,\n",
    );
    env.cmd("itnio")
        .args(["--job", "1500"])
        .arg(&input)
        .assert()
        .code(1);
    let failed = env.csv_rows("failed.csv");
    assert_eq!(failed.len(), 1);
    assert_eq!(cell(&failed[0], "custimport_row"), "2");
    assert_eq!(cell(&failed[0], "custimport_code"), "properties_incomplete");
}

#[test]
fn unknown_job_is_run_fatal() {
    let env = TestEnv::new();
    let input = env.write("j.csv", "name,phone\nA,6281000001\n");
    env.cmd("itnio")
        .args(["--job", "1000000"])
        .arg(&input)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "job 1000000 does not exist for app sandbox",
        ));
    assert_eq!(env.summary()["pending"], json!(1));
}

#[test]
fn bad_credentials_are_run_fatal() {
    let env = TestEnv::new();
    let input = env.write("j.csv", "name,phone\nA,6281000001\n");
    env.cmd("itnio")
        .env("CUSTIMPORT_ITNIO_API_SECRET", "nope")
        .args(["--job", "9"])
        .arg(&input)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("api_secret"));
}

#[test]
fn unknown_app_is_run_fatal() {
    let env = TestEnv::new();
    let input = env.write("j.csv", "name,phone\nA,6281000001\n");
    env.cmd("itnio")
        .args(["--job", "9", "--app-id", "other"])
        .arg(&input)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("app other does not exist"));
}

#[test]
fn answer_lines_matching_no_row_leave_the_unnamed_rows_unknown() {
    // The answer names a phone that is in no row: a line no row can be matched to, so no row
    // of the request is confirmed (contract: "What counts as an answer"), though all are held.
    let env = TestEnv::faults("stray=1.0", 1);
    let input = env.write("u.csv", "name,phone\nA,6281000001\nB,6281000002\n");
    env.cmd("itnio")
        .args(["--job", "9"])
        .arg(&input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("1 line(s) that match no row"));
    let s = env.summary();
    assert_eq!(s["unattributed"], json!(1));
    assert_eq!(s["succeeded"], json!(0));
    assert_eq!(s["unknown"], json!(2));
    assert_eq!(s["exit_code"], json!(1));
    let failed = by_row(&env.csv_rows("failed.csv"), "custimport_row");
    assert_eq!(failed.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
    for row in failed.values() {
        assert_eq!(cell(row, "custimport_outcome"), "unknown");
    }
    assert_eq!(env.csv_rows("success.csv").len(), 0);
    assert_eq!(env.held_itnio(9).len(), 2);
}

#[test]
fn throttling_lowers_concurrency_and_loses_nothing() {
    let env = TestEnv::faults("throttle=0.3", 4);
    let mut csv = String::from("name,phone\n");
    for i in 1..=60 {
        csv.push_str(&format!("N{i},6281{i:07}\n"));
    }
    let input = env.write("t.csv", csv);
    env.cmd("itnio")
        .args([
            "--job",
            "9",
            "--batch-size",
            "2",
            "--concurrency",
            "4",
            "--retries",
            "10",
        ])
        .arg(&input)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("lowering concurrency"));
    assert_eq!(env.summary()["succeeded"], json!(60));
    assert_eq!(env.held_itnio(9).len(), 60);
    // Each of the 60 rows once in success.csv.
    let rows = by_row(&env.csv_rows("success.csv"), "row");
    assert_eq!(
        rows.keys().copied().collect::<Vec<u64>>(),
        (1..=60).collect::<Vec<u64>>()
    );
}

/// A CSV of `rows` valid rows with a `sandbox_refuse` column, holding `code` on the rows in `bad`
/// (1-based) and empty elsewhere; row `i` has phone `6281{i:07}`.
fn refuse_csv(rows: u64, bad: &[(u64, &str)]) -> String {
    let mut csv = String::from("name,phone,sandbox_refuse\n");
    for i in 1..=rows {
        let mark = bad
            .iter()
            .find(|(r, _)| *r == i)
            .map_or("", |(_, code)| code);
        csv.push_str(&format!("N{i},6281{i:07},{mark}\n"));
    }
    csv
}

fn phone(i: u64) -> String {
    format!("6281{i:07}")
}

/// Runs a bisecting import of 20 rows with the rows in `bad` marked `-35` and checks every row's
/// outcome, what job 9 holds, the summary, and that `requests` is exactly `requests` and within
/// the README's bound of about 2·log2(batch) extra requests per bad row.
fn check_bisection(batch: u64, bad: &[u64], requests: u64) {
    const ROWS: u64 = 20;
    let env = TestEnv::new();
    let marks: Vec<(u64, &str)> = bad.iter().map(|&r| (r, "-35")).collect();
    let input = env.write("r.csv", refuse_csv(ROWS, &marks));
    env.cmd("itnio")
        .args(["--job", "9", "--batch-size", &batch.to_string()])
        .arg(&input)
        .assert()
        .code(1);
    let good: Vec<u64> = (1..=ROWS).filter(|r| !bad.contains(r)).collect();

    // Exactly the good rows succeeded, each once, and job 9 holds exactly them.
    let success = env.csv_rows("success.csv");
    assert_eq!(success.len(), good.len());
    let success = by_row(&success, "row");
    assert_eq!(success.keys().copied().collect::<Vec<_>>(), good);
    for (r, row) in &success {
        assert_eq!(cell(row, "phone_number"), phone(*r));
        assert_eq!(cell(row, "name"), format!("N{r}"));
    }
    let h = held(&env, 9);
    assert_eq!(env.held_itnio(9).len(), good.len());
    for r in &good {
        assert_eq!(
            h[&phone(*r)],
            json!({"name": format!("N{r}"), "phoneNumber": phone(*r)})
        );
    }

    // Exactly the marked rows failed with -35, each once, with their original columns.
    let failed = env.csv_rows("failed.csv");
    assert_eq!(failed.len(), bad.len());
    let failed = by_row(&failed, "custimport_row");
    assert_eq!(failed.keys().copied().collect::<Vec<_>>(), bad);
    for (r, row) in &failed {
        let cols: Vec<(&str, String)> = row.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        assert_eq!(
            cols,
            vec![
                ("name", format!("N{r}")),
                ("phone", phone(*r)),
                // A negative plain number is not a formula: not guarded.
                ("sandbox_refuse", "-35".to_owned()),
                ("custimport_row", r.to_string()),
                ("custimport_outcome", "failed".to_owned()),
                ("custimport_code", "-35".to_owned()),
                ("custimport_error", "import failed".to_owned()),
            ]
        );
    }

    let s = env.summary();
    for (key, want) in [
        ("total", ROWS),
        ("succeeded", good.len() as u64),
        ("rejected", 0),
        ("failed", bad.len() as u64),
        ("unknown", 0),
        ("pending", 0),
        ("retries", 0),
        ("exit_code", 1),
        ("requests", requests),
    ] {
        assert_eq!(s[key], json!(want), "{key}: {s}");
    }
    // README: at most about 2·log2(batch) extra requests per bad row.
    let batches = ROWS.div_ceil(batch);
    let log2 = u64::from(batch.next_power_of_two().trailing_zeros());
    assert!(requests <= batches + 2 * log2 * bad.len() as u64);
}

#[test]
fn batch_refusal_is_bisected_to_the_marked_rows_batch_4() {
    // Batches 1–4, 5–8, 9–12, 13–16, 17–20. Batch 5–8: 5–8 refused, 5–6 refused, 5 ok, 6
    // refused, 7–8 ok (5 requests). Batch 13–16: 13–16, 13–14, 13, 14, 15–16, 15, 16 (7).
    // Three clean batches: 1 each. 15 in all.
    check_bisection(4, &[6, 13, 16], 15);
}

#[test]
fn batch_refusal_is_bisected_to_the_marked_rows_batch_8() {
    // Batch 1–8 (bad 3): 1–8, 1–4, 1–2, 3–4, 3, 4, 5–8 (7 requests). Batch 9–16 (bad 11, 14):
    // 9–16, 9–12, 9–10, 11–12, 11, 12, 13–16, 13–14, 13, 14, 15–16 (11). Batch 17–20: 1.
    check_bisection(8, &[3, 11, 14], 19);
}

#[test]
fn batch_refusal_without_bisection_fails_the_whole_batch() {
    const ROWS: u64 = 12;
    let env = TestEnv::new();
    let input = env.write("r.csv", refuse_csv(ROWS, &[(2, "-35"), (11, "-51")]));
    env.cmd("itnio")
        .args(["--job", "9", "--batch-size", "4", "--no-bisect"])
        .arg(&input)
        .assert()
        .code(1);
    // Batches 1–4 and 9–12 are refused whole; 5–8 is imported.
    let refused: Vec<(u64, &str, &str)> = (1..=4)
        .map(|r| (r, "-35", "import failed"))
        .chain((9..=12).map(|r| (r, "-51", "customer properties incomplete")))
        .collect();
    let failed = by_row(&env.csv_rows("failed.csv"), "custimport_row");
    assert_eq!(failed.len(), refused.len());
    for (r, code, error) in &refused {
        let row = &failed[r];
        assert_eq!(cell(row, "phone"), phone(*r));
        assert_eq!(cell(row, "custimport_outcome"), "failed");
        assert_eq!(cell(row, "custimport_code"), *code);
        assert_eq!(cell(row, "custimport_error"), *error);
    }
    let success = by_row(&env.csv_rows("success.csv"), "row");
    assert_eq!(
        success.keys().copied().collect::<Vec<_>>(),
        vec![5, 6, 7, 8]
    );
    let mut phones: Vec<String> = held(&env, 9).into_keys().collect();
    phones.sort();
    assert_eq!(phones, (5..=8).map(phone).collect::<Vec<_>>());
    assert_eq!(env.held_itnio(9).len(), 4);
    let s = env.summary();
    for (key, want) in [
        ("total", ROWS),
        ("succeeded", 4),
        ("failed", 8),
        ("rejected", 0),
        ("unknown", 0),
        ("pending", 0),
        ("requests", 3),
        ("retries", 0),
        ("exit_code", 1),
    ] {
        assert_eq!(s[key], json!(want), "{key}: {s}");
    }
}
