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
        vec!["row", "phone_number", "name"]
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
fn answer_lines_matching_no_row_are_counted_and_warned() {
    let env = TestEnv::faults("stray=1.0", 1);
    let input = env.write("u.csv", "name,phone\nA,6281000001\nB,6281000002\n");
    env.cmd("itnio")
        .args(["--job", "9"])
        .arg(&input)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("1 line(s) that match no row"));
    let s = env.summary();
    assert_eq!(s["unattributed"], json!(1));
    assert_eq!(s["succeeded"], json!(2));
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
    let _ = by_row(&env.csv_rows("success.csv"), "row");
}
