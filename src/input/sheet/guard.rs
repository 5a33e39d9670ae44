//! A pre-scan of a workbook's structure before calamine reads it, where calamine would allocate
//! from what the file claims rather than from what it holds.
//!
//! `.xlsx`: the shared strings are loaded whole when the workbook is opened (and their vector
//! reserved from the claimed `uniqueCount`), and a cell's value is buffered whole by the cell
//! reader. Every worksheet and the shared strings are streamed once through [`Runs`], which
//! refuses a run of text or attribute (bytes between two `<`) longer than a cell can be, and the
//! claimed `uniqueCount` is compared with the strings really there.
//! `.ods`: calamine expands `number-columns-repeated` and `number-rows-repeated` into cells of
//! a dense range, for every table when the workbook is opened; `content.xml` is walked with
//! quick-xml and the cells the repeats would expand to are counted against the cells really
//! written, for each table and for all of them together.
//!
//! `.xls`: calamine reserves cells from a sheet's DIMENSIONS record and lays out the extent of
//! its cell records densely; see [`xls`].
//! `.xlsb`: calamine sizes a record's buffer from its claimed length; see [`xlsb`].
//!
//! Invariant: a workbook passed on costs calamine memory in proportion to its bytes, never to
//! its claims: at most [`LOAD_FACTOR`] cells per cell written, plus [`LOAD_SLACK`].

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use quick_xml::events::{BytesStart, Event};

use super::super::Format;
use super::{MAX_COLS, MAX_ROWS};

mod xls;
mod xlsb;

/// Cells calamine may expand to per cell written in the file (repeats of an `.ods`).
const LOAD_FACTOR: u64 = 16;
/// Cells calamine may expand to whatever the file holds.
const LOAD_SLACK: u64 = 1 << 20;
/// Shared strings calamine may reserve beyond those really in the file.
const STRINGS_SLACK: u64 = 1 << 16;

/// Checks the workbook at `path` before calamine opens it; `name` names it in messages.
pub(super) fn check(
    path: &Path,
    format: Format,
    name: &str,
    max_field_bytes: usize,
) -> Result<(), String> {
    if format == Format::Xls {
        return xls::check(path, name);
    }
    if format == Format::Xlsb {
        return xlsb::check(path, name, max_field_bytes);
    }
    if !matches!(format, Format::Xlsx | Format::Ods) {
        return Ok(());
    }
    let file = File::open(path).map_err(|e| format!("{name}: {e}"))?;
    let Ok(mut zip) = zip::ZipArchive::new(BufReader::new(file)) else {
        // calamine says what is wrong with it.
        return Ok(());
    };
    // A cell's text may be escaped (`&amp;` is 5 bytes for 1), hence the factor.
    let limit = max_field_bytes.saturating_mul(6).saturating_add(1 << 16);
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| format!("{name}: {e}"))?;
        let part = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        let what = Part::of(format, &part);
        if what == Part::Other {
            continue;
        }
        let runs = Runs::new(entry, limit);
        let checked = match what {
            Part::Strings => shared_strings(runs),
            Part::Content => content(runs),
            _ => drain(runs),
        };
        checked.map_err(|why| match why {
            Why::Long => format!(
                "{name}: {part} holds a value or string longer than {max_field_bytes} bytes (--max-field-size) by far: nothing was read from it"
            ),
            Why::Claim(msg) => format!("{name}: {msg}: nothing was read from it"),
            Why::Damaged(e) => format!("{name}: not a readable workbook ({part}: {e})"),
        })?;
    }
    Ok(())
}

/// The parts of a workbook checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Strings,
    Sheet,
    Content,
    Other,
}

impl Part {
    fn of(format: Format, part: &str) -> Part {
        match format {
            Format::Ods if part == "content.xml" => Part::Content,
            Format::Xlsx if part.ends_with("sharedStrings.xml") => Part::Strings,
            Format::Xlsx if part.contains("worksheets/") && part.ends_with(".xml") => Part::Sheet,
            _ => Part::Other,
        }
    }
}

/// Why a part was refused.
enum Why {
    /// A run without `<` longer than a cell can be.
    Long,
    /// A claim past what the file holds or past Excel's bounds.
    Claim(String),
    Damaged(String),
}

impl From<io::Error> for Why {
    fn from(e: io::Error) -> Why {
        if e.get_ref().is_some_and(|inner| inner.is::<TooLong>()) {
            Why::Long
        } else {
            Why::Damaged(e.to_string())
        }
    }
}

impl From<quick_xml::Error> for Why {
    fn from(e: quick_xml::Error) -> Why {
        match e {
            quick_xml::Error::Io(io) => match std::sync::Arc::try_unwrap(io) {
                Ok(io) => Why::from(io),
                Err(io) => Why::Damaged(io.to_string()),
            },
            other => Why::Damaged(other.to_string()),
        }
    }
}

/// The error [`Runs`] returns.
#[derive(Debug)]
struct TooLong;

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a run of text longer than a cell can be")
    }
}

impl std::error::Error for TooLong {}

/// A reader that fails once more than `limit` bytes pass without a `<`: no text node, tag or
/// attribute value an XML reader buffers can then be larger than that.
struct Runs<R> {
    inner: R,
    run: usize,
    limit: usize,
}

impl<R: Read> Runs<R> {
    fn new(inner: R, limit: usize) -> Self {
        Runs {
            inner,
            run: 0,
            limit,
        }
    }
}

impl<R: Read> Read for Runs<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let chunk = buf.get(..n).unwrap_or_default();
        let mut start = 0;
        for at in memchr::memchr_iter(b'<', chunk) {
            if self.run + (at - start) > self.limit {
                return Err(io::Error::other(TooLong));
            }
            self.run = 0;
            start = at + 1;
        }
        self.run += n - start;
        if self.run > self.limit {
            return Err(io::Error::other(TooLong));
        }
        Ok(n)
    }
}

fn drain(mut runs: impl Read) -> Result<(), Why> {
    io::copy(&mut runs, &mut io::sink())?;
    Ok(())
}

fn number(e: &BytesStart<'_>, attr: &str) -> Option<u64> {
    let a = e.try_get_attribute(attr).ok()??;
    a.value.trim().parse().ok()
}

/// The shared strings: `uniqueCount` may not claim many more strings than there are.
fn shared_strings(runs: impl Read) -> Result<(), Why> {
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(runs));
    let (mut claimed, mut found) = (0u64, 0u64);
    let mut buf = Vec::new();
    loop {
        match xml.read_event_into(&mut buf)? {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "sst" => claimed = number(&e, "uniqueCount").unwrap_or(0),
                "si" => found += 1,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if claimed > found.saturating_add(STRINGS_SLACK) {
        return Err(Why::Claim(format!(
            "the shared strings claim {claimed} strings and hold {found}"
        )));
    }
    Ok(())
}

/// One `.ods` table as it is walked: what its repeats expand to against what it holds.
#[derive(Default)]
struct Table {
    name: String,
    /// Between the table's start and its end.
    open: bool,
    /// Rows so far, repeats included.
    rows: u64,
    /// Columns so far in the current row, repeats included, and up to its last value.
    cols: u64,
    extent: u64,
    row_repeat: u64,
    /// Cell elements written, and the cells calamine expands them to.
    written: u64,
    expanded: u64,
    /// The widest row (to its last value) and the rows up to the last row with a value.
    width: u64,
    used_rows: u64,
}

impl Table {
    fn cell(&mut self, e: &BytesStart<'_>, empty_element: bool) -> Result<(), Why> {
        let repeat = number(e, "table:number-columns-repeated").unwrap_or(1);
        self.cols = self.cols.saturating_add(repeat);
        self.written += 1;
        if self.cols > u64::from(MAX_COLS) {
            return Err(Why::Claim(format!(
                "sheet {:?}, row {}: cells repeated past Excel's last column (XFD, 16,384 columns)",
                self.name,
                self.rows + 1
            )));
        }
        let valued = e
            .try_get_attribute("office:value-type")
            .ok()
            .flatten()
            .is_some();
        if valued || !empty_element {
            self.extent = self.cols;
        }
        Ok(())
    }

    fn end_row(&mut self) -> Result<(), Why> {
        self.rows = self.rows.saturating_add(self.row_repeat);
        if self.extent > 0 {
            self.used_rows = self.rows;
            self.width = self.width.max(self.extent);
            self.expanded = self.expanded.saturating_add(self.extent);
            if self.rows > u64::from(MAX_ROWS) {
                return Err(Why::Claim(format!(
                    "sheet {:?}: rows repeated past Excel's last row (1,048,576)",
                    self.name
                )));
            }
        }
        Ok(())
    }

    /// The cells calamine lays this table out to: its rows as read, then the dense range.
    fn expansion(&self) -> u64 {
        self.expanded
            .saturating_add(self.used_rows.saturating_mul(self.width))
    }

    fn end(&self) -> Result<(), Why> {
        let expanded = self.expansion();
        let allowed = self
            .written
            .saturating_mul(LOAD_FACTOR)
            .saturating_add(LOAD_SLACK);
        if expanded > allowed {
            return Err(Why::Claim(format!(
                "sheet {:?}: its repeated cells expand to {expanded} cells for {} written (at most {LOAD_FACTOR} per cell written are read; every sheet of an .ods is read when it is opened)",
                self.name, self.written
            )));
        }
        Ok(())
    }
}

/// An element opening in `content.xml` (`empty`: self-closed), as calamine reads it: a
/// `table:table` with a name opens a table unless one is open (calamine then ignores it, and
/// the first `table:table` end closes the open one); rows and cells count only inside a table.
fn start(table: &mut Table, e: &BytesStart<'_>, empty: bool) -> Result<(), Why> {
    match e.name().as_ref() {
        "table:table" if !table.open => {
            let Some(name) = e.try_get_attribute("table:name").ok().flatten() else {
                return Ok(());
            };
            *table = Table {
                name: name.value.into_owned(),
                open: !empty,
                ..Table::default()
            };
        }
        _ if !table.open => {}
        "table:table-row" => {
            table.row_repeat = number(e, "table:number-rows-repeated").unwrap_or(1);
            table.cols = 0;
            table.extent = 0;
            if empty {
                table.end_row()?;
            }
        }
        "table:table-cell" | "table:covered-table-cell" => table.cell(e, empty)?,
        _ => {}
    }
    Ok(())
}

/// The tables of an `.ods` together: calamine reads every one when the workbook is opened,
/// whichever sheet is then picked, and holds them all.
#[derive(Default)]
struct Book {
    tables: u64,
    written: u64,
    expanded: u64,
}

impl Book {
    /// Adds a table that has passed its own check; the tables so far may not expand to more
    /// than [`LOAD_FACTOR`] per cell written plus one [`LOAD_SLACK`] together.
    fn add(&mut self, table: &Table) -> Result<(), Why> {
        self.tables += 1;
        self.written = self.written.saturating_add(table.written);
        self.expanded = self.expanded.saturating_add(table.expansion());
        let allowed = self
            .written
            .saturating_mul(LOAD_FACTOR)
            .saturating_add(LOAD_SLACK);
        if self.expanded > allowed {
            return Err(Why::Claim(format!(
                "its first {} sheets expand to {} cells for {} written (at most {LOAD_FACTOR} per cell written are read; every sheet of an .ods is read when it is opened)",
                self.tables, self.expanded, self.written
            )));
        }
        Ok(())
    }
}

fn is_cell(e: &BytesStart<'_>) -> bool {
    matches!(
        e.name().as_ref(),
        "table:table-cell" | "table:covered-table-cell"
    )
}

/// An `.ods` file's `content.xml`: every table's repeats checked, each against its own cells
/// written, then all of them together. A cell's content is skipped (calamine reads it as the
/// cell's text, never as rows or tables); a table still open at the end is refused (calamine
/// would wait for its end forever).
fn content(runs: impl Read) -> Result<(), Why> {
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(runs));
    let (mut table, mut book) = (Table::default(), Book::default());
    let (mut buf, mut inner) = (Vec::new(), Vec::new());
    loop {
        match xml.read_event_into(&mut buf)? {
            Event::Start(e) => {
                start(&mut table, &e, false)?;
                if is_cell(&e) {
                    let name = e.name().as_ref().to_owned();
                    xml.read_to_end_into(quick_xml::name::QName(&name), &mut inner)?;
                    inner.clear();
                }
            }
            Event::Empty(e) => start(&mut table, &e, true)?,
            Event::End(e) if table.open => match e.name().as_ref() {
                "table:table-row" => table.end_row()?,
                "table:table" => {
                    table.open = false;
                    table.end()?;
                    book.add(&table)?;
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if table.open {
        return Err(Why::Claim(format!(
            "content.xml ends inside sheet {:?}",
            table.name
        )));
    }
    Ok(())
}
