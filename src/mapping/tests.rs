//! Unit tests of `mapping`.
use super::*;
use crate::provider::{itnio, nxlink};

fn nx() -> Schema {
    Schema {
        fields: &nxlink::FIELDS,
        extras_prefix: "customize",
        unmapped_to_extras: false,
    }
}

fn itn() -> Schema {
    Schema {
        fields: &itnio::FIELDS,
        extras_prefix: "properties",
        unmapped_to_extras: true,
    }
}

fn header(cols: &[&str]) -> Vec<String> {
    cols.iter().map(|s| s.to_string()).collect()
}

fn names(schema: &Schema, plan: &Plan) -> Vec<Option<String>> {
    plan.targets
        .iter()
        .map(|t| target_name(schema, t))
        .collect()
}

#[test]
fn normalised_and_alias_matching() {
    assert_eq!(normalise("Full Name"), "fullname");
    assert_eq!(normalise("full_name"), "fullname");
    assert_eq!(normalise("fullName"), "fullname");
    assert_eq!(normalise("WhatsApp-Phone"), "whatsappphone");
    let h = header(&[
        "Full Name",
        "手机",
        "电话",
        "E-mail",
        "生日",
        "custimport_row",
        "Notes",
        "whatever",
    ]);
    let (plan, warnings) = Plan::for_header(&nx(), &h, &[]).unwrap();
    assert_eq!(
        names(&nx(), &plan),
        vec![
            Some("full_name".into()),
            Some("whats_app_phone".into()),
            Some("sms_phone".into()),
            Some("email".into()),
            Some("birthday".into()),
            None,
            Some("remark".into()),
            None
        ]
    );
    assert_eq!(plan.how[0], MatchedBy::Exact);
    assert_eq!(plan.how[1], MatchedBy::Alias);
    assert_eq!(plan.how[5], MatchedBy::Reserved);
    assert_eq!(
        warnings,
        vec![r#"columns not mapped to any field, ignored: "whatever""#.to_string()]
    );
}

#[test]
fn map_wins_and_missing_column_lists_columns() {
    let maps = parse_maps(
        &nx(),
        &["full_name=Nickname".into(), "customize.level=Tier".into()],
    )
    .unwrap();
    let h = header(&["name", "Nickname", "Tier", "phone"]);
    let (plan, warnings) = Plan::for_header(&nx(), &h, &maps).unwrap();
    assert_eq!(
        names(&nx(), &plan),
        vec![
            None,
            Some("full_name".into()),
            Some("customize.level".into()),
            Some("whats_app_phone".into())
        ]
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("\"name\" also matches full_name")),
        "{warnings:?}"
    );
    let err = Plan::for_header(&nx(), &header(&["a", "b"]), &maps)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no column \"Nickname\"") && err.contains("\"a\", \"b\""),
        "{err}"
    );
}

#[test]
fn bad_maps_are_refused() {
    assert!(parse_maps(&nx(), &["nope=a".into()]).is_err());
    assert!(parse_maps(&nx(), &["full_name".into()]).is_err());
    assert!(parse_maps(&nx(), &["full_name=custimport_row".into()]).is_err());
    assert!(parse_maps(&nx(), &["customize.=a".into()]).is_err());
    assert!(parse_maps(&nx(), &["full_name=a".into(), "full_name=b".into()]).is_err());
    assert!(parse_maps(&itn(), &["properties.amount=Amount Due".into()]).is_ok());
}

#[test]
fn itnio_unmapped_columns_become_properties() {
    let maps = parse_maps(&itn(), &["properties.amount=Amount Due".into()]).unwrap();
    let h = header(&[
        "姓名",
        "Phone",
        "Gender",
        "Amount Due",
        "证件后4位",
        "mobile",
        "custimport_error",
    ]);
    let (plan, _) = Plan::for_header(&itn(), &h, &maps).unwrap();
    assert_eq!(
        names(&itn(), &plan),
        vec![
            Some("name".into()),
            Some("phoneNumber".into()),
            Some("gender".into()),
            Some("properties.amount".into()),
            Some("properties.证件后4位".into()),
            Some("properties.mobile".into()),
            None
        ]
    );
    let cells = header(&["Ann", "628", "f", "10", "0235", "999", "x"]);
    let m = plan.apply(&h, cells.iter().map(String::as_str));
    let extras: Vec<(String, String)> = m
        .extras
        .iter()
        .map(|(k, c)| match c {
            Cell::Text(t) => (k.to_string(), t.to_string()),
            Cell::Json(v) => (k.to_string(), v.to_string()),
        })
        .collect();
    assert_eq!(
        extras,
        vec![
            ("amount".to_string(), "10".to_string()),
            ("证件后4位".into(), "0235".into()),
            ("mobile".into(), "999".into())
        ]
    );
}

#[test]
fn json_keys_resolve_like_headers() {
    let obj: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"Full Name":"A","phone":6281,"extra":1,"custimport":{"row":1}}"#)
            .unwrap();
    let mut kp = KeyPlan::new(nx(), vec![]);
    let m = kp.apply(&obj);
    assert!(matches!(m.fields[0], Some(Cell::Json(_))));
    assert!(matches!(m.fields[4], Some(Cell::Json(_))));
    assert_eq!(kp.ignored_keys(), vec!["extra".to_string()]);
    let maps = parse_maps(&itn(), &["properties.amt=extra".into()]).unwrap();
    let mut kp = KeyPlan::new(itn(), maps);
    let m = kp.apply(&obj);
    let keys: Vec<String> = m.extras.iter().map(|(k, _)| k.to_string()).collect();
    assert_eq!(keys, vec!["amt".to_string()]);
    assert!(matches!(m.fields[0], Some(Cell::Json(_))));
}

#[test]
fn map_columns_match_like_automatic_matching() {
    let s = nx();
    let h = header(&["Name", "Phone", "Level", "level (2)", "Birth_Date"]);
    let maps = parse_maps(&s, &["weight=level".into(), "birthday=birth date".into()]).unwrap();
    let (plan, _) = Plan::for_header(&s, &h, &maps).unwrap();
    assert_eq!(names(&s, &plan)[2].as_deref(), Some("weight"));
    assert_eq!(names(&s, &plan)[4].as_deref(), Some("birthday"));
    assert_eq!(plan.how[2], MatchedBy::Map);
    // An exact name wins over one equal only once normalised.
    let h2 = header(&["LEVEL", "level", "Name"]);
    let maps = parse_maps(&s, &["weight=level".into()]).unwrap();
    let (plan, _) = Plan::for_header(&s, &h2, &maps).unwrap();
    assert_eq!(names(&s, &plan)[1].as_deref(), Some("weight"));
    // Two names equal once normalised, none exactly: refused, naming both.
    let h3 = header(&["LEVEL", "Le-vel", "Name"]);
    let e = Plan::for_header(&s, &h3, &maps).unwrap_err().to_string();
    assert!(e.contains("\"LEVEL\", \"Le-vel\"; give one exactly"), "{e}");
}

#[test]
fn an_unknown_map_column_names_the_closest_headers() {
    let s = nx();
    let h = header(&["Name", "Phone Number", "Level", "Remark"]);
    let err = |m: &str| {
        let maps = parse_maps(&s, &[m.into()]).unwrap();
        Plan::for_header(&s, &h, &maps).unwrap_err().to_string()
    };
    assert_eq!(
        err("weight=lvl"),
        "--map weight=lvl: the input has no column \"lvl\"; closest: \"Level\"; its columns are: \
         \"Name\", \"Phone Number\", \"Level\", \"Remark\""
    );
    assert!(err("sms_phone=phone").contains("closest: \"Phone Number\";"));
    assert!(!err("weight=xyzzy").contains("closest"));
}

#[test]
fn rows_below_are_matched_as_headers() {
    let s = nx();
    assert_eq!(
        fields_matched(&s, &["Laporan Pelanggan"]),
        Vec::<usize>::new()
    );
    let found = fields_matched(&s, &["Nama", "No HP", "Jenis Kelamin", "nama"]);
    assert_eq!(found.len(), 3, "{found:?}");
}
