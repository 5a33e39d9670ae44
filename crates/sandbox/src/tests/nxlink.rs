//! nxlink endpoint tests: codes in their documented order, signatures, field rules, seats, upsert.
//!
//! Invariant: each test asserts both the answer and what the sandbox holds afterwards.

use serde_json::{json, Value};

use super::{now_ms, nx_body, start_default, Req};
use crate::verify::Hash;
use crate::NXLINK_FIRST_CUSTOMER_ID;

fn one(phone: &str) -> String {
    nx_body(1, json!([{"full_name": "Jack", "whats_app_phone": phone}]))
}

#[tokio::test]
async fn signed_request_succeeds_and_is_held() {
    let sb = start_default().await;
    let body = nx_body(
        1,
        json!([
            {"full_name": "Jack", "whats_app_phone": "6281234567890", "gender": 1, "weight": 3},
            {"full_name": "李四", "email": "li@example.com", "birthday": "2000-02-29"}
        ]),
    );
    let r = Req::nxlink(body).send(&sb).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["code"], json!(0));
    assert_eq!(v["message"], Value::Null);
    let trace = v["traceId"].as_str().expect("traceId");
    assert!(trace.len() == 32 && trace.bytes().all(|b| b.is_ascii_hexdigit()));
    let data = &v["data"];
    assert_eq!(data["totalCount"], json!(2));
    assert_eq!(data["successCount"], json!(2));
    assert_eq!(data["failCount"], json!(0));
    assert_eq!(data["failItems"], json!([]));
    let items = data["successItems"].as_array().expect("successItems");
    assert_eq!(items[0]["index"], json!(0));
    assert_eq!(
        items[0]["customerId"].as_u64(),
        Some(NXLINK_FIRST_CUSTOMER_ID)
    );
    assert_eq!(items[0]["whatsAppPhone"], json!("6281234567890"));
    assert_eq!(
        items[1]["customerId"].as_u64(),
        Some(NXLINK_FIRST_CUSTOMER_ID + 1)
    );
    assert_eq!(items[1]["whatsAppPhone"], Value::Null);
    // The id travels as an exact JSON integer.
    assert!(r.text.contains("\"customerId\":1214631327620775936"));
    let held = sb.nxlink_customers();
    assert_eq!(held.len(), 2);
    assert_eq!(held[1]["full_name"], json!("李四"));
    assert_eq!(held[1]["tenant_id"], json!(1));
    assert_eq!(held[0]["gender"], json!(1));
}

#[tokio::test]
async fn public_pool_path_and_sha256() {
    let sb = start_default().await;
    let mut req = Req::nxlink_with(one("62811"), &now_ms(), Hash::Sha256);
    req.path = "/saas/sea/cdp/openapi/customers/batch_create";
    assert_eq!(req.send(&sb).await.code(), 0);
    // A sha256 sign without the header is an md5 mismatch.
    let sha_only = Req::nxlink_with(one("62812"), &now_ms(), Hash::Sha256).without("algorithm");
    assert_eq!(sha_only.send(&sb).await.code(), 1003);
    assert_eq!(sb.nxlink_customers().len(), 1);
}

#[tokio::test]
async fn header_codes_in_order() {
    let sb = start_default().await;
    for h in ["accessKey", "ts", "bizType", "action", "sign"] {
        let r = Req::nxlink(one("62811")).without(h).send(&sb).await;
        assert_eq!((r.status, r.code()), (200, 1001), "without {h}");
        assert_eq!(r.json()["data"], Value::Null);
        let r = Req::nxlink(one("62811")).set(h, "").send(&sb).await;
        assert_eq!(r.code(), 1001, "empty {h}");
    }
    let cases = [
        ("Content-Type", "text/plain", 1003),
        ("accessKey", "other", 1005),
        ("bizType", "1", 1002),
        ("action", "send", 1002),
        ("algorithm", "sha1", 1003),
    ];
    for (h, v, code) in cases {
        assert_eq!(
            Req::nxlink(one("62811")).set(h, v).send(&sb).await.code(),
            code,
            "{h}: {v}"
        );
    }
    // A wrong accessKey is refused before the (also wrong) timestamp.
    let r = Req::nxlink(one("62811"))
        .set("accessKey", "x")
        .set("ts", "1")
        .send(&sb)
        .await;
    assert_eq!(r.code(), 1005);
    let ok = Req::nxlink(one("62811")).set("Content-Type", "application/json; charset=utf-8");
    assert_eq!(ok.send(&sb).await.code(), 0);
    assert_eq!(sb.stats().rejected_signatures, 0);
}

#[tokio::test]
async fn body_changed_after_signing_is_1003() {
    let sb = start_default().await;
    let mut req = Req::nxlink(one("62811"));
    req.body = req.body.replace("Jack", "Jill");
    let r = req.send(&sb).await;
    assert_eq!(r.code(), 1003);
    assert_eq!(sb.stats().rejected_signatures, 1);
    // Re-serialised (spacing differs): still a mismatch.
    let mut req = Req::nxlink(one("62811"));
    req.body = req.body.replace(',', ", ");
    assert_eq!(req.send(&sb).await.code(), 1003);
    assert!(sb.nxlink_customers().is_empty());
}

#[tokio::test]
async fn timestamp_skew_is_1004() {
    let sb = start_default().await;
    let now: i64 = now_ms().parse().expect("ms");
    for ts in [now - 61_000, now + 61_000] {
        let r = Req::nxlink_with(one("62811"), &ts.to_string(), Hash::Md5)
            .send(&sb)
            .await;
        assert_eq!(r.code(), 1004, "ts {ts}");
    }
    let secs = (now / 1000).to_string();
    assert_eq!(
        Req::nxlink_with(one("62811"), &secs, Hash::Md5)
            .send(&sb)
            .await
            .code(),
        1004
    );
    let near = (now - 50_000).to_string();
    assert_eq!(
        Req::nxlink_with(one("62811"), &near, Hash::Md5)
            .send(&sb)
            .await
            .code(),
        0
    );
}

#[tokio::test]
async fn body_level_codes() {
    let sb = start_default().await;
    let c = json!([{"full_name": "a", "sms_phone": "1"}]);
    let cases = [
        ("[1]".to_string(), 1002),
        ("not json".to_string(), 1002),
        (json!({"type": 1, "app_key": "sandbox", "customers": c}).to_string(), 21058),
        (json!({"type": 1, "tenant_id": "1", "app_key": "sandbox", "customers": c}).to_string(), 21058),
        (json!({"type": 1, "tenant_id": 1, "customers": c}).to_string(), 21059),
        (json!({"type": 1, "tenant_id": 2, "app_key": "sandbox", "customers": c}).to_string(), 22124),
        (json!({"type": 1, "tenant_id": 1, "app_key": "x", "customers": c}).to_string(), 22124),
        (json!({"type": 3, "tenant_id": 1, "app_key": "sandbox", "customers": c}).to_string(), 1002),
        (json!({"tenant_id": 1, "app_key": "sandbox", "customers": c}).to_string(), 1002),
        (json!({"type": 1, "tenant_id": 1, "app_key": "sandbox", "strict_binding": "yes", "customers": c}).to_string(), 1002),
        (json!({"type": 1, "tenant_id": 1, "app_key": "sandbox", "customers": c, "extra": 1}).to_string(), 1002),
        (nx_body(1, json!([])), 1002),
        (nx_body(1, json!({"full_name": "a"})), 1002),
    ];
    for (body, code) in cases {
        assert_eq!(
            Req::nxlink(body.clone()).send(&sb).await.code(),
            code,
            "{body}"
        );
    }
    assert!(sb.nxlink_customers().is_empty());
}

#[tokio::test]
async fn more_than_100_is_1002() {
    let sb = start_default().await;
    let many = |n: usize| {
        (0..n)
            .map(|i| json!({"full_name": "n", "sms_phone": format!("{}", 1000 + i)}))
            .collect::<Vec<_>>()
    };
    let r = Req::nxlink(nx_body(1, json!(many(101)))).send(&sb).await;
    assert_eq!(r.code(), 1002);
    assert!(sb.nxlink_customers().is_empty());
    let r = Req::nxlink(nx_body(1, json!(many(100)))).send(&sb).await;
    assert_eq!(r.json()["data"]["successCount"], json!(100));
    assert_eq!(sb.stats().rows_received, 201);
}

#[tokio::test]
async fn field_violation_names_index_and_field_and_applies_nothing() {
    let sb = start_default().await;
    let cases = [
        (json!({"full_name": "b", "sms_phone": "1", "birthday": "1990/01/02"}), "customers[1].birthday: must be yyyy-MM-dd"),
        (json!({"full_name": "b", "sms_phone": "+62"}), "customers[1].sms_phone: must be numeric (digits only)"),
        (json!({"full_name": "b", "whats_app_phone": 6281}), "customers[1].whats_app_phone: must be a string"),
        (json!({"full_name": "b", "email": "x"}), "customers[1].email: must be an email address (one @ with text on both sides)"),
        (json!({"full_name": "b", "line": "x", "weight": 0}), "customers[1].weight: must be an integer from 1 to 5"),
        (json!({"full_name": "b", "line": "x", "customize_field": "{"}), "customers[1].customize_field: must be a string holding a JSON object"),
        (json!({"full_name": "b", "line": "x", "Full_Name": "c"}), "customers[1].Full_Name: unknown field"),
        (json!({"full_name": "b"}), "customers[1]: sms_phone, whats_app_phone, email, viber_phone, messenger, instagram, line and zalo cannot all be empty"),
        (json!({"full_name": "b", "remark": "x".repeat(2001), "line": "x"}), "customers[1].remark: at most 2000 characters"),
        (json!({"full_name": " \u{3000}\t", "line": "x"}), "customers[1].full_name: required"),
        (json!({"full_name": "😀".repeat(128), "line": "x"}), "customers[1].full_name: at most 255 UTF-16 code units (a character beyond U+FFFF counts 2)"),
    ];
    for (bad, message) in cases {
        let body = nx_body(1, json!([{"full_name": "a", "sms_phone": "1"}, bad]));
        let v = Req::nxlink(body).send(&sb).await.json();
        assert_eq!(v["code"], json!(1002));
        assert_eq!(v["message"], json!(message));
        assert_eq!(v["data"], Value::Null);
    }
    assert!(sb.nxlink_customers().is_empty());
}

#[tokio::test]
async fn unknown_seat_without_strict_binding_fails_the_request() {
    let sb = start_default().await;
    let body = nx_body(
        1,
        json!([
            {"full_name": "a", "sms_phone": "1", "belong_seat_user": "ann@sandbox.test"},
            {"full_name": "b", "sms_phone": "2", "belong_seat_user": "agent1"}
        ]),
    );
    let v = Req::nxlink(body).send(&sb).await.json();
    assert_eq!(v["code"], json!(12148));
    assert_eq!(
        v["message"],
        json!("Assigned seat agent1 does not exist. Please check Admin -> Members.")
    );
    assert_eq!(v["data"], Value::Null);
    assert!(sb.nxlink_customers().is_empty());
}

#[tokio::test]
async fn unknown_seat_with_strict_binding_fails_the_row() {
    let sb = start_default().await;
    let body = json!({"type": 0, "tenant_id": 1, "app_key": "sandbox", "strict_binding": true,
    "customers": [
        {"full_name": "a", "sms_phone": "1", "belong_seat_user": "ann@sandbox.test"},
        {"full_name": "b", "sms_phone": "2", "belong_seat_user": "agent1"},
        {"full_name": "c", "whats_app_phone": "3", "belong_seat_user": ""}
    ]})
    .to_string();
    let v = Req::nxlink(body).send(&sb).await.json();
    assert_eq!(v["code"], json!(0));
    let data = &v["data"];
    assert_eq!(
        (data["successCount"].as_i64(), data["failCount"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        data["failItems"],
        json!([{"index": 1, "errorCode": 12148,
            "errorMessage": "Assigned seat agent1 does not exist. Please check Admin -> Members."}])
    );
    let indexes: Vec<_> = data["successItems"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["index"].as_i64())
        .collect();
    assert_eq!(indexes, [Some(0), Some(2)]);
    assert_eq!(data["successItems"][1]["whatsAppPhone"], json!("3"));
    assert_eq!(sb.nxlink_customers().len(), 2);
}

#[tokio::test]
async fn upsert_by_phone_or_email_with_merge_replace_keep() {
    let sb = start_default().await;
    let id_of = |v: &Value| {
        v["data"]["successItems"][0]["customerId"]
            .as_u64()
            .expect("id")
    };
    let send = |mode: i64, c: Value| Req::nxlink(nx_body(mode, json!([c])));
    let first = send(
        1,
        json!({"full_name": "A", "whats_app_phone": "62811", "country": "ID"}),
    )
    .send(&sb)
    .await
    .json();
    let id = id_of(&first);
    // Merge: present fields overwrite, others stay.
    let v = send(
        1,
        json!({"full_name": "B", "whats_app_phone": "62811", "email": "b@x.io"}),
    )
    .send(&sb)
    .await
    .json();
    assert_eq!(id_of(&v), id);
    let held = sb.nxlink_customers();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["full_name"], json!("B"));
    assert_eq!(held[0]["country"], json!("ID"));
    // Matching by email alone finds the same customer; keep drops the new data.
    let v = send(2, json!({"full_name": "C", "email": "b@x.io"}))
        .send(&sb)
        .await
        .json();
    assert_eq!(id_of(&v), id);
    assert_eq!(sb.nxlink_customers()[0]["full_name"], json!("B"));
    // Replace: the stored fields become exactly the new ones.
    let v = send(
        0,
        json!({"full_name": "D", "sms_phone": "999", "email": "b@x.io"}),
    )
    .send(&sb)
    .await
    .json();
    assert_eq!(id_of(&v), id);
    let held = sb.nxlink_customers();
    assert_eq!(
        held[0],
        json!({"full_name": "D", "sms_phone": "999", "email": "b@x.io", "customerId": id, "tenant_id": 1})
    );
    // The replaced-away phone no longer matches: a new customer.
    let v = send(1, json!({"full_name": "E", "whats_app_phone": "62811"}))
        .send(&sb)
        .await
        .json();
    assert_eq!(id_of(&v), id + 1);
    // Two rows with the same phone in one request: one customer.
    let body = nx_body(
        1,
        json!([{"full_name": "F", "sms_phone": "5"}, {"full_name": "G", "sms_phone": "5"}]),
    );
    let v = Req::nxlink(body).send(&sb).await.json();
    let items = &v["data"]["successItems"];
    assert_eq!(items[0]["customerId"], items[1]["customerId"]);
    assert_eq!(sb.nxlink_customers().len(), 3);
}

#[tokio::test]
async fn held_fields_do_not_depend_on_how_the_body_is_written() {
    let sb = start_default().await;
    // Whitespace, escapes and a repeated key: the held fields are as if sent compact.
    let body = r#" { "type" : 0 , "tenant_id":1, "customers" : [
        {"full_name" : "A \"q\" \u00e9", "whats_app_phone":"62811", "full_name":"B\\", "gender": 1 } ,
        { "full_name":"C", "email":"c@x.io", "remark": "]}[{,", "weight" : 5 }
    ], "app_key":"sandbox" } "#;
    let v = Req::nxlink(body).send(&sb).await.json();
    assert_eq!(v["data"]["successCount"], json!(2));
    let held = sb.nxlink_customers();
    let id = NXLINK_FIRST_CUSTOMER_ID;
    assert_eq!(
        serde_json::to_string(&held).expect("json"),
        json!([
            {"full_name": "B\\", "whats_app_phone": "62811", "gender": 1,
             "customerId": id, "tenant_id": 1},
            {"full_name": "C", "email": "c@x.io", "remark": "]}[{,", "weight": 5,
             "customerId": id + 1, "tenant_id": 1}
        ])
        .to_string()
    );
    // Merge re-serialises; the result reads the same.
    let body = nx_body(1, json!([{"full_name": "D", "email": "c@x.io"}]));
    Req::nxlink(body).send(&sb).await;
    assert_eq!(
        sb.nxlink_customers()[1],
        json!({"full_name": "D", "email": "c@x.io", "remark": "]}[{,", "weight": 5,
               "customerId": id + 1, "tenant_id": 1})
    );
}
