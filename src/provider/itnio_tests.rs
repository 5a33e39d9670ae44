use super::*;
use crate::provider::{Cell, Mapped};

fn it() -> Itnio {
    Itnio {
        api_key: "bD8JFiq9".into(),
        api_secret: Secret::new("secretExample"),
        app_id: "LILIN888".into(),
        job_id: 9,
        call_record_dup: false,
        phones: Default::default(),
    }
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
        .prepare(&mapped(
            Some("starai"),
            Some("+91 856-321-412"),
            Some("m"),
            &[("证件后4位", "0235"), ("empty", "")],
        ))
        .unwrap();
    let q = it()
        .prepare(&mapped(None, Some("91856321413"), None, &[]))
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
    let p = it().prepare(&m).unwrap();
    assert_eq!(
        serde_json::to_string(&p.properties).unwrap(),
        r#"{"income":3000,"vip":true}"#
    );
}

#[test]
fn rejections() {
    assert_eq!(
        it().prepare(&mapped(Some("a"), None, None, &[]))
            .unwrap_err()
            .code,
        "missing_phone"
    );
    assert_eq!(
        it().prepare(&mapped(Some("a"), Some("12ab"), None, &[]))
            .unwrap_err()
            .code,
        "invalid_phone"
    );
    let long = "1".repeat(33);
    assert_eq!(
        it().prepare(&mapped(Some("a"), Some(&long), None, &[]))
            .unwrap_err()
            .code,
        "invalid_phone"
    );
    assert!(it()
        .prepare(&mapped(Some("a"), Some(&long[..32]), None, &[]))
        .is_ok());
    assert_eq!(
        it().prepare(&mapped(Some("a"), Some("1"), Some("?"), &[]))
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
            it().prepare(&mapped(None, Some("1"), Some(g), &[]))
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
    assert_eq!(rows[2], RowAnswer::Accepted { id: None });
    assert_eq!(
        unattributed,
        vec!["Something else,Phone Number:19999999999".to_string()]
    );
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
