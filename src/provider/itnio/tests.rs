//! Unit tests of itnio: validation, the request body and headers, and the attribution of
//! answer lines to rows in any spelling.

use super::*;
use crate::provider::{Cell, Mapped, Observed, RetryKind, RowAnswer};

fn it() -> Itnio {
    crate::fixtures::itnio()
}

fn mapped<'a>(
    name: Option<&'a str>,
    phone: Option<&'a str>,
    gender: Option<&'a str>,
    props: &[(&'a str, &'a str)],
) -> Mapped<'a> {
    Mapped {
        fields: vec![
            name.map(Cell::Text),
            phone.map(Cell::Text),
            gender.map(Cell::Text),
        ],
        extras: props
            .iter()
            .map(|(k, v)| ((*k).into(), Cell::Text(v)))
            .collect(),
    }
}

#[test]
fn sign_vector_and_seconds_timestamp() {
    let h = it().headers(b"{}", 1_630_468_800_999);
    assert!(h.contains(&("Timestamp", "1630468800".into())));
    assert!(h.contains(&("Sign", "c3b10945de253ae469524b9222ed1bc2".into())));
    assert!(h.contains(&("Api-Key", "bD8JFiq9".into())));
    assert!(h.contains(&("Content-Type", "application/json;charset=UTF-8".into())));
    assert!(h.iter().all(|(_, v)| !v.contains("secretExample")));
}

#[test]
fn body_carries_the_contract_mapping() {
    let p = it()
        .prepare(
            &mapped(
                Some("starai"),
                Some("+91 856-321-412"),
                Some("m"),
                &[("证件后4位", "0235"), ("empty", "")],
            ),
            &mut Observed::default(),
        )
        .unwrap();
    let q = it()
        .prepare(
            &mapped(None, Some("91856321413"), None, &[]),
            &mut Observed::default(),
        )
        .unwrap();
    let mut buf = vec![];
    it().write_body(&[&p, &q], &mut buf);
    assert_eq!(
        String::from_utf8(buf).unwrap(),
        r#"{"appId":"LILIN888","jobId":9,"callRecordDup":false,"customerPersons":[{"name":"starai","phoneNumber":"91856321412","gender":"MALE","properties":{"证件后4位":"0235"}},{"phoneNumber":"91856321413"}]}"#
    );
}

#[test]
fn json_properties_keep_their_type() {
    let n: Value = serde_json::from_str("3000").unwrap();
    let b = Value::Bool(true);
    let phone = Value::String("628".into());
    let m = Mapped {
        fields: vec![None, Some(Cell::Json(&phone)), None],
        extras: vec![
            ("income".into(), Cell::Json(&n)),
            ("vip".into(), Cell::Json(&b)),
            ("none".into(), Cell::Json(&Value::Null)),
        ],
    };
    let p = it().prepare(&m, &mut Observed::default()).unwrap();
    assert_eq!(
        serde_json::to_string(&p.properties).unwrap(),
        r#"{"income":3000,"vip":true}"#
    );
}

#[test]
fn rejections() {
    assert_eq!(
        it().prepare(
            &mapped(Some("a"), None, None, &[]),
            &mut Observed::default()
        )
        .unwrap_err()
        .code,
        "missing_phone"
    );
    assert_eq!(
        it().prepare(
            &mapped(Some("a"), Some("12ab"), None, &[]),
            &mut Observed::default()
        )
        .unwrap_err()
        .code,
        "invalid_phone"
    );
    let long = "1".repeat(33);
    assert_eq!(
        it().prepare(
            &mapped(Some("a"), Some(&long), None, &[]),
            &mut Observed::default()
        )
        .unwrap_err()
        .code,
        "invalid_phone"
    );
    assert!(it()
        .prepare(
            &mapped(Some("a"), Some(&long[..32]), None, &[]),
            &mut Observed::default()
        )
        .is_ok());
    assert_eq!(
        it().prepare(
            &mapped(Some("a"), Some("1"), Some("?"), &[]),
            &mut Observed::default()
        )
        .unwrap_err()
        .code,
        "invalid_gender"
    );
    for (g, want) in [
        ("F", "FEMALE"),
        ("女", "FEMALE"),
        ("1", "MALE"),
        ("Male", "MALE"),
    ] {
        assert_eq!(
            it().prepare(
                &mapped(None, Some("1"), Some(g), &[]),
                &mut Observed::default()
            )
            .unwrap()
            .gender,
            Some(want)
        );
    }
}

#[test]
fn interpret_maps_lines_by_phone() {
    let body = br#"{"status":"0","reason":"success","data":[
        "The customer already exists in this task,Phone Number:13612345678",
        "Customer custom property is incomplete,Phone Number: 13412345678",
        "Something else,Phone Number:19999999999"]}"#;
    let a = interpret(
        body,
        &["13412345678", "13612345678", "15500000000"],
        9,
        "app",
    );
    let Answer::Rows { rows, unattributed } = a else {
        panic!("{a:?}")
    };
    assert_eq!(
        rows[0],
        RowAnswer::Refused {
            code: "properties_incomplete".into(),
            message: "Customer custom property is incomplete".into()
        }
    );
    assert_eq!(
        rows[1],
        RowAnswer::AlreadyExists {
            code: "already_exists".into(),
            message: "The customer already exists in this task".into()
        }
    );
    // A line naming no row of the request leaves the unnamed row unconfirmed.
    assert!(
        matches!(&rows[2], RowAnswer::Unknown { code, .. } if code == "unattributed"),
        "{:?}",
        rows[2]
    );
    assert_eq!(
        unattributed,
        vec!["Something else,Phone Number:19999999999".to_string()]
    );
}

/// A row answer in a few letters: `S` (accepted), `F:code`, `U:code`, `E` (already exists).
fn short(a: &RowAnswer) -> String {
    match a {
        RowAnswer::Accepted { .. } => "S".into(),
        RowAnswer::Refused { code, .. } => format!("F:{code}"),
        RowAnswer::Unknown { code, .. } => format!("U:{code}"),
        RowAnswer::AlreadyExists { .. } => "E".into(),
    }
}

/// Failure lines in every spelling, for a request of three phones.
#[test]
fn lines_are_attributed_in_any_spelling() {
    const PHONES: [&str; 3] = ["6281111111111", "6282222222222", "13612345678"];
    let table: &[(&str, [&str; 3], usize)] = &[
        (r#"[]"#, ["S", "S", "S"], 0),
        (r#"null"#, ["S", "S", "S"], 0),
        (
            r#"["该客户已存在于此任务中，手机号：6281111111111"]"#,
            ["E", "S", "S"],
            0,
        ),
        (
            r#"["Customer custom property is incomplete,Phone Number:+62 822-2222-2222"]"#,
            ["S", "F:properties_incomplete", "S"],
            0,
        ),
        (
            r#"["failed (phone 136 1234 5678) please retry later"]"#,
            ["S", "S", "F:not_imported"],
            0,
        ),
        (
            r#"["Import failed,Phone Number:６２８１１１１１１１１１１"]"#,
            ["F:not_imported", "S", "S"],
            0,
        ),
        (
            r#"["bad number 13612345678 2 times"]"#,
            ["S", "S", "F:not_imported"],
            0,
        ),
        // Lines that name no row: every row not named elsewhere is unknown.
        (
            r#"["Import failed for one customer"]"#,
            ["U:unattributed", "U:unattributed", "U:unattributed"],
            1,
        ),
        (
            r#"["The customer already exists in this task,Phone Number:13612345678", "oops"]"#,
            ["U:unattributed", "U:unattributed", "E"],
            1,
        ),
        (
            r#"["Phone Number:6281111111"]"#,
            ["U:unattributed", "U:unattributed", "U:unattributed"],
            1,
        ),
        // A line naming two rows names no single row.
        (
            r#"["6281111111111 and 6282222222222 failed"]"#,
            ["U:unattributed", "U:unattributed", "U:unattributed"],
            1,
        ),
        // A row named twice is not one answer.
        (
            r#"["x,Phone Number:13612345678", "y,Phone Number:13612345678"]"#,
            ["S", "S", "U:contradictory"],
            0,
        ),
        (
            r#"[{"phone":"6281111111111"}]"#,
            ["F:not_imported", "S", "S"],
            0,
        ),
    ];
    for (data, want, stray) in table {
        let body = format!(r#"{{"status":"0","reason":"success","data":{data}}}"#);
        let Answer::Rows { rows, unattributed } = interpret(body.as_bytes(), &PHONES, 9, "a")
        else {
            panic!("{data}")
        };
        assert_eq!(
            rows.iter().map(short).collect::<Vec<_>>(),
            want.to_vec(),
            "{data}"
        );
        assert_eq!(unattributed.len(), *stray, "{data}");
    }
}

#[test]
fn a_failure_keeps_its_text_without_the_phone_part() {
    let table = [
        (
            "该客户已存在于此任务中，手机号：13612345678",
            "该客户已存在于此任务中",
        ),
        (
            "Import failed,Phone Number:１３６１２３４５６７８",
            "Import failed",
        ),
        ("  Import failed ,  13612345678", "Import failed"),
        (
            "bad number 13612345678 2 times",
            "bad number 13612345678 2 times",
        ),
        (
            "Import failed for 13612345678, please retry",
            "Import failed for 13612345678, please retry",
        ),
    ];
    for (line, want) in table {
        let body = serde_json::json!({"status": "0", "data": [line]}).to_string();
        let Answer::Rows { rows, .. } = interpret(body.as_bytes(), &["13612345678", ""], 9, "a")
        else {
            panic!("{line}")
        };
        let (RowAnswer::Refused { message, .. } | RowAnswer::AlreadyExists { message, .. }) =
            &rows[0]
        else {
            panic!("{line}: {rows:?}")
        };
        assert_eq!(message, want, "{line}");
        // A row without a phone is named by no line.
        assert_eq!(rows[1], RowAnswer::Accepted { id: None }, "{line}");
    }
}

#[test]
fn data_of_another_shape_confirms_nothing() {
    for data in [r#""internal error""#, r#""""#, r#"{}"#, "7", "true"] {
        let body = format!(r#"{{"status":"0","data":{data}}}"#);
        let Answer::Rows { rows, .. } = interpret(body.as_bytes(), &["1", "2"], 9, "a") else {
            panic!("{data}")
        };
        assert_eq!(
            rows.iter().map(short).collect::<Vec<_>>(),
            ["U:unconfirmed", "U:unconfirmed"],
            "{data}"
        );
    }
}

#[test]
fn encrypted_ids_are_matched_as_whole_tokens() {
    let ids = ["aB3xZ9", "aB3xZ", "Q+/=k"];
    let body = r#"{"status":"0","data":["The customer already exists in this task,Phone Number:aB3xZ9","Customer custom property is incomplete,Phone Number:Q+/=k"]}"#;
    let Answer::Rows { rows, unattributed } = interpret(body.as_bytes(), &ids, 9, "a") else {
        panic!()
    };
    assert_eq!(
        rows.iter().map(short).collect::<Vec<_>>(),
        ["E", "S", "F:properties_incomplete"]
    );
    assert!(unattributed.is_empty());
}

#[test]
fn reasons_and_lines_are_escaped() {
    let body = "{\"status\":\"-35\",\"reason\":\"x\\u001b[31mred\"}";
    match interpret(body.as_bytes(), &["1"], 9, "a") {
        Answer::BatchRefused { message, .. } => assert_eq!(message, "x\\x1b[31mred"),
        other => panic!("{other:?}"),
    }
    let body = "{\"status\":\"0\",\"data\":[\"\\u001b[2Jgone\"]}";
    let Answer::Rows { unattributed, .. } = interpret(body.as_bytes(), &["1"], 9, "a") else {
        panic!()
    };
    assert_eq!(unattributed, ["\\x1b[2Jgone"]);
}

#[test]
fn a_refusal_in_a_message_field_keeps_its_text() {
    // What a gateway in front of itnio may answer with an HTTP 4xx.
    for (body, want) in [
        (
            r#"{"status":"-27","message":"phoneNumber required"}"#,
            "phoneNumber required",
        ),
        (r#"{"status":-27,"reason":"","message":"m"}"#, "m"),
        (r#"{"status":-27,"reason":"r","message":"m"}"#, "r"),
        (r#"{"status":-27,"reason":null,"message":7}"#, "7"),
        (r#"{"status":-27}"#, ""),
    ] {
        assert_eq!(
            interpret(body.as_bytes(), &["1"], 9, "a"),
            Answer::BatchRefused {
                code: "-27".into(),
                message: want.into(),
                bisect: true
            },
            "{body}"
        );
    }
}

#[test]
fn interpret_statuses() {
    let st = |s: &str| {
        interpret(
            format!(r#"{{"status":"{s}","reason":"r","data":null}}"#).as_bytes(),
            &["1"],
            9,
            "app",
        )
    };
    assert!(matches!(
        st("-4"),
        Answer::Retry {
            kind: RetryKind::Clock,
            ..
        }
    ));
    assert!(matches!(
        st("-52"),
        Answer::Retry {
            kind: RetryKind::Throttle,
            ..
        }
    ));
    for f in [
        "-1", "-3", "-6", "-32", "-37", "-43", "-49", "-55", "-57", "-58", "-59",
    ] {
        assert!(matches!(st(f), Answer::Fatal { .. }), "{f}");
    }
    match st("-32") {
        Answer::Fatal { message, .. } => assert!(
            message.contains("job 9 does not exist for app app"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    for b in ["-27", "-35", "-51"] {
        assert!(
            matches!(st(b), Answer::BatchRefused { bisect: true, .. }),
            "{b}"
        );
    }
    assert!(matches!(
        interpret(br#"{"status":0,"data":[]}"#, &["1"], 9, "a"),
        Answer::Rows { .. }
    ));
    assert!(matches!(
        interpret(b"garbage", &["1"], 9, "a"),
        Answer::Retry {
            kind: RetryKind::Unparsable,
            ..
        }
    ));
}

#[test]
fn new_builds_the_provider_from_credentials_and_options() {
    let credentials = Credentials {
        api_key: "bD8JFiq9".into(),
        api_secret: Secret::new("secretExample"),
        app_id: "LILIN888".into(),
        job_id: 9,
    };
    assert!(!format!("{credentials:?}").contains("secretExample"));
    let p = Itnio::new(credentials, Options::default());
    assert_eq!(format!("{p:?}"), format!("{:?}", it()));
    assert_eq!(p.credentials().api_secret.expose(), "secretExample");
    assert_eq!(p.headers(b"{}", 7_000), it().headers(b"{}", 7_000));

    let region = crate::provider::phone::Region::from_code("ID");
    let options = Options {
        call_record_dup: true,
        phone_region: region,
        encrypted_phones: true,
    };
    let p = Itnio::new(Credentials::default(), options);
    assert_eq!(
        (p.call_record_dup, p.phones.region(), p.phones.encrypted()),
        (true, region, true)
    );
    assert!(region.is_some());
}

#[test]
fn phone_columns_of_the_reports() {
    let p = it();
    assert_eq!(p.spec().success_header, ["phone_number", "name"]);
    assert_eq!(p.spec().success_phone_columns, ["phone_number"]);
    assert_eq!(p.spec().unchanged_header, ["phone_number"]);
    assert_eq!(p.spec().unchanged_phone_columns, ["phone_number"]);
}
