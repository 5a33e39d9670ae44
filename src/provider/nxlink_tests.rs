use super::*;
use crate::provider::Mapped;

fn nx() -> Nxlink {
    Nxlink {
        access_key: "fme2na3kdi3ki".into(),
        access_secret: Secret::new("abciiiko2k3"),
        tenant_id: 123,
        app_key: "46oKF=os".into(),
        mode: 1,
        strict_binding: false,
        algorithm: Algorithm::Md5,
        phones: Default::default(),
    }
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
        .prepare(&mapped(&[
            ("full_name", "Jack"),
            ("whats_app_phone", "+62 812-3456-7890"),
        ]))
        .unwrap();
    let mut buf = vec![];
    let mut p = nx();
    p.mode = 1;
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
    let c = nx().customer(&m).unwrap();
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

#[test]
fn rejections_name_the_rule() {
    let cases: &[(&[(&str, &str)], &str)] = &[
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
        (
            &[("full_name", "A"), ("line", "x".repeat(51).leak())],
            "too_long",
        ),
        (
            &[("full_name", "x".repeat(256).leak()), ("line", "l")],
            "too_long",
        ),
        (
            &[
                ("full_name", "A"),
                ("line", "l"),
                ("belong_seat_user", "s".repeat(129).leak()),
            ],
            "too_long",
        ),
        (
            &[
                ("full_name", "A"),
                ("line", "l"),
                ("remark", "r".repeat(2001).leak()),
            ],
            "too_long",
        ),
    ];
    for (pairs, code) in cases {
        let err = nx().prepare(&mapped(pairs)).unwrap_err();
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
            nx().prepare(&mapped(&[("full_name", "A"), (ch, v)]))
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
    let c = nx().customer(&m).unwrap();
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
        nx().customer(&m).unwrap().customize_field.as_deref(),
        Some(r#"{"b": 1, "a": "x"}"#)
    );
    let m = mapped(&[("full_name", "A"), ("line", "l"), ("customize_field", "{}")]);
    assert_eq!(nx().customer(&m).unwrap().customize_field, None);
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
        nx().customer(&m).unwrap().whats_app_phone.as_deref(),
        Some("6281234567890")
    );
    m.fields[field("country")] = Some(Cell::Json(&list));
    let e = nx().prepare(&m).unwrap_err();
    assert_eq!(e.code, "invalid_type");
    assert!(e.message.contains("country"), "{}", e.message);
}

#[test]
fn interpret_partial_success_keeps_ids_exact() {
    let body = br#"{"code":0,"message":null,"traceId":"x","data":{"totalCount":2,"successCount":1,"failCount":1,
        "failItems":[{"index":1,"errorCode":12148,"errorMessage":"Assigned seat agent1 does not exist."}],
        "successItems":[{"index":0,"customerId":1214631327620775936,"whatsAppPhone":"8618163725558"}]}}"#;
    let a = interpret(body, 2, 1);
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

#[test]
fn interpret_is_liberal_about_shapes() {
    for body in [
        r#"{"code":"0","msg":"ok","data":null}"#,
        r#"{"code":0,"data":""}"#,
        r#"{"code":0,"data":{"failItems":[],"successItems":[]}}"#,
    ] {
        match interpret(body.as_bytes(), 3, 1) {
            Answer::Rows { rows, .. } => assert_eq!(rows.len(), 3),
            other => panic!("{body}: {other:?}"),
        }
    }
    // An item with an index out of range is reported, and the row it did not name is not lost.
    let body = br#"{"code":0,"data":{"successItems":[{"index":0,"customerId":"7"},{"index":5,"customerId":8}]}}"#;
    match interpret(body, 2, 1) {
        Answer::Rows { rows, unattributed } => {
            assert_eq!(
                rows[0],
                RowAnswer::Accepted {
                    id: Some("7".into())
                }
            );
            assert!(matches!(rows[1], RowAnswer::Refused { .. }));
            assert_eq!(unattributed.len(), 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn interpret_whole_request_codes() {
    let kind = |code: &str| {
        interpret(
            format!(r#"{{"code":{code},"message":"m","data":null}}"#).as_bytes(),
            2,
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
        assert!(matches!(kind(fatal), Answer::Fatal { .. }), "{fatal}");
    }
    assert!(matches!(
        kind("12148"),
        Answer::BatchRefused { bisect: true, .. }
    ));
    assert!(matches!(
        kind("1002"),
        Answer::BatchRefused { bisect: false, .. }
    ));
    assert!(matches!(
        interpret(b"<html>", 2, 1),
        Answer::Retry {
            kind: RetryKind::Unparsable,
            ..
        }
    ));
    assert!(matches!(
        interpret(br#"{"code":0,"data":{"succ"#, 2, 1),
        Answer::Retry {
            kind: RetryKind::Unparsable,
            ..
        }
    ));
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
    ];
    for body in bodies {
        assert_eq!(
            interpret(body.as_bytes(), 3, 1),
            interpret_value(body.as_bytes(), 3, 1),
            "{body}"
        );
    }
    assert!(
        interpret_fast(bodies[0].as_bytes(), 3).is_some(),
        "the usual answer takes the fast path"
    );
    match interpret(bodies[0].as_bytes(), 3, 1) {
        Answer::Rows { rows, .. } => assert_eq!(
            rows[2],
            RowAnswer::Accepted {
                id: Some("1214631327620775999".into())
            }
        ),
        other => panic!("{other:?}"),
    }
    // Ids beyond u64 or not whole keep their exact text.
    match interpret(bodies[4].as_bytes(), 3, 1) {
        Answer::Rows { rows, .. } => assert_eq!(
            rows,
            ["99999999999999999999999", "-4", "1.5"].map(|id| RowAnswer::Accepted {
                id: Some(id.into())
            })
        ),
        other => panic!("{other:?}"),
    }
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
        kind: p.mode,
        tenant_id: p.tenant_id,
        app_key: &p.app_key,
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
        .map(|r| p.customer(&mapped(r)).unwrap())
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
    for (mode, strict, app_key, tenant) in [(0, false, "46oKF=os", 123), (2, true, "k\"\\é", -7)] {
        p.mode = mode;
        p.strict_binding = strict;
        p.app_key = app_key.into();
        p.tenant_id = tenant;
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
