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
        return Err(InputError::Named(format!(
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
/// `failed.jsonl` fed back (fixed or not) behaves like the lines it came from; the wrapper's
/// `custimport` goes with it (into a fixed object that has none, or as
/// [`RecordData::Wrapped`]), so the row keeps its first file's number.
fn parse(line: u64, text: String) -> (RecordData, Option<Problem>) {
    let parsed = parse_text(line, text);
    let (RecordData::Object(map), None) = &parsed else {
        return parsed;
    };
    let (Some(custimport), Some(original)) = (
        map.get("custimport").filter(|c| c.is_object()),
        map.get("line").and_then(Value::as_str),
    ) else {
        return parsed;
    };
    if map.len() != 2 {
        return parsed;
    }
    let custimport = custimport.clone();
    match parse_text(line, original.to_owned()) {
        (RecordData::Object(mut fixed), problem) => {
            // Not when that would make the object a wrapper itself (its only key `line`).
            let only_line = fixed.len() == 1 && fixed.get("line").is_some_and(Value::is_string);
            if !fixed.contains_key("custimport") && !only_line {
                fixed.insert("custimport".into(), custimport);
            }
            (RecordData::Object(fixed), problem)
        }
        (RecordData::Line(line), problem) => (RecordData::Wrapped { line, custimport }, problem),
        other => other,
    }
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
mod tests;
