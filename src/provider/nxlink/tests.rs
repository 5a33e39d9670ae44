//! Unit tests of nxlink: field aliases, validation, the request body and headers, and the
//! reading of answers (the fast path agreeing with the strict reader).

use serde::Serialize;
use serde_json::Value;

use super::answer::{interpret_fast, interpret_value};
use super::*;
use crate::provider::{Cell, Mapped, Observed, RetryKind, RowAnswer};

fn nx() -> Nxlink {
    crate::fixtures::nxlink()
}

fn field(name: &str) -> usize {
    FIELDS.iter().position(|f| f.name == name).unwrap()
}

fn mapped<'a>(pairs: &[(&str, &'a str)]) -> Mapped<'a> {
    let mut m = Mapped {
        fields: vec![None; FIELDS.len()],
        extras: vec![],
    };
    for (k, v) in pairs {
        m.fields[field(k)] = Some(Cell::Text(v));
    }
    m
}

#[test]
fn body_and_sign_match_the_computed_vector() {
    let c = nx()
        .prepare(
            &mapped(&[
                ("full_name", "Jack"),
                ("whats_app_phone", "+62 812-3456-7890"),
            ]),
            &mut Observed::default(),
        )
        .unwrap();
    let mut buf = vec![];
    let mut p = nx();
    p.mode = Mode::Merge;
    p.write_body(&[&c], &mut buf);
    assert_eq!(
        String::from_utf8(buf.clone()).unwrap(),
        r#"{"type":1,"tenant_id":123,"app_key":"46oKF=os","strict_binding":false,"customers":[{"full_name":"Jack","whats_app_phone":"6281234567890"}]}"#
    );
    // The published vector's body has no strict_binding; sign it to check the header path.
    let vector = br#"{"type":1,"tenant_id":123,"app_key":"46oKF=os","customers":[{"full_name":"Jack","whats_app_phone":"6281234567890"}]}"#;
    let h = p.headers(vector, 1655710885431);
    let get = |k: &str| {
        h.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get("sign"), "be889436a3a35649face24c16cf215b7");
    assert_eq!(get("ts"), "1655710885431");
    assert_eq!(get("bizType"), "2");
    assert_eq!(get("action"), "mt");
    assert_eq!(get("accessKey"), "fme2na3kdi3ki");
    assert!(h.iter().all(|(n, _)| *n != "algorithm"));
    p.algorithm = Algorithm::Sha256;
    let h = p.headers(vector, 1655710885431);
    assert!(h.contains(&(
        "sign",
        "e5af4332a0fac8a677376d4489392b7882b226146383676ed82d171f3e946ada".into()
    )));
    assert!(h.contains(&("algorithm", "sha256".into())));
    // The secret is never sent.
    assert!(h.iter().all(|(_, v)| !v.contains("abciiiko2k3")));
}

#[test]
fn every_field_is_normalised() {
    let m = mapped(&[
        ("full_name", " 牛小信 "),
        ("first_name", "小信"),
        ("last_name", "牛"),
        ("sms_phone", "(0812) 3456.7890"),
        ("viber_phone", "'+6281"),
        ("messenger", "123"),
        ("instagram", "456"),
        ("zalo", "789"),
        ("line", "line_id"),
        ("country", "Indonesia"),
        ("email", "a@b.co"),
        ("address", "Jl. Sudirman 1"),
        ("birthday", "1990/1/2"),
        ("tagStr", "vip,new"),
        ("remark", "'=1+1"),
        ("time_zone", "GMT+7"),
        ("gender", "女"),
        ("belong_seat_user", "agent@sandbox.test"),
        ("weight", "5"),
    ]);
    let c = nx().customer(&m, &mut Observed::default()).unwrap();
    assert_eq!(c.full_name, " 牛小信 ", "free text is sent as it is");
    assert_eq!(c.sms_phone.as_deref(), Some("081234567890"));
    assert_eq!(c.viber_phone.as_deref(), Some("6281"));
    assert_eq!(c.birthday.as_deref(), Some("1990-01-02"));
    assert_eq!(c.remark.as_deref(), Some("=1+1"));
    assert_eq!(c.gender, Some(0));
    assert_eq!(c.weight, Some(5));
    let json = serde_json::to_string(&c).unwrap();
    assert!(json.contains(r#""tagStr":"vip,new""#), "{json}");
    assert!(
        json.contains(r#""gender":0"#) && json.contains(r#""weight":5"#),
        "{json}"
    );
}

/// Records each refused by one rule, with the rule's code.
const REJECTIONS: &[(&[(&str, &str)], &str)] = &[
    (&[("whats_app_phone", "628")], "missing_full_name"),
    (&[("full_name", "A")], "no_contact"),
    (
        &[("full_name", "A"), ("whats_app_phone", "62-abc")],
        "invalid_phone",
    ),
    (
        &[("full_name", "A"), ("whats_app_phone", "6.28123E+12")],
        "invalid_phone",
    ),
    (
        &[
            ("full_name", "A"),
            ("whats_app_phone", "1234567890123456789012345678901"),
        ],
        "invalid_phone",
    ),
    (
        &[("full_name", "A"), ("messenger", "12 3")],
        "invalid_digits",
    ),
    (
        &[("full_name", "A"), ("email", "not-an-email")],
        "invalid_email",
    ),
    (
        &[
            ("full_name", "A"),
            ("email", "a@b.co"),
            ("birthday", "2/1/1990"),
        ],
        "invalid_birthday",
    ),
    (
        &[("full_name", "A"), ("email", "a@b.co"), ("gender", "x")],
        "invalid_gender",
    ),
    (
        &[("full_name", "A"), ("email", "a@b.co"), ("weight", "6")],
        "invalid_weight",
    ),
    (
        &[("full_name", "A"), ("email", "a@b.co"), ("weight", "0")],
        "invalid_weight",
    ),
    (
        &[
            ("full_name", "A"),
            ("email", "a@b.co"),
            ("customize_field", "{oops"),
        ],
        "invalid_customize_field",
    ),
    (
        &[
            ("full_name", "A"),
            ("email", "a@b.co"),
            ("customize_field", "[1]"),
        ],
        "invalid_customize_field",
    ),
];

/// Records with one field over its length limit (the values are built, so not a const).
fn too_long() -> Vec<(&'static [(&'static str, &'static str)], &'static str)> {
    vec![
        (
            vec![("full_name", "A"), ("line", repeat("x", 51))].leak(),
            "too_long",
        ),
        (
            vec![("full_name", repeat("x", 256)), ("line", "l")].leak(),
            "too_long",
        ),
        (
            vec![
                ("full_name", "A"),
                ("line", "l"),
                ("belong_seat_user", repeat("s", 129)),
            ]
            .leak(),
            "too_long",
        ),
        (
            vec![
                ("full_name", "A"),
                ("line", "l"),
                ("remark", repeat("r", 2001)),
            ]
            .leak(),
            "too_long",
        ),
    ]
}

/// `s`, `n` times, for as long as the tests run.
fn repeat(s: &str, n: usize) -> &'static str {
    s.repeat(n).leak()
}

#[test]
fn rejections_name_the_rule() {
    let too_long = too_long();
    let cases = REJECTIONS.iter().chain(&too_long);
    for (pairs, code) in cases {
        let err = nx()
            .prepare(&mapped(pairs), &mut Observed::default())
            .unwrap_err();
        assert_eq!(&err.code, code, "{pairs:?}: {}", err.message);
    }
    // A channel alone is enough, whichever it is.
    for ch in [
        "sms_phone",
        "whats_app_phone",
        "email",
        "viber_phone",
        "messenger",
        "instagram",
        "line",
        "zalo",
    ] {
        let v = if ch == "email" { "a@b.co" } else { "123" };
        assert!(
            nx().prepare(
                &mapped(&[("full_name", "A"), (ch, v)]),
                &mut Observed::default()
            )
            .is_ok(),
            "{ch}"
        );
    }
}

#[test]
fn customize_field_merges_column_and_map_keys() {
    let mut m = mapped(&[
        ("full_name", "A"),
        ("line", "l"),
        ("customize_field", r#"{"a":"1"}"#),
    ]);
    m.extras.push(("level".into(), Cell::Text("gold")));
    m.extras.push(("empty".into(), Cell::Text("")));
    let c = nx().customer(&m, &mut Observed::default()).unwrap();
    assert_eq!(
        c.customize_field.as_deref(),
        Some(r#"{"a":"1","level":"gold"}"#)
    );
    let json = serde_json::to_string(&c).unwrap();
    assert!(
        json.contains(r#""customize_field":"{\"a\":\"1\",\"level\":\"gold\"}""#),
        "{json}"
    );
}

#[test]
fn customize_field_alone_is_sent_verbatim() {
    let m = mapped(&[
        ("full_name", "A"),
        ("line", "l"),
        ("customize_field", r#"{"b": 1, "a": "x"}"#),
    ]);
    assert_eq!(
        nx().customer(&m, &mut Observed::default())
            .unwrap()
            .customize_field
            .as_deref(),
        Some(r#"{"b": 1, "a": "x"}"#)
    );
    let m = mapped(&[("full_name", "A"), ("line", "l"), ("customize_field", "{}")]);
    assert_eq!(
        nx().customer(&m, &mut Observed::default())
            .unwrap()
            .customize_field,
        None
    );
}

#[test]
fn json_cells_keep_exact_numbers_and_refuse_other_types() {
    let phone: Value = serde_json::from_str("6281234567890").unwrap();
    let list: Value = serde_json::from_str("[\"x\"]").unwrap();
    let name = Value::String("A".into());
    let mut m = Mapped {
        fields: vec![None; FIELDS.len()],
        extras: vec![],
    };
    m.fields[field("full_name")] = Some(Cell::Json(&name));
    m.fields[field("whats_app_phone")] = Some(Cell::Json(&phone));
    assert_eq!(
        nx().customer(&m, &mut Observed::default())
            .unwrap()
            .whats_app_phone
            .as_deref(),
        Some("6281234567890")
    );
    m.fields[field("country")] = Some(Cell::Json(&list));
    let e = nx().prepare(&m, &mut Observed::default()).unwrap_err();
    assert_eq!(e.code, "invalid_type");
    assert!(e.message.contains("country"), "{}", e.message);
}

/// Three rows without WhatsApp numbers (nothing for an echo to contradict).
const NO_PHONES: [Option<&str>; 3] = [None, None, None];

/// A row answer in a few letters: `S:id` (accepted), `F:code`, `U:code`, `E:code` (exists).
fn short(a: &RowAnswer) -> String {
    match a {
        RowAnswer::Accepted { id } => format!("S:{}", id.as_deref().unwrap_or("-")),
        RowAnswer::Refused { code, .. } => format!("F:{code}"),
        RowAnswer::Unknown { code, .. } => format!("U:{code}"),
        RowAnswer::AlreadyExists { code, .. } => format!("E:{code}"),
    }
}

/// The rows of a `Rows` answer in short form, and how many items matched no row.
fn rows_of(a: Answer) -> (Vec<String>, usize) {
    match a {
        Answer::Rows { rows, unattributed } => {
            (rows.iter().map(short).collect(), unattributed.len())
        }
        other => panic!("not rows: {other:?}"),
    }
}

#[test]
fn interpret_partial_success_keeps_ids_exact() {
    let body = br#"{"code":0,"message":null,"traceId":"x","data":{"totalCount":2,"successCount":1,"failCount":1,
        "failItems":[{"index":1,"errorCode":12148,"errorMessage":"Assigned seat agent1 does not exist."}],
        "successItems":[{"index":0,"customerId":1214631327620775936,"whatsAppPhone":"8618163725558"}]}}"#;
    let a = interpret(body, &[Some("8618163725558"), Some("8618163725559")], 1);
    assert_eq!(
        a,
        Answer::Rows {
            rows: vec![
                RowAnswer::Accepted {
                    id: Some("1214631327620775936".into())
                },
                RowAnswer::Refused {
                    code: "12148".into(),
                    message: "Assigned seat agent1 does not exist.".into()
                }
            ],
            unattributed: vec![]
        }
    );
}

/// Every answer shape of the accounting rules, with what each of three rows must become.
const ACCOUNTING: &[(&str, [&str; 3], usize)] = &[
    // Vague successes confirm nothing.
    (r#"{"code":0}"#, ["U:unconfirmed"; 3], 0),
    (
        r#"{"code":"0","msg":"ok","data":null}"#,
        ["U:unconfirmed"; 3],
        0,
    ),
    (r#"{"code":0,"data":{}}"#, ["U:unconfirmed"; 3], 0),
    (r#"{"code":0,"data":""}"#, ["U:unconfirmed"; 3], 0),
    (
        r#"{"code":0,"data":"internal error"}"#,
        ["U:unconfirmed"; 3],
        0,
    ),
    (r#"{"code":0,"data":[1,2,3]}"#, ["U:unconfirmed"; 3], 0),
    (
        r#"{"code":0,"data":{"failItems":[],"successItems":[]}}"#,
        ["U:unconfirmed"; 3],
        0,
    ),
    (
        r#"{"code":0,"data":{"successItems":"all"}}"#,
        ["U:unconfirmed"; 3],
        0,
    ),
    // The usual answer.
    (
        r#"{"code":0,"data":{"successItems":[{"index":0,"customerId":1},{"index":2,"customerId":3}],"failItems":[{"index":1,"errorCode":12148,"errorMessage":"seat"}]}}"#,
        ["S:1", "F:12148", "S:3"],
        0,
    ),
    // A row left out.
    (
        r#"{"code":0,"data":{"successItems":[{"index":0,"customerId":1},{"index":1,"customerId":2}]}}"#,
        ["S:1", "S:2", "U:unconfirmed"],
        0,
    ),
    // A row on both sides, a row twice.
    (
        r#"{"code":0,"data":{"successItems":[{"index":0,"customerId":1},{"index":1,"customerId":2},{"index":1,"customerId":2},{"index":2,"customerId":3}],"failItems":[{"index":0,"errorCode":1,"errorMessage":"x"}]}}"#,
        ["U:contradictory", "U:contradictory", "S:3"],
        0,
    ),
    // Failed twice is still not one answer.
    (
        r#"{"code":0,"data":{"successItems":[{"index":0,"customerId":1},{"index":1,"customerId":2}],"failItems":[{"index":2,"errorCode":1},{"index":2,"errorCode":1}]}}"#,
        ["S:1", "S:2", "U:contradictory"],
        0,
    ),
    // Items with no such row: reported; the rows they did not name are not confirmed.
    (
        r#"{"code":0,"data":{"successItems":[{"index":0,"customerId":"7"},{"index":5,"customerId":8},{"index":-1},{"customerId":9},"x"]}}"#,
        ["S:7", "U:unconfirmed", "U:unconfirmed"],
        4,
    ),
    // Counts that disagree: only the rows individually confirmed as accepted stand.
    (
        r#"{"code":0,"data":{"totalCount":3,"successCount":3,"failCount":0,"successItems":[{"index":0,"customerId":1},{"index":1,"customerId":2}],"failItems":[{"index":2,"errorCode":5}]}}"#,
        ["S:1", "S:2", "U:count_mismatch"],
        0,
    ),
    (
        r#"{"code":0,"data":{"totalCount":5,"successItems":[{"index":0,"customerId":1},{"index":1,"customerId":2},{"index":2,"customerId":3}]}}"#,
        ["S:1", "S:2", "S:3"],
        0,
    ),
    (
        r#"{"code":0,"data":{"totalCount":"3","successCount":"2","failCount":"1","successItems":[{"index":"0","customerId":1},{"index":1,"customerId":2}],"failItems":[{"index":2,"errorCode":"E1"}]}}"#,
        ["S:1", "S:2", "F:E1"],
        0,
    ),
    // Ids that are not u64 keep their exact text.
    (
        r#"{"code":0,"data":{"successItems":[{"index":0,"customerId":99999999999999999999999},{"index":1,"customerId":-4},{"index":2,"customerId":1.5}]}}"#,
        ["S:99999999999999999999999", "S:-4", "S:1.5"],
        0,
    ),
];

#[test]
fn interpret_accounts_for_every_row_exactly_once() {
    for (body, want, stray) in ACCOUNTING {
        let (rows, unattributed) = rows_of(interpret(body.as_bytes(), &NO_PHONES, 1));
        assert_eq!(rows, want.to_vec(), "{body}");
        assert_eq!(unattributed, *stray, "{body}");
    }
}

#[test]
fn a_success_echoing_another_number_is_not_a_success() {
    let body = br#"{"code":0,"data":{"successItems":[{"index":0,"customerId":1,"whatsAppPhone":"6281111111111"},{"index":1,"customerId":2,"whatsAppPhone":"81222222222"}]}}"#;
    let (rows, _) = rows_of(interpret(
        body,
        &[Some("6281222222222"), Some("6281222222222")],
        1,
    ));
    // Row 0 was confirmed with row 1's neighbour's number; row 1's echo lacks the country code.
    assert_eq!(rows, ["U:contradictory", "S:2"]);
}

#[test]
fn trace_ids_and_control_characters() {
    let body = br#"{"code":0,"traceId":"tr-42","data":null}"#;
    match interpret(body, &NO_PHONES, 1) {
        Answer::Rows { rows, .. } => {
            for r in rows {
                assert!(
                    matches!(&r, RowAnswer::Unknown { message, .. } if message.contains("tr-42")),
                    "{r:?}"
                );
            }
        }
        other => panic!("{other:?}"),
    }
    let body =
        b"{\"code\":22000,\"message\":\"bad\\u001b[2J\\r\\u0007\",\"traceId\":\"t\\u001b9\"}";
    match interpret(body, &NO_PHONES, 1) {
        Answer::BatchRefused { message, .. } => {
            assert_eq!(message, "bad\\x1b[2J\\x0d\\x07 (nxlink trace id t\\x1b9)");
        }
        other => panic!("{other:?}"),
    }
    let body = b"{\"code\":0,\"data\":{\"successItems\":[{\"index\":0}],\"failItems\":[{\"index\":1,\"errorCode\":5,\"errorMessage\":\"\\u001b]0;x\\u0007\"},{\"index\":2,\"errorCode\":5}]}}";
    match interpret(body, &NO_PHONES, 1) {
        Answer::Rows { rows, .. } => assert_eq!(
            rows[1],
            RowAnswer::Refused {
                code: "5".into(),
                message: "\\x1b]0;x\\x07".into()
            }
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn interpret_whole_request_codes() {
    let kind = |code: &str| {
        interpret(
            format!(r#"{{"code":{code},"message":"m","traceId":"T1","data":null}}"#).as_bytes(),
            &NO_PHONES,
            1,
        )
    };
    assert!(matches!(
        kind("1004"),
        Answer::Retry {
            kind: RetryKind::Clock,
            ..
        }
    ));
    for fatal in ["1003", "1005", "21058", "21059", "22124", "22125"] {
        assert!(
            matches!(kind(fatal), Answer::Fatal { ref message, .. } if message.contains("T1")),
            "{fatal}"
        );
    }
    // A row may cause either: bisect.
    for bisect in ["12148", "1002"] {
        assert!(
            matches!(kind(bisect), Answer::BatchRefused { bisect: true, ref message, .. } if message == "m (nxlink trace id T1)"),
            "{bisect}"
        );
    }
    assert!(matches!(
        kind("-1"),
        Answer::BatchRefused { bisect: false, .. }
    ));
    for garbage in [
        &b"<html>"[..],
        br#"{"code":0,"data":{"succ"#,
        br#"{"message":"no code"}"#,
    ] {
        assert!(matches!(
            interpret(garbage, &NO_PHONES, 1),
            Answer::Retry {
                kind: RetryKind::Unparsable,
                ..
            }
        ));
    }
}

#[test]
fn fast_and_liberal_readings_agree() {
    let bodies = [
        r#"{"code":0,"message":null,"traceId":"t","data":{"totalCount":3,"successCount":2,"failCount":1,
            "failItems":[{"index":1,"errorCode":12148,"errorMessage":"seat"}],
            "successItems":[{"index":2,"customerId":1214631327620775999,"whatsAppPhone":null},{"index":0,"customerId":7,"whatsAppPhone":"62"}]}}"#,
        r#"{"code":0,"data":{"successItems":[{"index":0,"customerId":1},{"index":0,"customerId":2},{"index":1,"customerId":3}]}}"#,
        r#"{"code":0,"data":{"successItems":[{"index":0,"customerId":1},{"index":1}],"failItems":[{"index":2,"errorCode":"E1","errorMessage":"x"}]}}"#,
        r#"{"code":0,"data":{"successItems":[{"index":0,"customerId":"12"},{"index":1,"customerId":3},{"index":9,"customerId":4}]}}"#,
        r#"{"code":0,"data":{"successItems":[{"index":0,"customerId":99999999999999999999999},{"index":1,"customerId":-4},{"index":2,"customerId":1.5}]}}"#,
        r#"{"code":0,"data":{"successItems":[{"index":0,"customerId":null},{"index":1,"customerId":0},{"index":2,"customerId":18446744073709551615}]}}"#,
        r#"{"code":0,"data":{"totalCount":2,"successItems":[{"index":0,"customerId":1},{"index":1,"customerId":0},{"index":2,"customerId":5}]}}"#,
    ];
    let phones = [Some("62"), None, Some("6283")];
    for body in bodies {
        assert_eq!(
            interpret(body.as_bytes(), &phones, 1),
            interpret_value(body.as_bytes(), &phones, 1),
            "{body}"
        );
    }
    assert!(
        interpret_fast(bodies[0].as_bytes(), &phones).is_some(),
        "the usual answer takes the fast path"
    );
    assert_eq!(
        rows_of(interpret(bodies[0].as_bytes(), &phones, 1)).0,
        ["S:7", "F:12148", "S:1214631327620775999"]
    );
}

/// `(sent, echoed, outcome)`: a success echo against the number the row was sent with.
const ECHOES: &[(Option<&str>, &str, &str)] = &[
    // National form sent, international form echoed (and the other way round): one number.
    (Some("08123456789"), "628123456789", "S:1"),
    (Some("628123456789"), "08123456789", "S:1"),
    (Some("08123456789"), "+62 812-3456-789", "S:1"),
    (Some("0012025550123"), "12025550123", "S:1"),
    (Some("628123456789"), "628123456789", "S:1"),
    // A three-digit country code either side.
    (Some("012345678"), "85512345678", "S:1"),
    (Some("85512345678"), "012345678", "S:1"),
    // Another national significant number, or more than a country code in front of it.
    (Some("08123456789"), "628123456780", "U:contradictory"),
    (Some("628123456789"), "08123456780", "U:contradictory"),
    (Some("8123456789"), "12348123456789", "U:contradictory"),
    (Some("12348123456789"), "8123456789", "U:contradictory"),
    // Nothing to compare: no echo, or no number sent.
    (Some("08123456789"), "", "S:1"),
    (Some("08123456789"), "000", "S:1"),
    (None, "628123456789", "S:1"),
];

#[test]
fn a_national_number_echoed_in_international_form_confirms_the_row() {
    for (sent, echoed, want) in ECHOES {
        let body = format!(
            r#"{{"code":0,"data":{{"successItems":[{{"index":0,"customerId":1,"whatsAppPhone":"{echoed}"}}]}}}}"#
        );
        let phones = [*sent];
        let fast = interpret(body.as_bytes(), &phones, 1);
        assert_eq!(rows_of(fast.clone()).0, [*want], "{sent:?} {echoed}");
        assert_eq!(
            fast,
            interpret_value(body.as_bytes(), &phones, 1),
            "{sent:?} {echoed}"
        );
    }
    // The liberal path alone (a string index) reads echoes by the same rule, and says which
    // number contradicted the row, masked.
    let body = br#"{"code":0,"traceId":"t9","data":{"successItems":[{"index":"0","customerId":1,"whatsAppPhone":"628123456780"},{"index":"1","customerId":2,"whatsAppPhone":"628123456789"}]}}"#;
    let phones = [Some("08123456789"), Some("08123456789")];
    assert!(interpret_fast(body, &phones).is_none());
    let Answer::Rows { rows, .. } = interpret(body, &phones, 1) else {
        panic!()
    };
    assert_eq!(
        rows,
        [
            RowAnswer::Unknown {
                code: "contradictory".into(),
                message: format!(
                    "nxlink confirmed this row with another WhatsApp number ({}) (nxlink trace id t9)",
                    crate::provider::rules::mask_phone("628123456780")
                ),
            },
            RowAnswer::Accepted {
                id: Some("2".into())
            }
        ]
    );
}

/// Answers the fast path must leave to the strict reader, each inconsistent in one way only,
/// with what their three rows become.
const INCONSISTENT: &[(&str, [&str; 3])] = &[
    // successCount disagrees, failCount and totalCount agree: the refused row is not confirmed.
    (
        r#"{"code":0,"data":{"totalCount":3,"successCount":3,"failCount":1,"successItems":[{"index":0,"customerId":1},{"index":1,"customerId":2}],"failItems":[{"index":2,"errorCode":5}]}}"#,
        ["S:1", "S:2", "U:count_mismatch"],
    ),
    // failCount alone disagrees.
    (
        r#"{"code":0,"data":{"totalCount":3,"successCount":2,"failCount":2,"successItems":[{"index":0,"customerId":1},{"index":1,"customerId":2}],"failItems":[{"index":2,"errorCode":5}]}}"#,
        ["S:1", "S:2", "U:count_mismatch"],
    ),
    // totalCount alone disagrees.
    (
        r#"{"code":0,"data":{"totalCount":4,"successCount":2,"failCount":1,"successItems":[{"index":0,"customerId":1},{"index":1,"customerId":2}],"failItems":[{"index":2,"errorCode":5}]}}"#,
        ["S:1", "S:2", "U:count_mismatch"],
    ),
    // A row left out, the counts agreeing with the lists.
    (
        r#"{"code":0,"data":{"successCount":2,"failCount":0,"successItems":[{"index":0,"customerId":1},{"index":1,"customerId":2}]}}"#,
        ["S:1", "S:2", "U:unconfirmed"],
    ),
    // One row too many.
    (
        r#"{"code":0,"data":{"successItems":[{"index":0,"customerId":1},{"index":1,"customerId":2},{"index":2,"customerId":3},{"index":3,"customerId":4}]}}"#,
        ["S:1", "S:2", "S:3"],
    ),
    // A failure without a code.
    (
        r#"{"code":0,"data":{"successItems":[{"index":0,"customerId":1},{"index":1,"customerId":2}],"failItems":[{"index":2,"errorMessage":"x"}]}}"#,
        ["S:1", "S:2", "F:"],
    ),
];

#[test]
fn inconsistent_answers_leave_the_fast_path() {
    for (body, want) in INCONSISTENT {
        assert_eq!(interpret_fast(body.as_bytes(), &NO_PHONES), None, "{body}");
        assert_eq!(
            rows_of(interpret(body.as_bytes(), &NO_PHONES, 1)).0,
            want.to_vec(),
            "{body}"
        );
    }
    // Consistent lists under a code that is not 0: the code decides, not the lists.
    let body = br#"{"code":22125,"message":"balance","data":{"totalCount":3,"successCount":3,"failCount":0,"successItems":[{"index":0},{"index":1},{"index":2}]}}"#;
    assert_eq!(interpret_fast(body, &NO_PHONES), None);
    assert!(
        matches!(interpret(body, &NO_PHONES, 1), Answer::Fatal { ref code, .. } if code == "22125")
    );
    // The consistent answer with all three counts takes the fast path.
    let body = br#"{"code":0,"data":{"totalCount":3,"successCount":2,"failCount":1,"successItems":[{"index":0,"customerId":1},{"index":1,"customerId":2}],"failItems":[{"index":2,"errorCode":5,"errorMessage":"no"}]}}"#;
    let fast = interpret_fast(body, &NO_PHONES).expect("consistent");
    assert_eq!(fast, interpret_value(body, &NO_PHONES, 1));
    assert_eq!(rows_of(fast).0, ["S:1", "S:2", "F:5"]);
    assert_eq!(
        interpret_fast(br#"{"code":0,"data":{"successItems":[]}}"#, &[]),
        None
    );
}

#[test]
fn vague_answers_say_why_no_row_was_confirmed() {
    let table = [
        (r#"{"code":0}"#, "nxlink answered code 0 without data: no row was confirmed"),
        (r#"{"code":0,"data":null}"#, "nxlink answered code 0 with data null: no row was confirmed"),
        (
            r#"{"code":0,"data":"x"}"#,
            "nxlink answered code 0 with data that is text instead of the per-row results: no row was confirmed",
        ),
        (
            r#"{"code":0,"data":{}}"#,
            "nxlink answered code 0 without naming any row as a success or a failure: no row was confirmed",
        ),
    ];
    for (body, want) in table {
        let Answer::Rows { rows, .. } = interpret(body.as_bytes(), &NO_PHONES, 1) else {
            panic!("{body}")
        };
        assert_eq!(
            rows,
            vec![
                RowAnswer::Unknown {
                    code: "unconfirmed".into(),
                    message: want.into()
                };
                3
            ],
            "{body}"
        );
    }
    // An empty id is no id; a row left out says so.
    let body = br#"{"code":0,"data":{"successItems":[{"index":"0","customerId":""},{"index":1,"customerId":"c1"}]}}"#;
    let Answer::Rows { rows, .. } = interpret(body, &NO_PHONES, 1) else {
        panic!()
    };
    assert_eq!(
        rows,
        [
            RowAnswer::Accepted { id: None },
            RowAnswer::Accepted {
                id: Some("c1".into())
            },
            RowAnswer::Unknown {
                code: "unconfirmed".into(),
                message: "nxlink listed this row neither as a success nor as a failure".into()
            }
        ]
    );
}

#[test]
fn whole_request_messages_say_what_to_do() {
    let fatal = |code: i64| {
        interpret(
            format!(r#"{{"code":{code},"message":"m","traceId":"T1"}}"#).as_bytes(),
            &NO_PHONES,
            7,
        )
    };
    let what = [
        (1001, "a required header was missing; please report this as a bug"),
        (1003, "the signature was refused: check that access_secret (CUSTIMPORT_NXLINK_ACCESS_SECRET) belongs to access_key"),
        (1005, "the access key was refused: check access_key (CUSTIMPORT_NXLINK_ACCESS_KEY) and that the customer data business is enabled for it"),
        (21058, "tenant_id is required: set --tenant-id, tenant_id in [nxlink] or CUSTIMPORT_NXLINK_TENANT_ID"),
        (21059, "app_key is required: set --app-key, app_key in [nxlink] or CUSTIMPORT_NXLINK_APP_KEY"),
        (22124, "the application is unavailable: check that app_key belongs to tenant 7 and is enabled"),
        (22125, "the account's balance is insufficient: top it up, then run again with --resume"),
    ];
    for (code, what) in what {
        assert_eq!(
            fatal(code),
            Answer::Fatal {
                code: code.to_string(),
                message: format!("nxlink answered code {code} (m (nxlink trace id T1)): {what}")
            }
        );
    }
    assert_eq!(
        fatal(1004),
        Answer::Retry {
            kind: RetryKind::Clock,
            message: "nxlink answered code 1004 (timestamp expired): m (nxlink trace id T1)".into()
        }
    );
    // The answer an HTTP 400 carries for a bad birthday: that code and message, bisected.
    assert_eq!(
        interpret(
            br#"{"code":1002,"message":"param error: birthday"}"#,
            &NO_PHONES,
            1
        ),
        Answer::BatchRefused {
            code: "1002".into(),
            message: "param error: birthday".into(),
            bisect: true
        }
    );
    assert_eq!(
        interpret(br#"{"code":"-1","msg":"request failed"}"#, &NO_PHONES, 1),
        Answer::BatchRefused {
            code: "-1".into(),
            message: "request failed".into(),
            bisect: false
        }
    );
}

/// The body as serde would write it for the whole structure: what `write_body` must equal.
fn serde_body(p: &Nxlink, customers: &[Customer<'_>]) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        #[serde(rename = "type")]
        kind: u8,
        tenant_id: i64,
        app_key: &'a str,
        strict_binding: bool,
        customers: &'a [Customer<'a>],
    }
    serde_json::to_string(&Body {
        kind: p.mode.wire(),
        tenant_id: p.credentials.tenant_id,
        app_key: &p.credentials.app_key,
        strict_binding: p.strict_binding,
        customers,
    })
    .unwrap()
}

#[test]
fn prepared_customers_make_the_same_body_as_serde() {
    let rows: [&[(&str, &str)]; 3] = [
        &[
            ("full_name", "Jack \"J\" \\ O'Neil\n"),
            ("whats_app_phone", "+62 812-3456-7890"),
        ],
        &[
            ("full_name", "牛小信"),
            ("email", "a@b.c"),
            ("birthday", "1990-1-2"),
            ("gender", "女"),
            ("customize_field", r#"{"k": "v\u0001"}"#),
            ("weight", "5"),
        ],
        &[
            ("full_name", "\u{7f}\t"),
            ("sms_phone", "0812 3456 7890"),
            ("remark", "</script>"),
        ],
    ];
    let mut p = nx();
    let customers: Vec<Customer<'_>> = rows
        .iter()
        .map(|r| p.customer(&mapped(r), &mut Observed::default()).unwrap())
        .collect();
    let prepared: Vec<Prepared> = customers.iter().map(Prepared::new).collect();
    for (c, pr) in customers.iter().zip(&prepared) {
        assert_eq!(pr.json(), serde_json::to_string(c).unwrap());
        assert_eq!(pr.full_name(), c.full_name);
        assert_eq!(pr.whats_app_phone(), c.whats_app_phone.as_deref());
    }
    assert_eq!(prepared[0].whats_app_phone(), Some("6281234567890"));
    assert_eq!(prepared[1].whats_app_phone(), None);
    assert_eq!(prepared[2].whats_app_phone(), None);
    let refs: Vec<&Prepared> = prepared.iter().collect();
    for (mode, strict, app_key, tenant) in [
        (Mode::Replace, false, "46oKF=os", 123),
        (Mode::Keep, true, "k\"\\é", -7),
    ] {
        p.mode = mode;
        p.strict_binding = strict;
        p.credentials.app_key = app_key.into();
        p.credentials.tenant_id = tenant;
        let mut buf = vec![];
        p.write_body(&refs, &mut buf);
        assert_eq!(String::from_utf8(buf).unwrap(), serde_body(&p, &customers));
        let mut one = vec![];
        p.write_body(&refs[..1], &mut one);
        assert_eq!(
            String::from_utf8(one).unwrap(),
            serde_body(&p, &customers[..1])
        );
    }
}

#[test]
fn local_checks_of_the_second_round() {
    // A name of spaces (ASCII, tab, ideographic) is no name.
    for blank in ["   ", "\t", "\u{3000}"] {
        let e = nx()
            .prepare(
                &mapped(&[("full_name", blank), ("whats_app_phone", "628123")]),
                &mut Observed::default(),
            )
            .unwrap_err();
        assert_eq!(e.code, "missing_full_name", "{blank:?}");
    }
    // Limits hold in UTF-16 units: 128 emoji are 128 characters but 256 units.
    let emoji = "😀".repeat(128);
    let e = nx()
        .prepare(
            &mapped(&[
                ("full_name", "A"),
                ("whats_app_phone", "628123"),
                ("first_name", &emoji),
            ]),
            &mut Observed::default(),
        )
        .unwrap_err();
    assert_eq!(e.code, "too_long");
    assert!(e.message.contains("256 UTF-16 units"), "{}", e.message);
    let fits = "😀".repeat(64);
    assert!(nx()
        .prepare(
            &mapped(&[
                ("full_name", "A"),
                ("whats_app_phone", "628123"),
                ("first_name", &fits),
            ]),
            &mut Observed::default()
        )
        .is_ok());
    // 255 CJK characters are 255 units (765 bytes): allowed.
    let cjk = "中".repeat(255);
    assert!(nx()
        .prepare(
            &mapped(&[("full_name", &cjk), ("email", "a@b.c")]),
            &mut Observed::default()
        )
        .is_ok());
}

#[test]
fn the_contact_key_is_the_first_present_channel() {
    let key = |pairs: &[(&str, &str)]| {
        let mut all = vec![("full_name", "A")];
        all.extend_from_slice(pairs);
        let p = nx()
            .prepare(&mapped(&all), &mut Observed::default())
            .unwrap();
        nx().dedup_key(&p).map(str::to_owned)
    };
    assert_eq!(
        key(&[
            ("email", "a@b.c"),
            ("sms_phone", "62 811"),
            ("whats_app_phone", "62-812")
        ]),
        Some("62812".into())
    );
    assert_eq!(
        key(&[("email", "a@b.c"), ("sms_phone", "62 811")]),
        Some("62811".into())
    );
    assert_eq!(key(&[("email", "a@b.c")]), Some("a@b.c".into()));
    assert_eq!(key(&[("zalo", "123")]), None);
    let p = nx()
        .prepare(
            &mapped(&[
                ("full_name", "Ann"),
                ("whats_app_phone", "62812"),
                ("email", "a@b.c"),
            ]),
            &mut Observed::default(),
        )
        .unwrap();
    assert_eq!(p.whats_app_phone(), Some("62812"));
    assert_eq!(p.full_name(), "Ann");
}

#[test]
fn new_builds_the_provider_from_credentials_and_options() {
    let credentials = Credentials {
        access_key: "fme2na3kdi3ki".into(),
        access_secret: Secret::new("abciiiko2k3"),
        tenant_id: 123,
        app_key: "46oKF=os".into(),
    };
    assert!(!format!("{credentials:?}").contains("abciiiko2k3"));
    let p = Nxlink::new(credentials, Options::default());
    assert_eq!(format!("{p:?}"), format!("{:?}", nx()));
    assert_eq!(p.credentials().access_secret.expose(), "abciiiko2k3");
    assert_eq!(p.headers(b"{}", 7), nx().headers(b"{}", 7));

    let region = crate::provider::phone::Region::from_code("ID");
    let options = Options {
        mode: Mode::Keep,
        strict_binding: true,
        algorithm: Algorithm::Sha256,
        phone_region: region,
        date_order: crate::provider::rules::DateOrder::Dmy,
    };
    let p = Nxlink::new(Credentials::default(), options);
    assert_eq!(
        (p.mode, p.strict_binding, p.algorithm, p.phones.region()),
        (Mode::Keep, true, Algorithm::Sha256, region)
    );
    assert!(region.is_some() && !p.phones.encrypted());
    assert_eq!(p.dates.order(), crate::provider::rules::DateOrder::Dmy);
}

#[test]
fn phone_columns_of_the_reports() {
    let p = nx();
    assert_eq!(
        p.spec().success_header,
        ["customer_id", "whats_app_phone", "full_name"]
    );
    assert_eq!(p.spec().success_phone_columns, ["whats_app_phone"]);
    assert_eq!(
        p.spec().unchanged_header,
        ["whats_app_phone", "sms_phone", "email"]
    );
    assert_eq!(
        p.spec().unchanged_phone_columns,
        ["whats_app_phone", "sms_phone"]
    );
}

#[test]
fn modes_are_their_type_numbers_both_ways() {
    let table = [
        (Mode::Replace, 0, "replace"),
        (Mode::Merge, 1, "merge"),
        (Mode::Keep, 2, "keep"),
    ];
    for (mode, wire, name) in table {
        assert_eq!((mode.wire(), mode.name()), (wire, name), "{mode:?}");
        assert_eq!(Mode::from_wire(wire), Some(mode));
        // `--mode` and the config's `mode` read these names (any case) into the same mode.
        let parse = |text: &str| <Mode as clap::ValueEnum>::from_str(text, true);
        assert_eq!(parse(name), Ok(mode));
        assert_eq!(parse(&name.to_uppercase()), Ok(mode));
        // The number is what the body's `type` says, and what keys the incremental state.
        let mut p = nx();
        p.mode = mode;
        let mut buf = vec![];
        p.write_body(&[], &mut buf);
        let body = String::from_utf8(buf).unwrap();
        assert!(body.starts_with(&format!("{{\"type\":{wire},")), "{body}");
        assert_eq!(p.state_salt(), format!("type={wire}"));
    }
    assert_eq!(Mode::ALL.map(|m| m.name()), ["replace", "merge", "keep"]);
    for other in [3, 9, u8::MAX] {
        assert_eq!(Mode::from_wire(other), None);
    }
    assert!(<Mode as clap::ValueEnum>::from_str("upsert", true).is_err());
    assert_eq!(Mode::default(), Mode::Merge);
    assert_eq!(Options::default().mode, Mode::Merge);
}
