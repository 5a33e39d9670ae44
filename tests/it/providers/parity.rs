//! Local parity with the sandbox: every per-row rule the sandbox enforces (its own field rules,
//! written from the providers' documentation) is checked by the importer first, so a row the
//! sandbox would refuse is `rejected` locally and never sent (contract: "Local checks").
//!
//! One input per provider holds one valid row and one row per rule, each violating only that
//! rule; it is sent one row per request. The check: every violating row is `rejected`, the
//! sandbox received exactly one row (the valid one, held and `succeeded`), and refused nothing.
//!
//! Not covered, because no input can produce them: the sandbox's "unknown field" and JSON-type
//! rules (the importer only writes documented fields, in their types). Not local rules at all:
//! unknown seats (nxlink `12148`) and the script variables of itnio jobs 1000–1999, which only
//! the provider knows.

use std::collections::BTreeMap;

use serde_json::json;

use crate::env::{cell, TestEnv};

/// The columns of the nxlink input, in order.
const NX_COLUMNS: [&str; 21] = [
    "name",
    "whats_app_phone",
    "sms_phone",
    "viber_phone",
    "messenger",
    "instagram",
    "zalo",
    "line",
    "first_name",
    "last_name",
    "country",
    "email",
    "address",
    "birthday",
    "remark",
    "gender",
    "weight",
    "customize_field",
    "belong_seat_user",
    "tagStr",
    "time_zone",
];

/// One input row: the sandbox's rule it violates, and its cells by column.
struct Case {
    rule: &'static str,
    cells: Vec<(&'static str, String)>,
}

fn case(rule: &'static str, cells: &[(&'static str, String)]) -> Case {
    Case {
        rule,
        cells: cells.to_vec(),
    }
}

fn emoji(n: usize) -> String {
    "😀".repeat(n)
}

fn x(n: usize) -> String {
    "x".repeat(n)
}

/// The nxlink rows; row `i` (2-based, row 1 is the valid one) has the phone `62820{i:06}`
/// unless the case sets `whats_app_phone` itself.
fn nxlink_cases() -> Vec<Case> {
    let s = |v: &str| v.to_owned();
    vec![
        case("full_name required", &[("name", s(""))]),
        case("full_name blank after trimming", &[("name", s("   "))]),
        case("full_name at most 255 characters", &[("name", x(256))]),
        case(
            "full_name at most 255 UTF-16 units",
            &[("name", emoji(128))],
        ),
        case(
            "first_name at most 128 characters",
            &[("first_name", x(129))],
        ),
        case(
            "first_name at most 128 UTF-16 units",
            &[("first_name", emoji(65))],
        ),
        case("last_name at most 128 characters", &[("last_name", x(129))]),
        case(
            "last_name at most 128 UTF-16 units",
            &[("last_name", emoji(65))],
        ),
        case(
            "whats_app_phone at most 30 digits",
            &[("whats_app_phone", "6".repeat(31))],
        ),
        case(
            "sms_phone at most 30 digits",
            &[("sms_phone", "6".repeat(31))],
        ),
        case("sms_phone digits only", &[("sms_phone", s("62abc"))]),
        case(
            "viber_phone at most 30 digits",
            &[("viber_phone", "6".repeat(31))],
        ),
        case("messenger digits only", &[("messenger", s("12ab"))]),
        case(
            "instagram at most 32 digits",
            &[("instagram", "1".repeat(33))],
        ),
        case("zalo digits only", &[("zalo", s("x1"))]),
        case("line at most 50 characters", &[("line", x(51))]),
        case("line at most 50 UTF-16 units", &[("line", emoji(26))]),
        case("country at most 50 characters", &[("country", x(51))]),
        case("country at most 50 UTF-16 units", &[("country", emoji(26))]),
        case(
            "email at most 50 characters",
            &[("email", format!("{}@example.com", x(40)))],
        ),
        case(
            "email at most 50 UTF-16 units",
            &[("email", format!("{}@x", emoji(25)))],
        ),
        case("email one @", &[("email", s("a@b@c"))]),
        case("email an address", &[("email", s("nobody"))]),
        case("address at most 100 characters", &[("address", x(101))]),
        case(
            "address at most 100 UTF-16 units",
            &[("address", emoji(51))],
        ),
        case("birthday a real date", &[("birthday", s("1990-02-30"))]),
        case("birthday a date", &[("birthday", s("yesterday"))]),
        case("remark at most 2000 characters", &[("remark", x(2001))]),
        case(
            "remark at most 2000 UTF-16 units",
            &[("remark", emoji(1001))],
        ),
        case("gender 0 or 1", &[("gender", s("2"))]),
        case("weight 1 to 5", &[("weight", s("6"))]),
        case("weight 1 to 5", &[("weight", s("0"))]),
        case(
            "customize_field a JSON object",
            &[("customize_field", s("[1]"))],
        ),
        case("customize_field JSON", &[("customize_field", s("{"))]),
        case(
            "belong_seat_user at most 128 characters",
            &[("belong_seat_user", format!("{}@sandbox.test", x(116)))],
        ),
        case(
            "belong_seat_user at most 128 UTF-16 units",
            &[("belong_seat_user", format!("{}@sandbox.test", emoji(58)))],
        ),
        case("a contact channel", &[("whats_app_phone", s(""))]),
    ]
}

fn csv_cell(v: &str) -> String {
    if v.contains([',', '"', '\n']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}

/// Runs `provider` one row per request over `csv` (`n` rows, row 1 valid, the others each
/// violating `rules[row - 2]`) and checks that only row 1 reached the sandbox.
fn check(env: &TestEnv, provider: &str, csv: String, rules: &[&str]) {
    let input = env.write("parity.csv", csv);
    let mut cmd = env.cmd(provider);
    if provider == "itnio" {
        cmd.args(["--job", "9"]);
    }
    let out = cmd
        .arg(&input)
        .args(["--batch-size", "1", "--concurrency", "1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let n = rules.len() + 1;
    let mut outcome: BTreeMap<usize, (String, String, String)> = BTreeMap::new();
    for r in env.csv_rows("success.csv") {
        let row: usize = cell(&r, "row").parse().unwrap();
        outcome.insert(row, ("succeeded".into(), String::new(), String::new()));
    }
    for r in env.csv_rows("failed.csv") {
        let row: usize = cell(&r, "custimport_row").parse().unwrap();
        let line = (
            cell(&r, "custimport_outcome").to_owned(),
            cell(&r, "custimport_code").to_owned(),
            cell(&r, "custimport_error").to_owned(),
        );
        assert!(outcome.insert(row, line).is_none(), "row {row} twice");
    }
    assert_eq!(outcome.len(), n, "{outcome:?}");
    assert_eq!(
        outcome[&1].0, "succeeded",
        "the valid row: {outcome:?} {stderr}"
    );
    let slipped: Vec<String> = rules
        .iter()
        .enumerate()
        .filter_map(|(i, rule)| {
            let (o, code, error) = &outcome[&(i + 2)];
            (o != "rejected").then(|| format!("row {} ({rule}): {o} {code} {error}", i + 2))
        })
        .collect();
    assert!(
        slipped.is_empty(),
        "{provider}: rows the sandbox refuses were not rejected locally:\n{}",
        slipped.join("\n")
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let st = env.stats();
    assert_eq!(
        st["rows_received"],
        json!(1),
        "only the valid row is sent: {st}"
    );
    assert_eq!(st["requests"], json!(1), "{st}");
}

#[test]
fn nxlink_rows_the_sandbox_would_refuse_are_rejected_before_sending() {
    let env = TestEnv::new();
    let cases = nxlink_cases();
    let mut csv = NX_COLUMNS.join(",");
    csv.push('\n');
    let valid: Vec<(&str, String)> = vec![
        ("name", "Valid".into()),
        ("whats_app_phone", "62820000001".into()),
    ];
    for (i, cells) in std::iter::once(&valid)
        .chain(cases.iter().map(|c| &c.cells))
        .enumerate()
    {
        let row = i + 1;
        let line: Vec<String> = NX_COLUMNS
            .iter()
            .map(|col| {
                let given = cells.iter().find(|(c, _)| c == col).map(|(_, v)| v.clone());
                let v = match (*col, given) {
                    (_, Some(v)) => v,
                    ("name", None) => format!("N{row}"),
                    ("whats_app_phone", None) => format!("62820{row:06}"),
                    _ => String::new(),
                };
                csv_cell(&v)
            })
            .collect();
        csv.push_str(&line.join(","));
        csv.push('\n');
    }
    let rules: Vec<&str> = cases.iter().map(|c| c.rule).collect();
    check(&env, "nxlink", csv, &rules);
    let held = env.held_nxlink();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["whats_app_phone"], json!("62820000001"));
    // The contract names the code of a blank full_name.
    let failed = env.csv_rows("failed.csv");
    let blank = failed
        .iter()
        .find(|r| cell(r, "custimport_row") == "3")
        .expect("row 3 in failed.csv");
    assert_eq!(cell(blank, "custimport_code"), "missing_full_name");
}

#[test]
fn itnio_rows_the_sandbox_would_refuse_are_rejected_before_sending() {
    let env = TestEnv::new();
    let rows = [
        ("Valid", "62830000001", "", ""),
        ("No phone", "", "", "phoneNumber required"),
        (
            "Long",
            &"6".repeat(33),
            "",
            "phoneNumber at most 32 characters",
        ),
        ("Gender", "62830000004", "x", "gender MALE, FEMALE or null"),
        ("Again", "62830000001", "", "a phone already in the job"),
    ];
    let mut csv = String::from("name,phone,gender\n");
    for (name, phone, gender, _) in &rows {
        csv.push_str(&format!("{name},{phone},{gender}\n"));
    }
    let rules: Vec<&str> = rows[1..].iter().map(|r| r.3).collect();
    check(&env, "itnio", csv, &rules);
    let held = env.held_itnio(9);
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["phoneNumber"], json!("62830000001"));
}
