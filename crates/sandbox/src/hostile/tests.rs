//! Unit tests of `hostile`.
use super::*;

#[test]
fn variant_spellings() {
    assert_eq!(spaced("6281234567890"), "+62 812-3456-7890");
    assert_eq!(spaced("62810000001"), "+62 810-0000-01");
    assert_eq!(spaced("6281"), "+62 81");
    assert_eq!(spaced("6"), "+6");
    assert_eq!(
        variant_line(FaultKind::FullwidthCn, "62811"),
        "该客户已存在于此任务中，手机号：62811"
    );
    assert_eq!(
        variant_line(FaultKind::FullwidthPlus, "6281234567890"),
        "Customer custom property is incomplete,Phone Number:+62 812-3456-7890"
    );
    assert_eq!(
        variant_line(FaultKind::FullwidthText, "62811"),
        "Import refused for 62811 (number blocked)"
    );
}

fn nx_answer() -> Vec<u8> {
    to_json(
        &json!({"code": 0, "message": null, "traceId": "t", "data": {
        "totalCount": 3, "successCount": 2, "failCount": 1,
        "failItems": [{"index": 1, "errorCode": 12148, "errorMessage": "seat"}],
        "successItems": [{"index": 0, "customerId": 7, "whatsAppPhone": "1"},
                         {"index": 2, "customerId": 8, "whatsAppPhone": "3"}]}}),
    )
}

fn data(answer: &[u8]) -> Value {
    serde_json::from_slice::<Value>(answer).expect("json")["data"].clone()
}

fn indexes(d: &Value, list: &str) -> Vec<u64> {
    d[list]
        .as_array()
        .expect("list")
        .iter()
        .map(|i| i["index"].as_u64().expect("index"))
        .collect()
}

#[test]
fn nxlink_reshapes() {
    let d = data(&reshape_items(FaultKind::Omit, Some(2), 3, nx_answer()));
    assert_eq!(indexes(&d, SUCCESS_ITEMS), [0]);
    assert_eq!(indexes(&d, FAIL_ITEMS), [1]);
    assert_eq!(
        (&d["totalCount"], &d["successCount"], &d["failCount"]),
        (&json!(2), &json!(1), &json!(1))
    );
    let d = data(&reshape_items(
        FaultKind::ContradictBoth,
        Some(0),
        3,
        nx_answer(),
    ));
    assert_eq!(indexes(&d, SUCCESS_ITEMS), [0, 2]);
    assert_eq!(indexes(&d, FAIL_ITEMS), [1, 0]);
    assert_eq!(d["totalCount"], json!(4));
    let d = data(&reshape_items(
        FaultKind::ContradictBoth,
        Some(1),
        3,
        nx_answer(),
    ));
    assert_eq!(indexes(&d, SUCCESS_ITEMS), [0, 2, 1]);
    let d = data(&reshape_items(
        FaultKind::ContradictTwice,
        Some(2),
        3,
        nx_answer(),
    ));
    assert_eq!(indexes(&d, SUCCESS_ITEMS), [0, 2, 2]);
    assert_eq!(d["successCount"], json!(3));
    let d = data(&reshape_items(FaultKind::Miscount, Some(0), 3, nx_answer()));
    assert_eq!(indexes(&d, SUCCESS_ITEMS), [0, 2]);
    assert_eq!(indexes(&d, FAIL_ITEMS), [1]);
    assert_eq!(
        (&d["totalCount"], &d["successCount"], &d["failCount"]),
        (&json!(4), &json!(3), &json!(0))
    );
    // A refusal is left alone.
    let refused = to_json(&json!({"code": 1003, "message": "x", "traceId": "t", "data": null}));
    assert_eq!(
        reshape_items(FaultKind::Omit, Some(0), 3, refused.clone()),
        refused
    );
}

#[test]
fn vague_forms() {
    let forms = [
        (FaultKind::VagueNull, Some(json!(null))),
        (FaultKind::VagueEmpty, Some(json!({}))),
        (FaultKind::VagueString, Some(json!("internal error"))),
        (
            FaultKind::VagueLists,
            Some(json!({"successItems": [], "failItems": []})),
        ),
        (FaultKind::VagueMissing, None),
    ];
    for (kind, want) in forms {
        let v: Value =
            serde_json::from_slice(&vague(Provider::Nxlink, kind, nx_answer())).expect("json");
        assert_eq!(v.get("data").cloned(), want, "{kind:?}");
        assert_eq!(v["code"], json!(0));
    }
    let it = to_json(&json!({"status": "0", "reason": "success", "data": []}));
    let v: Value =
        serde_json::from_slice(&vague(Provider::Itnio, FaultKind::VagueString, it)).expect("json");
    assert_eq!(
        v,
        json!({"status": "0", "reason": "success", "data": "internal error"})
    );
    let refused = to_json(&json!({"status": "-1", "reason": "auth", "data": null}));
    assert_eq!(
        vague(Provider::Itnio, FaultKind::VagueEmpty, refused.clone()),
        refused
    );
}

#[test]
fn lines_are_added_to_processed_answers_only() {
    let it = to_json(&json!({"status": "0", "reason": "success", "data": ["x"]}));
    let v: Value = serde_json::from_slice(&add_line(it, ANON_LINE.into())).expect("json");
    assert_eq!(v["data"], json!(["x", ANON_LINE]));
    let refused = to_json(&json!({"status": "-27", "reason": "bad", "data": null}));
    assert_eq!(add_line(refused.clone(), ANON_LINE.into()), refused);
}

#[test]
fn perfect_halves_join_into_a_perfect_answer() {
    let parsed = json!({"customers": [{}, {}]});
    let req = Request {
        provider: Provider::Nxlink,
        rows: 2,
        parsed: Some(&parsed),
        host: None,
    };
    let (head, tail) = perfect_halves(&req);
    assert!(head.starts_with(b"{\"code\":0,") && head.ends_with(b"\"data\":"));
    let mut padded = head.clone();
    padded.extend_from_slice(&[b' '; 1000]);
    padded.extend_from_slice(&tail);
    let v: Value = serde_json::from_slice(&padded).expect("json");
    assert_eq!(indexes(&v["data"], SUCCESS_ITEMS), [0, 1]);
}
