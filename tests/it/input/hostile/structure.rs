//! Hostile input: ragged rows, unterminated quotes, line endings, delimiters and headers.

#![allow(unused_imports)]
use super::*;

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
    let r = import(&env, "nxlink", 1, |c| {
        c.arg(&input).arg("--json");
    });
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
    import(&env, "nxlink", 1, |c| {
        c.arg(&input);
    });
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
    let r = import(&env, "nxlink", 1, |c| {
        c.arg(&input);
    });
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
    import(&env, "nxlink", 1, |c| {
        c.arg(&input);
    });
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
        import(&env, "nxlink", 0, |c| {
            c.arg(&input);
        });
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
    let r = import(&env, "nxlink", 1, |c| {
        c.arg(&input);
    });
    let failed = failed_csv(&env);
    assert_eq!(failed.keys().copied().collect::<Vec<_>>(), [2]);
    assert_eq!(failed[&2].1, "invalid_phone");
    assert!(failed[&2].2.starts_with("line 4:"), "{:?}", failed[&2]);
    assert!(r.stderr.contains("row 2 rejected: line 4"), "{}", r.stderr);
    assert_eq!(succeeded(&env).keys().copied().collect::<Vec<_>>(), [1, 3]);
}

#[test]
fn header_with_an_open_quote_exits_2_naming_its_line() {
    // (Repeated header names are read: see inputs_hardening.rs.)
    let env = TestEnv::new();
    // A header whose quote never closes is an input error.
    let input = env.write("hq.csv", "name,\"phone\nA,6281000091\n");
    let r = import(&env, "nxlink", 2, |c| {
        c.arg(&input);
    });
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
        let r = import(&env, "nxlink", 0, |c| {
            c.arg(&input);
        });
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
    let r = import(&env, "nxlink", 0, |c| {
        c.arg(&input);
    });
    assert_eq!(summary_counts(&env), [0; 6]);
    assert_eq!(env.stats()["requests"], json!(0));
    assert!(
        r.stderr.contains("warning"),
        "a header without rows deserves a warning: {}",
        r.stderr
    );
}
