//! The reading thread of a spreadsheet input: opens the workbook (after `guard`'s structure
//! check), picks the sheet, and sends its non-empty rows, converted, in chunks over the
//! bounded channel that [`super::SheetRecords`] reads. A panic in calamine ends as a failure to
//! read the file, never as rows that end early.

use super::*;

/// The sheet picked by `--sheet`: a name (exact, else ignoring case), else a 1-based number;
/// by default the first visible worksheet. An unknown choice lists the sheets.
fn pick_sheet(
    path: &str,
    sheets: &[calamine::Sheet],
    choice: Option<&str>,
) -> Result<String, String> {
    let listing = || {
        let names: Vec<String> = sheets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let hidden = if s.visible == SheetVisible::Visible {
                    ""
                } else {
                    " (hidden)"
                };
                format!("{} {:?}{hidden}", i + 1, s.name)
            })
            .collect();
        names.join(", ")
    };
    let Some(choice) = choice else {
        return sheets
            .iter()
            .find(|s| s.typ == SheetType::WorkSheet && s.visible == SheetVisible::Visible)
            .or_else(|| sheets.iter().find(|s| s.typ == SheetType::WorkSheet))
            .map(|s| s.name.clone())
            .ok_or_else(|| format!("{path} holds no worksheet"));
    };
    let found = sheets
        .iter()
        .find(|s| s.name == choice)
        .or_else(|| sheets.iter().find(|s| s.name.eq_ignore_ascii_case(choice)))
        .or_else(|| {
            let n: usize = choice.trim().parse().ok()?;
            sheets.get(n.checked_sub(1)?)
        });
    match found {
        Some(s) if s.typ == SheetType::WorkSheet => Ok(s.name.clone()),
        Some(s) => Err(format!(
            "--sheet: {:?} in {path} is not a worksheet (a chart or macro sheet); its sheets: {}",
            s.name,
            listing()
        )),
        None => Err(format!(
            "--sheet: {path} has no sheet {choice:?} (give a name or a number from 1); its sheets: {}",
            listing()
        )),
    }
}

/// The reading thread: check the workbook's structure, open it, pick the sheet, send its rows.
/// Stops quietly when the receiving side is gone. A panic inside the workbook reader (a file
/// calamine cannot cope with) is told as a failure to read the file, never as rows that end
/// early.
pub(super) fn produce(
    path: &Path,
    format: Format,
    choice: Option<&str>,
    max_field_bytes: usize,
    tx: &SyncSender<Msg>,
) {
    let name = display_name(path);
    let read = || {
        guard::check(path, format, &name, max_field_bytes).map_err(Stop::Failed)?;
        let cx = Cx {
            path,
            name: &name,
            choice,
            max_field_bytes,
        };
        match format {
            Format::Xlsb => read_xlsb(&cx, tx),
            Format::Xls => read_loaded::<Xls<_>>(&cx, false, tx),
            Format::Ods => read_loaded::<Ods<_>>(&cx, true, tx),
            _ => read_xlsx(&cx, tx),
        }
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|_| {
        Err(Stop::Failed(format!(
            "{name}: the workbook reader failed on this file (damaged, or a structure it cannot read): save it again from a spreadsheet program, or as CSV"
        )))
    });
    if let Err(Stop::Failed(msg)) = result {
        let _ = tx.send(Msg::Failed(msg));
    }
}

/// What the reading functions share: the workbook, its name in messages, the sheet asked for,
/// and the longest cell kept.
struct Cx<'a> {
    path: &'a Path,
    name: &'a str,
    choice: Option<&'a str>,
    max_field_bytes: usize,
}

/// Why the reading thread stopped early.
enum Stop {
    /// The message names the workbook (`book.xlsx: …`, `--sheet: book.xlsx has no sheet …`).
    Failed(String),
    /// The receiver is gone (the run stopped or the input was dropped).
    Gone,
}

fn open_book<R: Reader<BufReader<File>>>(path: &Path, name: &str) -> Result<R, Stop>
where
    R::Error: std::fmt::Display,
{
    calamine::open_workbook::<R, _>(path).map_err(|e| {
        Stop::Failed(format!(
            "{name}: not a readable workbook of this type ({e})"
        ))
    })
}

fn read_xlsx(cx: &Cx<'_>, tx: &SyncSender<Msg>) -> Result<(), Stop> {
    let (name, choice) = (cx.name, cx.choice);
    let mut book: Xlsx<_> = open_book(cx.path, name)?;
    let sheet = pick_sheet(name, book.sheets_metadata(), choice).map_err(Stop::Failed)?;
    let mut cells = book
        .worksheet_cells_reader(&sheet)
        .map_err(|e| Stop::Failed(format!("{name}, sheet {sheet:?}: {e}")))?;
    let styles: Vec<Style> = cells
        .styles()
        .iter()
        .map(|s| {
            s.number_format
                .as_ref()
                .map_or_else(Style::default, |f| Style::of_format(&f.format_code))
        })
        .collect();
    let dims = cells.dimensions();
    let mut sink = Sink::new(tx, cx, sheet.clone(), Some((dims.start.1, dims.end.0)))?;
    loop {
        let next = cells
            .next_cell_with_style_id()
            .map_err(|e| Stop::Failed(format!("{name}, sheet {sheet:?}: {e}")))?;
        let Some((cell, style)) = next else { break };
        let style = styles.get(style).copied().unwrap_or_default();
        let (row, col) = cell.get_position();
        sink.push(row, col, show::data_ref(cell.get_value(), style))?;
    }
    sink.finish()
}

fn read_xlsb(cx: &Cx<'_>, tx: &SyncSender<Msg>) -> Result<(), Stop> {
    let (name, choice) = (cx.name, cx.choice);
    let mut book: Xlsb<_> = open_book(cx.path, name)?;
    let sheet = pick_sheet(name, book.sheets_metadata(), choice).map_err(Stop::Failed)?;
    let mut cells = book
        .worksheet_cells_reader(&sheet)
        .map_err(|e| Stop::Failed(format!("{name}, sheet {sheet:?}: {e}")))?;
    let dims = cells.dimensions();
    let mut sink = Sink::new(tx, cx, sheet.clone(), Some((dims.start.1, dims.end.0)))?;
    loop {
        let next = cells
            .next_cell()
            .map_err(|e| Stop::Failed(format!("{name}, sheet {sheet:?}: {e}")))?;
        let Some(cell) = next else { break };
        let (row, col) = cell.get_position();
        sink.push(row, col, show::data_ref(cell.get_value(), Style::default()))?;
    }
    sink.finish()
}

/// `.xls` and `.ods`: calamine loads the sheet as one range; rows are converted from it.
fn read_loaded<R: Reader<BufReader<File>>>(
    cx: &Cx<'_>,
    ods: bool,
    tx: &SyncSender<Msg>,
) -> Result<(), Stop>
where
    R::Error: std::fmt::Display,
{
    let (name, choice) = (cx.name, cx.choice);
    let mut book: R = open_book(cx.path, name)?;
    let sheet = pick_sheet(name, book.sheets_metadata(), choice).map_err(Stop::Failed)?;
    let range = book
        .worksheet_range(&sheet)
        .map_err(|e| Stop::Failed(format!("{name}, sheet {sheet:?}: {e}")))?;
    drop(book);
    let used = range.start().zip(range.end()).map(|(s, e)| (s.1, e.0));
    let mut sink = Sink::new(tx, cx, sheet, used)?;
    let (row0, col0) = range.start().unwrap_or((0, 0));
    for (r, cells) in (row0..).zip(range.rows()) {
        for (c, value) in (col0..).zip(cells) {
            if !matches!(value, Data::Empty) {
                sink.push(r, c, show::data(value, ods))?;
            }
        }
    }
    sink.finish()
}

/// Groups cells into rows and rows into chunks for the channel, holding no more of a row
/// than [`MAX_ROW_CELLS`] cells of at most `--max-field-size` bytes each.
struct Sink<'a> {
    tx: &'a SyncSender<Msg>,
    chunk: Vec<Row>,
    row: Option<Row>,
    /// `book.xlsx, sheet "S"`, for messages.
    place: String,
    max_field_bytes: usize,
}

impl<'a> Sink<'a> {
    /// Announce the open sheet; `used` is its used range (first column, last row) if known.
    fn new(
        tx: &'a SyncSender<Msg>,
        cx: &Cx<'_>,
        name: String,
        used: Option<(u32, u32)>,
    ) -> Result<Self, Stop> {
        let place = format!("{}, sheet {name:?}", cx.name);
        let msg = Msg::Opened {
            name,
            first_col: used.map(|u| u.0),
            last_row: used.map(|u| u.1),
        };
        tx.send(msg).map_err(|_| Stop::Gone)?;
        Ok(Sink {
            tx,
            chunk: Vec::with_capacity(CHUNK_ROWS),
            row: None,
            place,
            max_field_bytes: cx.max_field_bytes,
        })
    }

    fn push(&mut self, row: u32, col: u32, shown: Shown<'_>) -> Result<(), Stop> {
        let (text, error) = match shown {
            Shown::Text(t) if t.is_empty() => return Ok(()),
            Shown::Text(t) => (t, false),
            Shown::Error(e) => (e, true),
        };
        if row >= MAX_ROWS || col >= MAX_COLS {
            return Err(Stop::Failed(format!(
                "{}, cell {}: beyond Excel's last {}; the file claims a cell no spreadsheet holds: nothing was read from it",
                self.place,
                cell_name(row, col),
                if row >= MAX_ROWS { "row (1,048,576)" } else { "column (XFD, 16,384 columns)" }
            )));
        }
        if self.row.as_ref().is_some_and(|r| r.index != row) {
            self.end_row()?;
        }
        let max = self.max_field_bytes;
        let current = self.row.get_or_insert_with(|| Row {
            index: row,
            cells: Vec::new(),
            dropped: 0,
            oversize: None,
        });
        if current.cells.len() >= MAX_ROW_CELLS {
            current.dropped += 1;
            return Ok(());
        }
        let text = if text.len() > max {
            current.oversize.get_or_insert(col);
            let mut end = max;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            std::borrow::Cow::Owned(text.get(..end).unwrap_or_default().to_owned())
        } else {
            text
        };
        let cell = if error {
            Cell::Error(text.into_owned())
        } else {
            Cell::Text(text.into_owned())
        };
        current.cells.push((col, cell));
        Ok(())
    }

    fn end_row(&mut self) -> Result<(), Stop> {
        if let Some(row) = self.row.take() {
            self.chunk.push(row);
            if self.chunk.len() >= CHUNK_ROWS {
                let full = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK_ROWS));
                self.tx.send(Msg::Rows(full)).map_err(|_| Stop::Gone)?;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(), Stop> {
        self.end_row()?;
        if !self.chunk.is_empty() {
            let rest = std::mem::take(&mut self.chunk);
            self.tx.send(Msg::Rows(rest)).map_err(|_| Stop::Gone)?;
        }
        Ok(())
    }
}
