//! Unit tests of `report`.
use super::*;

#[test]
fn guard_prefixes_formula_cells() {
    for (i, o) in [
        ("=1+1", "'=1+1"),
        ("+62", "'+62"),
        ("-x", "'-x"),
        ("@a", "'@a"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("", ""),
    ] {
        assert_eq!(guard(i), o);
    }
}

#[test]
fn phone_columns_skip_the_guard_only_for_phone_numbers() {
    for kept in ["+62 812-3456", "(021) 555.1234", "-0812", "6281", ""] {
        assert_eq!(guard_phone(kept), kept);
    }
    for (i, o) in [
        (
            "=HYPERLINK(\"http://x\",\"y\")",
            "'=HYPERLINK(\"http://x\",\"y\")",
        ),
        ("@SUM(1)", "'@SUM(1)"),
        ("+62=1", "'+62=1"),
        ("++62", "'++62"),
        ("-", "'-"),
        ("\t62", "'\t62"),
        ("\r62", "'\r62"),
        ("-1+1", "'-1+1"),
    ] {
        assert_eq!(guard_phone(i), o);
    }
}

#[test]
fn masks() {
    assert_eq!(mask_phone("6281234567890"), "*********7890");
    assert_eq!(mask_phone("12"), "12");
}

#[test]
fn failed_csv_reproduces_cells_and_guards_non_phone_columns() {
    let header: Vec<String> = ["name", "phone", "note"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut w = FailedWriter::csv(Vec::new(), &header, vec![false, true, false], b',').unwrap();
    let cells = RecordData::Cells(["=cmd", "+62 812", "a,\"b\"\nc"].into_iter().collect());
    w.write(
        3,
        &cells,
        "rejected",
        "invalid_phone",
        "line 4: whats_app_phone: must be digits",
    )
    .unwrap();
    w.write(
        5,
        &RecordData::Cells(["short"].into_iter().collect()),
        "rejected",
        "wrong_field_count",
        "line 6: expected 3 fields, found 1",
    )
    .unwrap();
    let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
    assert_eq!(
        out,
        "name,phone,note,custimport_row,custimport_outcome,custimport_code,custimport_error\n\
         '=cmd,+62 812,\"a,\"\"b\"\"\nc\",3,rejected,invalid_phone,line 4: whats_app_phone: must be digits\n\
         short,,,5,rejected,wrong_field_count,\"line 6: expected 3 fields, found 1\"\n"
    );
}

#[test]
fn failed_csv_drops_reserved_columns_and_puts_surplus_cells_last() {
    let header: Vec<String> = ["name", "custimport_row", "phone", "custimport_error"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut w = FailedWriter::csv(Vec::new(), &header, vec![false; 4], b',').unwrap();
    let cells = RecordData::Cells(["A", "3", "x", "old", "extra"].into_iter().collect());
    w.write(1, &cells, "rejected", "wrong_field_count", "e")
        .unwrap();
    let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
    assert_eq!(
        out,
        "name,phone,custimport_row,custimport_outcome,custimport_code,custimport_error\n\
         A,x,3,rejected,wrong_field_count,e,extra\n"
    );
}

#[test]
fn the_input_row_number_is_kept_and_an_empty_one_is_replaced() {
    let header: Vec<String> = ["name", "custimport_row"].map(str::to_owned).to_vec();
    let mut w = FailedWriter::csv(Vec::new(), &header, vec![false; 2], b',').unwrap();
    for (row, kept) in [(1, " 110 "), (2, ""), (3, "  ")] {
        let cells = RecordData::Cells(["A", kept].into_iter().collect());
        w.write(row, &cells, "rejected", "c", "e").unwrap();
    }
    let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
    assert_eq!(
        out,
        "name,custimport_row,custimport_outcome,custimport_code,custimport_error\n\
         A,110,rejected,c,e\nA,2,rejected,c,e\nA,3,rejected,c,e\n"
    );
    let p = Provenance::of(Some(&header));
    let data = RecordData::Cells(["A", "7"].into_iter().collect());
    assert_eq!(p.source(&data).as_deref(), Some("7"));
    let obj = |v: Value| {
        let mut m = Map::new();
        m.insert("custimport".into(), serde_json::json!({ "row": v }));
        RecordData::Object(m)
    };
    let none = Provenance::of(None);
    assert_eq!(none.source(&obj(Value::from(12))).as_deref(), Some("12"));
    assert_eq!(none.source(&obj(Value::from("12"))).as_deref(), Some("12"));
    assert_eq!(none.source(&obj(Value::Null)), None);
}

#[test]
fn header_cells_are_guarded_and_negative_numbers_and_codes_are_not() {
    let header: Vec<String> = ["=HDR()", "n"].map(str::to_owned).to_vec();
    let mut w = FailedWriter::csv(Vec::new(), &header, vec![false; 2], b',').unwrap();
    let cells = RecordData::Cells(["-1.5", "-27"].into_iter().collect());
    w.write(1, &cells, "failed", "-27", "-x").unwrap();
    let cells = RecordData::Cells(["-1.", "-1+1"].into_iter().collect());
    w.write(2, &cells, "failed", "=cmd", "=e").unwrap();
    let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
    assert_eq!(
        out,
        "'=HDR(),n,custimport_row,custimport_outcome,custimport_code,custimport_error\n\
         -1.5,-27,1,failed,-27,'-x\n\
         '-1.,'-1+1,2,failed,=cmd,'=e\n"
    );
    for (i, o) in [
        ("-27", "-27"),
        ("-1.5", "-1.5"),
        ("-.5", "'-.5"),
        ("-", "'-"),
        ("-1e5", "'-1e5"),
    ] {
        assert_eq!(guard(i), o, "{i}");
    }
}

#[test]
fn failed_jsonl_keeps_the_object_and_adds_custimport() {
    let obj: serde_json::Map<String, Value> =
        serde_json::from_str(r#"{"b":1,"a":"x","n":12345678901234567890123}"#).unwrap();
    let mut w = FailedWriter::jsonl(Vec::new());
    w.write(1, &RecordData::Object(obj), "failed", "12148", "seat")
        .unwrap();
    w.write(
        2,
        &RecordData::Line("not json".into()),
        "rejected",
        "invalid_json",
        "line 2: not valid JSON",
    )
    .unwrap();
    let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
    assert_eq!(
        out,
        "{\"b\":1,\"a\":\"x\",\"n\":12345678901234567890123,\"custimport\":{\"row\":1,\"outcome\":\"failed\",\"code\":\"12148\",\"error\":\"seat\"}}\n\
         {\"custimport\":{\"row\":2,\"outcome\":\"rejected\",\"code\":\"invalid_json\",\"error\":\"line 2: not valid JSON\"},\"line\":\"not json\"}\n"
    );
}

#[test]
fn success_csv_guards_names_not_phones_and_masks_on_request() {
    let mut w = SuccessWriter::new(
        Vec::new(),
        &["customer_id", "whats_app_phone", "full_name"],
        &["whats_app_phone"],
        false,
    )
    .unwrap();
    w.write(1, &["1214631327620775936", "6281234567890", "=evil"])
        .unwrap();
    let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
    assert_eq!(
        out,
        "row,customer_id,whats_app_phone,full_name\n1,1214631327620775936,6281234567890,'=evil\n"
    );
    let mut w = SuccessWriter::new(
        Vec::new(),
        &["phone_number", "name"],
        &["phone_number"],
        true,
    )
    .unwrap();
    w.write(7, &["6281234567890", "Ann"]).unwrap();
    let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
    assert_eq!(out, "row,phone_number,name\n7,*********7890,Ann\n");
}

#[cfg(unix)]
#[test]
fn report_files_are_private_and_atomic() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (rf, mut w) = PendingReport::create(dir.path(), ReportFile::Success).unwrap();
    w.write_all(b"row\n").unwrap();
    assert!(!dir.path().join("success.csv").exists());
    rf.commit(w).unwrap();
    let meta = std::fs::metadata(dir.path().join("success.csv")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("success.csv")).unwrap(),
        "row\n"
    );
}
