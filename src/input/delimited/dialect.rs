//! The dialect sniffer: which of `,` `;` TAB `|` separates the fields of a CSV sample, whether
//! it quotes fields with `"`, and which line holds the header (below title lines such as
//! `Customer export` or a print date, or none when the first row of the table is data).
//!
//! Each candidate delimiter reads the sample by the parser's own rules and is scored by how
//! consistent the table it yields is: the share of records that have the table's width (its
//! most frequent one) and no bytes after a closing quote, weighted by how many fields that is
//! (one field scores nothing), times the share of cells that read as a known kind of value
//! (empty, number, date, time, e-mail, URL, phone number, or text holding no other candidate
//! delimiter nor a stray quote). A reading that makes the whole sample one table (no title
//! lines, every record of its width) wins over one that does not; then the highest score, then
//! (when no cell reads as a known kind) the most consistent table; `,` on a tie or when none
//! splits the sample. Excel's `sep=X` first line names the delimiter outright.
//!
//! Title lines are the records above the first one that has the table's width and at least two
//! non-empty cells (a title padded with delimiters, `Report;;;`, has one). The header is that
//! record unless one of its cells reads as a number, date, time, e-mail or phone number (a
//! header names its columns), in which case the file has none.

use std::sync::LazyLock;

use regex::Regex;

use super::parser::{sample_records, Sampled};
use super::CANDIDATES;

/// Records of the sample the sniffer reads.
const SAMPLE_RECORDS: usize = 64;
/// Lines among which the header is looked for.
const TITLE_LINES: usize = 20;

/// What the sniffer reads in a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// The field delimiter.
    pub delimiter: u8,
    /// Whether some field is quoted with `"`.
    pub quoted: bool,
    /// The header's line among the non-blank lines, from 1 (the `--header-row` that reads it);
    /// 0 when the first row of the table is already data.
    pub header_row: u64,
}

/// How one candidate reads the sample.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Reading {
    delimiter: u8,
    score: f64,
    /// The consistency alone (the score before the cells' kinds): what decides between
    /// readings that score nothing because no cell reads as a known kind (one data row of
    /// cells holding another candidate delimiter).
    pattern: f64,
    /// Index of the table's first record.
    start: usize,
    /// The table is the whole sample: no title lines above it, every record of its width, no
    /// stray or unterminated quote.
    whole: bool,
}

/// Sniffs `sample` (its start, or all of it when `complete`). `skip` records are above the
/// header when `--header-row` says so; `None` lets the sniffer find the title lines.
pub fn sniff_dialect(sample: &[u8], complete: bool, skip: Option<usize>) -> Dialect {
    let text = String::from_utf8_lossy(sample);
    let text = text.trim_start_matches('\u{FEFF}');
    let (named, body) = match sep_line(text) {
        Some((d, rest)) if skip.is_none() => (Some(d), rest),
        _ => (None, text),
    };
    let above = usize::from(named.is_some());
    let candidates: Vec<u8> = named.map_or_else(|| CANDIDATES.to_vec(), |d| vec![d]);
    let mut best: Option<(Reading, Vec<Sampled>)> = None;
    for d in candidates {
        let mut records = sample_records(body.as_bytes(), d, SAMPLE_RECORDS + 1);
        if !complete && records.len() > 1 {
            records.pop();
        }
        let reading = read_with(&records, d, skip);
        // A reading that makes the whole sample one table beats any that needs title lines
        // above its table: a line read as a title by one delimiter but as the header by
        // another (`c0_;c1_` above rows whose cells hold commas) is the header.
        let better = |b: &Reading| {
            (reading.whole, reading.score, reading.pattern) > (b.whole, b.score, b.pattern)
        };
        if best.as_ref().is_none_or(|(b, _)| better(b)) {
            best = Some((reading, records));
        }
    }
    let Some((reading, records)) = best else {
        return Dialect {
            delimiter: b',',
            quoted: false,
            header_row: 1,
        };
    };
    let delimiter = if reading.pattern > 0.0 || named.is_some() {
        reading.delimiter
    } else {
        b','
    };
    let header = records.get(reading.start);
    let data_first = header.is_some_and(|r| r.fields.iter().any(|f| is_value(f)));
    Dialect {
        delimiter,
        quoted: records.iter().any(|r| r.quoted != 0),
        header_row: if data_first && skip.is_none() {
            0
        } else {
            (above + reading.start + 1) as u64
        },
    }
}

/// Whether `head` (the start of a text input, ASCII-compatible) begins with Excel's `sep=X`
/// line: it names the delimiter and is not the header.
pub(super) fn starts_with_sep_line(head: &[u8]) -> bool {
    let line_end = memchr::memchr2(b'\r', b'\n', head).unwrap_or(head.len());
    let first = head.get(..line_end.min(16)).unwrap_or_default();
    sep_line(&String::from_utf8_lossy(first)).is_some()
}

/// The delimiter named by Excel's `sep=X` first line, and the text after that line.
fn sep_line(text: &str) -> Option<(u8, &str)> {
    let line_end = text.find(['\r', '\n']).unwrap_or(text.len());
    let line = text.get(..line_end)?;
    let rest = line
        .strip_prefix("sep=")
        .or_else(|| line.strip_prefix("SEP="))?;
    let &[d] = rest.as_bytes() else {
        return None;
    };
    let d = if d == b't' { b'\t' } else { d };
    (d.is_ascii() && !matches!(d, b'"' | b'\r' | b'\n')).then(|| (d, &text[line_end..]))
}

/// How consistent the table read with `delimiter` is (see the module's note).
fn read_with(records: &[Sampled], delimiter: u8, skip: Option<usize>) -> Reading {
    let nothing = Reading {
        delimiter,
        score: 0.0,
        pattern: 0.0,
        start: skip.unwrap_or(0),
        whole: false,
    };
    if records.is_empty() {
        return nothing;
    }
    let width = table_width(records, skip);
    if width < 2 {
        return nothing;
    }
    let start = skip.unwrap_or_else(|| table_start(records, width));
    // The header has the table's width: a reading that leaves it one field of several
    // (`a;b` read with `,` above rows holding commas) is no table.
    let Some(table) =
        (records.get(start..)).filter(|t| t.first().is_some_and(|h| h.fields.len() == width))
    else {
        return nothing;
    };
    let fitting = table
        .iter()
        .filter(|r| r.fields.len() == width && !r.stray && !r.unterminated)
        .count();
    // Records above the table count against it, unless --header-row put them there.
    let counted = if skip.is_some() {
        table.len()
    } else {
        records.len()
    };
    let pattern = fitting as f64 / counted as f64 * (1.0 - 1.0 / width as f64);
    Reading {
        delimiter,
        score: pattern * type_share(&records[..start], table, delimiter),
        pattern,
        start,
        whole: skip.is_none() && start == 0 && fitting == records.len(),
    }
}

/// The table's width: the most frequent number of fields among the records (below `skip`),
/// the larger on a tie.
fn table_width(records: &[Sampled], skip: Option<usize>) -> usize {
    let widths: Vec<usize> = records
        .iter()
        .skip(skip.unwrap_or(0))
        .map(|r| r.fields.len())
        .collect();
    widths
        .iter()
        .copied()
        .max_by_key(|&w| (widths.iter().filter(|&&v| v == w).count(), w))
        .unwrap_or(0)
}

/// The first record among the first [`TITLE_LINES`] with the table's width and two non-empty
/// cells; 0 when none is.
fn table_start(records: &[Sampled], width: usize) -> usize {
    records
        .iter()
        .take(TITLE_LINES)
        .position(|r| {
            let filled = r.fields.iter().filter(|f| !trim(f).is_empty()).count();
            r.fields.len() == width && filled >= 2
        })
        .unwrap_or(0)
}

/// The share of the cells below the table's first record, and of the title lines above it,
/// that read as a known kind of value (a title line is text: `c0|c1|c2` read with `;` is not
/// one). Nothing to judge scores 1.
fn type_share(titles: &[Sampled], table: &[Sampled], delimiter: u8) -> f64 {
    let mut cells = 0usize;
    let mut known = 0usize;
    for record in titles.iter().chain(table.iter().skip(1)) {
        for (i, field) in record.fields.iter().enumerate() {
            cells += 1;
            let quoted = i < 64 && record.quoted & (1 << i) != 0;
            if quoted || is_value(field) || is_text(field, delimiter) {
                known += 1;
            }
        }
    }
    if cells == 0 {
        1.0
    } else {
        known as f64 / cells as f64
    }
}

fn trim(field: &[u8]) -> &[u8] {
    field.trim_ascii()
}

/// A number, date, time, e-mail, URL or phone number (not text, not empty).
fn is_value(field: &[u8]) -> bool {
    static VALUE: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(concat!(
            r"^(?:",
            // Numbers: signs, currency, thousands and decimal separators, exponent, percent.
            r"[-+]?[$€£¥]?\s?(?:\d{1,3}(?:[.,' \u{a0}]\d{3})+|\d+)(?:[.,]\d+)?(?:[eE][-+]?\d+)?\s?%?",
            // Dates (any order, `/` `-` `.`), optionally with a time; times with a zone.
            r"|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?(?:Z|[-+]\d{2}:?\d{2})?",
            r"|\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[-+]\d{2}:?\d{2})?",
            r"|[^@\s]+@[^@\s]+\.[A-Za-z]{2,}",
            r"|(?:https?://|www\.)\S+",
            // Phone numbers: digits with spaces, dashes, dots or brackets, 6 digits or more.
            r"|\+?\(?\d[\d\s().-]{4,}\d",
            r")$"
        ))
        .ok()
    });
    let Ok(text) = std::str::from_utf8(trim(field)) else {
        return false;
    };
    !text.is_empty() && VALUE.as_ref().is_some_and(|re| re.is_match(text))
}

/// Text as a cell holds it: no quote, and no other candidate delimiter except as punctuation
/// followed by a space (`Müller, Hans`); empty counts.
fn is_text(field: &[u8], delimiter: u8) -> bool {
    let field = trim(field);
    if field.contains(&b'"') {
        return false;
    }
    field.iter().enumerate().all(|(i, b)| {
        !CANDIDATES.contains(b)
            || *b == delimiter
            || (*b != b'\t' && field.get(i + 1).is_none_or(|n| *n == b' '))
    })
}

#[cfg(test)]
mod tests;
