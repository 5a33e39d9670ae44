//! Spreadsheet input (`.xlsx`/`.xlsm`, `.xlsb`, `.xls`, `.ods`) read with calamine: one sheet
//! becomes the same stream of [`Record`]s as a CSV file, with cells as the person sees them
//! (see [`show`]).
//!
//! The workbook is opened and read on a thread of its own, which sends converted rows in
//! chunks over a small bounded channel; this iterator turns them into records. `.xlsx` and
//! `.xlsb` sheets are streamed cell by cell from the file (calamine's cell readers), so memory
//! holds the workbook's shared strings and a few chunks of rows, never the whole sheet;
//! `.xls` and `.ods` sheets can only be loaded whole by calamine, and are then converted row by
//! row from that one copy.
//!
//! Layout: the first row holding a non-empty cell is the header (with `--header-row N`, sheet
//! row N, the rows above it skipped); its columns run from the
//! sheet's first used column to the header's last named cell. A row without any value is not
//! a record. A record's `line` is its row number in the sheet (as the spreadsheet shows it),
//! its `row` the 1-based count of records, as for CSV.
//!
//! Invariant: every non-empty row after the header comes out exactly once, in sheet order; a
//! row holding an error value, a value outside the header's columns or an oversized cell still
//! comes out, with its cells and a [`Problem`] naming the sheet and the cell.

mod guard;
mod produce;
mod show;

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use calamine::{Data, Ods, Reader, SheetType, SheetVisible, Xls, Xlsb, Xlsx};

use super::{
    display_name, unique_headers, Cells, Format, Input, InputError, InputOptions, Origin, Problem,
    Record, RecordData,
};
use show::{Shown, Style};

/// Rows per message from the reading thread.
const CHUNK_ROWS: usize = 256;
/// Messages in flight: memory is bounded by this many chunks.
const CHANNEL_CHUNKS: usize = 4;

/// Excel's bounds: a cell past them is refused, whatever the file claims.
const MAX_ROWS: u32 = 1_048_576;
const MAX_COLS: u32 = 16_384;
/// Cells kept of one row; a row with more is `record_too_large` (as a CSV record with more
/// fields), and the cells past these are counted, not kept.
const MAX_ROW_CELLS: usize = 10_000;

/// One non-empty row of the sheet, converted: (0-based column, cell) in column order.
struct Row {
    /// 0-based row index in the sheet.
    index: u32,
    cells: Vec<(u32, Cell)>,
    /// Cells past [`MAX_ROW_CELLS`], counted and dropped.
    dropped: u64,
    /// The first cell whose text was longer than `--max-field-size` (kept cut to it).
    oversize: Option<u32>,
}

/// A converted cell.
enum Cell {
    Text(String),
    Error(String),
}

impl Cell {
    fn text(&self) -> &str {
        match self {
            Cell::Text(t) | Cell::Error(t) => t,
        }
    }
}

/// What the reading thread sends.
enum Msg {
    /// The sheet is open: its name, and the 0-based first column and last row of its used
    /// range when the file tells them.
    Opened {
        name: String,
        first_col: Option<u32>,
        last_row: Option<u32>,
    },
    Rows(Vec<Row>),
    /// Reading failed; nothing follows. The message names the workbook (the reading thread
    /// builds every one from its name), so it becomes an [`InputError::Named`].
    Failed(String),
}

/// The sheet read, for messages and the progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetInfo {
    pub name: String,
    /// Rows of the sheet below the header (empty ones included): the progress bar's estimate.
    pub rows: Option<u64>,
}

/// Opens the sheet of the workbook at `opts.path`, which `origin` (the input as opened) says
/// is a regular file: a workbook is read by seeking in it, so a stream is refused.
pub(super) fn open(opts: &InputOptions, origin: &Origin) -> Result<Input, InputError> {
    let path = opts.path.clone();
    let name = display_name(&path);
    if origin.is_stream() {
        return Err(InputError::Named(format!(
            "{name}: spreadsheets are read from files, not from standard input or a pipe: save the workbook and give its path"
        )));
    }
    let (tx, rx) = sync_channel(CHANNEL_CHUNKS);
    let (format, choice, max) = (opts.format, opts.sheet.clone(), opts.max_field_bytes);
    std::thread::Builder::new()
        .name("custimport-sheet".into())
        .spawn(move || produce::produce(&path, format, choice.as_deref(), max, &tx))
        .map_err(|e| InputError::Unnamed(format!("cannot start the sheet reader: {e}")))?;
    let (sheet, first_col, last_row) = match rx.recv() {
        Ok(Msg::Opened {
            name,
            first_col,
            last_row,
        }) => (name, first_col, last_row),
        Ok(Msg::Failed(msg)) => return Err(InputError::Named(msg)),
        _ => {
            return Err(InputError::Named(format!(
                "{name}: the sheet reader stopped"
            )))
        }
    };
    let mut records = SheetRecords {
        rx: Some(rx),
        pending: Vec::new().into_iter(),
        sheet: sheet.clone(),
        headers: Vec::new(),
        first_col: 0,
        max_field_bytes: opts.max_field_bytes,
        row: 0,
    };
    let (header_row, original) = records.read_header(first_col, opts.header_row)?;
    let (unique, warning) = unique_headers(&original);
    records.headers = unique;
    let rows = match (last_row, header_row) {
        (Some(last), Some(h)) => last.checked_sub(h).filter(|&n| n > 0).map(u64::from),
        _ => None,
    };
    Ok(Input {
        headers: Some(records.headers.clone()),
        original_headers: Some(original),
        warnings: warning.into_iter().collect(),
        // Set by the caller from the opened file.
        origin: Origin::default(),
        format: opts.format,
        // Reports of a spreadsheet are comma CSV.
        delimiter: b',',
        encoding: "UTF-8",
        records: Box::new(records),
        skipped_blank: Arc::new(AtomicU64::new(0)),
        sheet: Some(SheetInfo { name: sheet, rows }),
    })
}

/// `A`, `B`, ..., `Z`, `AA`, ... for a 0-based column.
pub(super) fn column_letters(col: u32) -> String {
    let mut n = u64::from(col) + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `C17` for 0-based row 16, column 2.
pub(super) fn cell_name(row: u32, col: u32) -> String {
    format!("{}{}", column_letters(col), u64::from(row) + 1)
}

struct SheetRecords {
    /// `None` once the sheet is exhausted or failed.
    rx: Option<Receiver<Msg>>,
    pending: std::vec::IntoIter<Row>,
    sheet: String,
    headers: Vec<String>,
    /// 0-based sheet column of the first header column.
    first_col: u32,
    max_field_bytes: usize,
    row: u64,
}

impl SheetRecords {
    /// The next non-empty row, or an error the thread reported (naming the workbook).
    fn next_row(&mut self) -> Option<Result<Row, String>> {
        loop {
            if let Some(row) = self.pending.next() {
                return Some(Ok(row));
            }
            match self.rx.as_ref()?.recv() {
                Ok(Msg::Rows(rows)) => self.pending = rows.into_iter(),
                Ok(Msg::Failed(msg)) => {
                    self.rx = None;
                    return Some(Err(msg));
                }
                Ok(Msg::Opened { .. }) => {}
                Err(_) => {
                    self.rx = None;
                    return None;
                }
            }
        }
    }

    /// Read the header (the first non-empty row) and set the first column: the sheet's first
    /// used column (`used_from`, when known) or the header's first named cell, whichever comes
    /// first; the columns end at its last named cell. Returns its 0-based row index (`None` for
    /// a sheet without any value) and its names, trimmed, as written. With `--header-row N`
    /// the header is sheet row N and the rows above it are skipped.
    fn read_header(
        &mut self,
        used_from: Option<u32>,
        header_row: Option<u32>,
    ) -> Result<(Option<u32>, Vec<String>), InputError> {
        let wanted = header_row.map_or(0, |n| n.saturating_sub(1));
        let row = loop {
            match self.next_row() {
                None if header_row.is_some() => break None,
                None => return Ok((None, Vec::new())),
                Some(Err(msg)) => return Err(InputError::Named(msg)),
                Some(Ok(row)) if row.index < wanted => {}
                Some(Ok(row)) => {
                    break Some(row).filter(|r| header_row.is_none() || r.index == wanted)
                }
            }
        };
        let Some(row) = row else {
            return Err(InputError::Unnamed(format!(
                "--header-row {}: row {} of sheet {:?} is empty",
                wanted + 1,
                wanted + 1,
                self.sheet
            )));
        };
        if row.dropped > 0 {
            return Err(InputError::Unnamed(format!(
                "sheet {:?}, header row {}: more than {MAX_ROW_CELLS} cells",
                self.sheet,
                u64::from(row.index) + 1
            )));
        }
        let named_from = row.cells.iter().map(|(c, _)| *c).min().unwrap_or(0);
        let first = used_from.map_or(named_from, |u| u.min(named_from));
        let last = row.cells.iter().map(|(c, _)| *c).max().unwrap_or(0);
        let mut names = vec![String::new(); (last - first) as usize + 1];
        for (col, cell) in &row.cells {
            if let Cell::Error(e) = cell {
                return Err(InputError::Unnamed(format!(
                    "sheet {:?}, header cell {}: holds the error value {e}",
                    self.sheet,
                    cell_name(row.index, *col)
                )));
            }
            if let Some(slot) = names.get_mut((col - first) as usize) {
                *slot = cell
                    .text()
                    .trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
                    .to_owned();
            }
        }
        self.first_col = first;
        Ok((Some(row.index), names))
    }

    /// `sheet "S", cell C17 (column "phone")`.
    fn cell_place(&self, row: u32, col: u32) -> String {
        let header = col
            .checked_sub(self.first_col)
            .and_then(|i| self.headers.get(i as usize))
            .filter(|h| !h.is_empty())
            .map(|h| format!(" (column {h:?})"))
            .unwrap_or_default();
        format!(
            "sheet {:?}, cell {}{header}",
            self.sheet,
            cell_name(row, col)
        )
    }

    /// Why a row cannot be used, if it cannot: more cells than kept, an error value, a value
    /// outside the header's columns (`outside`), or an oversized cell, in that order.
    fn problem(&self, row: &Row, outside: &[&(u32, Cell)]) -> Option<Problem> {
        let width = self.headers.len();
        let inside = |col: u32| {
            col.checked_sub(self.first_col)
                .is_some_and(|i| (i as usize) < width)
        };
        if row.dropped > 0 {
            Some(Problem {
                code: "record_too_large",
                message: format!(
                    "sheet {:?}, row {}: more than {MAX_ROW_CELLS} cells ({} were not read)",
                    self.sheet,
                    u64::from(row.index) + 1,
                    row.dropped
                ),
            })
        } else if let Some((col, cell)) = row
            .cells
            .iter()
            .find(|(c, cell)| inside(*c) && matches!(cell, Cell::Error(_)))
        {
            Some(Problem {
                code: "invalid_cell",
                message: format!(
                    "{}: holds the error value {}; fix its formula or clear the cell",
                    self.cell_place(row.index, *col),
                    cell.text()
                ),
            })
        } else if let Some((col, _)) = outside.first() {
            Some(Problem {
                code: "wrong_field_count",
                message: format!(
                    "{}: a value in a column without a header (the header spans {}–{}); name the column or clear the cell",
                    self.cell_place(row.index, *col),
                    column_letters(self.first_col),
                    column_letters(self.first_col.saturating_add(clamp_u32(width.saturating_sub(1)))),
                ),
            })
        } else {
            row.oversize.map(|col| Problem {
                code: "field_too_large",
                message: format!(
                    "{}: longer than {} bytes",
                    self.cell_place(row.index, col),
                    self.max_field_bytes
                ),
            })
        }
    }

    fn record(&self, mut row: Row) -> Record {
        if !row.cells.windows(2).all(|w| w[0].0 < w[1].0) {
            row.cells.sort_by_key(|(c, _)| *c);
            row.cells.dedup_by_key(|(c, _)| *c);
        }
        let width = self.headers.len();
        let inside = |col: u32| {
            col.checked_sub(self.first_col)
                .is_some_and(|i| (i as usize) < width)
        };
        let bytes: usize = row.cells.iter().map(|(_, c)| c.text().len()).sum();
        let mut cells = Cells::with_capacity(width, bytes);
        let mut outside: Vec<&(u32, Cell)> = Vec::new();
        let mut next_col = self.first_col;
        for entry in &row.cells {
            let (col, cell) = entry;
            if !inside(*col) {
                outside.push(entry);
                continue;
            }
            for _ in next_col..*col {
                cells.push("");
            }
            cells.push(cell.text());
            next_col = col + 1;
        }
        while cells.len() < width {
            cells.push("");
        }
        // Values outside the header's columns follow, so the failure report keeps them.
        for (_, cell) in &outside {
            cells.push(cell.text());
        }
        let problem = self.problem(&row, &outside);
        Record {
            row: self.row,
            line: u64::from(row.index) + 1,
            data: RecordData::Cells(cells),
            problem,
        }
    }
}

impl Iterator for SheetRecords {
    type Item = Result<Record, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_row()? {
            Ok(row) => {
                self.row += 1;
                Some(Ok(self.record(row)))
            }
            Err(msg) => Some(Err(InputError::Named(msg))),
        }
    }
}

#[cfg(test)]
mod tests;
