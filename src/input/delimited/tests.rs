//! Contract tests of CSV/TSV input: encodings, sniffing, quoting, line numbers and problems.
//!
//! Invariant checked throughout: rows are numbered 1..=n with none lost, and a record that was
//! not read cleanly carries the expected problem code and message.

use std::io::{Cursor, Write};
use std::path::PathBuf;

use encoding_rs::{Encoding, GBK, UTF_16LE, UTF_8};
use proptest::prelude::*;

use super::from_reader;
use crate::input::{Format, Input, InputError, InputOptions, Record, RecordData};

fn options(format: Format, encoding: Option<&'static Encoding>) -> InputOptions {
    InputOptions {
        path: PathBuf::from("test.csv"),
        format,
        delimiter: None,
        encoding,
        max_field_bytes: 1 << 20,
        sheet: None,
        header_row: None,
    }
}

fn open_with(bytes: &[u8], opts: &InputOptions) -> Result<Input, InputError> {
    from_reader(
        Box::new(Cursor::new(bytes.to_vec())),
        opts,
        "test.csv".into(),
    )
}

fn read_with(bytes: &[u8], opts: &InputOptions) -> (Input, Vec<Record>) {
    let mut input = open_with(bytes, opts).unwrap();
    let records = input.by_ref().map(Result::unwrap).collect();
    (input, records)
}

fn read(bytes: &[u8]) -> (Input, Vec<Record>) {
    read_with(bytes, &options(Format::Csv, None))
}

fn cells(record: &Record) -> Vec<&str> {
    match &record.data {
        RecordData::Cells(cells) => cells.iter().collect(),
        other => panic!("not cells: {other:?}"),
    }
}

fn code(record: &Record) -> Option<&'static str> {
    record.problem.as_ref().map(|p| p.code)
}

fn message(record: &Record) -> &str {
    record.problem.as_ref().map_or("", |p| p.message.as_str())
}

fn header_error(bytes: &[u8], opts: &InputOptions) -> String {
    match open_with(bytes, opts) {
        Err(InputError::Unnamed(message)) => message,
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("header accepted"),
    }
}

#[test]
fn utf8_bom_is_stripped() {
    let (input, recs) = read(b"\xEF\xBB\xBFname,phone\n\xE5\xBC\xA0\xE4\xB8\x89,1\n");
    assert_eq!(
        input.headers,
        Some(vec!["name".to_string(), "phone".to_string()])
    );
    assert_eq!(input.encoding, "UTF-8");
    assert_eq!(cells(&recs[0]), ["张三", "1"]);
    assert_eq!((recs[0].row, recs[0].line, code(&recs[0])), (1, 2, None));
}

/// Starts of real-world exports of the kinds a header-only sniffer gets wrong or right, with the
/// delimiter a person reads in them (the kinds CleverCSV's corpus holds).
const EXPORTS: &[(&str, u8)] = &[
    // A bibliography export: every field quoted, `;` between them, commas inside the quotes.
    (
        "\"Author, A.; Other, B.\";\"Title, with, commas\";\"1999\"\n\
         \"Smith, J.\";\"A study, of things, and more\";\"2001\"\n\
         \"Doe, K., Roe, L.\";\"On sniffing, delimiters\";\"2017\"\n",
        b';',
    ),
    (
        "\"Key\";\"Item Type\";\"Publication Year\";\"Author\"\n\
         \"ABC\";\"book\";\"1999\";\"Smith, J., Doe, K., Roe, L.\"\n",
        b';',
    ),
    // A title line without any delimiter above `key;value` lines.
    (
        "# Deutsch\nkey;value\nhello;Hallo, Welt\nbye;Tschüss\n",
        b';',
    ),
    (
        "Laporan Pelanggan\nNama|No HP\nBudi|0812\nSiti|0813\n",
        b'|',
    ),
    // Plain exports stay as they were.
    (
        "name,phone,note\nBudi,0812,\"a; b; c\"\nSiti,0813,x\n",
        b',',
    ),
    ("Nama;No HP;Catatan\nBudi;0812;\"a, b, c\"\n", b';'),
    ("name\tphone\nBudi\t0812\n", b'\t'),
    // A quoted field with a stray character after its quote does not outweigh the header.
    ("name,phone,size\nTV,0812,\"55\"\" screen\"x\n", b','),
];

#[test]
fn delimiter_sniffing_of_real_exports() {
    for (text, want) in EXPORTS {
        let got = read(text.as_bytes()).0.delimiter;
        assert_eq!(got as char, *want as char, "{text}");
    }
}

#[test]
fn delimiter_sniffing() {
    let sniffed = |text: &str| read(text.as_bytes()).0.delimiter;
    assert_eq!(sniffed("a;b;c\n1;2;3\n"), b';');
    assert_eq!(sniffed("a|b|c\n1|2|3\n"), b'|');
    assert_eq!(sniffed("a\tb,c\td\n"), b'\t');
    assert_eq!(sniffed("a,b;c\n"), b',', "tie");
    assert_eq!(sniffed("abc\n"), b',', "none");
    assert_eq!(
        sniffed("\"a;b;c\"|x\n"),
        b'|',
        "inside quotes does not count"
    );
    assert_eq!(sniffed("\n\r\na;b\n"), b';', "leading blank lines");
    // A quote opens a quoted field only at a field's start, for the sniffer as for the parser.
    assert_eq!(sniffed("size (\")|name|price\nS|a|1\n"), b'|');
    assert_eq!(
        sniffed("a\"b,\"c;d;e\n"),
        b';',
        "the quote after a, opens a field"
    );
    let (input, recs) = read(b"size (\")|name|price\nS|a|1\n");
    assert_eq!(
        input.headers,
        Some(vec!["size (\")".into(), "name".into(), "price".into()])
    );
    assert_eq!(cells(&recs[0]), ["S", "a", "1"]);
    let (input, recs) = read(b"name;phone\nAni;0812\n");
    assert_eq!(input.headers, Some(vec!["name".into(), "phone".into()]));
    assert_eq!(cells(&recs[0]), ["Ani", "0812"]);
}

#[test]
fn explicit_delimiter_and_tsv() {
    let mut opts = options(Format::Tsv, None);
    let (input, recs) = read_with(b"a,b\tc\n1,2\t3\n", &opts);
    assert_eq!(input.delimiter, b'\t');
    assert_eq!(cells(&recs[0]), ["1,2", "3"]);
    opts.format = Format::Csv;
    opts.delimiter = Some(b';');
    let (input, recs) = read_with(b"a;b,c,d\n1;2\n", &opts);
    assert_eq!(input.delimiter, b';');
    assert_eq!(cells(&recs[0]), ["1", "2"]);
    opts.delimiter = Some(b'"');
    assert!(header_error(b"a\n", &opts).contains("delimiter"));
}

#[test]
fn quoted_fields_and_line_numbers() {
    let text = "name,notes,phone\n\"Li, Lei\",\"said \"\"hi\"\"\nand left\",1\n\nAni,\"x\ny\nz\",2\nBudi,,3";
    let (_, recs) = read(text.as_bytes());
    assert_eq!(recs.len(), 3);
    assert_eq!(cells(&recs[0]), ["Li, Lei", "said \"hi\"\nand left", "1"]);
    assert_eq!(cells(&recs[1]), ["Ani", "x\ny\nz", "2"]);
    assert_eq!(cells(&recs[2]), ["Budi", "", "3"]);
    let rows: Vec<(u64, u64)> = recs.iter().map(|r| (r.row, r.line)).collect();
    assert_eq!(rows, [(1, 2), (2, 5), (3, 8)]);
    assert!(recs.iter().all(|r| r.problem.is_none()));
}

#[test]
fn crlf_and_cr_line_endings() {
    for eol in ["\r\n", "\r", "\n"] {
        let text = ["a,b", "1,\"x", "y\"", "", "2,3", ""].join(eol);
        let (input, recs) = read(text.as_bytes());
        assert_eq!(input.headers, Some(vec!["a".into(), "b".into()]), "{eol:?}");
        assert_eq!(recs.len(), 2, "{eol:?}");
        assert_eq!(cells(&recs[0]), ["1", format!("x{eol}y").as_str()]);
        assert_eq!((recs[0].line, recs[1].line), (2, 5), "{eol:?}");
        assert_eq!(cells(&recs[1]), ["2", "3"]);
    }
}

#[test]
fn wrong_field_count_is_kept_with_a_problem() {
    let (_, recs) = read(b"a,b,c\n1,2,3\n1,2\n1,2,3,4\n7,8,9\n");
    let codes: Vec<_> = recs.iter().map(code).collect();
    assert_eq!(
        codes,
        [
            None,
            Some("wrong_field_count"),
            Some("wrong_field_count"),
            None
        ]
    );
    assert_eq!(message(&recs[1]), "line 3: expected 3 fields, found 2");
    assert_eq!(message(&recs[2]), "line 4: expected 3 fields, found 4");
    assert_eq!(cells(&recs[2]), ["1", "2", "3", "4"]);
    assert_eq!(recs.iter().map(|r| r.row).collect::<Vec<_>>(), [1, 2, 3, 4]);
}

#[test]
fn a_quote_closed_lines_later_names_the_merged_lines() {
    // Line 3 opens a quote that only the quote at the end of line 5 closes: lines 3–5 become
    // one record of one field.
    let (_, recs) = read(b"name,phone\nA,6281\n\"B,6282\nC,6283\nD,6284\"\nE,6285\n");
    assert_eq!(recs.len(), 3);
    assert_eq!(code(&recs[1]), Some("wrong_field_count"));
    assert_eq!(
        message(&recs[1]),
        "line 3: expected 2 fields, found 1; lines 3–5 were read as one record \
         (a quoted field spans them: check for a misplaced quote)"
    );
    assert_eq!(cells(&recs[1]), ["B,6282\nC,6283\nD,6284"]);
    // A record on one line says nothing of merged lines; a multi-line field of the right
    // width is no problem at all.
    let (_, recs) = read(b"a,b\n1\n\"x\ny\",2\n");
    assert_eq!(message(&recs[0]), "line 2: expected 2 fields, found 1");
    assert_eq!(code(&recs[1]), None);
    assert_eq!(recs[1].line, 3);
}

#[test]
fn unterminated_quote_in_last_field() {
    let (_, recs) = read(b"a,b\n1,2\n3,\"open");
    assert_eq!(recs.len(), 2);
    assert_eq!(code(&recs[1]), Some("unterminated_quote"));
    assert_eq!(
        message(&recs[1]),
        "line 3: a quote opened here is never closed"
    );
    assert_eq!((recs[1].row, recs[1].line), (2, 3));
    assert_eq!(cells(&recs[1]), ["3", "open"]);
}

#[test]
fn unterminated_quote_swallowing_lines() {
    let text = "a,b\n1,2\n3,\"oops\n4,5\n6,7\r\n8,9\n";
    let (_, recs) = read(text.as_bytes());
    assert_eq!(
        recs.len(),
        2,
        "swallowed lines must not come out as records"
    );
    assert_eq!(code(&recs[0]), None);
    assert_eq!(code(&recs[1]), Some("unterminated_quote"));
    assert_eq!(
        message(&recs[1]),
        "line 3: a quote opened here is never closed; lines 3–6 were not read as rows"
    );
    assert_eq!(cells(&recs[1])[1], "oops\n4,5\n6,7\r\n8,9\n");
    // A quote opened on a later line of a multi-line record.
    let (_, recs) = read(b"a,b,c\n\"x\ny\",\"z\n1,2,3\n");
    assert_eq!(recs[0].line, 2);
    assert!(message(&recs[0]).starts_with("line 3: a quote opened here"));
}

#[test]
fn unterminated_quote_in_header_is_fatal() {
    let message = header_error(b"a,\"b\n1,2\n", &options(Format::Csv, None));
    assert!(message.contains("never closed"), "{message}");
}

#[test]
fn a_header_refused_under_a_wrong_encoding_says_what_to_try_once() {
    // An unclosed quote: the refusal ends with what the input reads as.
    let utf8 = "姓名,\"phone\n张,1\n".as_bytes();
    assert_eq!(
        header_error(utf8, &options(Format::Csv, Some(GBK))),
        "line 1: a quote opened in the header is never closed (lines 1–2 were read as the header); the file reads as utf-8: try --encoding utf-8"
    );
    // A header that does not decode names the encoding to try itself, and only that.
    let message = match open_with(
        &gbk("名字,phone\nA,1\n"),
        &options(Format::Csv, Some(UTF_8)),
    ) {
        Err(InputError::Named(message)) => message,
        other => panic!("expected a named header error, got {:?}", other.err()),
    };
    assert_eq!(
        message,
        "the header of test.csv (line 1) is not valid utf-8; try --encoding gbk"
    );
}

fn write_temp(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(bytes).unwrap();
    file.flush().unwrap();
    file
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = GBK.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

fn file_options(
    file: &tempfile::NamedTempFile,
    encoding: Option<&'static Encoding>,
) -> InputOptions {
    InputOptions {
        path: file.path().to_path_buf(),
        ..options(Format::Csv, encoding)
    }
}

#[test]
fn gbk_file_read_with_encoding_gbk() {
    let file = write_temp(&gbk(
        "姓名,电话\r\n张三,13800000000\r\n李四,13900000000\r\n",
    ));
    let mut input = Input::open(&file_options(&file, Some(GBK))).unwrap();
    assert_eq!(input.headers, Some(vec!["姓名".into(), "电话".into()]));
    assert_eq!(input.encoding, "GBK");
    let recs: Vec<Record> = input.by_ref().map(Result::unwrap).collect();
    assert_eq!(cells(&recs[0]), ["张三", "13800000000"]);
    assert_eq!(cells(&recs[1]), ["李四", "13900000000"]);
    assert!(recs.iter().all(|r| r.problem.is_none()));
}

#[test]
fn gbk_file_read_as_utf8_fails_with_a_hint() {
    let file = write_temp(&gbk("姓名,电话\n张三,1\n"));
    let message = match Input::open(&file_options(&file, None)) {
        Err(InputError::Named(message)) => message,
        other => panic!("expected a header error, got {:?}", other.err()),
    };
    let name = file.path().display().to_string();
    assert_eq!(
        message,
        format!("{name} is not UTF-8 text (line 1 holds bytes that are not); it looks like gbk: try --encoding gbk")
    );
}

#[test]
fn gbk_row_with_invalid_bytes_is_rejected_alone() {
    let mut bytes = gbk("姓名,电话\n张三,1\n");
    bytes.extend_from_slice(b"\x81\xFF,2\n");
    bytes.extend_from_slice(&gbk("王五,3\n"));
    let (_, recs) = read_with(&bytes, &options(Format::Csv, Some(GBK)));
    let codes: Vec<_> = recs.iter().map(code).collect();
    assert_eq!(codes, [None, Some("invalid_encoding"), None]);
    assert!(message(&recs[1]).starts_with("line 3, column \"姓名\": not valid gbk"));
    assert!(cells(&recs[1])[0].contains('\u{FFFD}'));
    assert_eq!(cells(&recs[1])[1], "2");
    assert_eq!(cells(&recs[2]), ["王五", "3"]);
}

#[test]
fn gbk_with_pipe_delimiter_is_transcoded_first() {
    // 東 is 0x96 0x7C and 億 is 0x83 0x7C in GBK: their trail byte is `|`.
    let mut bytes = gbk("姓名|城市\n東億|東京\n");
    bytes.extend_from_slice(b"\xFF|x\n\x81|x\n"); // 0xFF never decodes; 0x81 0x7C is 亅
    bytes.extend_from_slice(&gbk("王|億\n"));
    let (input, recs) = read_with(&bytes, &options(Format::Csv, Some(GBK)));
    assert_eq!(input.delimiter, b'|');
    assert_eq!(input.headers, Some(vec!["姓名".into(), "城市".into()]));
    assert_eq!(cells(&recs[0]), ["東億", "東京"]);
    assert_eq!(code(&recs[0]), None);
    assert_eq!(code(&recs[1]), Some("invalid_encoding"));
    assert_eq!(message(&recs[1]), "line 3, column \"姓名\": not valid gbk");
    assert_eq!(cells(&recs[1])[1], "x");
    assert_eq!(cells(&recs[2]), ["亅x"]);
    assert_eq!(code(&recs[2]), Some("wrong_field_count"));
    assert_eq!(cells(&recs[3]), ["王", "億"]);
}

#[test]
fn gbk_header_is_sniffed_after_decoding() {
    // Raw, this header holds two `|` trail bytes and one `,`.
    let bytes = gbk("東億,名\n億,1\n");
    let (input, recs) = read_with(&bytes, &options(Format::Csv, Some(GBK)));
    assert_eq!(input.delimiter, b',');
    assert_eq!(input.headers, Some(vec!["東億".into(), "名".into()]));
    assert_eq!(cells(&recs[0]), ["億", "1"]);
}

#[test]
fn missing_file_says_so() {
    let opts = InputOptions {
        path: PathBuf::from("/nonexistent/custimport/input.csv"),
        ..options(Format::Csv, None)
    };
    assert_eq!(
        Input::open(&opts).err().map(|e| e.to_string()),
        Some("/nonexistent/custimport/input.csv: no such file (check the path)".into())
    );
}

fn utf16le(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

#[test]
fn utf16le_with_bom_wins_over_the_encoding_option() {
    let mut bytes = utf16le("姓名\t电话\r\n张三\t1\r\n");
    bytes.extend_from_slice(&[0x00, 0xD8, b'\t', 0, b'2', 0, b'\n', 0]); // unpaired surrogate
    bytes.extend(utf16le("王五\t3\r\n").into_iter().skip(2));
    let (input, recs) = read_with(&bytes, &options(Format::Csv, Some(GBK)));
    assert_eq!(input.encoding, UTF_16LE.name());
    assert_eq!(input.delimiter, b'\t');
    assert_eq!(input.headers, Some(vec!["姓名".into(), "电话".into()]));
    assert_eq!(cells(&recs[0]), ["张三", "1"]);
    assert_eq!(code(&recs[1]), Some("invalid_encoding"));
    assert_eq!(
        message(&recs[1]),
        "line 3, column \"姓名\": not valid utf-16le"
    );
    assert_eq!(cells(&recs[2]), ["王五", "3"]);
    assert_eq!(recs.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3, 4]);
}

#[test]
fn a_long_column_name_is_cut_in_messages() {
    let long = "n".repeat(100_000);
    let mut bytes = format!("a,{long}\n1,").into_bytes();
    bytes.extend_from_slice(b"\xff\n");
    let (_, recs) = read_with(&bytes, &options(Format::Csv, Some(encoding_rs::UTF_8)));
    let cut = format!("line 2, column \"{}…\": not valid utf-8", "n".repeat(60));
    assert!(message(&recs[0]).starts_with(&cut), "{}", message(&recs[0]));
}

#[test]
fn repeated_header_names_are_numbered() {
    let (input, recs) = read(b"name,phone, email ,phone (2),phone,x,phone\nA,1,e,2,3,x,4\n");
    let names = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        input.headers,
        names(&[
            "name",
            "phone",
            "email",
            "phone (2)",
            "phone (3)",
            "x",
            "phone (4)"
        ])
    );
    assert_eq!(
        input.original_headers,
        names(&["name", "phone", "email", "phone (2)", "phone", "x", "phone"])
    );
    assert_eq!(
        input.warnings,
        ["the header repeats column names: \"phone\" (columns 2, 5, 7) read as \"phone\", \"phone (3)\", \"phone (4)\"; use these names with --map (failed.csv keeps the original header)"]
    );
    assert_eq!(cells(&recs[0]), ["A", "1", "e", "2", "3", "x", "4"]);
    // However many repeat, the warning stays short.
    let mut wide = (0..500)
        .map(|i| format!("c{}", i % 50))
        .collect::<Vec<_>>()
        .join(",");
    wide.push('\n');
    let (input, _) = read(wide.as_bytes());
    let headers = input.headers.unwrap();
    assert_eq!(
        (headers[50].as_str(), headers[499].as_str()),
        ("c0 (2)", "c49 (10)")
    );
    assert_eq!(
        input.warnings,
        ["the header repeats column names: \"c0\" (columns 1, 51, 101, 151, 201, …) read as \"c0\", \"c0 (2)\", \"c0 (3)\", \"c0 (4)\", \"c0 (5)\", …; \"c1\" (columns 2, 52, 102, 152, 202, …) read as \"c1\", \"c1 (2)\", \"c1 (3)\", \"c1 (4)\", \"c1 (5)\", …; \"c2\" (columns 3, 53, 103, 153, 203, …) read as \"c2\", \"c2 (2)\", \"c2 (3)\", \"c2 (4)\", \"c2 (5)\", …; \"c3\" (columns 4, 54, 104, 154, 204, …) read as \"c3\", \"c3 (2)\", \"c3 (3)\", \"c3 (4)\", \"c3 (5)\", …; \"c4\" (columns 5, 55, 105, 155, 205, …) read as \"c4\", \"c4 (2)\", \"c4 (3)\", \"c4 (4)\", \"c4 (5)\", …; and 45 more; use these names with --map (failed.csv keeps the original header)"]
    );
    // Empty names may repeat; names are trimmed.
    let (input, _) = read(b" a ,,\t,b\n");
    assert_eq!(
        input.headers,
        Some(vec!["a".into(), "".into(), "".into(), "b".into()])
    );
}

#[test]
fn empty_and_header_only_files() {
    for empty in [&b""[..], b"\n\r\n\n", b"\xEF\xBB\xBF"] {
        let (input, recs) = read(empty);
        assert_eq!(input.headers, Some(vec![]));
        assert!(recs.is_empty());
    }
    for header_only in [&b"a,b"[..], b"a,b\n", b"a,b\r\n\r\n"] {
        let (input, recs) = read(header_only);
        assert_eq!(input.headers, Some(vec!["a".into(), "b".into()]));
        assert!(recs.is_empty());
    }
}

#[test]
fn oversized_field_is_rejected_with_its_column() {
    let mut opts = options(Format::Csv, None);
    opts.max_field_bytes = 8;
    let text = format!(
        "name,notes\nAni,short\nBudi,\"{}\"\nCici,ok\n",
        "x".repeat(10_000)
    );
    let (_, recs) = read_with(text.as_bytes(), &opts);
    let codes: Vec<_> = recs.iter().map(code).collect();
    assert_eq!(codes, [None, Some("field_too_large"), None]);
    assert_eq!(
        message(&recs[1]),
        "line 3, column \"notes\": field longer than 8 bytes"
    );
    // Kept as far as the record's cap (8 x 8 bytes, "Budi" included) for the failure report.
    assert_eq!(cells(&recs[1])[1].len(), 60);
}

#[test]
fn input_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Input>();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn arbitrary_bytes_never_break_the_stream(
        header in prop_oneof![Just(&b""[..]), Just(&b"a,b,c\n"[..]), Just(&b"a|b\r\n"[..])],
        body in proptest::collection::vec(
            prop_oneof![
                Just(b'"'), Just(b','), Just(b'|'), Just(b';'), Just(b'\t'), Just(b'\n'),
                Just(b'\r'), Just(b'a'), Just(0x81), Just(0xFF), Just(0xE5), any::<u8>()
            ],
            0..120,
        ),
        encoding in prop_oneof![Just(None), Just(Some(GBK)), Just(Some(UTF_16LE))],
        delimiter in prop_oneof![Just(None), Just(Some(b'|'))],
        cap in prop_oneof![Just(1usize << 20), 0usize..6],
    ) {
        let opts = InputOptions { delimiter, max_field_bytes: cap, ..options(Format::Csv, encoding) };
        let bytes = [header, &body].concat();
        let input = match open_with(&bytes, &opts) {
            Ok(input) => input,
            // A header that cannot be read is refused with a reason, never a panic.
            Err(InputError::Named(message) | InputError::Unnamed(message)) => {
                prop_assert!(!message.is_empty());
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(format!("unexpected error {e}"))),
        };
        let utf8 = input.encoding == "UTF-8";
        let lines = 2 + bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64;
        let mut last_line = 0;
        for (i, record) in input.enumerate() {
            let record = record.unwrap();
            prop_assert_eq!(record.row, i as u64 + 1);
            prop_assert!(record.line > last_line && record.line <= lines);
            last_line = record.line;
            if record.problem.is_none() && utf8 && !bytes.windows(3).any(|w| w == b"\xEF\xBF\xBD")
            {
                prop_assert!(cells(&record).iter().all(|c| !c.contains(char::REPLACEMENT_CHARACTER)), "U+FFFD in a clean record");
            }
        }
    }
}

#[test]
fn header_row_skips_title_lines_and_sniffs_the_header() {
    let opts = InputOptions {
        header_row: Some(3),
        ..options(Format::Csv, None)
    };
    // A title with commas, a print date, a blank line, then a `;` header.
    let text =
        "Laporan, PT Maju, 2026\nDicetak: 07/12/2026\n\nNama;No HP\nBudi;0812\n\nSiti;0813\n";
    let (input, records) = read_with(text.as_bytes(), &opts);
    assert_eq!(input.delimiter, b';');
    assert_eq!(input.headers, Some(vec!["Nama".into(), "No HP".into()]));
    let rows: Vec<(u64, u64)> = records.iter().map(|r| (r.row, r.line)).collect();
    assert_eq!(rows, [(1, 5), (2, 7)]);
    assert_eq!(cells(&records[1]), ["Siti", "0813"]);
    assert!(records.iter().all(|r| r.problem.is_none()));
    let opts = InputOptions {
        header_row: Some(7),
        ..opts
    };
    let e = open_with(text.as_bytes(), &opts)
        .err()
        .map(|e| e.to_string());
    assert!(
        e.as_deref()
            .is_some_and(|e| e.ends_with("has only 5 non-blank lines")),
        "{e:?}"
    );
}

#[test]
fn header_cells_are_read_without_a_formula_guard_and_trimmed() {
    let (input, _) = read(b"'@tag,'=score,'\tname,'plain\nA,1,2,3\n");
    assert_eq!(
        input.headers,
        Some(vec![
            "@tag".into(),
            "=score".into(),
            "name".into(),
            "'plain".into()
        ])
    );
}
