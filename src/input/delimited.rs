//! CSV/TSV input: settles the encoding and delimiter, reads the header, then turns each record
//! of the stream into a [`Record`] with decoded cells and, when it could not be read cleanly,
//! a [`Problem`].
//!
//! Encoding strategy: records are split on bytes by [`parser::Parser`] (our own state machine,
//! because the csv crate counts only LF as a line break, silently closes a quote left open at
//! end of input and buffers fields of any size). The bytes are split in the file's own encoding
//! when no byte of a multibyte character can equal the delimiter, the quote or a line break
//! (UTF-8, single-byte encodings, and the CJK ones with a delimiter below 0x30 such as `,` `;`
//! tab); each field is then decoded strictly. Otherwise (UTF-16, ISO-2022-JP, or GBK/Big5/
//! Shift_JIS with `|` or another delimiter that can be a trail byte) the stream is first
//! transcoded to UTF-8 by [`Utf8Transcoder`], which writes the invalid-UTF-8 byte 0xFF for each
//! malformed sequence, so the strict per-field UTF-8 check catches it in the right field.
//!
//! Invariant: every record the parser finds comes out exactly once, numbered from 1; a record
//! with an unclosed quote, an oversized or undecodable field, or the wrong number of fields
//! still comes out, with its cells (lossy where needed) and a problem.

mod dialect;
mod parser;

pub use dialect::{sniff_dialect, Dialect};

use std::io::{self, BufReader, Cursor, Read};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use encoding_rs::{Encoding, UTF_8};

use super::decode::{label, strip_bom, suggest_encoding, Decoder, Utf8Transcoder};
use super::sniff::{look, wrong_encoding_note};
use super::{
    cut, unique_headers, Cells, Format, Input, InputError, InputOptions, Origin, Problem, Record,
    RecordData,
};
use parser::{first_record, Parser, RawRecord};

/// How much of the input's start is looked at to sniff the delimiter.
const SNIFF_LIMIT: usize = 64 * 1024;
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

type Stream = BufReader<Box<dyn Read + Send>>;

/// Header names as a failure report's header gives them back: a cell guarded there (`'@tag`)
/// names the column `@tag` again, as its data cells are read without their guard; trimmed
/// again, since a tab or CR the guard covered is no part of a name.
fn unguarded(names: Vec<String>) -> Vec<String> {
    names
        .into_iter()
        .map(|name| {
            crate::provider::rules::unguard(name.into(), false)
                .trim()
                .to_owned()
        })
        .collect()
}

/// Opens CSV/TSV input from any byte source; `name` names it in messages.
pub(super) fn from_reader(
    source: Box<dyn Read + Send>,
    opts: &InputOptions,
    name: String,
) -> Result<Input, InputError> {
    let io_error = |source| InputError::Io {
        path: name.clone(),
        source,
    };
    let sniffed = look(source, opts, &name)?;
    let looks_like = sniffed.looks_like;
    let (reader, encoding) = strip_bom(sniffed.reader, opts.encoding).map_err(io_error)?;
    // Stage 1: a byte stream in which ASCII bytes are ASCII characters.
    let (mut stage1, stage1_encoding): (Box<dyn Read + Send>, &'static Encoding) =
        if encoding.is_ascii_compatible() {
            (reader, encoding)
        } else {
            (Box::new(Utf8Transcoder::new(reader, encoding)), UTF_8)
        };
    let (head, delimiter) =
        choose_delimiter(&mut stage1, stage1_encoding, opts).map_err(|e| match e {
            Chosen::Io(e) => io_error(e),
            Chosen::Invalid(e) => e,
        })?;
    let skip = match opts.header_row {
        Some(n) => n.saturating_sub(1) as usize,
        // Excel's `sep=;` first line names the delimiter; the header is the line below it.
        None => usize::from(dialect::starts_with_sep_line(&head)),
    };
    let hint = if encoding.is_ascii_compatible() {
        suggest_encoding(header_bytes(&head, delimiter, skip), encoding)
    } else {
        None
    };
    let replay: Box<dyn Read + Send> = Box::new(Cursor::new(head).chain(stage1));
    let split_safe =
        stage1_encoding == UTF_8 || stage1_encoding.is_single_byte() || delimiter < 0x30;
    let (stream, field_encoding): (Box<dyn Read + Send>, _) = if split_safe {
        (replay, stage1_encoding)
    } else {
        (
            Box::new(Utf8Transcoder::new(replay, stage1_encoding)),
            UTF_8,
        )
    };
    let parser = Parser::new(
        BufReader::with_capacity(64 * 1024, stream),
        delimiter,
        opts.max_field_bytes,
    );
    let mut records = CsvRecords {
        parser: None,
        headers: Vec::new(),
        decoder: Decoder::new(field_encoding),
        label: label(encoding),
        max_field_bytes: opts.max_field_bytes,
        row: 0,
        path: name.clone(),
        hint_pending: field_encoding == encoding,
    };
    // With --encoding, what the file reads as instead, for the messages of a file it garbles.
    let note = opts
        .encoding
        .map(|given| wrong_encoding_note(looks_like.as_deref(), given))
        .unwrap_or_default();
    let original = read_header(&mut records, parser, skip, hint.as_deref(), &note)?;
    let original = unguarded(original);
    let (unique, warning) = unique_headers(&original);
    records.headers = unique;
    let first = first_data_record(&mut records, opts, &name, encoding, &note)?;
    Ok(Input {
        headers: Some(records.headers.clone()),
        original_headers: Some(original),
        warnings: warning.into_iter().collect(),
        origin: Origin::default(),
        format: opts.format,
        delimiter,
        encoding: encoding.name(),
        records: Box::new(first.map(Ok).into_iter().chain(records)),
        skipped_blank: Arc::new(AtomicU64::new(0)),
        sheet: None,
    })
}

/// Reads the header (when the input has a record at all) and hands the parser to `records`;
/// the header's names as written. An unreadable header's message ends with `note`.
fn read_header(
    records: &mut CsvRecords,
    mut parser: Parser<Stream>,
    skip: usize,
    hint: Option<&str>,
    note: &str,
) -> Result<Vec<String>, InputError> {
    let path = records.path.clone();
    let raw = header_raw(&mut parser, skip, &path).map_err(|e| match e {
        Chosen::Io(source) => InputError::Io {
            path: path.clone(),
            source,
        },
        Chosen::Invalid(e) => e,
    })?;
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let original = records.header(raw, hint, note)?;
    records.parser = Some(parser);
    Ok(original)
}

/// The first data record, read ahead: with `--encoding`, an input without one is refused (the
/// encoding given most likely garbled it into one header line); `note` says what it reads as.
fn first_data_record(
    records: &mut CsvRecords,
    opts: &InputOptions,
    name: &str,
    encoding: &'static Encoding,
    note: &str,
) -> Result<Option<Record>, InputError> {
    let first = records.next().transpose()?;
    if first.is_none() && opts.encoding.is_some() {
        let note = if note.is_empty() {
            "; check --encoding"
        } else {
            note
        };
        return Err(InputError::Named(format!(
            "{name}: read as {} (--encoding), it holds no data rows{note}",
            label(encoding)
        )));
    }
    Ok(first)
}

/// The bytes of the header record (the one after `skip` others) in `head`, as far as they go.
fn header_bytes(head: &[u8], delimiter: u8, skip: usize) -> &[u8] {
    let start = skip_records(head, delimiter, skip).unwrap_or(head.len());
    let header = head.get(start..).unwrap_or_default();
    let end = first_record(header, delimiter).1.unwrap_or(header.len());
    header.get(..end).unwrap_or(header)
}

/// The header record, after the `skip` records above it (`--header-row`). Without
/// `--header-row` an input may be empty (`None`); with it, one that ends before its header is
/// an error naming the number of non-blank lines it has.
fn header_raw<'p>(
    parser: &'p mut Parser<Stream>,
    skip: usize,
    name: &str,
) -> Result<Option<&'p RawRecord>, Chosen> {
    let short = |n: usize| {
        Chosen::Invalid(InputError::Named(format!(
            "--header-row {}: {name} has only {n} non-blank lines",
            skip + 1
        )))
    };
    for above in 0..skip {
        if parser.next_record().map_err(Chosen::Io)?.is_none() {
            return Err(short(above));
        }
    }
    match parser.next_record().map_err(Chosen::Io)? {
        None if skip > 0 => Err(short(skip)),
        raw => Ok(raw),
    }
}

/// Why no delimiter could be chosen.
enum Chosen {
    Io(io::Error),
    Invalid(InputError),
}

/// The delimiter (`--delimiter`, a tab for TSV, else sniffed from the header) and the start of
/// the stream read to choose it, to be read again.
fn choose_delimiter(
    stage1: &mut Box<dyn Read + Send>,
    stage1_encoding: &'static Encoding,
    opts: &InputOptions,
) -> Result<(Vec<u8>, u8), Chosen> {
    let given = match (opts.delimiter, opts.format) {
        (Some(d), _) => Some(d),
        (None, Format::Tsv) => Some(b'\t'),
        (None, _) => None,
    };
    if given.is_some_and(|d| matches!(d, b'"' | b'\r' | b'\n')) {
        let message = "the delimiter cannot be a quote or a line break";
        return Err(Chosen::Invalid(InputError::Unnamed(message.to_string())));
    }
    let one;
    let candidates: &[u8] = match given {
        Some(d) => {
            one = [d];
            &one
        }
        None => &CANDIDATES,
    };
    let skip = opts.header_row.map(|n| n.saturating_sub(1) as usize);
    let (head, complete) =
        peek_header(stage1, candidates, skip.unwrap_or(0)).map_err(Chosen::Io)?;
    let delimiter = match given {
        Some(d) => d,
        None => {
            let text = Decoder::new(stage1_encoding).decode_lossy(&head);
            sniff_dialect(text.as_bytes(), complete, skip).delimiter
        }
    };
    Ok((head, delimiter))
}

/// Reads the start of the stream for the sniffer: until the header (the record after `skip`
/// others) has ended as the parser reads it with each of `delimiters` (a quote opens a quoted
/// field only at a field's start) and [`SNIFF_RECORDS`] lines follow it, or about
/// [`SNIFF_LIMIT`] bytes were read, or the input ended (then `true`).
fn peek_header(
    reader: &mut dyn Read,
    delimiters: &[u8],
    skip: usize,
) -> io::Result<(Vec<u8>, bool)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let ended = |d: &u8| skip_records(&buf, *d, skip + 1).is_some();
        let lines = memchr::memchr_iter(b'\n', &buf).count();
        if buf.len() >= SNIFF_LIMIT
            || (!buf.is_empty() && lines > skip + SNIFF_RECORDS && delimiters.iter().all(ended))
        {
            return Ok((buf, false));
        }
        match reader.read(&mut chunk) {
            Ok(0) => return Ok((buf, true)),
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The offset just past the first `n` records of `bytes` read with `delimiter` (blank lines
/// skipped as the parser skips them), if they all end within `bytes`.
fn skip_records(bytes: &[u8], delimiter: u8, n: usize) -> Option<usize> {
    let mut offset = 0;
    for _ in 0..n {
        offset += first_record(bytes.get(offset..)?, delimiter).1?;
    }
    Some(offset)
}

/// Lines after the header the sniffer wants to look at.
const SNIFF_RECORDS: usize = 64;

struct CsvRecords {
    /// `None` once the input is exhausted or failed.
    parser: Option<Parser<Stream>>,
    headers: Vec<String>,
    /// Decodes field bytes (UTF-8 when the stream was transcoded).
    decoder: Decoder,
    /// Lower-case name of the input's encoding, for messages.
    label: String,
    max_field_bytes: usize,
    row: u64,
    path: String,
    /// The first record that fails to decode names the encoding to try (when the fields are
    /// decoded from the input's own bytes, not transcoded).
    hint_pending: bool,
}

impl CsvRecords {
    /// Validates and decodes the header record: its names as written. A refusal's message
    /// ends with `note` (what the input reads as, with `--encoding`), unless it names the
    /// encoding to try (`hint`) itself.
    fn header(
        &self,
        raw: &RawRecord,
        hint: Option<&str>,
        note: &str,
    ) -> Result<Vec<String>, InputError> {
        let path = &self.path;
        let line = raw.line;
        if let Some((opened, last)) = raw.unterminated {
            let swallowed = if last > opened {
                format!(" (lines {opened}–{last} were read as the header)")
            } else {
                String::new()
            };
            return Err(InputError::Unnamed(format!(
                "line {opened}: a quote opened in the header is never closed{swallowed}{note}"
            )));
        }
        if raw.too_big {
            return Err(InputError::Unnamed(format!(
                "line {line}: the header has more than {} columns or bytes beyond the record size cap{note}",
                parser::MAX_FIELDS
            )));
        }
        if let Some(i) = raw.too_large {
            return Err(InputError::Unnamed(format!(
                "line {line}: header column {} is longer than {} bytes{note}",
                i + 1,
                self.max_field_bytes
            )));
        }
        let mut names = Vec::with_capacity(raw.len());
        for bytes in raw.fields() {
            let Ok(text) = self.decoder.decode(bytes) else {
                let tail =
                    hint.map_or_else(|| note.to_owned(), |h| format!("; try --encoding {h}"));
                return Err(InputError::Named(format!(
                    "the header of {path} (line {line}) is not valid {}{tail}",
                    self.label
                )));
            };
            names.push(
                text.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
                    .to_string(),
            );
        }
        Ok(names)
    }

    /// `column "name"`, or `column 3` for a column without a name.
    /// A long name is cut to [`super::SHOWN_CHARS`] characters (`column "aaaa…"`).
    fn column(&self, index: usize) -> String {
        match self.headers.get(index) {
            Some(name) if !name.is_empty() => {
                let (kept, more) = cut(name);
                format!("column \"{kept}{}\"", if more { "…" } else { "" })
            }
            _ => format!("column {}", index + 1),
        }
    }

    /// UTF-8 input whose record is valid UTF-8 as a whole with every field starting on a
    /// character boundary (so every field is valid on its own): the cells in one copy.
    fn fast_utf8(&self, raw: &RawRecord) -> Option<Cells> {
        if self.decoder.encoding() != encoding_rs::UTF_8 {
            return None;
        }
        let (bytes, starts) = raw.parts();
        let text = std::str::from_utf8(bytes).ok()?;
        Cells::from_parts(text.to_owned(), starts.to_vec())
    }

    fn record(&mut self, raw: &RawRecord) -> Record {
        let (cells, undecodable) = self.cells(raw);
        let mut problem = self.problem(raw, undecodable);
        if let Some(p) = problem.as_mut().filter(|p| p.code == "invalid_encoding") {
            if std::mem::take(&mut self.hint_pending) {
                if let Some(hint) = suggest_encoding(raw.parts().0, self.decoder.encoding()) {
                    p.message.push_str(&format!(
                        " (from this line on the file looks like {hint}: try --encoding {hint})"
                    ));
                }
            }
        }
        Record {
            row: self.row,
            line: raw.line,
            data: RecordData::Cells(cells),
            problem,
        }
    }

    /// The record's cells as text, and the first field not valid in the input's encoding.
    fn cells(&self, raw: &RawRecord) -> (Cells, Option<usize>) {
        if let Some(cells) = self.fast_utf8(raw) {
            return (cells, None);
        }
        let mut undecodable = None;
        // Decoded text is about as long as the bytes (GBK: at most 1.5 times).
        let mut cells = Cells::with_capacity(raw.len(), raw.stored());
        for (i, bytes) in raw.fields().enumerate() {
            match self.decoder.decode(bytes) {
                Ok(text) => cells.push(&text),
                Err(lossy) => {
                    undecodable.get_or_insert(i);
                    cells.push(&lossy);
                }
            }
        }
        (cells, undecodable)
    }

    /// Why the record cannot be used as it is, if it cannot (the first of its problems).
    fn problem(&self, raw: &RawRecord, undecodable: Option<usize>) -> Option<Problem> {
        let field_line = |i: usize| raw.field_lines.get(i).copied().unwrap_or(raw.line);
        let found = raw.len();
        let problem = |code, message| Some(Problem { code, message });
        if let Some((opened, last)) = raw.unterminated {
            let swallowed = if last > opened {
                format!("; lines {opened}–{last} were not read as rows")
            } else {
                String::new()
            };
            problem(
                "unterminated_quote",
                format!("line {opened}: a quote opened here is never closed{swallowed}"),
            )
        } else if raw.too_big {
            problem(
                "record_too_large",
                format!(
                    "line {}: record larger than {} fields or {} bytes",
                    raw.line,
                    parser::MAX_FIELDS,
                    self.max_field_bytes
                        .saturating_mul(parser::RECORD_CAP_FACTOR)
                ),
            )
        } else if let Some(i) = raw.too_large {
            problem(
                "field_too_large",
                format!(
                    "line {}, {}: field longer than {} bytes",
                    field_line(i),
                    self.column(i),
                    self.max_field_bytes
                ),
            )
        } else if let Some(i) = undecodable {
            problem(
                "invalid_encoding",
                format!(
                    "line {}, {}: not valid {}",
                    field_line(i),
                    self.column(i),
                    self.label
                ),
            )
        } else if found != self.headers.len() {
            // A quote that closes on a later line merges those lines into one record.
            let merged = if raw.end_line > raw.line {
                format!(
                    "; lines {}–{} were read as one record (a quoted field spans them: check for a misplaced quote)",
                    raw.line, raw.end_line
                )
            } else {
                String::new()
            };
            problem(
                "wrong_field_count",
                format!(
                    "line {}: expected {} fields, found {found}{merged}",
                    raw.line,
                    self.headers.len()
                ),
            )
        } else {
            None
        }
    }
}

impl Iterator for CsvRecords {
    type Item = Result<Record, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut parser = self.parser.take()?;
        match parser.next_record() {
            Ok(Some(raw)) => {
                self.row += 1;
                let record = self.record(raw);
                self.parser = Some(parser);
                Some(Ok(record))
            }
            Ok(None) => None,
            Err(source) => Some(Err(InputError::Io {
                path: self.path.clone(),
                source,
            })),
        }
    }
}

#[cfg(test)]
mod tests;
