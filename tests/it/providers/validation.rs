//! Local validation end to end: whitespace-only cells, every problem of a row, lost text,
//! itnio JSONL `properties`, year 0000, and country cells; what reaches the sandbox and what
//! the failure reports say.

use predicates::prelude::*;
use rust_xlsxwriter::Workbook;
use serde_json::{json, Value};

use crate::env::{by_row, cell, TestEnv};

/// The held nxlink customers without the ids the sandbox adds, in creation order.
fn held_nxlink(env: &TestEnv) -> Vec<Value> {
    env.held_nxlink()
        .into_iter()
        .map(|mut c| {
            if let Some(o) = c.as_object_mut() {
                o.remove("customerId");
                o.remove("tenant_id");
            }
            c
        })
        .collect()
}

/// `failed.csv` as (row, outcome, code, error) in row order.
fn failures(env: &TestEnv) -> Vec<(u64, String, String, String)> {
    by_row(&env.csv_rows("failed.csv"), "custimport_row")
        .into_iter()
        .map(|(r, row)| {
            let c = |col| cell(&row, col).to_owned();
            (
                r,
                c("custimport_outcome"),
                c("custimport_code"),
                c("custimport_error"),
            )
        })
        .collect()
}

/// `failed.jsonl` as (row, code, error) in file order.
fn jsonl_failures(env: &TestEnv) -> Vec<(u64, String, String)> {
    env.read("failed.jsonl")
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let c = &v["custimport"];
            (
                c["row"].as_u64().unwrap(),
                c["code"].as_str().unwrap().to_owned(),
                c["error"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn rejected(row: u64, code: &str, error: &str) -> (u64, String, String, String) {
    (row, "rejected".into(), code.into(), error.into())
}

const NO_CONTACT: &str = "needs at least one contact channel: sms_phone, whats_app_phone, \
                          email, viber_phone, messenger, instagram, line, zalo";

#[test]
fn whitespace_only_csv_cells_are_absent_and_no_contact() {
    let env = TestEnv::new();
    let input = env.write(
        "w.csv",
        "full_name,whats_app_phone,email,gender,weight,birthday,messenger,line,country\n\
         Ann,6281000001, , ,\u{3000}, ,  , , \n\
         Bob, , , , , , , ,\n\
         Cy,,,,,,,\u{a0},\n",
    );
    env.cmd("nxlink").arg(&input).assert().code(1);
    assert_eq!(
        held_nxlink(&env),
        vec![json!({"full_name": "Ann", "whats_app_phone": "6281000001"})]
    );
    assert_eq!(
        failures(&env),
        vec![
            rejected(2, "no_contact", &format!("line 3: {NO_CONTACT}")),
            rejected(3, "no_contact", &format!("line 4: {NO_CONTACT}")),
        ]
    );
}

#[test]
fn whitespace_only_jsonl_strings_are_absent() {
    let env = TestEnv::new();
    let input = env.write(
        "w.jsonl",
        "{\"name\":\" \",\"phone\":\"6281000002\",\"gender\":\"  \",\"note\":\"\\t\"}\n\
         {\"name\":\"X\",\"phone\":\" \"}\n",
    );
    env.cmd("itnio")
        .args(["--job", "9"])
        .arg(&input)
        .assert()
        .code(1);
    assert_eq!(
        env.held_itnio(9),
        vec![json!({"phoneNumber": "6281000002"})]
    );
    assert_eq!(
        jsonl_failures(&env),
        vec![(
            2,
            "missing_phone".into(),
            "line 2: phoneNumber: required (map a column to it)".into()
        )]
    );
}

#[test]
fn whitespace_only_spreadsheet_cells_are_absent() {
    let env = TestEnv::new();
    let input = env.path("w.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (r, row) in [
        ["name", "phone", "gender", "email", "line"],
        ["Cy", "6281000003", " ", "  ", " "],
        ["Di", " ", " ", " ", " "],
    ]
    .iter()
    .enumerate()
    {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    wb.save(&input).unwrap();
    env.cmd("nxlink").arg(&input).assert().code(1);
    assert_eq!(
        held_nxlink(&env),
        vec![json!({"full_name": "Cy", "whats_app_phone": "6281000003"})]
    );
    assert_eq!(
        failures(&env),
        vec![rejected(
            2,
            "no_contact",
            &format!("sheet \"Sheet1\" row 3: {NO_CONTACT}")
        )]
    );
}

#[test]
fn every_problem_of_a_row_is_listed_and_duplicates_judge_valid_rows_only() {
    let env = TestEnv::new();
    let input = env.write(
        "p.csv",
        "full_name,whats_app_phone,email,messenger,weight\n\
         ,6281000001,nope,abc,9\n\
         Ann,6281000001,,,\n\
         Bob,6281000001,,,7\n\
         Cy,6281000001,,,\n\
         Dee,08x1,,,\n",
    );
    env.cmd("nxlink").arg(&input).assert().code(1);
    assert_eq!(
        held_nxlink(&env),
        vec![json!({"full_name": "Ann", "whats_app_phone": "6281000001"})]
    );
    assert_eq!(
        failures(&env),
        vec![
            rejected(
                1,
                "missing_full_name",
                "line 2: full_name: required, and not only spaces (map a column to it); \
                 email: not an e-mail address; messenger: must be digits only; \
                 weight: expected a whole number from 1 to 5"
            ),
            // Not a duplicate of row 2: a row with problems is judged for them only.
            rejected(
                3,
                "invalid_weight",
                "line 4: weight: expected a whole number from 1 to 5"
            ),
            rejected(
                4,
                "duplicate_in_file",
                "line 5: the same contact (the first of whats_app_phone, sms_phone, email) as \
                 row 2 (sent once, from row 2)"
            ),
            // A channel given but refused is its own problem, not a missing contact.
            rejected(
                5,
                "invalid_phone",
                "line 6: whats_app_phone: must be digits (spaces, -, ., parentheses and one \
                 leading + are allowed)"
            ),
        ]
    );
}

#[test]
fn every_problem_of_an_itnio_jsonl_line_is_listed() {
    let env = TestEnv::new();
    let input = env.write(
        "p.jsonl",
        "{\"name\":\"Budi 锟斤拷\",\"phone\":\"62x\",\"properties\":[1]}\n\
         {\"name\":\"Ok\",\"phone\":\"6281000009\"}\n",
    );
    env.cmd("itnio")
        .args(["--job", "9"])
        .arg(&input)
        .assert()
        .code(1);
    assert_eq!(
        jsonl_failures(&env),
        vec![(
            1,
            "invalid_encoding".into(),
            "line 1: name: its original text was lost in an earlier conversion (it holds \
             U+FFFD or 锟斤拷); take the value from the original file (and check --encoding); \
             phoneNumber: must be digits (spaces, -, ., parentheses and one leading + are \
             allowed); properties: expected a JSON object of script variables, found a list"
                .into()
        )]
    );
    assert_eq!(
        env.held_itnio(9),
        vec![json!({"name": "Ok", "phoneNumber": "6281000009"})]
    );
}

#[test]
fn lost_text_is_refused_and_never_sent() {
    let env = TestEnv::new();
    let input = env.write(
        "l.csv",
        "name,phone,email,remark\n\
         Budi 锟斤拷锟斤拷,6281000001,,\n\
         Ann,6281000002,a\u{FFFD}@x.io,\n\
         Cy,6281000003,,锟斤拷\n\
         Dee,6281000004,,锟斤\n",
    );
    env.cmd("nxlink").arg(&input).assert().code(1);
    let lost = |line: u64, field: &str| {
        format!(
            "line {line}: {field}: its original text was lost in an earlier conversion (it \
             holds U+FFFD or 锟斤拷); take the value from the original file (and check \
             --encoding)"
        )
    };
    assert_eq!(
        failures(&env),
        vec![
            rejected(1, "invalid_encoding", &lost(2, "full_name")),
            rejected(2, "invalid_encoding", &lost(3, "email")),
            rejected(3, "invalid_encoding", &lost(4, "remark")),
        ]
    );
    assert_eq!(
        held_nxlink(&env),
        vec![json!({"full_name": "Dee", "whats_app_phone": "6281000004", "remark": "锟斤"})]
    );
}

#[test]
fn itnio_jsonl_properties_are_merged_never_nested() {
    // Sandbox jobs 1000..=1999 need the script variable `amount`.
    let env = TestEnv::new();
    let input = env.write(
        "seed.jsonl",
        concat!(
            r#"{"name":"starai","phoneNumber":"91856321412","properties":{"证件后4位":"0235","amount":"1"},"income":3000}"#,
            "\n",
            r#"{"name":"b","phoneNumber":"91856321413","properties":{"amount":"5"},"amount":"6"}"#,
            "\n",
            r#"{"name":"c","phoneNumber":"91856321414","properties":{"amount":"5"},"amount":null}"#,
            "\n",
            r#"{"name":"d","phoneNumber":"91856321415","properties":"amount=5"}"#,
            "\n",
            r#"{"name":"e","phoneNumber":"91856321416","properties":null,"amount":" 7"}"#,
            "\n",
        ),
    );
    env.cmd("itnio")
        .args(["--job", "1500"])
        .arg(&input)
        .assert()
        .code(1);
    assert_eq!(
        env.held_itnio(1500),
        vec![
            json!({"name": "starai", "phoneNumber": "91856321412",
                   "properties": {"证件后4位": "0235", "amount": "1", "income": 3000}}),
            json!({"name": "c", "phoneNumber": "91856321414", "properties": {"amount": "5"}}),
            json!({"name": "e", "phoneNumber": "91856321416", "properties": {"amount": " 7"}}),
        ]
    );
    assert_eq!(
        jsonl_failures(&env),
        vec![
            (
                2,
                "conflicting_property".into(),
                "line 2: properties: the property \"amount\" is given both inside the line's \
                 \"properties\" object and as a key of its own; keep one"
                    .into()
            ),
            (
                4,
                "invalid_type".into(),
                "line 4: properties: expected a JSON object of script variables, found text".into()
            ),
        ]
    );
}

#[test]
fn a_birthday_in_year_0000_is_refused() {
    let env = TestEnv::new();
    let input = env.write(
        "b.csv",
        "name,phone,birthday\nA,6281000001,0000-01-01\nB,6281000002,0001-01-01\n",
    );
    env.cmd("nxlink").arg(&input).assert().code(1);
    let f = failures(&env);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].0, f[0].2.as_str()), (1, "invalid_birthday"));
    assert!(f[0].3.starts_with("line 2: birthday: "), "{}", f[0].3);
    assert_eq!(
        held_nxlink(&env),
        vec![json!({"full_name": "B", "whats_app_phone": "6281000002", "birthday": "0001-01-01"})]
    );
}

const COUNTRY_WARNING: &str = "2 rows have a country that is no ISO 3166 code or country name \
     (write e.g. ID, IDN or Indonesia): the country field is left out of what is sent, and their \
     phone numbers were read as numbers of Indonesia (--phone-region)";

#[test]
fn placeholder_and_unknown_countries_are_absent_for_nxlink() {
    let env = TestEnv::new();
    let input = env.write(
        "c.csv",
        "name,phone,country\n\
         A,0812345678,N/A\n\
         B,0812345679,No\n\
         C,0812345680,Jawa\n\
         D,0812345681,-\n\
         E,0812345682,indonesia\n\
         F,0812345683,Jawa\n\
         G,0812345684,NA\n",
    );
    env.cmd("nxlink")
        .args(["--phone-region", "ID"])
        .arg(&input)
        .assert()
        .code(0)
        .stderr(predicate::str::contains(COUNTRY_WARNING).count(1));
    let c = |name: &str, phone: &str, country: Option<&str>| {
        let mut v = json!({"full_name": name, "whats_app_phone": phone});
        if let Some(country) = country {
            v["country"] = json!(country);
        }
        v
    };
    assert_eq!(
        held_nxlink(&env),
        vec![
            c("A", "62812345678", None),
            c("B", "62812345679", None),
            c("C", "62812345680", None),
            c("D", "62812345681", None),
            c("E", "62812345682", Some("indonesia")),
            c("F", "62812345683", None),
            c("G", "62812345684", None),
        ]
    );
}

/// Without `--phone-region` the country cell is read all the same: an unrecognised value is
/// left out of nxlink's request, with one warning that counts the rows.
#[test]
fn an_unknown_country_is_absent_for_nxlink_with_one_warning_without_a_region() {
    let env = TestEnv::new();
    let input = env.write(
        "c.csv",
        "name,phone,country\n\
         A,6281234567801,Jawa\n\
         B,6281234567802,IDN\n\
         C,6281234567803,N/A\n\
         D,6281234567804,Jawa Barat\n\
         E,6281234567805, United States \n\
         F,6281234567806,I.D.\n\
         G,6281234567807,\n",
    );
    let warning = format!(
        "warning: {}: 3 rows have a country that is no ISO 3166 code or country name (write \
         e.g. ID, IDN or Indonesia): the country field is left out of what is sent\n",
        input.display()
    );
    let out = env.cmd("nxlink").arg(&input).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches(&warning).count(), 1, "{stderr}");
    assert!(!stderr.contains("--phone-region"), "{stderr}");
    let c = |name: &str, phone: &str, country: Option<&str>| {
        let mut v = json!({"full_name": name, "whats_app_phone": phone});
        if let Some(country) = country {
            v["country"] = json!(country);
        }
        v
    };
    // A country is sent as written (E keeps its spaces, as before).
    assert_eq!(
        held_nxlink(&env),
        vec![
            c("A", "6281234567801", None),
            c("B", "6281234567802", Some("IDN")),
            c("C", "6281234567803", None),
            c("D", "6281234567804", None),
            c("E", "6281234567805", Some(" United States ")),
            c("F", "6281234567806", None),
            c("G", "6281234567807", None),
        ]
    );
}

/// itnio has no country field: its country property is the script's text, sent as written;
/// an unrecognised one is counted all the same, with or without `--phone-region`.
#[test]
fn an_unknown_itnio_country_property_is_counted_without_a_region() {
    let env = TestEnv::new();
    let input = env.write(
        "c.csv",
        "name,phone,Negara\nA,6281234567801,Jawa\nB,6281234567802,ID\nC,6281234567803,-\n",
    );
    let out = env
        .cmd("itnio")
        .args(["--job", "9"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warning = "1 row has a country that is no ISO 3166 code or country name (write e.g. \
                   ID, IDN or Indonesia): the property is sent as written\n";
    assert_eq!(stderr.matches(warning).count(), 1, "{stderr}");
    let person = |name: &str, phone: &str, country: &str| json!({"name": name, "phoneNumber": phone, "properties": {"Negara": country}});
    assert_eq!(
        env.held_itnio(9),
        vec![
            person("A", "6281234567801", "Jawa"),
            person("B", "6281234567802", "ID"),
            person("C", "6281234567803", "-"),
        ]
    );
}

#[test]
fn placeholder_countries_are_no_country_for_itnio() {
    let env = TestEnv::new();
    let input = env.write(
        "c.csv",
        "name,phone,country\nA,0812345678,N/A\nB,0812345679,Bali\nC,0812345680,NOR\n",
    );
    env.cmd("itnio")
        .args(["--job", "9", "--phone-region", "ID"])
        .arg(&input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "1 row has a country that is no ISO 3166 code or country name",
        ));
    // The property is the script's text: kept as written.
    assert_eq!(
        env.held_itnio(9),
        vec![
            json!({"name": "A", "phoneNumber": "62812345678", "properties": {"country": "N/A"}}),
            json!({"name": "B", "phoneNumber": "62812345679", "properties": {"country": "Bali"}}),
        ]
    );
    // NOR is Norway: the national number is read with Norway's plan, and is not one.
    let f = failures(&env);
    assert_eq!((f[0].0, f[0].2.as_str()), (3, "invalid_phone"));
    assert!(f[0].3.contains("Norway"), "{}", f[0].3);
}

#[test]
fn the_dry_run_plan_shows_a_properties_object_merged() {
    let env = TestEnv::new();
    let input = env.write(
        "seed.jsonl",
        r#"{"name":"starai","phoneNumber":"91856321412","properties":{"amount":"1"}}"#,
    );
    env.cmd("itnio")
        .args(["--job", "9", "--dry-run"])
        .arg(&input)
        .assert()
        .code(0)
        .stderr(
            predicate::str::is_match(r#"\n  properties\.\* +<- "properties" \(unmapped\)\n"#)
                .unwrap(),
        )
        .stderr(predicate::str::contains("properties.properties").not());
}

#[test]
fn lost_text_inside_json_values_is_refused() {
    let env = TestEnv::new();
    let input = env.write(
        "l.jsonl",
        concat!(
            r#"{"phone":"6281000001","properties":{"a":{"b":["锟斤拷"]}}}"#,
            "\n",
            r#"{"phone":"6281000002","tags":["ok","x\uFFFD"]}"#,
            "\n",
            r#"{"phone":"6281000003","tags":["ok"]}"#,
            "\n",
        ),
    );
    env.cmd("itnio")
        .args(["--job", "9"])
        .arg(&input)
        .assert()
        .code(1);
    let lost = |line: u64, field: &str| {
        format!(
            "line {line}: {field}: its original text was lost in an earlier conversion (it \
             holds U+FFFD or 锟斤拷); take the value from the original file (and check \
             --encoding)"
        )
    };
    assert_eq!(
        jsonl_failures(&env),
        vec![
            (1, "invalid_encoding".into(), lost(1, "a")),
            (2, "invalid_encoding".into(), lost(2, "tags")),
        ]
    );
    assert_eq!(
        env.held_itnio(9),
        vec![json!({"phoneNumber": "6281000003", "properties": {"tags": ["ok"]}})]
    );

    let env = TestEnv::new();
    let input = env.write(
        "c.jsonl",
        concat!(
            r#"{"name":"A","phone":"6281000001","customize_field":{"k":"锟斤拷"}}"#,
            "\n",
            r#"{"name":"B","phone":"6281000002","customize_field":{"k":"v"}}"#,
            "\n",
        ),
    );
    env.cmd("nxlink").arg(&input).assert().code(1);
    assert_eq!(
        jsonl_failures(&env),
        vec![(1, "invalid_encoding".into(), lost(1, "customize_field"))]
    );
    assert_eq!(
        held_nxlink(&env),
        vec![json!({"full_name": "B", "whats_app_phone": "6281000002",
                    "customize_field": "{\"k\":\"v\"}"})]
    );
}
