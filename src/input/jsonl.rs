//! JSONL input: one JSON value per line, each non-blank line becoming one [`Record`].
//!
//! Lines are split on LF (a CR before it is dropped) in the file's encoding when it is
//! ASCII-compatible, then decoded strictly; UTF-16 and other non-ASCII-compatible input is
//! first transcoded to UTF-8 by [`Utf8Transcoder`], which marks malformed sequences with the
//! byte 0xFF so that the strict UTF-8 check of their line fails.
//!
//! Invariant: every non-blank line comes out exactly once, in order, as a record: a JSON object
//! as [`RecordData::Object`], anything else as its text with a problem. Memory stays bounded by
//! `max_field_bytes`: a longer line is skipped to its end without being kept, and nesting is
//! measured by a flat scan before serde_json sees the line, so no line can exhaust the stack.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use encoding_rs::UTF_8;
use serde_json::Value;

use super::decode::{label, strip_bom, suggest_encoding, Decoder, Utf8Transcoder};
use super::sniff::{look, wrong_encoding_note};
use super::{Format, Input, InputError, InputOptions, Origin, Problem, Record, RecordData};

/// Deepest nesting of arrays and objects accepted in a line.
const MAX_DEPTH: usize = 32;

/// Opens JSONL input from any byte source; `name` names it in messages.
pub(super) fn from_reader(
    source: Box<dyn Read + Send>,
    opts: &InputOptions,
    name: String,
) -> Result<Input, InputError> {
    let sniffed = look(source, opts, &name)?;
    let looks_like = sniffed.looks_like;
    let (reader, encoding) = match strip_bom(sniffed.reader, opts.encoding) {
        Ok(found) => found,
        Err(source) => return Err(InputError::Io { path: name, source }),
    };
    let (stream, line_encoding): (Box<dyn Read + Send>, _) = if encoding.is_ascii_compatible() {
        (reader, encoding)
    } else {
        (Box::new(Utf8Transcoder::new(reader, encoding)), UTF_8)
    };
    let skipped_blank = Arc::new(AtomicU64::new(0));
    let mut records = JsonlRecords {
        hint_pending: line_encoding == encoding,
        reader: Some(BufReader::with_capacity(64 * 1024, stream)),
        decoder: Decoder::new(line_encoding),
        label: label(encoding),
        max_line_bytes: opts.max_field_bytes,
        buf: Vec::new(),
        line: 0,
        row: 0,
        skipped_blank: Arc::clone(&skipped_blank),
        path: name.clone(),
    };
    let first = records.next().transpose()?;
    if let (None, Some(given)) = (&first, opts.encoding) {
        let note = wrong_encoding_note(looks_like.as_deref(), given);
        return Err(InputError::Invalid(format!(
            "{name}: read as {} (--encoding), it holds no data lines{}",
            label(encoding),
            if note.is_empty() {
                "; check --encoding"
            } else {
                &note
            }
        )));
    }
    Ok(Input {
        headers: None,
        original_headers: None,
        warnings: Vec::new(),
        origin: Origin::default(),
        format: Format::Jsonl,
        // Not meaningful for JSONL; `,` keeps any CSV report written from it sane.
        delimiter: b',',
        encoding: encoding.name(),
        records: Box::new(first.map(Ok).into_iter().chain(records)),
        skipped_blank,
        sheet: None,
    })
}

struct JsonlRecords {
    /// `None` once the input is exhausted or failed.
    reader: Option<BufReader<Box<dyn Read + Send>>>,
    decoder: Decoder,
    label: String,
    max_line_bytes: usize,
    buf: Vec<u8>,
    line: u64,
    row: u64,
    skipped_blank: Arc<AtomicU64>,
    path: String,
    /// The first line that fails to decode names the encoding to try (when lines are decoded
    /// from the input's own bytes, not transcoded).
    hint_pending: bool,
}

/// Reads one line (without its LF) into `buf`, keeping at most `keep` bytes and skipping the
/// rest. Returns the line's full length, or `None` at the end of input.
fn read_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    keep: usize,
) -> io::Result<Option<usize>> {
    buf.clear();
    let (mut total, mut any) = (0usize, false);
    loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(any.then_some(total));
        }
        any = true;
        let newline = chunk.iter().position(|&b| b == b'\n');
        let part = &chunk[..newline.unwrap_or(chunk.len())];
        let room = keep.saturating_sub(buf.len()).min(part.len());
        buf.extend_from_slice(&part[..room]);
        total = total.saturating_add(part.len());
        let used = part.len() + usize::from(newline.is_some());
        reader.consume(used);
        if newline.is_some() {
            return Ok(Some(total));
        }
    }
}

/// Whether arrays/objects nest deeper than `limit` (a flat scan: no recursion).
fn nests_deeper_than(text: &str, limit: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in text.as_bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl JsonlRecords {
    /// The next non-blank line as a record.
    fn next_record(&mut self) -> io::Result<Option<Record>> {
        let Some(reader) = self.reader.as_mut() else {
            return Ok(None);
        };
        loop {
            let keep = self.max_line_bytes.saturating_add(1);
            let Some(total) = read_line(reader, &mut self.buf, keep)? else {
                return Ok(None);
            };
            self.line += 1;
            let line = self.line;
            let complete = total == self.buf.len();
            if complete && self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            let problem = |code, message| Some(Problem { code, message });
            let (data, problem) = if !complete || self.buf.len() > self.max_line_bytes {
                self.buf.truncate(self.max_line_bytes);
                (
                    RecordData::Line(self.decoder.decode_lossy(&self.buf).into_owned()),
                    problem(
                        "field_too_large",
                        format!("line {line}: longer than {} bytes", self.max_line_bytes),
                    ),
                )
            } else {
                match self.decoder.decode(&self.buf) {
                    Ok(text) if text.trim().is_empty() => {
                        self.skipped_blank.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    Ok(text) => parse(line, text.into_owned()),
                    Err(lossy) => {
                        let mut message = format!("line {line}: not valid {}", self.label);
                        if std::mem::take(&mut self.hint_pending) {
                            if let Some(h) = suggest_encoding(&self.buf, self.decoder.encoding()) {
                                message.push_str(&format!(
                                    " (from this line on the file looks like {h}: try --encoding {h})"
                                ));
                            }
                        }
                        (
                            RecordData::Line(lossy),
                            problem("invalid_encoding", message),
                        )
                    }
                }
            };
            self.row += 1;
            return Ok(Some(Record {
                row: self.row,
                line,
                data,
                problem,
            }));
        }
    }
}

/// Parses a decoded, non-blank line. A failure report's wrapper of an unreadable line,
/// `{"custimport": {...}, "line": "<original text>"}`, is read as that original text, so a
/// `failed.jsonl` fed back (fixed or not) behaves like the lines it came from.
fn parse(line: u64, text: String) -> (RecordData, Option<Problem>) {
    let parsed = parse_text(line, text);
    if let (RecordData::Object(map), None) = &parsed {
        if map.len() == 2 && map.get("custimport").is_some_and(Value::is_object) {
            if let Some(Value::String(original)) = map.get("line") {
                return parse_text(line, original.clone());
            }
        }
    }
    parsed
}

fn parse_text(line: u64, text: String) -> (RecordData, Option<Problem>) {
    let problem = |code, message| Some(Problem { code, message });
    if text.contains('\u{FFFD}') {
        // U+FFFD marks bytes a decoder could not read (also in a failure report fed back);
        // nothing carrying it is sent.
        let message = format!(
            "line {line}: contains U+FFFD, the mark of undecodable bytes; check --encoding"
        );
        let data = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => RecordData::Object(map),
            _ => RecordData::Line(text),
        };
        return (data, problem("invalid_encoding", message));
    }
    if nests_deeper_than(&text, MAX_DEPTH) {
        let message = format!("line {line}: nested deeper than {MAX_DEPTH} levels");
        return (RecordData::Line(text), problem("too_deep", message));
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => (RecordData::Object(map), None),
        Ok(other) => {
            let message = format!("line {line}: not a JSON object but {}", kind(&other));
            (RecordData::Line(text), problem("not_an_object", message))
        }
        Err(e) => {
            let message = format!("line {line}: not valid JSON: {e}");
            (RecordData::Line(text), problem("invalid_json", message))
        }
    }
}

impl Iterator for JsonlRecords {
    type Item = Result<Record, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_record() {
            Ok(record) => record.map(Ok),
            Err(source) => {
                self.reader = None;
                Some(Err(InputError::Io {
                    path: self.path.clone(),
                    source,
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
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
            RecordData::Line(text) => text,
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
        let RecordData::Object(fixed) = &recs[1].data else {
            panic!("{:?}", recs[1].data)
        };
        assert_eq!(fixed.get("name"), Some(&Value::String("A".into())));
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
}
