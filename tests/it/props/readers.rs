//! Property tests of the readers in process: arbitrary bytes, and well-formed tables in many encodings read back exactly.

#![allow(unused_imports)]
use super::*;

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
            Err(InputError::Named(message) | InputError::Unnamed(message)) => {
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
        let read = match read_input(opts, bytes.len() + 2) {
            Ok(read) => read,
            // Without --encoding, bytes that are not UTF-8 stop the run naming one to try; with
            // it, an input without a data line is refused.
            Err(InputError::Named(m)) if encoding.is_none() => {
                prop_assert!(m.contains("is not UTF-8 text") || m.contains("workbook"), "{}", m);
                return Ok(());
            }
            Err(InputError::Named(m)) => {
                prop_assert!(m.contains("holds no data lines"), "{}", m);
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(format!("unexpected error {e}"))),
        };
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
                (RecordData::Line(_) | RecordData::Wrapped { .. }, Some(p)) => {
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
        let read = match read_input(opts, expected.len() + 2) {
            // A --encoding that yields no data rows is refused.
            Err(e) if expected.is_empty() && t.enc.requested().is_some() => {
                prop_assert!(e.to_string().contains("holds no data rows"), "{}", e);
                return Ok(());
            }
            other => other.map_err(|e| TestCaseError::fail(format!("{e}\n{text:?}")))?,
        };
        prop_assert_eq!(read.encoding, t.enc.encoding().name());
        prop_assert_eq!(read.delimiter, t.delimiter, "sniffed");
        prop_assert_eq!(read.headers.as_ref(), Some(&names));
        let got: Vec<Vec<String>> = read
            .records
            .iter()
            .map(|r| match &r.data {
                RecordData::Cells(c) => c.to_vec(),
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
        let read = match read_input(options(&path, Format::Jsonl, l.enc.requested()), expected.len() + 2) {
            // A --encoding that yields no data lines is refused.
            Err(e) if expected.is_empty() && l.enc.requested().is_some() => {
                prop_assert!(e.to_string().contains("holds no data lines"), "{}", e);
                return Ok(());
            }
            other => other.expect("JSONL opens"),
        };
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
