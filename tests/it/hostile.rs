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

// ---------------------------------------------------------------------------------------------
// helpers

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(mut cmd: Command) -> Ran {
    let out = cmd.output().unwrap();
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs and checks the exit code, showing stderr when it differs.
fn run_code(cmd: Command, code: i32) -> Ran {
    let r = run(cmd);
    assert_eq!(
        r.code, code,
        "exit code\nstdout:\n{}\nstderr:\n{}",
        r.stdout, r.stderr
    );
    r
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, enc, unmappable) = encoding_rs::GBK.encode(text);
    assert_eq!(enc, encoding_rs::GBK);
    assert!(!unmappable, "not encodable in GBK: {text:?}");
    bytes.into_owned()
}

/// UTF-16 with its BOM; checked to decode back with encoding_rs.
fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
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
fn gbk_char_with_trail(trail: u8) -> char {
    (0x4E00u32..0x9FA5)
        .filter_map(char::from_u32)
        .find(|c| {
            let b = gbk(&c.to_string());
            b.len() == 2 && b[1] == trail
        })
        .expect("a GBK character with that trail byte")
}

/// Held nxlink customers keyed by `whats_app_phone`.
fn held_by_phone(env: &TestEnv) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for c in env.held_nxlink() {
        let phone = c["whats_app_phone"].as_str().unwrap_or_default().to_owned();
        assert!(out.insert(phone.clone(), c).is_none(), "{phone} held twice");
    }
    out
}

/// A held customer without the sandbox's own keys (`customerId`, `tenant_id`).
fn payload(c: &Value) -> Value {
    let mut m = c.as_object().unwrap().clone();
    m.remove("customerId");
    m.remove("tenant_id");
    Value::Object(m)
}

fn summary_counts(env: &TestEnv) -> [u64; 6] {
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
fn failed_csv(env: &TestEnv) -> BTreeMap<u64, (String, String, String)> {
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
fn last_cell<'a>(row: &'a [(String, String)], col: &str) -> &'a str {
    row.iter()
        .rev()
        .find(|(k, _)| k == col)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no column {col}"))
}

/// success.csv rows as `row -> (phone, name)`.
fn succeeded(env: &TestEnv) -> BTreeMap<u64, (String, String)> {
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

fn jsonl_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Raw records of a CSV file (no header handling, flexible).
fn raw_records(path: &Path) -> Vec<Vec<String>> {
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
fn failed_tail(env: &TestEnv) -> BTreeMap<u64, (String, String, String)> {
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
fn is_subsequence(needle: &[&str], hay: &[String]) -> bool {
    let mut it = hay.iter();
    needle.iter().all(|n| it.any(|h| h == n))
}

// ---------------------------------------------------------------------------------------------
// 1. GBK

const GBK_ROWS: [(&str, &str, &str); 3] = [
    ("张伟", "6281000001", "北京市朝阳区"),
    ("李娜", "6281000002", "上海；浦东"),
    ("欧阳·娜娜", "6281000003", "广州（天河）"),
];

fn gbk_csv() -> String {
    let mut s = String::from("姓名,手机,备注\r\n");
    for (n, p, r) in GBK_ROWS {
        s.push_str(&format!("{n},{p},{r}\r\n"));
    }
    s
}

#[test]
fn gbk_with_encoding_arrives_intact() {
    let env = TestEnv::new();
    let input = env.write("gbk.csv", gbk(&gbk_csv()));
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input).args(["--encoding", "gbk"]);
            c
        },
        0,
    );
    let held = held_by_phone(&env);
    assert_eq!(held.len(), 3, "{held:?}");
    for (n, p, r) in GBK_ROWS {
        assert_eq!(held[p]["full_name"], n, "{}", held[p]);
        assert_eq!(held[p]["remark"], r, "{}", held[p]);
    }
    assert_eq!(summary_counts(&env), [3, 3, 0, 0, 0, 0]);
    let st = env.stats();
    assert_eq!(st["replacement_chars"], json!(0), "{st}");
    assert_eq!(st["rows_received"], json!(3), "{st}");
    // Reports are UTF-8.
    let success = String::from_utf8(std::fs::read(env.out().join("success.csv")).unwrap())
        .expect("success.csv is UTF-8");
    for (i, (n, p, _)) in GBK_ROWS.iter().enumerate() {
        let id = held[*p]["customerId"].to_string();
        assert!(
            success.contains(&format!("{},{id},{p},{n}\n", i + 1)),
            "{success}"
        );
    }
    let failed = String::from_utf8(std::fs::read(env.out().join("failed.csv")).unwrap())
        .expect("failed.csv is UTF-8");
    assert_eq!(
        failed,
        "姓名,手机,备注,custimport_row,custimport_outcome,custimport_code,custimport_error\n"
    );
}

#[test]
fn gbk_without_encoding_exits_2_and_suggests_gbk() {
    let env = TestEnv::new();
    let input = env.write("gbk.csv", gbk(&gbk_csv()));
    let r = run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        2,
    );
    assert!(
        r.stderr.contains("--encoding gbk") || r.stderr.contains("--encoding gb18030"),
        "{}",
        r.stderr
    );
    assert_eq!(env.stats()["requests"], json!(0));
    assert!(env.held_nxlink().is_empty());
}

#[test]
fn gbk_invalid_byte_rejects_only_its_row() {
    let env = TestEnv::new();
    // Row 2's remark holds a GBK lead byte followed by a space: not a character.
    let mut bytes = gbk("姓名,手机,备注\n张伟,6281000001,北京\n李娜,6281000002,");
    bytes.extend_from_slice(b"\x81 ");
    bytes.extend(gbk("上海\n王芳,6281000003,广州\n"));
    let input = env.write("bad.csv", bytes);
    let r = run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input).args(["--encoding", "gbk"]);
            c
        },
        1,
    );
    assert!(r.stderr.contains("row 2 rejected: line 3"), "{}", r.stderr);
    let failed = failed_csv(&env);
    assert_eq!(failed.len(), 1, "{failed:?}");
    let (outcome, code, error) = &failed[&2];
    assert_eq!(
        (outcome.as_str(), code.as_str()),
        ("rejected", "invalid_encoding")
    );
    assert!(error.contains("line 3"), "{error}");
    assert!(error.contains("备注"), "names the column: {error}");
    assert!(error.contains("gbk"), "names the encoding: {error}");
    let held = held_by_phone(&env);
    assert_eq!(
        held.keys().map(String::as_str).collect::<Vec<_>>(),
        ["6281000001", "6281000003"]
    );
    assert_eq!(held["6281000001"]["full_name"], "张伟");
    assert_eq!(held["6281000001"]["remark"], "北京");
    assert_eq!(held["6281000003"]["full_name"], "王芳");
    assert_eq!(held["6281000003"]["remark"], "广州");
    assert_eq!(summary_counts(&env), [3, 2, 1, 0, 0, 0]);
    let st = env.stats();
    assert_eq!(st["replacement_chars"], json!(0), "{st}");
    assert_eq!(st["rows_received"], json!(2), "{st}");
    // The failure report is UTF-8 and keeps the readable cells of the row.
    let text = String::from_utf8(std::fs::read(env.out().join("failed.csv")).unwrap())
        .expect("failed.csv is UTF-8");
    assert!(text.starts_with("姓名,手机,备注,custimport_row"), "{text}");
    let rows = env.csv_rows("failed.csv");
    assert_eq!(cell(&rows[0], "姓名"), "李娜");
    assert_eq!(cell(&rows[0], "手机"), "6281000002");
}

/// `|` is a GBK trail byte: names whose second byte is `|` must not be split, and an
/// undecodable byte is still caught in the right field.
#[test]
fn gbk_pipe_delimited_with_trail_byte_collisions() {
    let pipe = gbk_char_with_trail(b'|');
    let backslash = gbk_char_with_trail(b'\\');
    let env = TestEnv::new();
    let n1 = format!("{pipe}{backslash}一");
    let n2 = format!("王{pipe}");
    let n3 = format!("{backslash}{pipe}{pipe}");
    let mut bytes = gbk(&format!(
        "姓名|手机|备注\n{n1}|6281000011|r{pipe}1\n{n2}|6281000012|"
    ));
    bytes.extend_from_slice(b"\xFF");
    bytes.extend(gbk(&format!("x\n{n3}|6281000013|\"引号|内\"\n")));
    let input = env.write("pipe.csv", bytes);
    let r = run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input).args(["--encoding", "gbk"]);
            c
        },
        1,
    );
    let held = held_by_phone(&env);
    assert_eq!(held.len(), 2, "{held:?}\n{}", r.stderr);
    assert_eq!(held["6281000011"]["full_name"], n1.as_str());
    assert_eq!(held["6281000011"]["remark"], format!("r{pipe}1"));
    assert_eq!(held["6281000013"]["full_name"], n3.as_str());
    assert_eq!(held["6281000013"]["remark"], "引号|内");
    let failed = failed_csv(&env);
    let (outcome, code, error) = &failed[&2];
    assert_eq!(
        (outcome.as_str(), code.as_str()),
        ("rejected", "invalid_encoding")
    );
    assert!(
        error.contains("line 3") && error.contains("备注"),
        "{error}"
    );
    assert_eq!(env.stats()["replacement_chars"], json!(0));
    // failed.csv is comma-separated UTF-8 whatever the input's delimiter and encoding.
    let rows = env.csv_rows("failed.csv");
    assert_eq!(cell(&rows[0], "姓名"), n2.as_str());
}

// ---------------------------------------------------------------------------------------------
// 2. UTF-16

#[test]
fn utf16_with_bom_imports_correctly() {
    let text = "姓名,手机,备注\r\n张伟,6281000021,北京 😀\r\nBob,+62 810-0022,\"a,b\r\nc\"\r\n";
    for (le, prefix) in [(true, "LE"), (false, "BE")] {
        let env = TestEnv::new();
        let input = env.write("u16.csv", utf16(text, le));
        run_code(
            {
                let mut c = env.cmd("nxlink");
                c.arg(&input);
                c
            },
            0,
        );
        let held = held_by_phone(&env);
        assert_eq!(held.len(), 2, "UTF-16{prefix}: {held:?}");
        assert_eq!(held["6281000021"]["full_name"], "张伟");
        assert_eq!(held["6281000021"]["remark"], "北京 😀");
        assert_eq!(held["628100022"]["full_name"], "Bob");
        assert_eq!(held["628100022"]["remark"], "a,b\r\nc");
        assert_eq!(env.stats()["replacement_chars"], json!(0));
        let success = std::fs::read_to_string(env.out().join("success.csv")).unwrap();
        assert!(success.contains(",6281000021,张伟\n"), "{success}");
    }
    // JSONL in UTF-16LE too.
    let env = TestEnv::new();
    let input = env.write(
        "u16.jsonl",
        utf16(
            "{\"name\":\"张伟\",\"phone\":\"6281000023\"}\r\n\r\n{\"name\":\"😀\",\"phone\":6281000024}\n",
            true,
        ),
    );
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        0,
    );
    let held = held_by_phone(&env);
    assert_eq!(held["6281000023"]["full_name"], "张伟");
    assert_eq!(held["6281000024"]["full_name"], "😀");
    assert_eq!(env.summary()["blank_lines"], json!(1));
}

#[test]
fn utf16_malformed_unit_rejects_only_its_row() {
    let env = TestEnv::new();
    let mut bytes = utf16("name,phone,note\nA,6281000031,ok\nB,6281000032,", true);
    bytes.extend_from_slice(&[0x00, 0xD8]); // an unpaired high surrogate
    bytes.extend(utf16("x\nC,6281000033,ok\n", true).split_off(2));
    let input = env.write("bad16.csv", bytes);
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        1,
    );
    let failed = failed_csv(&env);
    assert_eq!(failed.len(), 1);
    let (outcome, code, error) = &failed[&2];
    assert_eq!(
        (outcome.as_str(), code.as_str()),
        ("rejected", "invalid_encoding")
    );
    assert!(
        error.contains("line 3") && error.contains("note"),
        "{error}"
    );
    let held = held_by_phone(&env);
    assert_eq!(
        held.keys().map(String::as_str).collect::<Vec<_>>(),
        ["6281000031", "6281000033"]
    );
    assert_eq!(env.stats()["replacement_chars"], json!(0));
}

// ---------------------------------------------------------------------------------------------
// 3. ragged rows

const RAGGED: &str = "name,phone,email\n\
A,6281000041,a@x.io\n\
B,6281000042\n\
C,6281000043,c@x.io,extra\n\
D,6281000044,d@x.io\n";

#[test]
fn ragged_rows_are_rejected_with_counts() {
    let env = TestEnv::new();
    let input = env.write("ragged.csv", RAGGED);
    let r = run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input).arg("--json");
            c
        },
        1,
    );
    let s: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(s["rejected"], json!(2), "{s}");
    assert!(
        r.stderr
            .contains("row 2 rejected: line 3: expected 3 fields, found 2"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("row 3 rejected: line 4: expected 3 fields, found 4"),
        "{}",
        r.stderr
    );
    let held = held_by_phone(&env);
    assert_eq!(
        held.keys().map(String::as_str).collect::<Vec<_>>(),
        ["6281000041", "6281000044"]
    );
    assert_eq!(summary_counts(&env), [4, 2, 2, 0, 0, 0]);
    assert_eq!(env.stats()["rows_received"], json!(2));
    // The failure report reproduces the cells of both rows, in order, with the reason.
    let raw = raw_records(&env.out().join("failed.csv"));
    assert_eq!(raw.len(), 3);
    let short = raw.iter().find(|r| r[0] == "B").unwrap();
    let long = raw.iter().find(|r| r[0] == "C").unwrap();
    assert!(is_subsequence(&["B", "6281000042"], short), "{short:?}");
    assert!(
        is_subsequence(&["C", "6281000043", "c@x.io", "extra"], long),
        "{long:?}"
    );
    for (rec, row, found) in [(short, "2", "found 2"), (long, "3", "found 4")] {
        assert!(
            is_subsequence(&[row, "rejected", "wrong_field_count"], rec),
            "{rec:?}"
        );
        assert!(
            rec.iter()
                .any(|c| c.contains("expected 3 fields") && c.contains(found)),
            "{rec:?}"
        );
    }
}

/// Read by its header, failed.csv must give every row its own `custimport_*` values, also for
/// rows with too few or too many fields.
#[test]
fn ragged_rows_keep_report_columns_aligned() {
    let env = TestEnv::new();
    let input = env.write("ragged.csv", RAGGED);
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        1,
    );
    let rows = env.csv_rows("failed.csv");
    let mut got: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                cell(r, "custimport_row").to_owned(),
                cell(r, "custimport_outcome").to_owned(),
                cell(r, "custimport_code").to_owned(),
            )
        })
        .collect();
    got.sort();
    let want = |r: &str| {
        (
            r.to_owned(),
            "rejected".to_owned(),
            "wrong_field_count".to_owned(),
        )
    };
    assert_eq!(
        got,
        vec![want("2"), want("3")],
        "failed.csv:\n{}",
        env.read("failed.csv")
    );
}

// ---------------------------------------------------------------------------------------------
// 4. unterminated quote

#[test]
fn unterminated_quote_mid_file() {
    let env = TestEnv::new();
    let input = env.write(
        "uq.csv",
        "name,phone,note\n\
         A,6281000051,ok\n\
         B,6281000052,\"open\n\
         C,6281000053,x\n\
         D,6281000054,y\n",
    );
    let r = run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        1,
    );
    let failed = failed_csv(&env);
    assert_eq!(failed.len(), 1, "{failed:?}");
    let (outcome, code, error) = &failed[&2];
    assert_eq!(
        (outcome.as_str(), code.as_str()),
        ("rejected", "unterminated_quote")
    );
    assert!(error.starts_with("line 3:"), "{error}");
    assert!(r.stderr.contains("row 2 rejected: line 3"), "{}", r.stderr);
    // Only the row before the quote was sent.
    let held = held_by_phone(&env);
    assert_eq!(
        held.keys().map(String::as_str).collect::<Vec<_>>(),
        ["6281000051"]
    );
    assert_eq!(env.stats()["rows_received"], json!(1));
    // The open record is one record.
    assert_eq!(summary_counts(&env), [2, 1, 1, 0, 0, 0]);
    // The report keeps what the quote swallowed, so nothing is lost.
    let rows = env.csv_rows("failed.csv");
    assert_eq!(cell(&rows[0], "name"), "B");
    let note = cell(&rows[0], "note");
    assert!(
        note.contains("6281000053") && note.contains("6281000054"),
        "{note:?}"
    );

    // A quote that a later quote closes merges lines into one record: still rejected, and
    // the rows inside are not sent.
    let env = TestEnv::new();
    let input = env.write(
        "uq2.csv",
        "name,phone,note\n\
         A,6281000051,ok\n\
         B,6281000052,\"open\n\
         C,6281000053,x\n\
         D,\"6281000054\",y\n\
         E,6281000055,z\n",
    );
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        1,
    );
    let failed = failed_tail(&env);
    assert_eq!(
        failed.keys().copied().collect::<Vec<_>>(),
        [2],
        "{failed:?}"
    );
    assert_eq!(failed[&2].0, "rejected");
    assert_eq!(failed[&2].1, "wrong_field_count");
    assert!(failed[&2].2.starts_with("line 3:"), "{:?}", failed[&2]);
    let held = held_by_phone(&env);
    assert_eq!(
        held.keys().map(String::as_str).collect::<Vec<_>>(),
        ["6281000051", "6281000055"]
    );
    assert_eq!(summary_counts(&env), [3, 2, 1, 0, 0, 0]);
    let s = succeeded(&env);
    assert_eq!(s.keys().copied().collect::<Vec<_>>(), [1, 3]);
}

// ---------------------------------------------------------------------------------------------
// 5. line endings, delimiters, headers

#[test]
fn line_endings_and_delimiters() {
    let variants: [(&str, String); 6] = [
        (
            "cr.csv",
            "name,phone,note\rA1,6281000061,x\rB1,6281000062,\"y\rz\"\r".into(),
        ),
        (
            "crlf.csv",
            "name,phone,note\r\nA2,6281000063,x\r\nB2,6281000064,\"y\r\nz\"\r\n".into(),
        ),
        (
            "mixed.csv",
            "name,phone,note\nA3,6281000065,x\r\nB3,6281000066,\"y\rz\"\r".into(),
        ),
        (
            "semi.csv",
            "name;phone;note\nA4;6281000067;\"x;1\"\nB4;6281000068;a,b\n".into(),
        ),
        (
            "pipe.csv",
            "name|phone|note\nA5|6281000069|\"x|1\"\nB5|6281000070|a,b;c\n".into(),
        ),
        (
            "tab.tsv",
            "name\tphone\tnote\nA6\t6281000071\tx y\nB6\t6281000072\ta,b|c\n".into(),
        ),
    ];
    let env = TestEnv::new();
    let mut expected: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (name, text) in &variants {
        let input = env.write(name, text);
        let _ = std::fs::remove_dir_all(env.out());
        run_code(
            {
                let mut c = env.cmd("nxlink");
                c.arg(&input);
                c
            },
            0,
        );
        assert_eq!(summary_counts(&env), [2, 2, 0, 0, 0, 0], "{name}");
    }
    for (name, p, note) in [
        ("A1", "6281000061", "x"),
        ("B1", "6281000062", "y\rz"),
        ("A2", "6281000063", "x"),
        ("B2", "6281000064", "y\r\nz"),
        ("A3", "6281000065", "x"),
        ("B3", "6281000066", "y\rz"),
        ("A4", "6281000067", "x;1"),
        ("B4", "6281000068", "a,b"),
        ("A5", "6281000069", "x|1"),
        ("B5", "6281000070", "a,b;c"),
        ("A6", "6281000071", "x y"),
        ("B6", "6281000072", "a,b|c"),
    ] {
        expected.insert(p.into(), (name.into(), note.into()));
    }
    let held = held_by_phone(&env);
    let got: BTreeMap<String, (String, String)> = held
        .iter()
        .map(|(p, c)| {
            (
                p.clone(),
                (
                    c["full_name"].as_str().unwrap().to_owned(),
                    c["remark"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect();
    assert_eq!(got, expected);
}

/// Line numbers count CR, LF and CRLF alike.
#[test]
fn line_numbers_follow_cr_only_files() {
    let env = TestEnv::new();
    let input = env.write(
        "cr.csv",
        "name,phone,note\rA,6281000081,\"two\rlines\"\rB,bad,x\r\rC,6281000083,y\r",
    );
    let r = run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        1,
    );
    let failed = failed_csv(&env);
    assert_eq!(failed.keys().copied().collect::<Vec<_>>(), [2]);
    assert_eq!(failed[&2].1, "invalid_phone");
    assert!(failed[&2].2.starts_with("line 4:"), "{:?}", failed[&2]);
    assert!(r.stderr.contains("row 2 rejected: line 4"), "{}", r.stderr);
    assert_eq!(succeeded(&env).keys().copied().collect::<Vec<_>>(), [1, 3]);
}

#[test]
fn duplicated_header_exits_2_naming_it() {
    let env = TestEnv::new();
    let input = env.write(
        "dup.csv",
        "name,phone,Remark,phone\nA,6281000091,x,6281000092\n",
    );
    let r = run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        2,
    );
    assert!(r.stderr.contains("\"phone\""), "{}", r.stderr);
    assert!(r.stderr.contains("duplicate"), "{}", r.stderr);
    assert_eq!(env.stats()["requests"], json!(0));

    // A header whose quote never closes is an input error too.
    let input = env.write("hq.csv", "name,\"phone\nA,6281000091\n");
    let r = run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        2,
    );
    assert!(r.stderr.contains("line 1"), "{}", r.stderr);
    assert_eq!(env.stats()["requests"], json!(0));
}

#[test]
fn empty_file_exits_0_with_a_warning() {
    for (name, content) in [
        ("empty.csv", &b""[..]),
        ("bom.csv", &b"\xEF\xBB\xBF"[..]),
        ("blank.csv", &b"\n\r\n\n"[..]),
        ("empty.jsonl", &b""[..]),
    ] {
        let env = TestEnv::new();
        let input = env.write(name, content);
        let r = run_code(
            {
                let mut c = env.cmd("nxlink");
                c.arg(&input);
                c
            },
            0,
        );
        if name.ends_with(".csv") {
            assert!(r.stderr.contains("warning"), "{name}: {}", r.stderr);
        }
        assert_eq!(summary_counts(&env), [0; 6], "{name}");
        assert_eq!(env.stats()["requests"], json!(0), "{name}");
    }
}

#[test]
fn header_only_file_exits_0_with_a_warning() {
    let env = TestEnv::new();
    let input = env.write("ho.csv", "name,phone\r\n");
    let r = run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        0,
    );
    assert_eq!(summary_counts(&env), [0; 6]);
    assert_eq!(env.stats()["requests"], json!(0));
    assert!(
        r.stderr.contains("warning"),
        "a header without rows deserves a warning: {}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// 6. JSONL

#[test]
fn jsonl_hostile_lines() {
    let env = TestEnv::new();
    let deep = format!(
        "{{\"name\":\"Deep\",\"phone\":\"6281000109\",\"x\":{}1{}}}",
        "[".repeat(33),
        "]".repeat(33)
    );
    let ok_depth = format!(
        "{{\"name\":\"Nest\",\"phone\":\"6281000110\",\"tags\":\"t\",\"x\":{}1{}}}",
        "[".repeat(30),
        "]".repeat(30)
    );
    let lines = [
        "{\"name\":\"Ann\",\"phone\":6281000101}".to_string(), // 1: number phone
        String::new(),                                         // blank
        "{\"name\":\"Bob\",\"phone\":\"6281000102\"".into(),   // 2: invalid JSON
        "   \t".into(),                                        // blank
        "[1,2]".into(),                                        // 3: not an object
        "\"text\"".into(),                                     // 4: not an object
        "{\"name\":true,\"phone\":\"6281000105\"}".into(),     // 5: boolean name
        deep,                                                  // 6: too deep
        "{\"name\":\"Eve\",\"phone\":\"6281000107\",\"remark\":false}".into(), // 7
        "{\"name\":\"Big\",\"phone\":628100010800000000000012}".into(), // 8: long number
        ok_depth,                                              // 9: 31 levels is fine
        "null".into(),                                         // 10
        "{\"name\":\"Dup\",\"name\":\"Second\",\"phone\":\"6281000111\"}".into(), // 11
    ];
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(lines.join("\r\n").into_bytes());
    bytes.extend_from_slice(b"\r\n\r\n");
    let input = env.write("h.jsonl", bytes);
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        1,
    );
    let s = env.summary();
    assert_eq!(s["total"], json!(11), "{s}");
    assert_eq!(s["blank_lines"], json!(3), "{s}");
    assert_eq!(s["succeeded"], json!(4), "{s}");
    assert_eq!(s["rejected"], json!(7), "{s}");
    let failed = jsonl_lines(&env.out().join("failed.jsonl"));
    let got: BTreeMap<u64, (String, String)> = failed
        .iter()
        .map(|f| {
            let m = &f["custimport"];
            assert_eq!(m["outcome"], "rejected", "{f}");
            (
                m["row"].as_u64().unwrap(),
                (
                    m["code"].as_str().unwrap().to_owned(),
                    m["error"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect();
    let codes: Vec<(u64, &str)> = got.iter().map(|(r, (c, _))| (*r, c.as_str())).collect();
    assert_eq!(
        codes,
        [
            (2, "invalid_json"),
            (3, "not_an_object"),
            (4, "not_an_object"),
            (5, "invalid_type"),
            (6, "too_deep"),
            (7, "invalid_type"),
            (10, "not_an_object"),
        ]
    );
    // Messages name the physical line (the BOM and CRLF do not shift them).
    for (row, line) in [(2, 3), (3, 5), (4, 6), (5, 7), (6, 8), (7, 9), (10, 12)] {
        assert!(
            got[&row].1.starts_with(&format!("line {line}:")),
            "row {row}: {}",
            got[&row].1
        );
    }
    assert!(got[&5].1.contains("full_name"), "{}", got[&5].1);
    assert!(got[&7].1.contains("remark"), "{}", got[&7].1);
    // Non-objects keep their text; objects keep their keys.
    let by_row: BTreeMap<u64, &Value> = failed
        .iter()
        .map(|f| (f["custimport"]["row"].as_u64().unwrap(), f))
        .collect();
    assert_eq!(by_row[&3]["line"], "[1,2]");
    assert_eq!(
        by_row[&2]["line"],
        "{\"name\":\"Bob\",\"phone\":\"6281000102\""
    );
    assert_eq!(by_row[&7]["remark"], json!(false));
    let held = held_by_phone(&env);
    assert_eq!(
        held.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "6281000101",
            "628100010800000000000012",
            "6281000110",
            "6281000111"
        ]
    );
    // A JSON number phone is sent as its exact digits.
    assert_eq!(held["6281000101"]["full_name"], "Ann");
    assert_eq!(held["628100010800000000000012"]["full_name"], "Big");
    assert_eq!(env.stats()["rows_received"], json!(4));
    let success = succeeded(&env);
    assert_eq!(success[&8].0, "628100010800000000000012");
}

#[test]
fn itnio_jsonl_keeps_property_types() {
    let env = TestEnv::new();
    let input = env.write(
        "i.jsonl",
        "{\"name\":\"Ann\",\"phone\":6281000121,\"vip\":true,\"amount\":12.50,\"tags\":[\"a\"],\"none\":null}\n\
         {\"name\":false,\"phone\":\"6281000122\"}\n",
    );
    run_code(
        {
            let mut c = env.cmd("itnio");
            c.args(["--job", "9"]).arg(&input);
            c
        },
        1,
    );
    let held = env.held_itnio(9);
    assert_eq!(held.len(), 1, "{held:?}");
    let want: Value = serde_json::from_str(
        r#"{"name":"Ann","phoneNumber":"6281000121","properties":{"vip":true,"amount":12.50,"tags":["a"]}}"#,
    )
    .unwrap();
    assert_eq!(held[0], want);
    // The number keeps its exact text.
    assert_eq!(held[0]["properties"]["amount"].to_string(), "12.50");
    let failed = jsonl_lines(&env.out().join("failed.jsonl"));
    assert_eq!(failed[0]["custimport"]["code"], "invalid_type");
    assert!(failed[0]["custimport"]["error"]
        .as_str()
        .unwrap()
        .contains("name"));
}

/// A phone given as a JSON number with a fraction is not "its exact digits": removing the `.`
/// as a separator would send another number.
#[test]
fn jsonl_fractional_number_phone_is_rejected() {
    let env = TestEnv::new();
    let input = env.write(
        "f.jsonl",
        "{\"name\":\"Int\",\"phone\":6281234567801}\n\
         {\"name\":\"Float\",\"phone\":6281234567802.0}\n\
         {\"name\":\"Half\",\"phone\":6281234567803.5}\n",
    );
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        1,
    );
    let held = held_by_phone(&env);
    assert_eq!(
        held.keys().map(String::as_str).collect::<Vec<_>>(),
        ["6281234567801"],
        "a fractional JSON number was sent as another phone number"
    );
    let failed = jsonl_lines(&env.out().join("failed.jsonl"));
    let codes: Vec<(u64, &str)> = failed
        .iter()
        .map(|f| {
            (
                f["custimport"]["row"].as_u64().unwrap(),
                f["custimport"]["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(codes, [(2, "invalid_phone"), (3, "invalid_phone")]);
}

/// Text decoded lossily (U+FFFD where bytes were undecodable) never reaches the provider, also
/// when a failure report holding it is fed back, and also inside nested JSON values and keys.
#[test]
fn replacement_chars_are_never_sent() {
    // Three JSONL lines that are not UTF-8: in a nested itnio property, in a property key,
    // and in an nxlink customize_field object.
    let lines: &[&[u8]] = &[
        b"{\"name\":\"A\",\"phone\":\"6281500001\",\"meta\":{\"note\":\"caf\xe9\"}}",
        b"{\"name\":\"B\",\"phone\":\"6281500002\",\"caf\xe9\":\"x\"}",
        b"{\"name\":\"C\",\"whatsapp\":\"6281500003\",\"customize_field\":{\"k\":\"caf\xe9\"}}",
    ];
    let mut problems = Vec::new();
    for provider in ["itnio", "nxlink"] {
        let env = TestEnv::new();
        let input = env.write("ff.jsonl", lines.join(&b"\n"[..]));
        let cmd = |path: &Path| {
            let mut c = env.cmd(provider);
            if provider == "itnio" {
                c.args(["--job", "9"]);
            }
            c.arg(path);
            c
        };
        run_code(cmd(&input), 1);
        let gen1 = jsonl_lines(&env.out().join("failed.jsonl"));
        assert_eq!(gen1.len(), 3);
        assert!(gen1
            .iter()
            .all(|f| f["custimport"]["code"] == "invalid_encoding"));
        // The failure report, fed back unchanged.
        let refed = env.path("gen1.jsonl");
        std::fs::copy(env.out().join("failed.jsonl"), &refed).unwrap();
        std::fs::remove_dir_all(env.out()).unwrap();
        let r = run(cmd(&refed));
        let st = env.stats();
        if st["replacement_chars"] != json!(0) {
            problems.push(format!("{provider}: U+FFFD sent: {st}"));
        }
        let held = env.held_nxlink().len() + env.held_itnio(9).len();
        if held != 0 {
            problems.push(format!("{provider}: {held} rows held"));
        }
        if r.code != 1 {
            problems.push(format!("{provider}: exit {}", r.code));
        }
        let codes: Vec<Value> = jsonl_lines(&env.out().join("failed.jsonl"))
            .iter()
            .map(|f| f["custimport"]["code"].clone())
            .collect();
        if codes != vec![json!("invalid_encoding"); 3] {
            problems.push(format!("{provider}: codes {codes:?}"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A field over the 1 MiB cap rejects only its record.
#[test]
fn oversized_field_rejects_only_its_row() {
    let env = TestEnv::new();
    let big = "x".repeat((1 << 20) + 10);
    let input = env.write(
        "big.csv",
        format!("name,phone,note\nA,6281600001,ok\nB,6281600002,\"{big}\"\nC,6281600003,ok\n"),
    );
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        1,
    );
    let failed = failed_tail(&env);
    assert_eq!(failed.keys().copied().collect::<Vec<_>>(), [2]);
    assert_eq!(failed[&2].0, "rejected");
    assert_eq!(failed[&2].1, "field_too_large");
    assert!(
        failed[&2].2.starts_with("line 3, column \"note\""),
        "{:?}",
        failed[&2]
    );
    let held = held_by_phone(&env);
    assert_eq!(
        held.keys().map(String::as_str).collect::<Vec<_>>(),
        ["6281600001", "6281600003"]
    );
}

// ---------------------------------------------------------------------------------------------
// 7. spreadsheet damage

#[test]
fn spreadsheet_damage() {
    let env = TestEnv::new();
    let input = env.write(
        "xl.csv",
        "name,phone,remark,sms\n\
         Sci,6.28123E+12,x,\n\
         Quoted,'+62 812-3456-0702,'=SUM(A1),'0812 0703\n\
         Plain,6281234560704,'tis,\n\
         Lower,6.3e12,,\n\
         At,6281234560706,'@home,\n",
    );
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        1,
    );
    let failed = failed_csv(&env);
    assert_eq!(failed.keys().copied().collect::<Vec<_>>(), [1, 4]);
    for row in [1, 4] {
        let (outcome, code, error) = &failed[&row];
        assert_eq!(
            (outcome.as_str(), code.as_str()),
            ("rejected", "invalid_phone")
        );
        assert!(error.contains("scientific"), "{error}");
    }
    let held = held_by_phone(&env);
    assert_eq!(held.len(), 3, "{held:?}");
    let q = &held["6281234560702"];
    assert_eq!(q["full_name"], "Quoted");
    assert_eq!(q["remark"], "=SUM(A1)");
    assert_eq!(q["sms_phone"], "08120703");
    // A `'` before a letter is data.
    assert_eq!(held["6281234560704"]["remark"], "'tis");
    assert_eq!(held["6281234560706"]["remark"], "@home");
    // The failure report keeps the phone cell as it was (phone-like cells are never guarded).
    let rows = env.csv_rows("failed.csv");
    let sci = rows.iter().find(|r| cell(r, "name") == "Sci").unwrap();
    assert_eq!(cell(sci, "phone"), "6.28123E+12");
}

// ---------------------------------------------------------------------------------------------
// 8. round trips

/// Input rows of the CSV round trip: (name, phone, remark, email); bad ones marked by code.
const RT_CSV: [(&str, &str, &str, &str, Option<&str>); 7] = [
    ("张伟", "6281100001", "多行\n备注; 含分号", "zw@x.io", None),
    (
        "Bob",
        "0812-ABC",
        "-neg note",
        "b@x.io",
        Some("invalid_phone"),
    ),
    ("", "6281100003", "=1+2", "", Some("missing_full_name")),
    ("Dan", "6.28123E+12", "+plus", "", Some("invalid_phone")),
    ("Eve \"Q\"", "(0812) 555", "@at", "e@x.io", None),
    (
        "李娜",
        "+62 811 0000 06",
        "a,b",
        "bad-email",
        Some("invalid_email"),
    ),
    ("Gus", "6281100007", "\tlead tab", "", None),
];

fn csv_quote(s: &str, delim: char) -> String {
    if s.contains([delim, '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Writes a CSV file (UTF-8) with the given header and rows.
fn write_csv(path: &Path, header: &[String], rows: &[Vec<String>]) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
}

#[test]
fn round_trip_csv() {
    let env = TestEnv::new();
    // The original: GBK, `;`-delimited.
    let mut text = String::from("姓名;手机;备注;邮箱\r\n");
    for (n, p, r, e, _) in RT_CSV {
        let cells = [n, p, r, e].map(|c| csv_quote(c, ';'));
        text.push_str(&cells.join(";"));
        text.push_str("\r\n");
    }
    let input = env.write("rt.csv", gbk(&text));
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input).args(["--encoding", "gbk"]);
            c
        },
        1,
    );
    let bad: Vec<(u64, &str)> = RT_CSV
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.4.map(|c| (i as u64 + 1, c)))
        .collect();
    let gen1 = env.csv_rows("failed.csv");
    let gen1_codes: Vec<(u64, String)> = gen1
        .iter()
        .map(|r| {
            (
                cell(r, "custimport_row").parse().unwrap(),
                cell(r, "custimport_code").to_owned(),
            )
        })
        .collect();
    let mut sorted = gen1_codes.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        bad.iter()
            .map(|(r, c)| (*r, c.to_string()))
            .collect::<Vec<_>>()
    );
    // The failure report reproduces the original cells (formula-like ones guarded).
    for r in &gen1 {
        let row: usize = cell(r, "custimport_row").parse().unwrap();
        let (n, p, rem, e, _) = RT_CSV[row - 1];
        assert_eq!(cell(r, "姓名"), n);
        assert_eq!(cell(r, "手机"), p, "phone cells are never guarded");
        assert_eq!(unguard(cell(r, "备注")), rem);
        assert_eq!(cell(r, "邮箱"), e);
    }
    let held_before = held_by_phone(&env);
    assert_eq!(held_before.len(), 3);
    let requests_before = env.stats()["requests"].as_u64().unwrap();

    // Gen 2: the failure report fed back unchanged.
    let gen1_path = env.path("gen1.csv");
    std::fs::copy(env.out().join("failed.csv"), &gen1_path).unwrap();
    std::fs::remove_dir_all(env.out()).unwrap();
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&gen1_path);
            c
        },
        1,
    );
    let gen2 = env.csv_rows("failed.csv");
    let mut gen2_codes: Vec<(u64, String)> = gen2
        .iter()
        .map(|r| {
            assert_eq!(last_cell(r, "custimport_outcome"), "rejected");
            (
                last_cell(r, "custimport_row").parse().unwrap(),
                last_cell(r, "custimport_code").to_owned(),
            )
        })
        .collect();
    gen2_codes.sort();
    // Rows are now numbered as rows of the failure file, in its order.
    let expect2: Vec<(u64, String)> = gen1_codes
        .iter()
        .enumerate()
        .map(|(i, (_, c))| (i as u64 + 1, c.clone()))
        .collect();
    assert_eq!(gen2_codes, expect2);
    assert_eq!(env.stats()["requests"].as_u64().unwrap(), requests_before);
    assert_eq!(held_by_phone(&env), held_before);

    // Gen 3: fix the bad cells programmatically and feed the file again.
    let header: Vec<String> = csv::Reader::from_path(&gen1_path)
        .unwrap()
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (c_name, c_phone, c_email, c_code) = (
        col("姓名"),
        col("手机"),
        col("邮箱"),
        col("custimport_code"),
    );
    let mut fixed_rows = Vec::new();
    let mut clean_rows = Vec::new();
    for (i, rec) in raw_records(&gen1_path).into_iter().skip(1).enumerate() {
        let mut rec = rec;
        match rec[c_code].as_str() {
            "invalid_phone" => rec[c_phone] = format!("+62 811 9000 {i:02}"),
            "missing_full_name" => rec[c_name] = "Fixed 名".into(),
            "invalid_email" => rec[c_email] = "fixed@x.io".into(),
            other => panic!("unexpected code {other}"),
        }
        // What a clean file holds: the values as meant (the report's `'` guard removed).
        let clean: Vec<String> = header
            .iter()
            .zip(&rec)
            .filter(|(h, _)| !h.starts_with("custimport_"))
            .map(|(_, v)| unguard(v).to_owned())
            .collect();
        clean_rows.push(clean);
        fixed_rows.push(rec);
    }
    let fixed_path = env.path("fixed.csv");
    write_csv(&fixed_path, &header, &fixed_rows);
    std::fs::remove_dir_all(env.out()).unwrap();
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&fixed_path);
            c
        },
        0,
    );
    assert_eq!(summary_counts(&env), [4, 4, 0, 0, 0, 0]);
    let held_after = held_by_phone(&env);
    assert_eq!(held_after.len(), 7);
    let new_phones: Vec<String> = held_after
        .keys()
        .filter(|p| !held_before.contains_key(*p))
        .cloned()
        .collect();
    assert_eq!(new_phones.len(), 4);

    // The same values from a clean file give exactly the same payloads.
    let clean_env = TestEnv::new();
    let clean_header: Vec<String> = header
        .iter()
        .filter(|h| !h.starts_with("custimport_"))
        .cloned()
        .collect();
    let clean_path = clean_env.path("clean.csv");
    write_csv(&clean_path, &clean_header, &clean_rows);
    run_code(
        {
            let mut c = clean_env.cmd("nxlink");
            c.arg(&clean_path);
            c
        },
        0,
    );
    let clean_held = held_by_phone(&clean_env);
    assert_eq!(clean_held.len(), 4);
    for p in &new_phones {
        assert_eq!(payload(&held_after[p]), payload(&clean_held[p]), "{p}");
    }
    // The guarded cells came back as they were meant.
    let remarks: Vec<&str> = new_phones
        .iter()
        .filter_map(|p| held_after[p]["remark"].as_str())
        .collect();
    for r in ["-neg note", "=1+2", "+plus", "a,b"] {
        assert!(remarks.contains(&r), "{r} in {remarks:?}");
    }
}

/// The `'` the report's formula guard adds, removed as custimport does when reading.
fn unguard(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => s,
    }
}

/// The report guards cells starting with tab or CR with `'` too; read back, such a cell must
/// give the same payload as the original did.
#[test]
fn guarded_tab_and_cr_cells_round_trip() {
    let env = TestEnv::new();
    let input = env.write(
        "t.csv",
        "name,phone,remark\nTab,bad-1,\"\tindented\"\nCr,bad-2,\"\rcarriage\"\n",
    );
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        1,
    );
    let rows = env.csv_rows("failed.csv");
    assert_eq!(cell(&rows[0], "remark"), "'\tindented");
    assert_eq!(cell(&rows[1], "remark"), "'\rcarriage");
    // Fix the phones, feed it back.
    let path = env.path("fixed.csv");
    let header: Vec<String> = rows[0].iter().map(|(k, _)| k.clone()).collect();
    let fixed: Vec<Vec<String>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            r.iter()
                .map(|(k, v)| {
                    if k == "phone" {
                        format!("628140000{i}")
                    } else {
                        v.clone()
                    }
                })
                .collect()
        })
        .collect();
    write_csv(&path, &header, &fixed);
    std::fs::remove_dir_all(env.out()).unwrap();
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&path);
            c
        },
        0,
    );
    let refed = held_by_phone(&env);
    // The same rows from a clean file.
    let clean_env = TestEnv::new();
    let clean = clean_env.write(
        "c.csv",
        "name,phone,remark\nTab,6281400000,\"\tindented\"\nCr,6281400001,\"\rcarriage\"\n",
    );
    run_code(
        {
            let mut c = clean_env.cmd("nxlink");
            c.arg(&clean);
            c
        },
        0,
    );
    let direct = held_by_phone(&clean_env);
    for p in ["6281400000", "6281400001"] {
        assert_eq!(payload(&refed[p]), payload(&direct[p]), "{p}");
    }
}

/// Fed back unchanged, again and again, a failure report keeps one set of `custimport_*`
/// columns and stays importable.
#[test]
fn csv_failure_report_can_be_refed_repeatedly() {
    let env = TestEnv::new();
    let input = env.write(
        "r.csv",
        "name,phone,note\nA,6281100101,ok\nB,bad,=x\n,6281100103,y\n",
    );
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        1,
    );
    let first_header = env.read("failed.csv").lines().next().unwrap().to_owned();
    assert_eq!(
        first_header,
        "name,phone,note,custimport_row,custimport_outcome,custimport_code,custimport_error"
    );
    for generation in 2..=4 {
        let prev = env.path(&format!("gen{generation}.csv"));
        std::fs::copy(env.out().join("failed.csv"), &prev).unwrap();
        std::fs::remove_dir_all(env.out()).unwrap();
        let r = run({
            let mut c = env.cmd("nxlink");
            c.arg(&prev);
            c
        });
        assert_eq!(r.code, 1, "generation {generation}: {}", r.stderr);
        let text = env.read("failed.csv");
        assert_eq!(
            text.lines().next().unwrap(),
            first_header,
            "generation {generation}:\n{text}"
        );
        let failed = failed_csv(&env);
        let codes: Vec<(u64, &str)> = failed.iter().map(|(r, v)| (*r, v.1.as_str())).collect();
        assert_eq!(codes, [(1, "invalid_phone"), (2, "missing_full_name")]);
    }
}

const RT_JSONL: [&str; 6] = [
    r#"{"name":"Ann","phone":6281200001,"remark":"=x","weight":2}"#,
    r#"{"name":"Bob","phone":"0812-ABC","remark":"-neg","tags":"a,b","extra":{"k":[1,2]}}"#,
    r#"{"name":true,"phone":"6281200003","country":"ID"}"#,
    r#"{"phone":"6281200004","email":"d@x.io"}"#,
    r#"{"name":"Eve","phone":"6.28123E+12","gender":"女"}"#,
    r#"{"name":"Fay","whatsapp":"6281200006","customize_field":{"tier":"gold"},"weight":9}"#,
];

#[test]
fn round_trip_jsonl() {
    let env = TestEnv::new();
    let input = env.write("rt.jsonl", RT_JSONL.join("\n") + "\n");
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        1,
    );
    let gen1 = jsonl_lines(&env.out().join("failed.jsonl"));
    let gen1_codes: Vec<(u64, String)> = gen1
        .iter()
        .map(|f| {
            (
                f["custimport"]["row"].as_u64().unwrap(),
                f["custimport"]["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = gen1_codes.clone();
    sorted.sort();
    let want: Vec<(u64, String)> = [
        (2, "invalid_phone"),
        (3, "invalid_type"),
        (4, "missing_full_name"),
        (5, "invalid_phone"),
        (6, "invalid_weight"),
    ]
    .iter()
    .map(|(r, c)| (*r, c.to_string()))
    .collect();
    assert_eq!(sorted, want);
    // Each failed object is the original plus the custimport key.
    for f in &gen1 {
        let row = f["custimport"]["row"].as_u64().unwrap() as usize;
        let mut orig: Map<String, Value> = serde_json::from_str(RT_JSONL[row - 1]).unwrap();
        orig.insert("custimport".into(), f["custimport"].clone());
        assert_eq!(f, &Value::Object(orig));
    }
    let held_before = held_by_phone(&env);
    assert_eq!(held_before.len(), 1);
    let requests_before = env.stats()["requests"].as_u64().unwrap();

    // Gen 2: unchanged.
    let gen1_path = env.path("gen1.jsonl");
    std::fs::copy(env.out().join("failed.jsonl"), &gen1_path).unwrap();
    std::fs::remove_dir_all(env.out()).unwrap();
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&gen1_path);
            c
        },
        1,
    );
    let gen2 = jsonl_lines(&env.out().join("failed.jsonl"));
    let mut gen2_codes: Vec<(u64, String)> = gen2
        .iter()
        .map(|f| {
            assert_eq!(f["custimport"]["outcome"], "rejected");
            (
                f["custimport"]["row"].as_u64().unwrap(),
                f["custimport"]["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    gen2_codes.sort();
    let expect2: Vec<(u64, String)> = gen1_codes
        .iter()
        .enumerate()
        .map(|(i, (_, c))| (i as u64 + 1, c.clone()))
        .collect();
    assert_eq!(gen2_codes, expect2);
    assert_eq!(env.stats()["requests"].as_u64().unwrap(), requests_before);

    // Gen 3: fixed.
    let mut fixed = String::new();
    let mut clean = String::new();
    for (i, f) in gen1.iter().enumerate() {
        let mut o = f.as_object().unwrap().clone();
        match f["custimport"]["code"].as_str().unwrap() {
            "invalid_phone" => {
                o.insert("phone".into(), json!(format!("+62 812 9000 {i:02}")));
            }
            "invalid_type" => {
                o.insert("name".into(), json!("Fixed"));
            }
            "missing_full_name" => {
                o.insert("name".into(), json!("Named"));
            }
            "invalid_weight" => {
                o.insert("weight".into(), json!(3));
            }
            other => panic!("unexpected {other}"),
        }
        fixed.push_str(&Value::Object(o.clone()).to_string());
        fixed.push('\n');
        o.remove("custimport");
        clean.push_str(&Value::Object(o).to_string());
        clean.push('\n');
    }
    let fixed_path = env.write("fixed.jsonl", &fixed);
    std::fs::remove_dir_all(env.out()).unwrap();
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&fixed_path);
            c
        },
        0,
    );
    assert_eq!(summary_counts(&env), [5, 5, 0, 0, 0, 0]);
    let held_after = held_by_phone(&env);
    assert_eq!(held_after.len(), 6);

    let clean_env = TestEnv::new();
    let clean_path = clean_env.write("clean.jsonl", &clean);
    run_code(
        {
            let mut c = clean_env.cmd("nxlink");
            c.arg(&clean_path);
            c
        },
        0,
    );
    let clean_held = held_by_phone(&clean_env);
    assert_eq!(clean_held.len(), 5);
    for (p, c) in &clean_held {
        assert_eq!(payload(&held_after[p]), payload(c), "{p}");
    }
    let fay = &held_after["6281200006"];
    assert_eq!(fay["weight"], json!(3));
    assert_eq!(fay["customize_field"], "{\"tier\":\"gold\"}");
}

/// A JSONL line that was not an object comes back in failed.jsonl as
/// `{"custimport": {...}, "line": "<text>"}`; fed back unchanged it must be refused for the
/// same reason, not read as a customer whose `line` field holds the text.
#[test]
fn jsonl_wrapped_lines_keep_their_codes_when_refed() {
    let env = TestEnv::new();
    let input = env.write(
        "w.jsonl",
        "{\"name\":\"Ann\",\"phone\":\"6281200101\"}\nnot json\n[1]\n",
    );
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&input);
            c
        },
        1,
    );
    let gen1 = env.path("gen1.jsonl");
    std::fs::copy(env.out().join("failed.jsonl"), &gen1).unwrap();
    std::fs::remove_dir_all(env.out()).unwrap();
    run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&gen1);
            c
        },
        1,
    );
    let codes: Vec<(u64, String)> = jsonl_lines(&env.out().join("failed.jsonl"))
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
        [
            (1, "invalid_json".to_owned()),
            (2, "not_an_object".to_owned())
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// 9. dry run

#[test]
fn dry_run_on_hostile_input_never_contacts_the_sandbox() {
    let env = TestEnv::new();
    let mut csv_bytes =
        b"name,phone,note\nA,6281300001,ok\nB,6281300002\nC,62813\xff0003,x\n".to_vec();
    csv_bytes.extend_from_slice(b"D,6281300004,\"open\nE,6281300005,y\n");
    let csv_in = env.write("d.csv", csv_bytes);
    let r = run_code(
        {
            let mut c = env.cmd("nxlink");
            c.arg(&csv_in).arg("--dry-run");
            c
        },
        1,
    );
    assert!(
        r.stderr.contains("dry run of 4 rows: 1 valid, 3 rejected"),
        "{}",
        r.stderr
    );
    let s = env.summary();
    assert_eq!(s["dry_run"], json!(true));
    assert_eq!(s["valid"], json!(1));
    assert_eq!(s["pending"], json!(1));
    assert_eq!(s["requests"], json!(0));
    let codes: Vec<(u64, String)> = failed_tail(&env)
        .into_iter()
        .map(|(r, (_, c, _))| (r, c))
        .collect();
    assert_eq!(
        codes,
        [
            (2, "wrong_field_count".to_owned()),
            (3, "invalid_encoding".to_owned()),
            (4, "unterminated_quote".to_owned())
        ]
    );
    assert!(!env.out().join("success.csv").exists());

    let jsonl_in = env.write(
        "d.jsonl",
        "{\"name\":\"A\",\"phone\":1}\n\n{bad\n[]\n{\"name\":{},\"phone\":2}\n",
    );
    std::fs::remove_dir_all(env.out()).unwrap();
    run_code(
        {
            let mut c = env.cmd("itnio");
            c.args(["--job", "9"]).arg(&jsonl_in).arg("--dry-run");
            c
        },
        1,
    );
    let s = env.summary();
    assert_eq!(s["total"], json!(4));
    assert_eq!(s["blank_lines"], json!(1));
    assert_eq!(s["valid"], json!(1));
    assert_eq!(s["rejected"], json!(3));
    let st = env.stats();
    assert_eq!(st["requests"], json!(0), "{st}");
    assert!(env.held_nxlink().is_empty());
    assert!(env.held_itnio(9).is_empty());
}
