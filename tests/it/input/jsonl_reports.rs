//! A JSONL failure report fed back: a line that was no JSON object, wrapped as
//! `{"custimport": {"row": N, …}, "line": "<text>"}`, keeps its first file's row number through
//! fix-and-reimport rounds, as object lines do (contract: "The fix loop keeps every byte").

use serde_json::{json, Value};

use crate::env::{cell, TestEnv};

/// `failed.jsonl` as (custimport.row, custimport.code, line text or name) per line.
fn failed_rows(env: &TestEnv) -> Vec<(Value, String, String)> {
    env.read("failed.jsonl")
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let what = v
                .get("line")
                .or_else(|| v.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let code = v["custimport"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (v["custimport"]["row"].clone(), code, what)
        })
        .collect()
}

#[test]
fn a_wrapped_line_fed_back_keeps_its_first_files_row_number() {
    let env = TestEnv::new();
    let input = env.write(
        "l.jsonl",
        "{\"name\":\"Ann\",\"phone\":\"6281000901\"}\n\
         {\"name\":\"Bob\",\"phone\":\"6281000902\",\"properties\":{\"city\":\"Bdg\"},\"city\":\"Jkt\"}\n\
         {\"name\":\"Cee\",\"phone\":\"6281000903\",\"properties\":\"notobj\"}\n\
         [1,2]\n",
    );
    env.cmd("itnio")
        .args(["--job", "61"])
        .arg(&input)
        .assert()
        .code(1);
    let row4 = (json!(4), "not_an_object".to_owned(), "[1,2]".to_owned());
    assert_eq!(failed_rows(&env)[2], row4);
    // Round 2: Bob dropped, the rest fed back unchanged; the wrapped line is now line 2.
    let round2: String = env
        .read("failed.jsonl")
        .lines()
        .filter(|l| !l.contains("\"Bob\""))
        .map(|l| format!("{l}\n"))
        .collect();
    let round2 = env.write("round2.jsonl", round2);
    std::fs::remove_dir_all(env.out()).unwrap();
    env.cmd("itnio")
        .args(["--job", "61"])
        .arg(&round2)
        .assert()
        .code(1);
    let cee = (json!(3), "invalid_type".to_owned(), "Cee".to_owned());
    assert_eq!(failed_rows(&env), vec![cee, row4.clone()]);
    // Round 3: the report fed back as it is reproduces itself, byte for byte.
    let round3 = env.write("round3.jsonl", env.read("failed.jsonl"));
    std::fs::remove_dir_all(env.out()).unwrap();
    env.cmd("itnio")
        .args(["--job", "61"])
        .arg(&round3)
        .assert()
        .code(1);
    assert_eq!(
        env.read("failed.jsonl"),
        std::fs::read_to_string(&round3).unwrap()
    );
    // Round 4: the wrapped line's text fixed into an object: sent, and row 4 in success.csv.
    let fixed = std::fs::read_to_string(&round3)
        .unwrap()
        .replace(
            "\"line\":\"[1,2]\"",
            "\"line\":\"{\\\"name\\\":\\\"Dee\\\",\\\"phone\\\":\\\"6281000904\\\"}\"",
        )
        .replace("\"notobj\"", "{\"city\":\"Bdg\"}");
    let round4 = env.write("round4.jsonl", fixed);
    std::fs::remove_dir_all(env.out()).unwrap();
    env.cmd("itnio")
        .args(["--job", "61"])
        .arg(&round4)
        .assert()
        .code(0);
    let success: Vec<(String, String)> = env
        .csv_rows("success.csv")
        .iter()
        .map(|r| (cell(r, "name").to_owned(), cell(r, "source_row").to_owned()))
        .collect();
    assert_eq!(
        success,
        [("Cee".into(), "3".into()), ("Dee".into(), "4".into())]
    );
    // The report's bookkeeping is never sent as a property.
    assert_eq!(
        env.held_itnio(61),
        vec![
            json!({"name": "Ann", "phoneNumber": "6281000901"}),
            json!({"name": "Cee", "phoneNumber": "6281000903", "properties": {"city": "Bdg"}}),
            json!({"name": "Dee", "phoneNumber": "6281000904"}),
        ]
    );
}
