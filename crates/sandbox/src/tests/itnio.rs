//! itnio endpoint tests: header and status codes, person rules, per-job phone uniqueness and the
//! script-variable jobs.
//!
//! Invariant: each test asserts both the answer and what the job holds afterwards.

use serde_json::{json, Value};

use super::{it_body, now_secs, start_default, Req};
use crate::verify;
use crate::{Sandbox, ITNIO_API_KEY, ITNIO_API_SECRET};

fn person(phone: &str) -> Value {
    json!({"name": "Jack", "phoneNumber": phone})
}

/// Sends `persons` to job 9 and checks that every one was imported and is held as sent.
async fn imports_all_as_sent(sb: &Sandbox, persons: &Value) {
    let r = Req::itnio(it_body(9, persons.clone())).send(sb).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"status": "0", "reason": "success", "data": []})
    );
    assert_eq!(
        sb.itnio_persons(9),
        persons.as_array().expect("array").clone()
    );
}

#[tokio::test]
async fn import_succeeds_and_is_held() {
    let sb = start_default().await;
    let persons = json!([
        {"name": "Jack", "phoneNumber": "13000000001", "gender": "MALE", "properties": {"x": 1}},
        {"phoneNumber": "13000000002", "gender": null}
    ]);
    imports_all_as_sent(&sb, &persons).await;
    assert!(sb.itnio_persons(10).is_empty());
}

#[tokio::test]
async fn header_statuses() {
    let sb = start_default().await;
    let body = it_body(9, json!([person("1")]));
    for (h, status) in [("Sign", "-57"), ("Timestamp", "-58"), ("Api-Key", "-59")] {
        let r = Req::itnio(body.clone()).without(h).send(&sb).await;
        assert_eq!(r.status_code(), status, "without {h}");
        assert_eq!(r.json()["data"], Value::Null);
        assert_eq!(
            Req::itnio(body.clone())
                .set(h, "")
                .send(&sb)
                .await
                .status_code(),
            status
        );
    }
    // Sign is checked first when everything is missing.
    let bare = Req::itnio(body.clone())
        .without("Sign")
        .without("Timestamp")
        .without("Api-Key");
    assert_eq!(bare.send(&sb).await.status_code(), "-57");
    let wrong_key = Req::itnio(body.clone()).set("Api-Key", "other");
    assert_eq!(wrong_key.send(&sb).await.status_code(), "-1");
    let wrong_sign = Req::itnio(body.clone()).set("Sign", "0123456789abcdef0123456789abcdef");
    assert_eq!(wrong_sign.send(&sb).await.status_code(), "-1");
    assert_eq!(sb.stats().rejected_signatures, 1);
    // An old timestamp, correctly signed, is expired.
    let old = (now_secs().parse::<i64>().expect("secs") - 400).to_string();
    let sign = verify::itnio_sign(ITNIO_API_KEY, ITNIO_API_SECRET, &old);
    let skewed = Req::itnio(body.clone())
        .set("Timestamp", &old)
        .set("Sign", &sign);
    assert_eq!(skewed.send(&sb).await.status_code(), "-4");
    let ms = Req::itnio(body).set("Timestamp", &super::now_ms());
    assert_eq!(ms.send(&sb).await.status_code(), "-4");
    assert!(sb.itnio_persons(9).is_empty());
}

#[tokio::test]
async fn body_statuses() {
    let sb = start_default().await;
    let p = json!([person("1")]);
    let many: Vec<Value> = (0..101).map(|i| person(&format!("1{i:03}"))).collect();
    let cases = [
        ("nope".to_string(), "-27"),
        (
            json!({"appId": "other", "jobId": 9, "customerPersons": p}).to_string(),
            "-37",
        ),
        (json!({"jobId": 9, "customerPersons": p}).to_string(), "-37"),
        (it_body(0, p.clone()), "-32"),
        (it_body(1_000_000, p.clone()), "-32"),
        (it_body(9, json!(many)), "-56"),
        (it_body(9, json!([])), "-27"),
        (
            json!({"appId": "sandbox", "jobId": 9, "customerPersons": p, "callRecordDup": "y"})
                .to_string(),
            "-27",
        ),
    ];
    for (body, status) in cases {
        assert_eq!(
            Req::itnio(body.clone()).send(&sb).await.status_code(),
            status,
            "{body}"
        );
    }
    let dup_ok =
        json!({"appId": "sandbox", "jobId": 9, "customerPersons": p, "callRecordDup": true});
    assert_eq!(
        Req::itnio(dup_ok.to_string()).send(&sb).await.status_code(),
        "0"
    );
}

#[tokio::test]
async fn person_rules_name_index_and_field() {
    let sb = start_default().await;
    let cases = [
        (
            json!({"phoneNumber": "2", "gender": ""}),
            "customerPersons[1].gender: must be MALE, FEMALE or null",
        ),
        (
            json!({"phoneNumber": "2", "gender": "male"}),
            "customerPersons[1].gender: must be MALE, FEMALE or null",
        ),
        (
            json!({"name": "x"}),
            "customerPersons[1].phoneNumber: required",
        ),
        (
            json!({"phoneNumber": ""}),
            "customerPersons[1].phoneNumber: required",
        ),
        (
            json!({"phoneNumber": 2}),
            "customerPersons[1].phoneNumber: must be a string",
        ),
        (
            json!({"phoneNumber": "1".repeat(33)}),
            "customerPersons[1].phoneNumber: at most 32 characters",
        ),
        (
            json!({"phoneNumber": "2", "name": 5}),
            "customerPersons[1].name: must be a string",
        ),
        (
            json!({"phoneNumber": "2", "properties": "a=1"}),
            "customerPersons[1].properties: must be an object",
        ),
        (
            json!({"phoneNumber": "2", "phone": "3"}),
            "customerPersons[1].phone: unknown field",
        ),
    ];
    for (bad, reason) in cases {
        let v = Req::itnio(it_body(9, json!([person("1"), bad])))
            .send(&sb)
            .await
            .json();
        assert_eq!(v["status"], json!("-27"));
        assert_eq!(
            v["reason"],
            json!(format!("parameter validation failed: {reason}"))
        );
        assert_eq!(v["data"], Value::Null);
    }
    assert!(sb.itnio_persons(9).is_empty());
    let ok = json!([{"phoneNumber": "1".repeat(32)}]);
    assert_eq!(
        Req::itnio(it_body(9, ok)).send(&sb).await.status_code(),
        "0"
    );
}

#[tokio::test]
async fn duplicate_phones_in_job_and_in_request() {
    let sb = start_default().await;
    let v = Req::itnio(it_body(
        7,
        json!([person("111"), person("222"), person("111")]),
    ))
    .send(&sb)
    .await
    .json();
    assert_eq!(
        v["data"],
        json!(["The customer already exists in this task,Phone Number:111"])
    );
    let v = Req::itnio(it_body(7, json!([person("333"), person("222")])))
        .send(&sb)
        .await
        .json();
    assert_eq!(v["status"], json!("0"));
    assert_eq!(
        v["data"],
        json!(["The customer already exists in this task,Phone Number:222"])
    );
    let phones: Vec<Value> = sb
        .itnio_persons(7)
        .iter()
        .map(|p| p["phoneNumber"].clone())
        .collect();
    assert_eq!(phones, [json!("111"), json!("222"), json!("333")]);
    // Another job holds its own phones.
    let v = Req::itnio(it_body(8, json!([person("111")])))
        .send(&sb)
        .await
        .json();
    assert_eq!(v["data"], json!([]));
}

#[tokio::test]
async fn script_job_requires_amount() {
    let sb = start_default().await;
    let persons = json!([
        {"phoneNumber": "1", "properties": {"amount": "300"}},
        {"phoneNumber": "2", "properties": {"other": "x"}},
        {"phoneNumber": "3"},
        {"phoneNumber": "4", "properties": {"amount": 12}}
    ]);
    let v = Req::itnio(it_body(1500, persons)).send(&sb).await.json();
    assert_eq!(v["status"], json!("0"));
    assert_eq!(
        v["data"],
        json!([
            "Customer custom property is incomplete,Phone Number:2",
            "Customer custom property is incomplete,Phone Number:3"
        ])
    );
    assert_eq!(sb.itnio_persons(1500).len(), 2);
    // Outside 1000..=1999 no property is required.
    let v = Req::itnio(it_body(2000, json!([{"phoneNumber": "2"}])))
        .send(&sb)
        .await
        .json();
    assert_eq!(v["data"], json!([]));
}

#[tokio::test]
async fn refuse_hook_refuses_the_whole_batch_and_holds_nothing() {
    let sb = start_default().await;
    for (status, reason) in [
        ("-27", "parameter validation failed"),
        ("-35", "import failed"),
        ("-51", "customer properties incomplete"),
    ] {
        let persons = json!([
            person("1"),
            {"phoneNumber": "2", "properties": {"sandbox_refuse": status, "x": "y"}},
            person("3")
        ]);
        let r = Req::itnio(it_body(9, persons)).send(&sb).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.json(),
            json!({"status": status, "reason": reason, "data": null})
        );
    }
    // Also in a script job, where other rows would have been refused one by one.
    let persons = json!([
        {"phoneNumber": "1"},
        {"phoneNumber": "2", "properties": {"amount": "5", "sandbox_refuse": "-51"}}
    ]);
    let r = Req::itnio(it_body(1500, persons)).send(&sb).await;
    assert_eq!(r.status_code(), "-51");
    assert!(sb.itnio_persons(9).is_empty());
    assert!(sb.itnio_persons(1500).is_empty());
    // Nothing was held, so the same phones are accepted afterwards.
    let r = Req::itnio(it_body(9, json!([person("1"), person("2"), person("3")])))
        .send(&sb)
        .await;
    assert_eq!(
        r.json(),
        json!({"status": "0", "reason": "success", "data": []})
    );
    assert_eq!(sb.itnio_persons(9).len(), 3);
}

#[tokio::test]
async fn refuse_hook_comes_after_structural_checks() {
    let sb = start_default().await;
    let persons = json!([
        {"phoneNumber": "1", "properties": {"sandbox_refuse": "-35"}},
        {"phoneNumber": "2", "gender": "x"}
    ]);
    let v = Req::itnio(it_body(9, persons)).send(&sb).await.json();
    assert_eq!(v["status"], json!("-27"));
    assert_eq!(
        v["reason"],
        json!(
            "parameter validation failed: customerPersons[1].gender: must be MALE, FEMALE or null"
        )
    );
    assert!(sb.itnio_persons(9).is_empty());
}

#[tokio::test]
async fn other_refuse_hook_values_are_ordinary_properties() {
    let sb = start_default().await;
    let persons = json!([
        {"phoneNumber": "1", "properties": {"sandbox_refuse": "-36"}},
        {"phoneNumber": "2", "properties": {"sandbox_refuse": -35}},
        {"phoneNumber": "3", "properties": {"sandbox_refuse": "35"}},
        {"phoneNumber": "4", "properties": {"sandbox_refuse": " -35"}},
        {"phoneNumber": "5", "properties": {"sandbox_refuse": ""}},
        {"phoneNumber": "6", "properties": {"sandbox_refuse": null}},
        {"phoneNumber": "7", "properties": {"sandbox_refuse": ["-35"]}},
        {"phoneNumber": "8", "properties": {"Sandbox_Refuse": "-35"}},
        {"phoneNumber": "9", "properties": {"other": "-35"}},
        {"phoneNumber": "10", "name": "-35"}
    ]);
    imports_all_as_sent(&sb, &persons).await;
}
