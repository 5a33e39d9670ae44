//! Property tests.
//!
//! A. Input: arbitrary bytes read as CSV/TSV and JSONL through the public `Input` API (never a
//!    panic, always the end, rows numbered 1..=n, clean records well-formed), well-formed tables
//!    and JSON lines written in UTF-8, GBK, Shift_JIS, Big5 and UTF-16 read back exactly, and a
//!    smaller number of arbitrary files through the binary with `--dry-run` (exit code, summary
//!    accounting, failure report, agreement with the library). More than 10,000 cases in all.
//! B. Accounting: random row validity and random server faults; every row ends exactly once,
//!    the reports and summary agree, and the sandbox holds exactly what the outcomes allow.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, OnceLock};
use std::time::Duration;

use custimport::input::{Format, Input, InputError, InputOptions, Record, RecordData};
use encoding_rs::Encoding;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value};

use crate::env::{cell, read_csv, TestEnv};

// ---------------------------------------------------------------------------------------------
// A. helpers

const CODES: [&str; 7] = [
    "wrong_field_count",
    "invalid_encoding",
    "unterminated_quote",
    "field_too_large",
    "invalid_json",
    "not_an_object",
    "too_deep",
];

/// What reading a whole input gave.
#[derive(Debug)]
struct Read {
    headers: Option<Vec<String>>,
    encoding: &'static str,
    delimiter: u8,
    records: Vec<Record>,
    blank_lines: u64,
}

/// Opens `path` and reads every record, on a thread with a deadline: reading must end. At most
/// `limit` records are taken; the stream must be over by then.
fn read_input(opts: InputOptions, limit: usize) -> Result<Read, InputError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = Input::open(&opts).map(|mut input| {
            let mut records = Vec::new();
            for rec in input.by_ref().take(limit) {
                records.push(rec.expect("no I/O error reading a file"));
            }
            assert!(input.next().is_none(), "more than {limit} records");
            Read {
                headers: input.headers.clone(),
                encoding: input.encoding,
                delimiter: input.delimiter,
                blank_lines: input.blank_lines(),
                records,
            }
        });
        let _ = tx.send(result);
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("reading did not end within 20 s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("reading panicked"),
    }
}

fn options(path: &Path, format: Format, encoding: Option<&'static Encoding>) -> InputOptions {
    InputOptions {
        path: path.to_path_buf(),
        format,
        delimiter: None,
        encoding,
        max_field_bytes: 1 << 20,
    }
}

/// A scratch file per test thread, rewritten for every case.
fn scratch(name: &str) -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    let thread = format!("{:?}", std::thread::current().id())
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>();
    dir.path().join(format!("{thread}-{name}"))
}

fn write_file(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(bytes).unwrap();
}

/// The bytes of U+FFFD in an encoding, when it has them (then a clean record may hold it).
fn fffd_bytes(encoding: &str) -> Option<&'static [u8]> {
    match encoding {
        "UTF-8" => Some(b"\xEF\xBF\xBD"),
        "UTF-16LE" => Some(b"\xFD\xFF"),
        "UTF-16BE" => Some(b"\xFF\xFD"),
        _ => None,
    }
}

fn may_hold_fffd(bytes: &[u8], encoding: &str) -> bool {
    fffd_bytes(encoding).is_some_and(|f| bytes.windows(f.len()).any(|w| w == f))
        || bytes.windows(2).any(|w| w == b"\\u")
}

/// Physical lines (CR, LF and CRLF each end one) of ASCII-compatible bytes, plus one.
fn physical_lines(bytes: &[u8]) -> u64 {
    let mut n = 1;
    let mut prev_cr = false;
    for &b in bytes {
        match b {
            b'\r' => {
                n += 1;
                prev_cr = true;
            }
            b'\n' => {
                if !prev_cr {
                    n += 1;
                }
                prev_cr = false;
            }
            _ => prev_cr = false,
        }
    }
    n
}

/// Bytes biased towards what breaks CSV and JSONL readers and decoders.
fn hostile_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        3 => prop::sample::select(&b"\",;|\t\r\n'= a1{}[]:\\"[..]),
        1 => prop::sample::select(&[0x80u8, 0x81, 0xA1, 0xE5, 0xEF, 0xBB, 0xBF, 0xFE, 0xFF, 0x00, 0xD8, 0xDC][..]),
        2 => any::<u8>(),
    ];
    let chunk = prop_oneof![
        6 => prop::collection::vec(byte, 1..4),
        1 => prop::sample::select(vec![
            "张三".as_bytes().to_vec(),
            encoding_rs::GBK.encode("张三|").0.into_owned(),
            encoding_rs::SHIFT_JIS.encode("ソ表").0.into_owned(),
            b"\"\"".to_vec(),
            b"\r\n".to_vec(),
            b"{\"a\":".to_vec(),
            b"\"custimport\":{},\"line\":".to_vec(),
            b"name,phone\n".to_vec(),
        ]),
    ];
    let bom = prop_oneof![
        6 => Just(Vec::new()),
        1 => Just(b"\xEF\xBB\xBF".to_vec()),
        1 => Just(b"\xFF\xFE".to_vec()),
        1 => Just(b"\xFE\xFF".to_vec()),
    ];
    (bom, prop::collection::vec(chunk, 0..max)).prop_map(|(mut bom, chunks)| {
        bom.extend(chunks.concat());
        bom
    })
}

fn any_encoding() -> impl Strategy<Value = Option<&'static Encoding>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(encoding_rs::UTF_8)),
        2 => Just(Some(encoding_rs::GBK)),
        1 => Just(Some(encoding_rs::GB18030)),
        1 => Just(Some(encoding_rs::SHIFT_JIS)),
        1 => Just(Some(encoding_rs::BIG5)),
        1 => Just(Some(encoding_rs::EUC_KR)),
        1 => Just(Some(encoding_rs::WINDOWS_1252)),
        1 => Just(Some(encoding_rs::UTF_16LE)),
        1 => Just(Some(encoding_rs::UTF_16BE)),
    ]
}

fn problem_code(r: &Record) -> Option<&'static str> {
    r.problem.as_ref().map(|p| p.code)
}

/// The number after `line ` at the start of a problem message.
fn message_line(message: &str) -> Option<u64> {
    let rest = message.strip_prefix("line ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn check_common(read: &Read, bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut last_line = 0;
    let ascii_lines = !read.encoding.starts_with("UTF-16");
    let lines = physical_lines(bytes);
    for (i, r) in read.records.iter().enumerate() {
        prop_assert_eq!(r.row, i as u64 + 1, "rows are numbered 1..=n");
        prop_assert!(r.line > last_line, "lines increase: {:?}", r);
        if ascii_lines {
            prop_assert!(r.line <= lines, "line {} of {} lines", r.line, lines);
        }
        last_line = r.line;
        if let Some(p) = &r.problem {
            prop_assert!(CODES.contains(&p.code), "code {}", p.code);
            let at = message_line(&p.message);
            prop_assert!(
                at.is_some_and(|l| l >= r.line),
                "message names the line: {:?} (record at line {})",
                p.message,
                r.line
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// A1. arbitrary bytes, in process

proptest! {
    #![proptest_config(Config { cases: 3500, failure_persistence: None, ..Config::default() })]

    #[test]
    fn csv_arbitrary_bytes_in_process(
        bytes in hostile_bytes(60),
        tsv in prop::bool::weighted(0.2),
        encoding in any_encoding(),
        delimiter in prop_oneof![
            4 => Just(None),
            1 => prop::sample::select(&[b',', b';', b'|', b'\t', b' ', b'a', b'"', b'\n'][..]).prop_map(Some),
        ],
        cap in prop_oneof![4 => Just(1usize << 20), 1 => 0usize..8],
    ) {
        let path = scratch("a.csv");
        write_file(&path, &bytes);
        let format = if tsv { Format::Tsv } else { Format::Csv };
        let opts = InputOptions {
            delimiter,
            max_field_bytes: cap,
            ..options(&path, format, encoding)
        };
        let read = match read_input(opts, bytes.len() + 2) {
            Ok(read) => read,
            Err(InputError::Invalid(message)) => {
                prop_assert!(!message.is_empty());
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(format!("unexpected error {e}"))),
        };
        prop_assert!(!matches!(delimiter, Some(b'"' | b'\n')), "a quote or LF delimiter is refused");
        let headers = read.headers.clone().expect("CSV has a header");
        if let Some(d) = delimiter {
            prop_assert_eq!(read.delimiter, d);
        } else if tsv {
            prop_assert_eq!(read.delimiter, b'\t');
        }
        // Header names are unique (blank ones aside) and trimmed.
        let named: Vec<&String> = headers.iter().filter(|h| !h.is_empty()).collect();
        let unique: BTreeSet<&String> = named.iter().copied().collect();
        prop_assert_eq!(named.len(), unique.len(), "duplicate header {:?}", headers);
        prop_assert!(headers.iter().all(|h| h.trim() == h));
        if headers.is_empty() {
            prop_assert!(read.records.is_empty());
        }
        check_common(&read, &bytes)?;
        for r in &read.records {
            let RecordData::Cells(cells) = &r.data else {
                return Err(TestCaseError::fail("CSV record without cells"));
            };
            if r.problem.is_none() {
                prop_assert_eq!(cells.len(), headers.len(), "clean record of the header's width");
                if cap < (1 << 20) {
                    prop_assert!(cells.iter().all(|c| c.len() <= cap.max(1) * 4));
                }
                if !may_hold_fffd(&bytes, read.encoding) {
                    prop_assert!(
                        cells.iter().all(|c| !c.contains('\u{FFFD}')),
                        "U+FFFD in a clean record: {:?}", cells
                    );
                }
            }
            if problem_code(r) == Some("wrong_field_count") {
                prop_assert_ne!(cells.len(), headers.len());
            }
        }
    }

    #[test]
    fn jsonl_arbitrary_bytes_in_process(
        bytes in hostile_bytes(60),
        encoding in any_encoding(),
        cap in prop_oneof![4 => Just(1usize << 20), 1 => 0usize..12],
    ) {
        let path = scratch("a.jsonl");
        write_file(&path, &bytes);
        let opts = InputOptions { max_field_bytes: cap, ..options(&path, Format::Jsonl, encoding) };
        let read = read_input(opts, bytes.len() + 2).expect("JSONL opens");
        prop_assert!(read.headers.is_none());
        check_common(&read, &bytes)?;
        if !read.encoding.starts_with("UTF-16") {
            let lf_lines = 1 + bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            prop_assert!(read.records.len() as u64 + read.blank_lines <= lf_lines);
        }
        for r in &read.records {
            match (&r.data, &r.problem) {
                (RecordData::Object(map), None) => {
                    if !may_hold_fffd(&bytes, read.encoding) {
                        let text = Value::Object(map.clone()).to_string();
                        prop_assert!(!text.contains('\u{FFFD}'), "U+FFFD in a clean object: {}", text);
                    }
                    // A failure report's wrapper is never passed on as an object.
                    prop_assert!(
                        !(map.len() == 2 && map.get("custimport").is_some_and(Value::is_object)
                            && map.get("line").is_some_and(Value::is_string)),
                        "wrapper passed on: {:?}", map
                    );
                }
                (RecordData::Line(_), Some(p)) => {
                    prop_assert!(p.message.starts_with(&format!("line {}:", r.line)), "{:?}", p);
                }
                (data, problem) => {
                    return Err(TestCaseError::fail(format!("{data:?} with {problem:?}")));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A2. well-formed input in many encodings reads back exactly

/// Characters cells are made of: ASCII that matters to CSV/JSON, and characters of the
/// encoding whose multibyte form has a trail byte equal to `|`, `\` or another ASCII byte.
fn alphabet(encoding: &'static Encoding) -> &'static [char] {
    static CACHE: OnceLock<std::sync::Mutex<BTreeMap<&'static str, &'static [char]>>> =
        OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap();
    if let Some(a) = cache.get(encoding.name()) {
        return a;
    }
    let mut chars: Vec<char> = "aZ09 ,;|\t\"'=+-@\\\r\n.:{}[]".chars().collect();
    let encodable = |c: char| {
        if encoding == encoding_rs::UTF_8 || encoding.name().starts_with("UTF-16") {
            return true;
        }
        let text = c.to_string();
        let (bytes, _, unmappable) = encoding.encode(&text);
        !unmappable && !bytes.is_empty()
    };
    // CJK, kana, hangul, Latin-1, and a non-BMP character where the encoding can hold them.
    let pool: Vec<char> = (0x4E00u32..0x4F00)
        .chain(0x30A0..0x30C0)
        .chain(0xAC00..0xAC10)
        .chain(0x00C0..0x00D0)
        .chain([0x1F600, 0x20AC, 0x3000, 0xFF5C])
        .filter_map(char::from_u32)
        .filter(|&c| encodable(c))
        .collect();
    // Prefer characters with ASCII trail bytes (the dangerous ones), then a few others.
    let ascii_trail: Vec<char> = pool
        .iter()
        .copied()
        .filter(|c| {
            let text = c.to_string();
            let (b, _, _) = encoding.encode(&text);
            b.len() > 1 && b[1..].iter().any(|x| x.is_ascii())
        })
        .take(12)
        .collect();
    chars.extend(&ascii_trail);
    chars.extend(pool.iter().step_by(17).take(12));
    let leaked: &'static [char] = Box::leak(chars.into_boxed_slice());
    cache.insert(encoding.name(), leaked);
    leaked
}

#[derive(Debug, Clone, Copy)]
enum Enc {
    Utf8,
    Utf8Bom,
    Gbk,
    Gb18030,
    ShiftJis,
    Big5,
    Utf16Le,
    Utf16Be,
}

impl Enc {
    fn encoding(self) -> &'static Encoding {
        match self {
            Enc::Utf8 | Enc::Utf8Bom => encoding_rs::UTF_8,
            Enc::Gbk => encoding_rs::GBK,
            Enc::Gb18030 => encoding_rs::GB18030,
            Enc::ShiftJis => encoding_rs::SHIFT_JIS,
            Enc::Big5 => encoding_rs::BIG5,
            Enc::Utf16Le => encoding_rs::UTF_16LE,
            Enc::Utf16Be => encoding_rs::UTF_16BE,
        }
    }

    /// `--encoding` for the reader (BOM-marked inputs need none).
    fn requested(self) -> Option<&'static Encoding> {
        match self {
            Enc::Utf8 | Enc::Utf8Bom | Enc::Utf16Le | Enc::Utf16Be => None,
            other => Some(other.encoding()),
        }
    }

    fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Enc::Utf8 => text.as_bytes().to_vec(),
            Enc::Utf8Bom => [&b"\xEF\xBB\xBF"[..], text.as_bytes()].concat(),
            Enc::Utf16Le => {
                let mut v = vec![0xFF, 0xFE];
                v.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
                v
            }
            Enc::Utf16Be => {
                let mut v = vec![0xFE, 0xFF];
                v.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
                v
            }
            other => {
                let (bytes, _, unmappable) = other.encoding().encode(text);
                assert!(!unmappable, "{other:?} cannot encode {text:?}");
                bytes.into_owned()
            }
        }
    }
}

fn any_enc() -> impl Strategy<Value = Enc> {
    prop::sample::select(vec![
        Enc::Utf8,
        Enc::Utf8Bom,
        Enc::Gbk,
        Enc::Gb18030,
        Enc::ShiftJis,
        Enc::Big5,
        Enc::Utf16Le,
        Enc::Utf16Be,
    ])
}

fn text_of(enc: Enc, symbols: &[u16]) -> String {
    let a = alphabet(enc.encoding());
    symbols.iter().map(|&s| a[s as usize % a.len()]).collect()
}

const ENDINGS: [&str; 3] = ["\n", "\r\n", "\r"];

#[derive(Debug, Clone)]
struct Table {
    enc: Enc,
    delimiter: u8,
    /// Header name suffixes (symbols), one per column.
    header: Vec<Vec<u16>>,
    /// Rows of cells (symbols); each row is cut or padded to the header's width.
    rows: Vec<Vec<Vec<u16>>>,
    /// Per record: line ending index, and whether to quote every cell.
    style: Vec<(usize, bool)>,
    final_newline: bool,
}

fn any_table() -> impl Strategy<Value = Table> {
    let cell = prop::collection::vec(any::<u16>(), 0..6);
    (
        any_enc(),
        prop::sample::select(&[b',', b';', b'|', b'\t'][..]),
        prop::collection::vec(prop::collection::vec(any::<u16>(), 0..3), 1..5),
        prop::collection::vec(prop::collection::vec(cell, 5), 0..7),
        prop::collection::vec((0usize..3, prop::bool::weighted(0.2)), 8),
        any::<bool>(),
    )
        .prop_map(
            |(enc, delimiter, header, rows, style, final_newline)| Table {
                enc,
                delimiter,
                header,
                rows,
                style,
                final_newline,
            },
        )
}

/// Header names: `c{i}_` plus letters of the alphabet (no delimiter, quote or space, so that
/// sniffing sees only the real delimiter).
fn header_names(t: &Table) -> Vec<String> {
    let a = alphabet(t.enc.encoding());
    t.header
        .iter()
        .enumerate()
        .map(|(i, sfx)| {
            let letters: String = sfx
                .iter()
                .map(|&s| a[s as usize % a.len()])
                .filter(|c| c.is_alphanumeric())
                .collect();
            format!("c{i}_{letters}")
        })
        .collect()
}

/// The CSV text of a table, its expected cells per record, and each record's first line.
fn render(t: &Table) -> (String, Vec<Vec<String>>, Vec<u64>) {
    let d = char::from(t.delimiter);
    let names = header_names(t);
    let width = names.len();
    let mut text = String::new();
    let mut line = 1u64;
    let count_lines = |s: &str| -> u64 {
        let b = s.as_bytes();
        physical_lines(b) - 1
    };
    let quote = |s: &str, force: bool| {
        if force || s.contains([d, '"', '\r', '\n']) || s.is_empty() && width == 1 {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let header_line = names.join(&d.to_string());
    text.push_str(&header_line);
    let mut expected = Vec::new();
    let mut lines = Vec::new();
    for (i, row) in t.rows.iter().enumerate() {
        let (ending, _) = t.style[i % t.style.len()];
        // The line ending before this record.
        let eol = ENDINGS[ending];
        text.push_str(eol);
        line += 1;
        let cells: Vec<String> = row.iter().take(width).map(|c| text_of(t.enc, c)).collect();
        let (_, force) = t.style[(i + 1) % t.style.len()];
        let rendered: Vec<String> = cells.iter().map(|c| quote(c, force)).collect();
        let record = rendered.join(&d.to_string());
        lines.push(line);
        line += count_lines(&record);
        text.push_str(&record);
        expected.push(cells);
    }
    if t.final_newline {
        text.push_str(ENDINGS[t.style[0].0]);
    }
    // A CR ending followed by a record starting with LF would merge into CRLF: the generator
    // never starts an unquoted record with LF (a cell with LF is always quoted).
    (text, expected, lines)
}

#[derive(Debug, Clone)]
struct Lines {
    enc: Enc,
    /// Objects as (key symbols, value) pairs.
    objects: Vec<Vec<(Vec<u16>, JsonValue)>>,
    /// Blank lines before each object (0..=2), and their kind.
    blanks: Vec<(u8, bool)>,
    crlf: bool,
    final_newline: bool,
}

#[derive(Debug, Clone)]
enum JsonValue {
    Text(Vec<u16>),
    Int(i64),
    Digits(u64, u64),
    Bool(bool),
    Null,
    List(Vec<JsonValue>),
    Object(Vec<(Vec<u16>, JsonValue)>),
}

fn any_json_value() -> impl Strategy<Value = JsonValue> {
    let leaf = prop_oneof![
        3 => prop::collection::vec(any::<u16>(), 0..6).prop_map(JsonValue::Text),
        1 => any::<i64>().prop_map(JsonValue::Int),
        1 => (any::<u64>(), any::<u64>()).prop_map(|(a, b)| JsonValue::Digits(a, b)),
        1 => any::<bool>().prop_map(JsonValue::Bool),
        1 => Just(JsonValue::Null),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(JsonValue::List),
            prop::collection::vec((prop::collection::vec(any::<u16>(), 0..3), inner), 0..3)
                .prop_map(JsonValue::Object),
        ]
    })
}

fn to_value(enc: Enc, v: &JsonValue) -> Value {
    match v {
        JsonValue::Text(s) => Value::String(text_of(enc, s)),
        JsonValue::Int(i) => Value::from(*i),
        // A number longer than any machine integer: kept exactly.
        JsonValue::Digits(a, b) => {
            serde_json::from_str(&format!("{}{b:020}", (*a).max(1))).unwrap()
        }
        JsonValue::Bool(b) => Value::Bool(*b),
        JsonValue::Null => Value::Null,
        JsonValue::List(l) => Value::Array(l.iter().map(|x| to_value(enc, x)).collect()),
        JsonValue::Object(o) => Value::Object(to_map(enc, o)),
    }
}

fn to_map(enc: Enc, pairs: &[(Vec<u16>, JsonValue)]) -> Map<String, Value> {
    pairs
        .iter()
        .enumerate()
        .map(|(i, (k, v))| (format!("k{i}{}", text_of(enc, k)), to_value(enc, v)))
        .collect()
}

fn any_lines() -> impl Strategy<Value = Lines> {
    (
        any_enc(),
        prop::collection::vec(
            prop::collection::vec(
                (prop::collection::vec(any::<u16>(), 0..3), any_json_value()),
                0..4,
            ),
            0..6,
        ),
        prop::collection::vec((0u8..3, any::<bool>()), 6),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(enc, objects, blanks, crlf, final_newline)| Lines {
            enc,
            objects,
            blanks,
            crlf,
            final_newline,
        })
}

proptest! {
    #![proptest_config(Config { cases: 2000, failure_persistence: None, ..Config::default() })]

    /// A table written in any supported encoding with any delimiter, quoting and line endings
    /// reads back cell for cell, with no problem and the right line numbers.
    #[test]
    fn csv_tables_read_back_exactly(t in any_table()) {
        let (text, expected, lines) = render(&t);
        let bytes = t.enc.encode(&text);
        let path = scratch("t.csv");
        write_file(&path, &bytes);
        let names = header_names(&t);
        let mut opts = options(&path, Format::Csv, t.enc.requested());
        if names.len() == 1 {
            opts.delimiter = Some(t.delimiter);
        }
        let read = read_input(opts, expected.len() + 2)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text:?}")))?;
        prop_assert_eq!(read.encoding, t.enc.encoding().name());
        prop_assert_eq!(read.delimiter, t.delimiter, "sniffed");
        prop_assert_eq!(read.headers.as_ref(), Some(&names));
        let got: Vec<Vec<String>> = read
            .records
            .iter()
            .map(|r| match &r.data {
                RecordData::Cells(c) => c.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        prop_assert_eq!(&got, &expected, "text: {:?}", text);
        for (r, line) in read.records.iter().zip(&lines) {
            prop_assert_eq!(&r.problem, &None, "text: {:?}", text);
            prop_assert_eq!(r.line, *line, "text: {:?}", text);
        }
    }

    /// JSON lines in any supported encoding, with BOM, CRLF and blank lines, read back as the
    /// same objects (numbers exactly), blank lines counted.
    #[test]
    fn jsonl_lines_read_back_exactly(l in any_lines()) {
        let eol = if l.crlf { "\r\n" } else { "\n" };
        let mut text = String::new();
        let mut expected = Vec::new();
        let mut lines = Vec::new();
        let mut blanks = 0u64;
        let mut line = 0u64;
        for (i, pairs) in l.objects.iter().enumerate() {
            let (n, tabs) = l.blanks[i % l.blanks.len()];
            for _ in 0..n {
                text.push_str(if tabs { " \t " } else { "" });
                text.push_str(eol);
                blanks += 1;
                line += 1;
            }
            let map = to_map(l.enc, pairs);
            text.push_str(&Value::Object(map.clone()).to_string());
            line += 1;
            lines.push(line);
            expected.push(map);
            if i + 1 < l.objects.len() || l.final_newline {
                text.push_str(eol);
            }
        }
        let bytes = l.enc.encode(&text);
        let path = scratch("l.jsonl");
        write_file(&path, &bytes);
        let read = read_input(options(&path, Format::Jsonl, l.enc.requested()), expected.len() + 2)
            .expect("JSONL opens");
        prop_assert_eq!(read.encoding, l.enc.encoding().name());
        prop_assert_eq!(read.blank_lines, blanks);
        prop_assert_eq!(read.records.len(), expected.len());
        for ((r, want), line) in read.records.iter().zip(&expected).zip(&lines) {
            prop_assert_eq!(&r.problem, &None, "text: {:?}", text);
            prop_assert_eq!(r.line, *line);
            match &r.data {
                RecordData::Object(got) => {
                    prop_assert_eq!(got, want);
                    // Exact number text, key order kept.
                    prop_assert_eq!(Value::Object(got.clone()).to_string(), Value::Object(want.clone()).to_string());
                }
                other => return Err(TestCaseError::fail(format!("{other:?}"))),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A3. arbitrary files through the binary, --dry-run

static DRY_CASE: AtomicUsize = AtomicUsize::new(0);

fn dry_env() -> &'static std::sync::Mutex<TestEnv> {
    static ENV: OnceLock<std::sync::Mutex<TestEnv>> = OnceLock::new();
    ENV.get_or_init(|| std::sync::Mutex::new(TestEnv::new()))
}

proptest! {
    #![proptest_config(Config { cases: 64, failure_persistence: None, ..Config::default() })]

    #[test]
    fn arbitrary_files_through_the_binary_dry_run(
        bytes in hostile_bytes(40),
        jsonl in any::<bool>(),
        itnio in any::<bool>(),
        encoding in prop_oneof![3 => Just(None), 1 => Just(Some("gbk")), 1 => Just(Some("utf-16le")), 1 => Just(Some("shift_jis"))],
    ) {
        let env = dry_env().lock().unwrap_or_else(|e| e.into_inner());
        let case = DRY_CASE.fetch_add(1, Ordering::Relaxed);
        let name = format!("in{case}.{}", if jsonl { "jsonl" } else { "csv" });
        let input = env.write(&name, &bytes);
        let out = env.path(&format!("dry{case}"));
        let mut cmd = env.bare();
        if itnio {
            cmd.args(["itnio", "--job", "9"]);
        } else {
            cmd.arg("nxlink");
        }
        cmd.arg(&input).arg("--dry-run").arg("--out").arg(&out).args(["--base-url", &env.base_url]);
        if let Some(e) = encoding {
            cmd.args(["--encoding", e]);
        }
        let output = cmd.output().unwrap();
        let code = output.status.code();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        prop_assert!(matches!(code, Some(0..=2)), "exit {:?}: {}", code, stderr);
        // The library, reading the same file the same way.
        let format = if jsonl { Format::Jsonl } else { Format::Csv };
        let enc = encoding.map(|e| Encoding::for_label(e.as_bytes()).unwrap());
        let lib = read_input(options(&input, format, enc), bytes.len() + 2);
        if code == Some(2) {
            prop_assert!(lib.is_err(), "exit 2 but the input reads: {}", stderr);
            prop_assert!(stderr.contains("error"), "{}", stderr);
            return Ok(());
        }
        let lib = lib.map_err(|e| TestCaseError::fail(format!("library refuses ({e}) but exit {code:?}")))?;
        let s: Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
        let n = |k: &str| s[k].as_u64().unwrap_or_else(|| panic!("{k} in {s}"));
        prop_assert_eq!(n("total"), n("succeeded") + n("rejected") + n("failed") + n("unknown") + n("pending"), "{}", s);
        prop_assert_eq!(n("total"), lib.records.len() as u64, "{}", s);
        prop_assert_eq!(n("blank_lines"), lib.blank_lines);
        prop_assert_eq!(s["dry_run"].as_bool(), Some(true));
        prop_assert_eq!(n("valid"), n("pending"));
        prop_assert_eq!(n("succeeded") + n("failed") + n("unknown"), 0);
        let unreadable = lib.records.iter().filter(|r| r.problem.is_some()).count() as u64;
        prop_assert!(n("rejected") >= unreadable);
        prop_assert_eq!(code == Some(0), n("rejected") == 0, "{}", s);
        prop_assert_eq!(n("exit_code"), code.unwrap() as u64);
        // The failure report holds exactly the rejected rows, once each.
        let rows: Vec<u64> = if jsonl {
            std::fs::read_to_string(out.join("failed.jsonl"))
                .unwrap()
                .lines()
                .map(|l| {
                    let v: Value = serde_json::from_str(l).unwrap();
                    assert_eq!(v["custimport"]["outcome"], "rejected");
                    v["custimport"]["row"].as_u64().unwrap()
                })
                .collect()
        } else {
            let path = out.join("failed.csv");
            let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(&path).unwrap();
            let header = reader.headers().unwrap().clone();
            let at = |name: &str| header.iter().position(|h| h == name).unwrap();
            let (row, outcome) = (at("custimport_row"), at("custimport_outcome"));
            reader
                .records()
                .map(|r| {
                    let r = r.unwrap();
                    assert_eq!(&r[outcome], "rejected", "{r:?}");
                    r[row].parse().unwrap()
                })
                .collect()
        };
        prop_assert_eq!(rows.len() as u64, n("rejected"));
        let distinct: BTreeSet<u64> = rows.iter().copied().collect();
        prop_assert_eq!(distinct.len(), rows.len());
        prop_assert!(distinct.iter().all(|r| (1..=n("total")).contains(r)));
        for r in &lib.records {
            if r.problem.is_some() {
                prop_assert!(distinct.contains(&r.row), "unreadable row {} not in the report", r.row);
            }
        }
        prop_assert!(!out.join("success.csv").exists());
        prop_assert_eq!(&env.stats()["requests"], &serde_json::json!(0));
    }
}

// ---------------------------------------------------------------------------------------------
// B. the accounting invariant under faults

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Valid,
    BadPhone,
    Missing,
}

#[derive(Debug, Clone)]
struct FaultCase {
    itnio: bool,
    rows: Vec<Kind>,
    /// 500, 429, reset, garbage, truncated, applied500, slow, stray.
    p: [f64; 8],
    slow_ms: u64,
    late: Option<f64>,
    batch: usize,
    concurrency: usize,
    seed: u64,
}

const FAULT_KINDS: [&str; 8] = [
    "500",
    "429",
    "reset",
    "garbage",
    "truncated",
    "applied500",
    "slow",
    "stray",
];
const TIMEOUT_SECS: &str = "0.4";
const LATE_MS: u64 = 550;

impl FaultCase {
    fn plan(&self) -> String {
        let mut p = self.p;
        let late = self.late.unwrap_or(0.0);
        let sum: f64 = p.iter().sum::<f64>() + late;
        // Keep the total at most 0.75: a fault plan must sum to at most 1, and this leaves
        // batches a fair chance to get through in 7 attempts (and some to run out).
        let scale = if sum > 0.75 { 0.75 / sum } else { 1.0 };
        for x in &mut p {
            *x *= scale;
        }
        let mut items: Vec<String> = FAULT_KINDS
            .iter()
            .zip(p)
            .filter(|(_, x)| *x > 0.0)
            .map(|(k, x)| format!("{k}={x:.4}"))
            .collect();
        items.push(format!("slow_ms={}", self.slow_ms));
        if late > 0.0 {
            items.push(format!("late={:.4}", late * scale));
            items.push(format!("late_ms={LATE_MS}"));
        }
        items.join(",")
    }

    fn phone(i: usize) -> String {
        format!("62815{i:06}")
    }

    fn name(i: usize) -> String {
        format!("名{i} N")
    }
}

fn any_fault_case() -> impl Strategy<Value = FaultCase> {
    let kind =
        prop_oneof![6 => Just(Kind::Valid), 1 => Just(Kind::BadPhone), 1 => Just(Kind::Missing)];
    let p = 0.0..0.3f64;
    (
        any::<bool>(),
        prop::collection::vec(kind, 1..200),
        // 429 answers carry `Retry-After: 1`, which is honoured: keep them rare to stay fast.
        (
            p.clone(),
            prop_oneof![3 => Just(0.0), 1 => 0.0..0.08f64],
            p.clone(),
            p.clone(),
            p.clone(),
            p.clone(),
            p,
            prop_oneof![1 => Just(0.0), 1 => 0.0..0.1f64],
        ),
        1u64..30,
        prop_oneof![2 => Just(None), 1 => (0.0..0.1f64).prop_map(Some)],
        prop_oneof![1 => 1usize..5, 3 => 5usize..=100],
        1usize..=8,
        any::<u64>(),
    )
        .prop_map(
            |(itnio, rows, p, slow_ms, late, batch, concurrency, seed)| FaultCase {
                itnio,
                rows,
                p: [p.0, p.1, p.2, p.3, p.4, p.5, p.6, p.7],
                slow_ms,
                late,
                batch,
                concurrency,
                seed,
            },
        )
}

fn run_fault_case(c: &FaultCase) -> Result<(), TestCaseError> {
    let env = TestEnv::faults(&c.plan(), c.seed);
    let mut csv = String::from("name,phone\n");
    for (i, k) in c.rows.iter().enumerate() {
        let row = i + 1;
        let (name, phone) = match k {
            Kind::Valid => (FaultCase::name(row), FaultCase::phone(row)),
            Kind::BadPhone => (FaultCase::name(row), format!("bad-{row}")),
            Kind::Missing if c.itnio => (FaultCase::name(row), String::new()),
            Kind::Missing => (String::new(), FaultCase::phone(row)),
        };
        csv.push_str(&format!("{name},{phone}\n"));
    }
    let input = env.write("f.csv", &csv);
    let n = c.rows.len();
    // Small batches of many rows would mean hundreds of requests: at most 40 batches.
    let batch = c.batch.max(n.div_ceil(40));
    // Like `env.cmd`, with our own `--backoff-ms`.
    let mut cmd = env.bare();
    cmd.env("CUSTIMPORT_NXLINK_ACCESS_KEY", "sandbox")
        .env("CUSTIMPORT_NXLINK_ACCESS_SECRET", "sandbox-secret")
        .env("CUSTIMPORT_NXLINK_TENANT_ID", "1")
        .env("CUSTIMPORT_NXLINK_APP_KEY", "sandbox")
        .env("CUSTIMPORT_ITNIO_API_KEY", "sandbox")
        .env("CUSTIMPORT_ITNIO_API_SECRET", "sandbox-secret")
        .env("CUSTIMPORT_ITNIO_APP_ID", "sandbox")
        .arg(if c.itnio { "itnio" } else { "nxlink" })
        .arg("--base-url")
        .arg(&env.base_url)
        .arg("--out")
        .arg(env.out());
    if c.itnio {
        cmd.args(["--job", "9"]);
    }
    cmd.arg(&input).args([
        "--retries",
        "6",
        "--backoff-ms",
        "1",
        "--batch-size",
        &batch.to_string(),
        "--concurrency",
        &c.concurrency.to_string(),
    ]);
    if c.late.is_some() {
        cmd.args(["--timeout", TIMEOUT_SECS]);
    }
    let output = cmd.output().unwrap();
    let code = output.status.code();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    prop_assert!(matches!(code, Some(0 | 1)), "exit {:?}: {}", code, stderr);

    // Every input row exactly once across the two reports.
    let mut outcome: BTreeMap<u64, String> = BTreeMap::new();
    let mut success_cells: BTreeMap<u64, (String, String)> = BTreeMap::new();
    for r in env.csv_rows("success.csv") {
        let row: u64 = cell(&r, "row").parse().unwrap();
        prop_assert!(
            outcome.insert(row, "succeeded".into()).is_none(),
            "row {} twice",
            row
        );
        let phone = cell(
            &r,
            if c.itnio {
                "phone_number"
            } else {
                "whats_app_phone"
            },
        );
        let name = cell(&r, if c.itnio { "name" } else { "full_name" });
        success_cells.insert(row, (phone.to_owned(), name.to_owned()));
    }
    let mut failed_codes: BTreeMap<u64, String> = BTreeMap::new();
    for r in read_csv(&env.out().join("failed.csv")) {
        let row: u64 = cell(&r, "custimport_row").parse().unwrap();
        let o = cell(&r, "custimport_outcome").to_owned();
        prop_assert!(
            ["rejected", "failed", "unknown", "pending"].contains(&o.as_str()),
            "outcome {}",
            o
        );
        prop_assert!(outcome.insert(row, o).is_none(), "row {} twice", row);
        failed_codes.insert(row, cell(&r, "custimport_code").to_owned());
    }
    prop_assert_eq!(
        outcome.keys().copied().collect::<Vec<_>>(),
        (1..=n as u64).collect::<Vec<_>>(),
        "every row once"
    );

    // The summary agrees with the reports.
    let s = env.summary();
    let count = |k: &str| outcome.values().filter(|o| *o == k).count() as u64;
    for k in ["succeeded", "rejected", "failed", "unknown", "pending"] {
        prop_assert_eq!(s[k].as_u64(), Some(count(k)), "{} in {}", k, s);
    }
    prop_assert_eq!(s["total"].as_u64(), Some(n as u64));
    prop_assert_eq!(count("pending"), 0, "nothing stops this run: {}", s);
    let all_ok = count("succeeded") == n as u64;
    prop_assert_eq!(code == Some(0), all_ok, "exit {:?} with {}", code, s);
    prop_assert_eq!(s["exit_code"].as_i64(), code.map(i64::from));
    prop_assert!(
        s["already_present"].as_u64().unwrap() <= count("succeeded"),
        "{}",
        s
    );

    // Rejected rows are exactly the invalid ones, with their codes.
    for (i, k) in c.rows.iter().enumerate() {
        let row = i as u64 + 1;
        let o = outcome[&row].as_str();
        match k {
            Kind::Valid => prop_assert_ne!(o, "rejected", "valid row {}", row),
            Kind::BadPhone => {
                prop_assert_eq!(o, "rejected");
                prop_assert_eq!(failed_codes[&row].as_str(), "invalid_phone");
            }
            Kind::Missing => {
                prop_assert_eq!(o, "rejected");
                let want = if c.itnio {
                    "missing_phone"
                } else {
                    "missing_full_name"
                };
                prop_assert_eq!(failed_codes[&row].as_str(), want);
            }
        }
    }
    for (row, (phone, name)) in &success_cells {
        prop_assert_eq!(phone, &FaultCase::phone(*row as usize));
        prop_assert_eq!(name, &FaultCase::name(*row as usize));
    }

    // What the sandbox holds.
    let held: Vec<(String, Option<String>)> = if c.itnio {
        env.held_itnio(9)
            .iter()
            .map(|p| {
                (
                    p["phoneNumber"].as_str().unwrap_or_default().to_owned(),
                    p["name"].as_str().map(str::to_owned),
                )
            })
            .collect()
    } else {
        env.held_nxlink()
            .iter()
            .map(|p| {
                (
                    p["whats_app_phone"].as_str().unwrap_or_default().to_owned(),
                    p["full_name"].as_str().map(str::to_owned),
                )
            })
            .collect()
    };
    let distinct: BTreeMap<String, Option<String>> = held.iter().cloned().collect();
    prop_assert_eq!(distinct.len(), held.len(), "a customer is held twice");
    for (i, _) in c.rows.iter().enumerate() {
        let row = i as u64 + 1;
        let phone = FaultCase::phone(i + 1);
        let o = outcome[&row].as_str();
        match o {
            "succeeded" => {
                prop_assert!(
                    distinct.contains_key(&phone),
                    "row {} succeeded but is not held",
                    row
                );
                prop_assert_eq!(&distinct[&phone], &Some(FaultCase::name(i + 1)));
            }
            "rejected" | "failed" | "pending" => {
                prop_assert!(
                    !distinct.contains_key(&phone),
                    "row {} is {} but is held",
                    row,
                    o
                );
            }
            _ => {}
        }
    }
    let known: BTreeSet<String> = (1..=n).map(FaultCase::phone).collect();
    for phone in distinct.keys() {
        prop_assert!(
            known.contains(phone),
            "held phone {} came from no row",
            phone
        );
    }
    let st = env.stats();
    prop_assert_eq!(&st["replacement_chars"], &serde_json::json!(0));
    // Every attempt the run counted reached the sandbox, and no other request did.
    prop_assert_eq!(&st["requests"], &s["requests"], "{} / {}", st, s);
    Ok(())
}

proptest! {
    #![proptest_config(Config {
        cases: 20,
        max_shrink_iters: 24,
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn accounting_holds_under_faults(c in any_fault_case()) {
        run_fault_case(&c)?;
    }
}
