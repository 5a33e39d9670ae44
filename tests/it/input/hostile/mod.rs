//! Hostile input end to end: encodings (GBK, UTF-16), ragged rows, open quotes, odd line endings
//! and delimiters, damaged JSONL, spreadsheet damage, failure-report round trips and dry runs.
//! Every test checks the exact outcome of each row, what the sandbox holds, and the exit code.
//!
//! GBK inputs are produced here with encoding_rs; UTF-16 inputs with `str::encode_utf16` and
//! checked to decode back with encoding_rs (its UTF-16 "encoders" write UTF-8, per WHATWG).

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use serde_json::{json, Map, Value};

use crate::env::{by_row, cell, TestEnv};

mod encodings;
mod jsonl;
mod roundtrip;
mod structure;

// ---------------------------------------------------------------------------------------------
// helpers

pub(super) struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

pub(super) fn run(mut cmd: Command) -> Ran {
    let out = cmd.output().unwrap();
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `env.cmd(provider)`, completed by `args`, run and checked for exit `code`.
pub(super) fn import(
    env: &TestEnv,
    provider: &str,
    code: i32,
    args: impl FnOnce(&mut Command),
) -> Ran {
    let mut c = env.cmd(provider);
    args(&mut c);
    run_code(c, code)
}

/// Runs and checks the exit code, showing stderr when it differs.
pub(super) fn run_code(cmd: Command, code: i32) -> Ran {
    let r = run(cmd);
    assert_eq!(
        r.code, code,
        "exit code\nstdout:\n{}\nstderr:\n{}",
        r.stdout, r.stderr
    );
    r
}

pub(super) fn gbk(text: &str) -> Vec<u8> {
    let (bytes, enc, unmappable) = encoding_rs::GBK.encode(text);
    assert_eq!(enc, encoding_rs::GBK);
    assert!(!unmappable, "not encodable in GBK: {text:?}");
    bytes.into_owned()
}

/// UTF-16 with its BOM; checked to decode back with encoding_rs.
pub(super) fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
    let mut out: Vec<u8> = if little_endian {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for unit in text.encode_utf16() {
        out.extend(if little_endian {
            unit.to_le_bytes()
        } else {
            unit.to_be_bytes()
        });
    }
    let (back, enc, errors) = encoding_rs::UTF_16LE.decode(&out);
    let expected = if little_endian {
        encoding_rs::UTF_16LE
    } else {
        encoding_rs::UTF_16BE
    };
    assert_eq!(enc, expected);
    assert!(!errors);
    assert_eq!(back, text);
    out
}

/// The first CJK ideograph whose GBK encoding has `trail` as its second byte.
pub(super) fn gbk_char_with_trail(trail: u8) -> char {
    (0x4E00u32..0x9FA5)
        .filter_map(char::from_u32)
        .find(|c| {
            let b = gbk(&c.to_string());
            b.len() == 2 && b[1] == trail
        })
        .expect("a GBK character with that trail byte")
}

/// Held nxlink customers keyed by `whats_app_phone`.
pub(super) fn held_by_phone(env: &TestEnv) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for c in env.held_nxlink() {
        let phone = c["whats_app_phone"].as_str().unwrap_or_default().to_owned();
        assert!(out.insert(phone.clone(), c).is_none(), "{phone} held twice");
    }
    out
}

/// A held customer without the sandbox's own keys (`customerId`, `tenant_id`).
pub(super) fn payload(c: &Value) -> Value {
    let mut m = c.as_object().unwrap().clone();
    m.remove("customerId");
    m.remove("tenant_id");
    Value::Object(m)
}

pub(super) fn summary_counts(env: &TestEnv) -> [u64; 6] {
    let s = env.summary();
    [
        "total",
        "succeeded",
        "rejected",
        "failed",
        "unknown",
        "pending",
    ]
    .map(|k| s[k].as_u64().unwrap_or_else(|| panic!("{k} in {s}")))
}

/// `(row, outcome, code, error)` of every failed.csv row, by row.
pub(super) fn failed_csv(env: &TestEnv) -> BTreeMap<u64, (String, String, String)> {
    by_row(&env.csv_rows("failed.csv"), "custimport_row")
        .into_iter()
        .map(|(r, row)| {
            (
                r,
                (
                    cell(&row, "custimport_outcome").to_owned(),
                    cell(&row, "custimport_code").to_owned(),
                    cell(&row, "custimport_error").to_owned(),
                ),
            )
        })
        .collect()
}

/// The value of the last column named `col` (robust to a header that repeats it).
pub(super) fn last_cell<'a>(row: &'a [(String, String)], col: &str) -> &'a str {
    row.iter()
        .rev()
        .find(|(k, _)| k == col)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no column {col}"))
}

/// success.csv rows as `row -> (phone, name)`.
pub(super) fn succeeded(env: &TestEnv) -> BTreeMap<u64, (String, String)> {
    by_row(&env.csv_rows("success.csv"), "row")
        .into_iter()
        .map(|(r, row)| {
            let phone = row
                .iter()
                .find(|(k, _)| k == "whats_app_phone" || k == "phone_number")
                .map(|(_, v)| v.clone())
                .unwrap();
            let name = row
                .iter()
                .find(|(k, _)| k == "full_name" || k == "name")
                .map(|(_, v)| v.clone())
                .unwrap();
            (r, (phone, name))
        })
        .collect()
}

pub(super) fn jsonl_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Raw records of a CSV file (no header handling, flexible).
pub(super) fn raw_records(path: &Path) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// `row -> (outcome, code, error)` of each failed.csv record, by the header's
/// `custimport_*` columns (a long record's surplus cells follow them).
pub(super) fn failed_tail(env: &TestEnv) -> BTreeMap<u64, (String, String, String)> {
    let records = raw_records(&env.out().join("failed.csv"));
    let header = &records[0];
    let at = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} in {header:?}"))
    };
    let (row, outcome, code, error) = (
        at("custimport_row"),
        at("custimport_outcome"),
        at("custimport_code"),
        at("custimport_error"),
    );
    records[1..]
        .iter()
        .map(|r| {
            (
                r[row].parse().unwrap_or_else(|_| panic!("{r:?}")),
                (r[outcome].clone(), r[code].clone(), r[error].clone()),
            )
        })
        .collect()
}

/// Whether `needle` occurs in `hay` in order (not necessarily contiguously).
pub(super) fn is_subsequence(needle: &[&str], hay: &[String]) -> bool {
    let mut it = hay.iter();
    needle.iter().all(|n| it.any(|h| h == n))
}
