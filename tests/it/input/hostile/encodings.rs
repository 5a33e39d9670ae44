//! Hostile input: GBK and UTF-16 files (bytes produced by the tests), strict decoding.

#![allow(unused_imports)]
use super::*;

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
    import(&env, "nxlink", 0, |c| {
        c.arg(&input).args(["--encoding", "gbk"]);
    });
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
            success.contains(&format!("{},{id},{p},{n},\n", i + 1)),
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
    let r = import(&env, "nxlink", 2, |c| {
        c.arg(&input);
    });
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
    let r = import(&env, "nxlink", 1, |c| {
        c.arg(&input).args(["--encoding", "gbk"]);
    });
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
    let r = import(&env, "nxlink", 1, |c| {
        c.arg(&input).args(["--encoding", "gbk"]);
    });
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
        import(&env, "nxlink", 0, |c| {
            c.arg(&input);
        });
        let held = held_by_phone(&env);
        assert_eq!(held.len(), 2, "UTF-16{prefix}: {held:?}");
        assert_eq!(held["6281000021"]["full_name"], "张伟");
        assert_eq!(held["6281000021"]["remark"], "北京 😀");
        assert_eq!(held["628100022"]["full_name"], "Bob");
        assert_eq!(held["628100022"]["remark"], "a,b\r\nc");
        assert_eq!(env.stats()["replacement_chars"], json!(0));
        let success = std::fs::read_to_string(env.out().join("success.csv")).unwrap();
        assert!(success.contains(",6281000021,张伟,\n"), "{success}");
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
    import(&env, "nxlink", 0, |c| {
        c.arg(&input);
    });
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
    import(&env, "nxlink", 1, |c| {
        c.arg(&input);
    });
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
