//! Streaming input: CSV, TSV and JSONL files (or standard input), and sheets of spreadsheet
//! workbooks, decoded into [`Record`]s.
//!
//! Invariant: every data record of the input comes out exactly once, in order, numbered from 1;
//! a record that cannot be read cleanly still comes out, carrying a [`Problem`] instead of being
//! skipped or merged with its neighbours. Memory stays bounded by the largest record, whatever
//! the file size.

use std::path::PathBuf;

use serde_json::{Map, Value};

mod cells;
mod csv;
mod decode;
mod jsonl;
mod sheet;

pub use cells::Cells;
pub use decode::{guess_encoding_hint, Decoder};
pub use sheet::SheetInfo;

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
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

/// An open input: its header (CSV/TSV) and a stream of records.
pub struct Input {
    /// Column names for CSV/TSV; `None` for JSONL.
    pub headers: Option<Vec<String>>,
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
    /// Open the input and read its header. Fails on I/O errors, an undecodable or duplicated
    /// header, and other problems that make the whole input unreadable.
    pub fn open(opts: &InputOptions) -> Result<Input, InputError> {
        match opts.format {
            Format::Csv | Format::Tsv => csv::open(opts),
            Format::Jsonl => jsonl::open(opts),
            Format::Xlsx | Format::Xlsb | Format::Xls | Format::Ods => sheet::open(opts),
        }
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

impl Iterator for Input {
    type Item = Result<Record, InputError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.records.next()
    }
}
