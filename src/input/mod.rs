//! Streaming input: CSV, TSV and JSONL files or streams (standard input, FIFOs, process
//! substitution), and sheets of spreadsheet workbooks (files only), decoded into [`Record`]s.
//!
//! Invariant: every data record of the input comes out exactly once, in order, numbered from 1;
//! a record that cannot be read cleanly still comes out, carrying a [`Problem`] instead of being
//! skipped or merged with its neighbours. Memory stays bounded by the largest record, whatever
//! the file size.

use std::path::PathBuf;

use serde_json::{Map, Value};

mod cells;
mod decode;
mod delimited;
mod jsonl;
mod sheet;
mod sniff;
mod source;

pub use cells::Cells;
pub use decode::Decoder;
pub use delimited::{sniff_dialect, Dialect};
pub use sheet::SheetInfo;
pub use source::{check_path, display_name, is_stream_path, Identity, Origin};

/// Input file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Tsv,
    Jsonl,
    /// Excel workbook (`.xlsx`, `.xlsm`).
    Xlsx,
    /// Excel binary workbook (`.xlsb`).
    Xlsb,
    /// Excel 97-2003 workbook (`.xls`).
    Xls,
    /// OpenDocument spreadsheet (`.ods`).
    Ods,
}

impl Format {
    /// The format implied by a file name's extension, if any.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "tsv" | "tab" => Some(Format::Tsv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "xlsx" | "xlsm" => Some(Format::Xlsx),
            "xlsb" => Some(Format::Xlsb),
            "xls" => Some(Format::Xls),
            "ods" => Some(Format::Ods),
            _ => None,
        }
    }

    /// A spreadsheet workbook (read from a file, one sheet at a time).
    pub fn is_sheet(self) -> bool {
        matches!(
            self,
            Format::Xlsx | Format::Xlsb | Format::Xls | Format::Ods
        )
    }
}

/// Where a record is, for messages: `line 17`, or `sheet "Customers" row 17` for a sheet.
pub fn place(sheet: Option<&str>, line: u64) -> String {
    match sheet {
        Some(name) => format!("sheet {name:?} row {line}"),
        None => format!("line {line}"),
    }
}

/// Where records come from and how to read them.
#[derive(Debug, Clone)]
pub struct InputOptions {
    /// A path, or `-` for standard input.
    pub path: PathBuf,
    pub format: Format,
    /// `None`: sniffed from the header line among `,` `;` `\t` `|` (CSV), `\t` for TSV.
    pub delimiter: Option<u8>,
    /// WHATWG label; `None` means UTF-8 (a BOM of UTF-8 or UTF-16 always wins).
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// A field longer than this (in bytes) rejects its record.
    pub max_field_bytes: usize,
    /// Spreadsheets: the sheet's name or 1-based number (`None`: the first worksheet).
    pub sheet: Option<String>,
    /// `--header-row`: the header is the N-th non-blank line (a sheet: row N); `None`: the
    /// first.
    pub header_row: Option<u32>,
}

impl InputOptions {
    /// The sheet read, for spreadsheet input (once the input is open, its resolved name).
    pub fn sheet_read(&self) -> Option<String> {
        self.sheet.clone().filter(|_| self.format.is_sheet())
    }
}

/// One data record of the input.
#[derive(Debug, Clone)]
pub struct Record {
    /// 1-based number among the input's data records (the header is not a record).
    pub row: u64,
    /// 1-based physical line of the input where the record starts (a sheet: its row number).
    pub line: u64,
    pub data: RecordData,
    /// Set when the record could not be read cleanly; such a record is rejected, never sent.
    pub problem: Option<Problem>,
}

/// The original content of a record, kept so that the failure report can reproduce it.
#[derive(Debug, Clone)]
pub enum RecordData {
    /// CSV/TSV cells in column order (decoded; undecodable bytes shown lossily).
    Cells(Cells),
    /// A JSONL line that is a JSON object (key order preserved).
    Object(Map<String, Value>),
    /// A JSONL line that is not a JSON object: its original text.
    Line(String),
    /// A failure report's wrapper of a line that still is no JSON object
    /// (`{"custimport": {"row": 4, …}, "line": "[1,2]"}` fed back): the line's text, and the
    /// wrapper's `custimport` object, which says the row of the first file.
    Wrapped { line: String, custimport: Value },
}

/// Why a record could not be read cleanly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Stable machine code: `wrong_field_count`, `invalid_encoding`, `unterminated_quote`,
    /// `field_too_large`, `invalid_json`, `not_an_object`, `too_deep`.
    pub code: &'static str,
    /// Human message naming the line (and field where there is one).
    pub message: String,
}

/// Errors that stop reading altogether (exit 2 when nothing was sent yet).
///
/// Whether a message names the input is said by its variant, never found in its text: [`Io`]
/// and [`Named`] messages name the input themselves (by the name [`display_name`] gives) and
/// are shown as they are; an [`Unnamed`] message does not, and whoever shows it puts the
/// input's name in front (`a.csv: line 1: …`). See [`InputError::names_input`].
///
/// [`Io`]: InputError::Io
/// [`Named`]: InputError::Named
/// [`Unnamed`]: InputError::Unnamed
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Reading failed; the message starts with the input's name (`a.csv: …`).
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The message names the input where its sentence needs it (`a.csv is not UTF-8 text …`,
    /// `--header-row 5: a.csv has only 1 non-blank lines`).
    #[error("{0}")]
    Named(String),
    /// The message does not name the input (`line 1: a quote opened in the header is never
    /// closed`): shown after the input's name.
    #[error("{0}")]
    Unnamed(String),
}

impl InputError {
    /// Whether the message names the input itself; when it does not, the caller puts the
    /// input's name in front of it.
    pub fn names_input(&self) -> bool {
        match self {
            InputError::Io { .. } | InputError::Named(_) => true,
            InputError::Unnamed(_) => false,
        }
    }
}

/// An open input: its header (CSV/TSV) and a stream of records.
pub struct Input {
    /// Column names for CSV/TSV, each unique (a repeated name gets ` (2)`, ` (3)`, ...; see
    /// `original_headers`); `None` for JSONL.
    pub headers: Option<Vec<String>>,
    /// The header's names as written in the input (for the failure report).
    pub original_headers: Option<Vec<String>>,
    /// Things worth a warning found while opening (repeated header names).
    pub warnings: Vec<String>,
    /// A file or a stream, and what is known of it.
    pub origin: Origin,
    pub format: Format,
    /// The delimiter in use (CSV/TSV).
    pub delimiter: u8,
    /// Name of the encoding the input was decoded from.
    pub encoding: &'static str,
    /// Blank lines skipped (JSONL).
    records: Box<dyn Iterator<Item = Result<Record, InputError>> + Send>,
    skipped_blank: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The sheet read (spreadsheet input).
    pub sheet: Option<SheetInfo>,
}

impl Input {
    /// Open the input and read its header. Fails on I/O errors, a path that is missing or a
    /// directory, an undecodable header, and other problems that make the whole input
    /// unreadable.
    pub fn open(opts: &InputOptions) -> Result<Input, InputError> {
        let source = source::open(&opts.path)?;
        let name = source::display_name(&opts.path);
        let mut input = match opts.format {
            Format::Csv | Format::Tsv => delimited::from_reader(source.reader, opts, name)?,
            Format::Jsonl => jsonl::from_reader(source.reader, opts, name)?,
            Format::Xlsx | Format::Xlsb | Format::Xls | Format::Ods => {
                sheet::open(opts, &source.origin)?
            }
        };
        input.origin = source.origin;
        if opts.header_row.is_some() && opts.format == Format::Jsonl {
            let w = "--header-row applies to CSV, TSV and spreadsheets, not JSONL; ignored";
            input.warnings.push(w.to_owned());
        }
        Ok(input)
    }

    /// Standard input, a FIFO, a device: read once, with no size, identity or `--resume`.
    pub fn is_stream(&self) -> bool {
        self.origin.is_stream()
    }

    /// The next `n` data records (fewer at the end), read ahead: they still come out of the
    /// input, in order, as if they had not been looked at.
    pub fn peek_records(&mut self, n: usize) -> Vec<Record> {
        let rest = std::mem::replace(&mut self.records, Box::new(std::iter::empty()));
        let mut rest = rest.peekable();
        let mut ahead = Vec::with_capacity(n);
        while ahead.len() < n {
            match rest.next_if(Result::is_ok) {
                Some(item) => ahead.push(item),
                None => break,
            }
        }
        let seen = ahead
            .iter()
            .filter_map(|r| r.as_ref().ok().cloned())
            .collect();
        self.records = Box::new(ahead.into_iter().chain(rest));
        seen
    }

    /// A shared counter of the blank lines skipped (readable after the input was consumed).
    pub fn blank_counter(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        self.skipped_blank.clone()
    }

    /// Blank lines skipped so far (JSONL only; they are not records).
    pub fn blank_lines(&self) -> u64 {
        self.skipped_blank
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// How a name from the input (a column, a key) is shown in messages and the plan view: quoted
/// and escaped, and cut to [`SHOWN_CHARS`] characters with `…` when longer.
pub fn shown(name: &str) -> String {
    let (kept, more) = cut(name);
    format!("{kept:?}{}", if more { "…" } else { "" })
}

/// The first [`SHOWN_CHARS`] characters of `text`, and whether anything was cut.
pub fn cut(text: &str) -> (&str, bool) {
    match text.char_indices().nth(SHOWN_CHARS) {
        None => (text, false),
        Some((end, _)) => (text.get(..end).unwrap_or_default(), true),
    }
}

/// Characters of a name [`shown`] keeps.
pub const SHOWN_CHARS: usize = 60;

/// Header names made unique for mapping: the second `Phone` becomes `Phone (2)`, the third
/// `Phone (3)` (skipping a number that is already a name of the header). Empty names may
/// repeat. Also returns one warning listing the names that repeat, when some do.
pub(crate) fn unique_headers(names: &[String]) -> (Vec<String>, Option<String>) {
    use std::collections::{HashMap, HashSet};
    let mut used: HashSet<String> = names.iter().cloned().collect();
    let mut first: HashSet<&str> = HashSet::new();
    let mut next: HashMap<&str, u64> = HashMap::new();
    let mut renamed: Vec<&String> = Vec::new();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        if name.is_empty() || first.insert(name) {
            out.push(name.clone());
            continue;
        }
        let n = next.entry(name).or_insert(2);
        let new = loop {
            let candidate = format!("{name} ({n})");
            *n += 1;
            if used.insert(candidate.clone()) {
                break candidate;
            }
        };
        if !renamed.contains(&name) {
            renamed.push(name);
        }
        out.push(new);
    }
    if renamed.is_empty() {
        return (out, None);
    }
    /// Repeated names (and columns of each) listed in the warning; the others are counted.
    const LISTED: usize = 5;
    let mut parts: Vec<String> = renamed
        .iter()
        .take(LISTED)
        .map(|name| {
            let (mut columns, mut as_named): (Vec<String>, Vec<String>) = names
                .iter()
                .zip(&out)
                .enumerate()
                .filter(|(_, (original, _))| original == name)
                .take(LISTED + 1)
                .map(|(i, (_, new))| ((i + 1).to_string(), shown(new)))
                .unzip();
            if columns.len() > LISTED {
                columns.truncate(LISTED);
                as_named.truncate(LISTED);
                columns.push("…".into());
                as_named.push("…".into());
            }
            format!(
                "{} (columns {}) read as {}",
                shown(name),
                columns.join(", "),
                as_named.join(", ")
            )
        })
        .collect();
    if renamed.len() > LISTED {
        parts.push(format!("and {} more", renamed.len() - LISTED));
    }
    let warning = format!(
        "the header repeats column names: {}; use these names with --map (failed.csv keeps the original header)",
        parts.join("; ")
    );
    (out, Some(warning))
}

impl Iterator for Input {
    type Item = Result<Record, InputError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.records.next()
    }
}

/// Whether the file at `path` starts with a byte order mark (UTF-8 or UTF-16). Only a
/// regular file is looked at: reading a stream's first bytes here would take them from the
/// run.
pub fn starts_with_bom(path: &std::path::Path) -> bool {
    use std::io::Read;
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = [0u8; 3];
    let n = std::fs::File::open(path)
        .and_then(|f| f.take(3).read(&mut head))
        .unwrap_or(0);
    head[..n].starts_with(&[0xEF, 0xBB, 0xBF])
        || head[..n].starts_with(&[0xFF, 0xFE])
        || head[..n].starts_with(&[0xFE, 0xFF])
}

#[cfg(test)]
mod tests;
