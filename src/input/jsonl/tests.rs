//! Unit tests of `input::jsonl`.
use std::io::Cursor;
use std::path::PathBuf;

use encoding_rs::{Encoding, GBK, UTF_8};
use proptest::prelude::*;

use super::*;

fn options(encoding: Option<&'static Encoding>, max: usize) -> InputOptions {
    InputOptions {
        path: PathBuf::from("test.jsonl"),
        format: Format::Jsonl,
        delimiter: None,
        encoding,
        max_field_bytes: max,
        sheet: None,
        header_row: None,
    }
}

fn read_with(bytes: &[u8], opts: &InputOptions) -> (Input, Vec<Record>) {
    let source = Box::new(Cursor::new(bytes.to_vec()));
    let mut input = from_reader(source, opts, "test.jsonl".into()).unwrap();
    let records = input.by_ref().map(Result::unwrap).collect();
    (input, records)
}

fn read(bytes: &[u8]) -> (Input, Vec<Record>) {
    read_with(bytes, &options(None, 1 << 20))
}

fn code(record: &Record) -> Option<&'static str> {
    record.problem.as_ref().map(|p| p.code)
}

fn message(record: &Record) -> &str {
    record.problem.as_ref().map_or("", |p| p.message.as_str())
}

fn line_text(record: &Record) -> &str {
    match &record.data {
        RecordData::Line(text) | RecordData::Wrapped { line: text, .. } => text,
        other => panic!("not a line: {other:?}"),
    }
}

#[test]
fn objects_keep_key_order_and_skip_blank_lines() {
    let text = "\u{FEFF}{\"z\":1,\"a\":\"张三\"}\r\n\r\n   \n\t\r\n{\"phone\":\"0812\"}";
    let (input, recs) = read(text.as_bytes());
    assert_eq!(input.headers, None);
    assert_eq!(input.format, Format::Jsonl);
    assert_eq!(input.blank_lines(), 3);
    assert_eq!(recs.len(), 2);
    let RecordData::Object(first) = &recs[0].data else {
        panic!("not an object")
    };
    assert_eq!(first.keys().collect::<Vec<_>>(), ["z", "a"]);
    assert_eq!(first["a"], "张三");
    assert_eq!((recs[0].row, recs[0].line), (1, 1));
    assert_eq!((recs[1].row, recs[1].line), (2, 5));
    assert!(recs.iter().all(|r| r.problem.is_none()));
}

#[test]
fn invalid_and_non_object_lines_are_kept() {
    let (_, recs) = read(b"{\"a\":1}\n{\"a\":\n[1,2]\n\"x\"\nnull\n{\"a\":1} 2\n");
    let codes: Vec<_> = recs.iter().map(code).collect();
    let expected = [
        None,
        Some("invalid_json"),
        Some("not_an_object"),
        Some("not_an_object"),
        Some("not_an_object"),
        Some("invalid_json"),
    ];
    assert_eq!(codes, expected);
    assert!(message(&recs[1]).starts_with("line 2: not valid JSON: EOF while parsing"));
    assert_eq!(line_text(&recs[1]), "{\"a\":");
    assert_eq!(message(&recs[2]), "line 3: not a JSON object but an array");
    assert_eq!(line_text(&recs[2]), "[1,2]");
    assert_eq!(message(&recs[4]), "line 5: not a JSON object but null");
    assert_eq!(
        recs.iter().map(|r| r.row).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
}

#[test]
fn failure_report_wrappers_are_read_as_their_line() {
    let (_, recs) = read(
        b"{\"custimport\":{\"row\":1},\"line\":\"[1,2]\"}\n{\"custimport\":{\"row\":2},\"line\":\"{\\\"name\\\":\\\"A\\\"}\"}\n{\"line\":\"x\",\"name\":\"B\"}\n",
    );
    assert_eq!(code(&recs[0]), Some("not_an_object"));
    assert_eq!(line_text(&recs[0]), "[1,2]");
    // The wrapper's `custimport` goes with the line (the first file's row number).
    let RecordData::Wrapped { custimport, .. } = &recs[0].data else {
        panic!("{:?}", recs[0].data)
    };
    assert_eq!(custimport.get("row"), Some(&Value::from(1)));
    let RecordData::Object(fixed) = &recs[1].data else {
        panic!("{:?}", recs[1].data)
    };
    assert_eq!(fixed.get("name"), Some(&Value::String("A".into())));
    let row = fixed.get("custimport").and_then(|c| c.get("row"));
    assert_eq!(row, Some(&Value::from(2)));
    assert!(matches!(&recs[2].data, RecordData::Object(o) if o.len() == 2));
}

#[test]
fn deep_nesting_is_rejected_without_recursion() {
    let ok = format!("{{\"a\":{}1{}}}", "[".repeat(31), "]".repeat(31));
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(32), "]".repeat(32));
    let huge = "[".repeat(200_000);
    let strings = format!("{{\"a\":\"{}\"}}", "[{".repeat(100));
    let text = [ok.as_str(), &deep, &huge, &strings].join("\n");
    let (_, recs) = read(text.as_bytes());
    let codes: Vec<_> = recs.iter().map(code).collect();
    assert_eq!(codes, [None, Some("too_deep"), Some("too_deep"), None]);
    assert_eq!(message(&recs[1]), "line 2: nested deeper than 32 levels");
}

#[test]
fn long_line_is_skipped_to_its_end() {
    let long = format!("{{\"a\":\"{}\"}}", "x".repeat(100_000));
    let text = format!("{{\"a\":1}}\n{long}\r\n{{\"b\":2}}\n{}\r\n", "y".repeat(17));
    let (_, recs) = read_with(text.as_bytes(), &options(None, 16));
    let codes: Vec<_> = recs.iter().map(code).collect();
    assert_eq!(
        codes,
        [None, Some("field_too_large"), None, Some("field_too_large")]
    );
    assert_eq!(message(&recs[1]), "line 2: longer than 16 bytes");
    assert_eq!(line_text(&recs[1]).len(), 16);
    assert_eq!(recs[2].line, 3);
    // Exactly at the cap (the CR of CRLF does not count) is fine.
    let (_, recs) = read_with(b"{\"a\":\"1234567\"}\r\n", &options(None, 15));
    assert_eq!(code(&recs[0]), None);
}

#[test]
fn undecodable_lines_are_rejected_alone() {
    let (_, recs) = read_with(
        b"{\"a\":\"\xE5\xBC\"}\n{\"a\":1}\n",
        &options(Some(UTF_8), 1 << 20),
    );
    assert_eq!(code(&recs[0]), Some("invalid_encoding"));
    assert!(message(&recs[0]).starts_with("line 1: not valid utf-8"));
    assert!(line_text(&recs[0]).contains('\u{FFFD}'));
    assert_eq!(code(&recs[1]), None);
    let mut gbk = GBK.encode("{\"姓名\":\"张三\"}\n").0.into_owned();
    gbk.extend_from_slice(b"{\"a\":\"\xFF\"}\n");
    let (input, recs) = read_with(&gbk, &options(Some(GBK), 1 << 20));
    assert_eq!(input.encoding, "GBK");
    let RecordData::Object(first) = &recs[0].data else {
        panic!("not an object")
    };
    assert_eq!(first["姓名"], "张三");
    assert!(message(&recs[1]).starts_with("line 2: not valid gbk"));
}

#[test]
fn utf16_bom_is_honoured() {
    let mut bytes = vec![0xFE, 0xFF];
    bytes.extend(
        "{\"a\":\"张\"}\r\n\n[1]\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes),
    );
    let (input, recs) = read(&bytes);
    assert_eq!(input.encoding, "UTF-16BE");
    assert_eq!(input.blank_lines(), 1);
    assert_eq!(code(&recs[0]), None);
    assert_eq!((code(&recs[1]), recs[1].line), (Some("not_an_object"), 3));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn arbitrary_bytes_never_break_the_stream(
        bytes in proptest::collection::vec(
            prop_oneof![
                Just(b'{'), Just(b'}'), Just(b'['), Just(b'"'), Just(b':'), Just(b'\n'),
                Just(b'\r'), Just(b' '), Just(b'1'), Just(0xFF), any::<u8>()
            ],
            0..120,
        ),
        encoding in prop_oneof![Just(Some(UTF_8)), Just(Some(GBK)), Just(Some(encoding_rs::UTF_16LE))],
        cap in prop_oneof![Just(1usize << 20), 0usize..8],
    ) {
        let source = Box::new(Cursor::new(bytes.clone()));
        let mut input = match from_reader(source, &options(encoding, cap), "t".into()) {
            Ok(input) => input,
            // Only a file without a single non-blank line is refused.
            Err(e) => {
                prop_assert!(e.to_string().contains("holds no data lines"), "{e}");
                return Ok(());
            }
        };
        let recs: Vec<Record> = input.by_ref().map(Result::unwrap).collect();
        let lines = 1 + bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        prop_assert!(recs.len() as u64 + input.blank_lines() <= lines);
        let mut last_line = 0;
        for (i, record) in recs.iter().enumerate() {
            prop_assert_eq!(record.row, i as u64 + 1);
            prop_assert!(record.line > last_line && record.line <= lines);
            last_line = record.line;
            prop_assert_eq!(record.problem.is_none(), matches!(record.data, RecordData::Object(_)));
        }
    }
}
