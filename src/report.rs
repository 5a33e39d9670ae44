//! The report directory and what a run tells in it: the directory itself, locked, and the
//! names of its files (`outdir.rs`); the report writers, `success.csv`, `failed.csv` /
//! `failed.jsonl` (and `failed.xlsx` in `xlsx.rs`); `summary.json` and what a run's counts
//! make of it (`summary.rs`); and the plan a dry run shows (`dry_run.rs`).
//! Writers take any `io::Write`, so tests check their bytes without files; [`PendingReport`]
//! gives the on-disk ones mode 0600 and an atomic rename when complete.
//!
//! Invariants: reports are UTF-8; a failed row reproduces all its original cells in input
//! order so the file can be fixed and fed back; formula-like cells are guarded with `'`,
//! except a cell of a phone-like column that looks like a phone number.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::input::{Cells, RecordData};
// Reports are created by the one routine that creates files in the report directory (new,
// private, never through a link).
use crate::private_file::create_private;
use crate::provider::rules::mask_phone;
use outdir::ReportFile;

/// The columns the failure report appends to the input's.
pub(crate) const FAILED_COLUMNS: [&str; 4] = [
    "custimport_row",
    "custimport_outcome",
    "custimport_code",
    "custimport_error",
];

/// The column of `success.csv` after the provider's: the row's number in the first file of a
/// fix-and-reimport loop (the input's `custimport_row`), empty for a first import.
pub(crate) const SOURCE_ROW: &str = "source_row";

/// Prefix `'` to a cell a spreadsheet would run as a formula. A negative plain number
/// (`-27`, `-1.5`) is a number to a spreadsheet, not a formula, and is kept as it is.
pub(crate) fn guard(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'-') if is_negative_number(cell) => Cow::Borrowed(cell),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// `-` then digits, with at most one `.` between digits: `-27`, `-1.5`.
fn is_negative_number(cell: &str) -> bool {
    let Some(rest) = cell.strip_prefix('-') else {
        return false;
    };
    let (whole, frac) = rest.split_once('.').unwrap_or((rest, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(frac)
}

/// Where a record says which row of the first file it is: the input's own `custimport_row`
/// (a CSV or sheet column, or `"custimport": {"row": …}` of a JSONL object), so that a row keeps
/// its first file's number through any number of fix-and-reimport rounds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Provenance {
    /// The index of the input's `custimport_row` column (CSV, sheets).
    column: Option<usize>,
}

impl Provenance {
    /// For an input with this header (`None`: JSONL).
    pub(crate) fn of(header: Option<&[String]>) -> Provenance {
        Provenance {
            column: header.and_then(|h| {
                h.iter()
                    .position(|c| c.trim().eq_ignore_ascii_case(FAILED_COLUMNS[0]))
            }),
        }
    }

    /// The record's first-file row number, if it carries one (trimmed, not empty).
    pub(crate) fn source<'d>(&self, data: &'d RecordData) -> Option<Cow<'d, str>> {
        let text: Cow<'d, str> = match data {
            RecordData::Cells(c) => Cow::Borrowed(c.get(self.column?)?),
            RecordData::Object(o) => row_of(o.get("custimport")?)?,
            RecordData::Wrapped { custimport, .. } => row_of(custimport)?,
            RecordData::Line(_) => return None,
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return None;
        }
        Some(match text {
            Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
            Cow::Owned(o) => Cow::Owned(o.trim().to_owned()),
        })
    }
}

/// The `row` of a JSONL record's `custimport` object, as text.
fn row_of(custimport: &Value) -> Option<Cow<'_, str>> {
    match custimport.get("row")? {
        Value::String(s) => Some(Cow::Borrowed(s.as_str())),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// [`guard`] for a cell of a phone-like column: a cell that looks like a phone number (ASCII
/// digits, with spaces, `-`, `.`, `(`, `)` and one leading `+`; at least one digit) is kept as
/// it is, so `+62 812-3456` stays readable and re-importable; anything else (`=HYPERLINK(...)`,
/// `@SUM(1)`, `-` alone) is guarded like any other cell.
pub(crate) fn guard_phone(cell: &str) -> Cow<'_, str> {
    let rest = cell.strip_prefix('+').unwrap_or(cell);
    let looks_like_phone = rest.bytes().any(|b| b.is_ascii_digit())
        && rest
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'(' | b')'));
    if looks_like_phone {
        Cow::Borrowed(cell)
    } else {
        guard(cell)
    }
}

/// `success.csv`: `row` then the provider's columns.
pub struct SuccessWriter<W: Write> {
    csv: csv::Writer<W>,
    phone_cols: Vec<bool>,
    mask: bool,
}

impl<W: Write> SuccessWriter<W> {
    pub fn new(w: W, header: &[&str], phone_columns: &[&str], mask: bool) -> io::Result<Self> {
        let mut csv = csv::WriterBuilder::new().flexible(true).from_writer(w);
        let mut full = vec!["row"];
        full.extend_from_slice(header);
        csv.write_record(&full)?;
        Ok(SuccessWriter {
            csv,
            phone_cols: header.iter().map(|h| phone_columns.contains(h)).collect(),
            mask,
        })
    }

    pub fn write<S: AsRef<str>>(&mut self, row: u64, cells: &[S]) -> io::Result<()> {
        self.write_cells(row, cells)?;
        self.csv.write_record(None::<&[u8]>)?;
        Ok(())
    }

    /// [`SuccessWriter::write`], then the [`SOURCE_ROW`] cell (success.csv).
    pub fn write_sourced<S: AsRef<str>>(
        &mut self,
        row: u64,
        cells: &[S],
        source: Option<&str>,
    ) -> io::Result<()> {
        self.write_cells(row, cells)?;
        self.csv
            .write_field(guard(source.unwrap_or_default()).as_ref())?;
        self.csv.write_record(None::<&[u8]>)?;
        Ok(())
    }

    fn write_cells<S: AsRef<str>>(&mut self, row: u64, cells: &[S]) -> io::Result<()> {
        self.csv.write_field(row.to_string())?;
        for (cell, phone) in cells.iter().zip(&self.phone_cols) {
            let cell = cell.as_ref();
            if *phone {
                if self.mask && !cell.is_empty() {
                    self.csv.write_field(mask_phone(cell))?;
                } else {
                    self.csv.write_field(guard_phone(cell).as_ref())?;
                }
            } else {
                self.csv.write_field(guard(cell).as_ref())?;
            }
        }
        Ok(())
    }

    /// Hand what was written to the file (the journal may then say these rows succeeded).
    pub fn flush(&mut self) -> io::Result<()> {
        self.csv.flush()
    }

    pub fn into_inner(self) -> io::Result<W> {
        self.csv.into_inner().map_err(|e| e.into_error())
    }
}

impl SuccessWriter<BufWriter<File>> {
    /// Flush, then sync the file's data to disk (before the journal is synced, so that the
    /// journal on disk never calls a row succeeded whose line is not).
    pub fn sync(&mut self) -> io::Result<()> {
        self.csv.flush()?;
        self.csv.get_ref().get_ref().sync_data()
    }
}

/// `failed.csv` or `failed.jsonl`.
pub(crate) enum FailedWriter<W: Write> {
    Csv(Box<CsvLayout<W>>),
    Jsonl(W),
}

/// The failure CSV's writer and column layout.
pub(crate) struct CsvLayout<W: Write> {
    csv: csv::Writer<W>,
    /// Per input column: phone-like (guarded only when a cell does not look like a phone).
    phone_cols: Vec<bool>,
    /// Per input column: written (an input's own `custimport_*` columns are not).
    keep: Vec<bool>,
    /// The input's own `custimport_row`, kept in ours.
    provenance: Provenance,
}

impl<W: Write> CsvLayout<W> {
    /// One row of `failed.csv`: the input's cells, ours (`outcome`, `code`, `error`), then any
    /// surplus cells.
    fn write(
        &mut self,
        row: u64,
        data: &RecordData,
        [outcome, code, error]: [&str; 3],
    ) -> io::Result<()> {
        let width = self.keep.len();
        let whole;
        let cells: CellsRef<'_> = match data {
            RecordData::Cells(c) => CellsRef::Cells(c),
            RecordData::Line(text) | RecordData::Wrapped { line: text, .. } => CellsRef::One(text),
            RecordData::Object(o) => {
                whole = Value::Object(o.clone()).to_string();
                CellsRef::One(&whole)
            }
        };
        for i in (0..width).filter(|&i| self.keep[i]) {
            let cell = cells.get(i).unwrap_or_default();
            if self.phone_cols.get(i).copied().unwrap_or(false) {
                self.csv.write_field(guard_phone(cell).as_ref())?;
            } else {
                self.csv.write_field(guard(cell).as_ref())?;
            }
        }
        if width == 0 {
            // No header at all: keep the cells rather than lose them.
            for cell in cells.iter() {
                self.csv.write_field(guard(cell).as_ref())?;
            }
        }
        match self.provenance.source(data) {
            Some(first) => self.csv.write_field(guard(&first).as_ref())?,
            None => self.csv.write_field(row.to_string())?,
        }
        self.csv.write_field(outcome)?;
        // A code is ours or the provider's (`-27`), never a formula.
        self.csv.write_field(code)?;
        self.csv.write_field(guard(error).as_ref())?;
        if width > 0 {
            for cell in cells.iter().skip(width) {
                self.csv.write_field(guard(cell).as_ref())?;
            }
        }
        self.csv.write_record(None::<&[u8]>)?;
        Ok(())
    }
}

/// The cells of a record for `failed.csv`: a CSV record's cells, or one cell holding a JSONL
/// line.
enum CellsRef<'a> {
    Cells(&'a Cells),
    One(&'a str),
}

impl<'a> CellsRef<'a> {
    fn get(&self, index: usize) -> Option<&'a str> {
        match self {
            CellsRef::Cells(c) => c.get(index),
            CellsRef::One(text) => (index == 0).then_some(*text),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        let len = match self {
            CellsRef::Cells(c) => c.len(),
            CellsRef::One(_) => 1,
        };
        (0..len).filter_map(|i| self.get(i))
    }
}

impl<W: Write> FailedWriter<W> {
    /// CSV: the input header, then the four `custimport_*` columns. An input's own
    /// `custimport_*` columns are dropped, so a failure report fed back yields a report of the
    /// same shape. A short record is padded with empty cells so the columns line up; the
    /// surplus cells of a long record follow the `custimport_*` columns.
    pub(crate) fn csv(
        w: W,
        header: &[String],
        phone_cols: Vec<bool>,
        delimiter: u8,
    ) -> io::Result<Self> {
        let mut csv = csv::WriterBuilder::new()
            .flexible(true)
            .delimiter(delimiter)
            .from_writer(w);
        let keep: Vec<bool> = header
            .iter()
            .map(|h| !crate::mapping::is_reserved(h))
            .collect();
        // Header cells are guarded like data cells (the input's header is text from anyone).
        let mut row: Vec<Cow<'_, str>> = header
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(h, _)| guard(h))
            .collect();
        row.extend(FAILED_COLUMNS.map(Cow::Borrowed));
        csv.write_record(row.iter().map(|c| c.as_bytes()))?;
        Ok(FailedWriter::Csv(Box::new(CsvLayout {
            csv,
            phone_cols,
            keep,
            provenance: Provenance::of(Some(header)),
        })))
    }

    pub(crate) fn jsonl(w: W) -> Self {
        FailedWriter::Jsonl(w)
    }

    /// Write one non-succeeded record.
    pub(crate) fn write(
        &mut self,
        row: u64,
        data: &RecordData,
        outcome: &str,
        code: &str,
        error: &str,
    ) -> io::Result<()> {
        match self {
            FailedWriter::Csv(l) => l.write(row, data, [outcome, code, error])?,
            FailedWriter::Jsonl(w) => {
                let row = match Provenance::default().source(data) {
                    Some(first) => first
                        .parse::<u64>()
                        .map_or_else(|_| Value::String(first.into_owned()), Value::from),
                    None => Value::from(row),
                };
                let meta = serde_json::json!({
                    "row": row, "outcome": outcome, "code": code, "error": error,
                });
                let obj = match data {
                    RecordData::Object(o) => {
                        let mut o = o.clone();
                        o.insert("custimport".into(), meta);
                        o
                    }
                    RecordData::Line(l) | RecordData::Wrapped { line: l, .. } => {
                        let mut o = Map::new();
                        o.insert("custimport".into(), meta);
                        o.insert("line".into(), Value::String(l.clone()));
                        o
                    }
                    RecordData::Cells(c) => {
                        let mut o = Map::new();
                        o.insert("custimport".into(), meta);
                        let line = c.iter().collect::<Vec<_>>().join(",");
                        o.insert("line".into(), Value::String(line));
                        o
                    }
                };
                serde_json::to_writer(&mut *w, &obj)?;
                w.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    pub(crate) fn into_inner(self) -> io::Result<W> {
        match self {
            FailedWriter::Csv(l) => l.csv.into_inner().map_err(|e| e.into_error()),
            FailedWriter::Jsonl(w) => Ok(w),
        }
    }
}

/// A report written under a temporary name and renamed into place once complete, so a
/// report file is never seen half-written. What is written reaches the temporary file as the
/// run goes (see [`SuccessWriter::flush`]): `--resume` of a killed run reads its success lines
/// back from there.
pub(crate) struct PendingReport {
    tmp: PathBuf,
    dest: PathBuf,
}

impl PendingReport {
    /// Create `file` in `dir` under its temporary name ([`ReportFile::part_name`]).
    pub(crate) fn create(
        dir: &Path,
        file: ReportFile,
    ) -> io::Result<(PendingReport, BufWriter<File>)> {
        let dest = dir.join(file.name());
        let tmp = dir.join(file.part_name());
        let f = create_private(&tmp)?;
        Ok((
            PendingReport { tmp, dest },
            BufWriter::with_capacity(256 * 1024, f),
        ))
    }

    /// Flush, sync and rename into place, then sync the directory (so the new name is on disk).
    pub(crate) fn commit(self, w: BufWriter<File>) -> io::Result<()> {
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&self.tmp, &self.dest)?;
        crate::private_file::sync_dir(self.dest.parent().unwrap_or(Path::new(".")))
    }
}

pub(crate) mod dry_run;
pub(crate) mod outdir;
mod summary;
mod xlsx;
pub(crate) use summary::{write_summary, RunFacts, Summary};
pub(crate) use xlsx::FailedXlsx;

#[cfg(test)]
mod tests;
