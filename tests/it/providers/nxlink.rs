//! nxlink end to end against the sandbox: payloads, reports, outcomes, exit codes.

use predicates::prelude::*;
use serde_json::{json, Value};

use crate::env::{by_row, cell, TestEnv};

const MESSY: &str = "\u{feff}姓名;手机;邮箱;生日;性别;备注;Unused\r\n\
\"Budi; Santoso\";+62 812-3456-7801;budi@example.co.id;1985-3-14;男;\"multi\r\nline; note\";x\r\n\
张伟;(0812) 3456.7802;;;女;;\r\n\
Bad Phone;0812-ABC;;;;;\r\n\
Siti;'+62 813 4567 7804;siti@example.co.id;1990.7.2;F;'=1+1;\r\n";

fn held_by_phone(env: &TestEnv) -> std::collections::BTreeMap<String, Value> {
    env.held_nxlink()
        .into_iter()
        .map(|c| {
            (
                c["whats_app_phone"].as_str().unwrap_or_default().to_owned(),
                c,
            )
        })
        .collect()
}

#[test]
fn messy_csv_end_to_end() {
    let env = TestEnv::new();
    let input = env.write("messy.csv", MESSY);
    env.cmd("nxlink")
        .arg(&input)
        .arg("--json")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("Unused"))
        .stderr(predicate::str::contains(
            "row 3 rejected: line 5: whats_app_phone",
        ));

    let held = held_by_phone(&env);
    assert_eq!(held.len(), 3, "{held:?}");
    let budi = &held["6281234567801"];
    assert_eq!(budi["full_name"], "Budi; Santoso");
    assert_eq!(budi["email"], "budi@example.co.id");
    assert_eq!(budi["birthday"], "1985-03-14");
    assert_eq!(budi["gender"], json!(1));
    assert_eq!(budi["remark"], "multi\r\nline; note");
    assert!(budi.get("Unused").is_none());
    let zhang = &held["081234567802"];
    assert_eq!(zhang["full_name"], "张伟");
    assert_eq!(zhang["gender"], json!(0));
    assert!(
        zhang.get("email").is_none(),
        "empty cells are absent: {zhang}"
    );
    let siti = &held["6281345677804"];
    assert_eq!(siti["birthday"], "1990-07-02");
    assert_eq!(siti["remark"], "=1+1");

    let s = env.summary();
    for (k, v) in [
        ("total", 4),
        ("succeeded", 3),
        ("rejected", 1),
        ("failed", 0),
        ("unknown", 0),
        ("pending", 0),
        ("requests", 1),
        ("exit_code", 1),
    ] {
        assert_eq!(s[k], json!(v), "{k} in {s}");
    }
    assert_eq!(s["provider"], "nxlink");
    assert_eq!(s["interrupted"], json!(false));

    let success = env.read("success.csv");
    let id = |p: &str| held[p]["customerId"].to_string();
    assert_eq!(
        success,
        format!(
            // The input starts with a BOM: so do its reports (Excel then reads them as UTF-8).
            "\u{feff}row,customer_id,whats_app_phone,full_name,source_row\n1,{},6281234567801,Budi; Santoso,\n2,{},081234567802,张伟,\n4,{},6281345677804,Siti,\n",
            id("6281234567801"),
            id("081234567802"),
            id("6281345677804")
        )
    );
    // The failure report keeps the input's columns and cells (as a comma CSV), plus ours.
    assert_eq!(
        env.read("failed.csv"),
        "\u{feff}姓名,手机,邮箱,生日,性别,备注,Unused,custimport_row,custimport_outcome,custimport_code,custimport_error\n\
         Bad Phone,0812-ABC,,,,,,3,rejected,invalid_phone,\"line 5: whats_app_phone: must be digits (spaces, -, ., parentheses and one leading + are allowed)\"\n"
    );
}

#[test]
fn jsonl_end_to_end() {
    let env = TestEnv::new();
    let input = env.write(
        "c.jsonl",
        "{\"name\":\"Ann\",\"phone\":6281200000001,\"weight\":2,\"customize\":1}\n\
         \n\
         {\"name\":\"Bob\",\"whatsapp\":\"+62 812 0000 0002\",\"gender\":\"m\"}\n\
         not json\n\
         [1,2]\n\
         {\"name\":\"Cid\",\"country\":[\"x\"],\"email\":\"c@d.e\"}\n",
    );
    env.cmd("nxlink")
        .arg(&input)
        .arg("--map")
        .arg("customize.tier=customize")
        .assert()
        .code(1);
    let held = held_by_phone(&env);
    assert_eq!(held.len(), 2);
    assert_eq!(held["6281200000001"]["weight"], json!(2));
    assert_eq!(held["6281200000001"]["customize_field"], "{\"tier\":1}");
    assert_eq!(held["6281200000002"]["gender"], json!(1));
    let s = env.summary();
    assert_eq!(s["total"], json!(5));
    assert_eq!(s["succeeded"], json!(2));
    assert_eq!(s["rejected"], json!(3));
    assert_eq!(s["blank_lines"], json!(1));
    let failed: Vec<Value> = env
        .read("failed.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(failed.len(), 3);
    let codes: Vec<(u64, String)> = failed
        .iter()
        .map(|f| {
            (
                f["custimport"]["row"].as_u64().unwrap(),
                f["custimport"]["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        vec![
            (3, "invalid_json".into()),
            (4, "not_an_object".into()),
            (5, "invalid_type".into())
        ]
    );
    assert_eq!(failed[0]["line"], "not json");
    assert_eq!(failed[2]["name"], "Cid");
    assert_eq!(failed[2]["country"], json!(["x"]));
}

#[test]
fn every_rejection_kind_is_reported_and_never_sent() {
    let env = TestEnv::new();
    env.cmd("nxlink")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/customers.csv"))
        .assert()
        .code(1);
    let failed = by_row(&env.csv_rows("failed.csv"), "custimport_row");
    let codes: Vec<(u64, &str)> = failed
        .iter()
        .map(|(r, row)| (*r, cell(row, "custimport_code")))
        .collect();
    assert_eq!(
        codes,
        vec![
            (16, "invalid_phone"),
            (17, "missing_full_name"),
            (18, "no_contact"),
            (19, "invalid_birthday"),
            (20, "invalid_gender"),
            (21, "invalid_weight"),
            (22, "invalid_email"),
            (23, "invalid_phone"),
        ]
    );
    for row in failed.values() {
        assert_eq!(cell(row, "custimport_outcome"), "rejected");
    }
    assert!(cell(&failed[&23], "custimport_error").contains("scientific"));
    let s = env.summary();
    assert_eq!(s["succeeded"], json!(20));
    assert_eq!(s["rejected"], json!(8));
    assert_eq!(env.held_nxlink().len(), 20);
    assert_eq!(env.stats()["rows_received"], json!(20));
}

#[test]
fn strict_binding_fails_only_unknown_seats() {
    let env = TestEnv::new();
    let input = env.write(
        "s.csv",
        "name,phone,seat\nA,6281000001,a@sandbox.test\nB,6281000002,ghost@elsewhere\nC,6281000003,\n",
    );
    env.cmd("nxlink")
        .arg(&input)
        .arg("--strict-binding")
        .assert()
        .code(1);
    let failed = env.csv_rows("failed.csv");
    assert_eq!(failed.len(), 1);
    assert_eq!(cell(&failed[0], "custimport_row"), "2");
    assert_eq!(cell(&failed[0], "custimport_outcome"), "failed");
    assert_eq!(cell(&failed[0], "custimport_code"), "12148");
    assert_eq!(cell(&failed[0], "seat"), "ghost@elsewhere");
    assert_eq!(env.summary()["succeeded"], json!(2));
}

#[test]
fn whole_request_seat_refusal_fails_the_bad_row_only() {
    let env = TestEnv::new();
    let mut csv = String::from("name,phone,seat\n");
    for i in 1..=40 {
        let seat = if i == 27 { "ghost@elsewhere" } else { "" };
        csv.push_str(&format!("N{i},62810000{i:04},{seat}\n"));
    }
    let input = env.write("b.csv", &csv);
    env.cmd("nxlink").arg(&input).assert().code(1);
    let s = env.summary();
    assert_eq!(s["succeeded"], json!(39));
    assert_eq!(s["failed"], json!(1));
    // The refusal names the seat: its row fails, the others go again, without bisection.
    assert_eq!(s["requests"], json!(2), "{s}");
    let failed = env.csv_rows("failed.csv");
    assert_eq!(cell(&failed[0], "custimport_row"), "27");
    assert_eq!(cell(&failed[0], "custimport_code"), "12148");
    assert_eq!(env.held_nxlink().len(), 39);

    // Without bisection the whole batch fails with the code.
    let env = TestEnv::new();
    let input = env.write("b.csv", &csv);
    env.cmd("nxlink")
        .arg(&input)
        .arg("--no-bisect")
        .assert()
        .code(1);
    let s = env.summary();
    assert_eq!(s["failed"], json!(40));
    assert_eq!(s["requests"], json!(1));
    assert!(env.held_nxlink().is_empty());
}

#[test]
fn run_fatal_code_stops_with_exit_3_and_pending_rows() {
    let env = TestEnv::new();
    let input = env.write(
        "f.csv",
        "name,phone\nA,6281000001\nB,6281000002\nC,6281000003\n",
    );
    env.cmd("nxlink")
        .env("CUSTIMPORT_NXLINK_ACCESS_SECRET", "wrong-secret")
        .arg(&input)
        .args(["--batch-size", "1", "--concurrency", "1"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("1003"))
        .stderr(predicate::str::contains("access_secret"))
        .stderr(predicate::str::contains("wrong-secret").not());
    let s = env.summary();
    assert_eq!(s["exit_code"], json!(3));
    assert_eq!(s["pending"], json!(3));
    assert_eq!(s["succeeded"], json!(0));
    let failed = env.csv_rows("failed.csv");
    assert_eq!(failed.len(), 3);
    assert!(failed
        .iter()
        .all(|r| cell(r, "custimport_outcome") == "pending"));
    assert!(env.held_nxlink().is_empty());
}

#[test]
fn modes_set_the_body_type() {
    let env = TestEnv::new();
    let first = env.write("1.csv", "name,phone,country\nOld,6281000001,ID\n");
    env.cmd("nxlink").arg(&first).assert().code(0);
    let second = env.write("2.csv", "name,phone\nNew,6281000001\n");
    std::fs::remove_dir_all(env.out()).unwrap();
    env.cmd("nxlink")
        .arg(&second)
        .args(["--mode", "keep"])
        .assert()
        .code(0);
    let held = env.held_nxlink();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["full_name"], "Old");
    std::fs::remove_dir_all(env.out()).unwrap();
    env.cmd("nxlink")
        .arg(&second)
        .args(["--mode", "replace"])
        .assert()
        .code(0);
    let held = env.held_nxlink();
    assert_eq!(held[0]["full_name"], "New");
    assert!(held[0].get("country").is_none(), "{}", held[0]);
}

#[test]
fn dry_run_sends_nothing() {
    let env = TestEnv::new();
    let input = env.write("d.csv", "name,phone\nA,6281000001\nB,bad\n");
    env.bare()
        .arg("nxlink")
        .arg(&input)
        .args(["--dry-run", "--out"])
        .arg(env.out())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "dry run of 2 rows: 1 valid, 1 rejected; would send 1 request",
        ));
    assert_eq!(env.stats()["requests"], json!(0));
    let s = env.summary();
    assert_eq!(s["dry_run"], json!(true));
    assert_eq!(s["valid"], json!(1));
    assert_eq!(s["rejected"], json!(1));
    assert!(!env.out().join("success.csv").exists());
    assert_eq!(env.csv_rows("failed.csv").len(), 1);
}

#[test]
fn sandbox_flag_needs_no_credentials() {
    let env = TestEnv::new();
    env.bare()
        .arg("nxlink")
        .arg("--sandbox")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/customers.csv"))
        .arg("--out")
        .arg(env.out())
        .arg("--json")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"succeeded\":20"));
}

#[test]
fn secrets_never_appear_anywhere() {
    let env = TestEnv::faults("500=0.2", 7);
    let input = env.write("s.csv", "name,phone\nA,6281000001\nB,6281000002\n");
    let secret = "s3cr3t-VALUE-never-shown";
    let out = env
        .cmd("nxlink")
        .env("CUSTIMPORT_NXLINK_ACCESS_SECRET", secret)
        .env("RUST_LOG", "trace")
        .arg(&input)
        .args(["-vv", "--json", "--batch-size", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(secret));
    assert!(!all.contains("sandbox-secret"));
    for f in std::fs::read_dir(env.out()).unwrap() {
        let text = std::fs::read(f.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&text).contains(secret));
    }
}

#[test]
fn unmapped_jsonl_keys_are_named_once() {
    let env = TestEnv::new();
    let input = env.write(
        "k.jsonl",
        "{\"name\":\"A\",\"phone\":\"6281\",\"favourite\":1}\n{\"name\":\"B\",\"phone\":\"6282\",\"favourite\":2,\"pet\":\"cat\"}\n",
    );
    let out = env.cmd("nxlink").arg(&input).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("keys not mapped to any field, ignored: \"favourite\", \"pet\"")
            .count(),
        1,
        "{err}"
    );
}
