//! `failed.xlsx`: the failure report of a spreadsheet input as a workbook, beside
//! `failed.csv`. The same columns (the input's header, then `custimport_row`,
//! `custimport_outcome`, `custimport_code`, `custimport_error`, then any surplus cells), every
//! cell written as text in text-formatted columns, so phone numbers and leading zeros stay as
//! they are when the file is opened, fixed and imported again as it is. Cells are text, never
//! formulas: no formula guard is needed or added.
//!
//! Rows are streamed to the workbook's temporary files (rust_xlsxwriter's constant-memory
//! mode), so a large report does not sit in memory.

use std::io::{self, Write};

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::{Provenance, FAILED_COLUMNS};
use crate::input::RecordData;
use crate::report::outdir::ReportFile;

/// Excel's limits: rows and columns of a sheet, characters of a cell.
const MAX_ROWS: u32 = 1_048_576;
const MAX_COLUMNS: usize = 16_384;
const MAX_CELL_CHARS: usize = 32_767;

pub(crate) struct FailedXlsx {
    book: Workbook,
    /// The next row of the sheet to write (0 is the header).
    next: u32,
    /// Per input column: written (an input's own `custimport_*` columns are not).
    keep: Vec<bool>,
    provenance: Provenance,
    text: Format,
    /// Rows past the sheet's last row, and cells cut at Excel's cell size: in `failed.csv`
    /// only, and said once.
    pub left_out: u64,
    pub cut_cells: u64,
}

fn xlsx_err(e: XlsxError) -> io::Error {
    io::Error::other(format!("{}: {e}", ReportFile::FailedXlsx))
}

impl FailedXlsx {
    /// A workbook whose one sheet starts with `header` (the input's, as written) and ours.
    /// `None` when the header is wider than a sheet can hold with our columns.
    pub(crate) fn new(header: &[String]) -> io::Result<Option<FailedXlsx>> {
        if header.len() + FAILED_COLUMNS.len() > MAX_COLUMNS {
            return Ok(None);
        }
        let keep: Vec<bool> = header
            .iter()
            .map(|h| !crate::mapping::is_reserved(h))
            .collect();
        let mut x = FailedXlsx {
            book: Workbook::new(),
            next: 0,
            keep,
            provenance: Provenance::of(Some(header)),
            text: Format::new().set_num_format("@"),
            left_out: 0,
            cut_cells: 0,
        };
        {
            let sheet = x
                .book
                .add_worksheet_with_constant_memory()
                .map_err(xlsx_err)?;
            sheet.set_name("failed").map_err(xlsx_err)?;
            // Text columns: a cell typed into them while fixing stays text too.
            let last = u16::try_from(MAX_COLUMNS - 1).unwrap_or(u16::MAX);
            sheet
                .set_column_range_format(0, last, &x.text)
                .map_err(xlsx_err)?;
        }
        let mut cells: Vec<&str> = header
            .iter()
            .zip(&x.keep)
            .filter(|(_, k)| **k)
            .map(|(h, _)| h.as_str())
            .collect();
        cells.extend(FAILED_COLUMNS);
        x.row(cells.into_iter())?;
        Ok(Some(x))
    }

    /// One non-succeeded record, as in `failed.csv`.
    pub(crate) fn write(
        &mut self,
        row: u64,
        data: &RecordData,
        outcome: &str,
        code: &str,
        error: &str,
    ) -> io::Result<()> {
        let whole;
        let cells: Vec<&str> = match data {
            RecordData::Cells(c) => c.iter().collect(),
            RecordData::Line(text) | RecordData::Wrapped { line: text, .. } => {
                vec![text.as_str()]
            }
            RecordData::Object(o) => {
                whole = serde_json::Value::Object(o.clone()).to_string();
                vec![whole.as_str()]
            }
        };
        let width = self.keep.len();
        let number = self
            .provenance
            .source(data)
            .map_or_else(|| row.to_string(), |s| s.into_owned());
        let kept = (0..width)
            .filter(|&i| self.keep[i])
            .map(|i| cells.get(i).copied().unwrap_or_default());
        let ours = [number.as_str(), outcome, code, error];
        let surplus = cells.iter().skip(width).copied();
        let all: Vec<&str> = kept.chain(ours).chain(surplus).collect();
        self.row(all.into_iter())
    }

    fn row<'a>(&mut self, cells: impl Iterator<Item = &'a str>) -> io::Result<()> {
        if self.next >= MAX_ROWS {
            self.left_out += 1;
            return Ok(());
        }
        let sheet = self.book.worksheet_from_index(0).map_err(xlsx_err)?;
        let mut cut = 0u64;
        for (col, cell) in cells.take(MAX_COLUMNS).enumerate() {
            if cell.is_empty() {
                continue;
            }
            let cell = match cell.char_indices().nth(MAX_CELL_CHARS) {
                Some((at, _)) => {
                    cut += 1;
                    &cell[..at]
                }
                None => cell,
            };
            let col = u16::try_from(col).map_err(|_| io::Error::other("too many columns"))?;
            sheet
                .write_string_with_format(self.next, col, cell, &self.text)
                .map_err(xlsx_err)?;
        }
        self.cut_cells += cut;
        self.next += 1;
        Ok(())
    }

    /// Write the workbook to `w`.
    pub(crate) fn save<W: Write + Send>(mut self, w: W) -> io::Result<()> {
        self.book.save_to_writer(w).map_err(xlsx_err)
    }
}
