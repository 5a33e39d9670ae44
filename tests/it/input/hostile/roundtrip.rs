//! Hostile input: spreadsheet damage, failure reports fed back (unchanged and fixed), dry runs.

#![allow(unused_imports)]
use super::*;

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
    import(&env, "nxlink", 1, |c| {
        c.arg(&input);
    });
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
    import(&env, "nxlink", 1, |c| {
        c.arg(&input).args(["--encoding", "gbk"]);
    });
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
    import(&env, "nxlink", 1, |c| {
        c.arg(&gen1_path);
    });
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
    // Rows keep their numbers in the first file (custimport_row fed back is kept).
    assert_eq!(gen2_codes, sorted);
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
    import(&env, "nxlink", 0, |c| {
        c.arg(&fixed_path);
    });
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
    import(&env, "nxlink", 1, |c| {
        c.arg(&input);
    });
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
    import(&env, "nxlink", 0, |c| {
        c.arg(&path);
    });
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
    import(&env, "nxlink", 1, |c| {
        c.arg(&input);
    });
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
        // Each row keeps its number in the first file, generation after generation.
        assert_eq!(codes, [(2, "invalid_phone"), (3, "missing_full_name")]);
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
    import(&env, "nxlink", 1, |c| {
        c.arg(&input);
    });
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
    import(&env, "nxlink", 1, |c| {
        c.arg(&gen1_path);
    });
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
    // Rows keep their numbers in the first file (`custimport.row` fed back is kept).
    let mut expect2 = gen1_codes.clone();
    expect2.sort();
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
    import(&env, "nxlink", 0, |c| {
        c.arg(&fixed_path);
    });
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
    import(&env, "nxlink", 1, |c| {
        c.arg(&input);
    });
    let gen1 = env.path("gen1.jsonl");
    std::fs::copy(env.out().join("failed.jsonl"), &gen1).unwrap();
    std::fs::remove_dir_all(env.out()).unwrap();
    import(&env, "nxlink", 1, |c| {
        c.arg(&gen1);
    });
    let codes: Vec<(u64, String)> = jsonl_lines(&env.out().join("failed.jsonl"))
        .iter()
        .map(|f| {
            (
                f["custimport"]["row"].as_u64().unwrap(),
                f["custimport"]["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // Each keeps its row of the first file (lines 2 and 3 there), not its place in gen1.
    assert_eq!(
        codes,
        [
            (2, "invalid_json".to_owned()),
            (3, "not_an_object".to_owned())
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
    let r = import(&env, "nxlink", 1, |c| {
        c.arg(&csv_in).args(["--dry-run", "--encoding", "utf-8"]);
    });
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
    import(&env, "itnio", 1, |c| {
        c.args(["--job", "9"]).arg(&jsonl_in).arg("--dry-run");
    });
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

/// A header cell the failure report guards (`@tag` written `'@tag`) names the same column when
/// the report is fed back: an itnio property keeps its name through the fix loop.
#[test]
fn a_guarded_header_cell_names_its_column_again_when_fed_back() {
    let env = TestEnv::new();
    let input = env.write(
        "it.csv",
        "name,phone,@tag,=score\nAnn,6281000201,=x,10\nBob,62abc,+y,7\n",
    );
    let code = env
        .cmd("itnio")
        .args(["--job", "9"])
        .arg(&input)
        .output()
        .unwrap()
        .status
        .code();
    assert_eq!(code, Some(1));
    let failed = env.read("failed.csv");
    assert!(
        failed.starts_with("name,phone,'@tag,'=score,custimport_row,"),
        "{failed}"
    );
    let fixed = env.write("fixed.csv", failed.replace("62abc", "6281000202"));
    std::fs::remove_dir_all(env.out()).unwrap();
    let code = env
        .cmd("itnio")
        .args(["--job", "9"])
        .arg(&fixed)
        .output()
        .unwrap()
        .status
        .code();
    assert_eq!(code, Some(0));
    let held = env.held_itnio(9);
    assert_eq!(held.len(), 2);
    for person in &held {
        let props = person["properties"].as_object().unwrap();
        let keys: Vec<&str> = props.keys().map(String::as_str).collect();
        assert!(
            keys.contains(&"@tag") && keys.contains(&"=score"),
            "{person}"
        );
        assert!(!keys.iter().any(|k| k.starts_with('\'')), "{person}");
    }
    let bob = held.iter().find(|p| p["name"] == "Bob").unwrap();
    assert_eq!(bob["properties"]["@tag"], "+y");
    assert_eq!(bob["properties"]["=score"], "7");
}

/// A cell over `--max-field-size` refuses its row, and the failure report keeps the whole cell:
/// fed back with a larger limit, the provider gets every byte, not the first MiB.
#[test]
fn a_cell_too_large_is_kept_whole_in_the_report_and_sent_whole_with_a_larger_limit() {
    let env = TestEnv::new();
    let big = format!("{}END", "r".repeat(1_100_000));
    let input = env.write(
        "big.csv",
        format!("name,phone,notes\nAnn,6281000001,{big}\nBob,6281000002,ok\n"),
    );
    let out = env
        .cmd("itnio")
        .args(["--job", "808"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let rows = env.csv_rows("failed.csv");
    assert_eq!(rows.len(), 1);
    assert_eq!(cell(&rows[0], "custimport_code"), "field_too_large");
    assert_eq!(cell(&rows[0], "notes"), big, "the report cut the cell");
    let report = env.out().join("failed.csv");
    let fed = env.path("fed.csv");
    std::fs::copy(&report, &fed).unwrap();
    std::fs::remove_dir_all(env.out()).unwrap();
    let out = env
        .cmd("itnio")
        .args(["--job", "808", "--max-field-size", "4000000"])
        .arg(&fed)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let held = env.held_itnio(808);
    let ann = held.iter().find(|p| p["name"] == "Ann").unwrap();
    assert_eq!(ann["properties"]["notes"].as_str().unwrap(), big);
}
