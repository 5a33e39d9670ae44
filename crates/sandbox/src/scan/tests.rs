//! Unit tests of `scan`.
use super::*;
use serde_json::Value;

#[test]
fn customer_texts_are_the_elements_as_written() {
    let body = r#" {"type":0, "customers" : [ {"a":"]}\"\\","b":[1,{"c":[]}]} ,7,"s\"",null,[] ,-1.5e3],"x":{}} "#;
    let texts = customer_texts(body.as_bytes()).expect("texts");
    let want = [
        r#"{"a":"]}\"\\","b":[1,{"c":[]}]}"#,
        "7",
        r#""s\"""#,
        "null",
        "[]",
        "-1.5e3",
    ];
    assert_eq!(texts, want.map(str::as_bytes));
    let parsed: Value = serde_json::from_str(body).expect("json");
    for (text, v) in texts
        .iter()
        .zip(parsed["customers"].as_array().expect("array"))
    {
        assert_eq!(&serde_json::from_slice::<Value>(text).expect("json"), v);
    }
    assert_eq!(
        customer_texts(br#"{"a":{"customers":[1]},"customers":[]}"#),
        Some(vec![])
    );
    for body in [
        r#"{"customers":[1],"customers":[2]}"#,
        r#"{"cust\u006fmers":[1]}"#,
        r#"{"customers":{"a":1}}"#,
        r#"{"type":0}"#,
        "{}",
        "[]",
    ] {
        assert_eq!(customer_texts(body.as_bytes()), None, "{body}");
    }
}
