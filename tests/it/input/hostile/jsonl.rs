//! Hostile input: damaged JSONL lines, JSON types, U+FFFD, oversized fields.

#![allow(unused_imports)]
use super::*;

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
    import(&env, "nxlink", 1, |c| {
        c.arg(&input);
    });
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
    import(&env, "itnio", 1, |c| {
        c.args(["--job", "9"]).arg(&input);
    });
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
    import(&env, "nxlink", 1, |c| {
        c.arg(&input);
    });
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
        // Without --encoding, the file stops the run before anything is sent.
        let stopped = run_code(cmd(&input), 2);
        assert!(
            stopped.stderr.contains("try --encoding windows-1252"),
            "{}",
            stopped.stderr
        );
        // As UTF-8, every line is rejected on its own.
        let mut as_utf8 = cmd(&input);
        as_utf8.args(["--encoding", "utf-8"]);
        run_code(as_utf8, 1);
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
    import(&env, "nxlink", 1, |c| {
        c.arg(&input);
    });
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
