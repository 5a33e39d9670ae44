//! The `.xls` pre-scan: the compound file is opened with the `cfb` crate and its `Workbook`
//! (or `Book`) stream is streamed record by record, as calamine frames it, before calamine
//! loads it.
//!
//! calamine reserves a sheet's cells from its DIMENSIONS record (0x0200) and then lays them out
//! in a dense range as large as the extent of the cell records it reads, for every sheet at
//! once. Each sheet's claimed dimensions and real extent are compared with the cell records
//! really there, as the `.ods` repeats are ([`LOAD_FACTOR`] per cell written plus
//! [`LOAD_SLACK`]), per sheet and over the whole workbook; dimensions or cells past Excel's
//! bounds, sheets whose records overlap (calamine would read the same cells twice), streams
//! claiming more bytes than the file holds (calamine follows a sector chain for the size) and
//! entries named like the workbook stream outside the directory tree (calamine finds those,
//! `cfb` does not) are refused. An encrypted workbook is left to calamine, which refuses it.
//! Memory: one record (at most 64 KiB) and one entry per sheet.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::super::{cell_name, MAX_COLS, MAX_ROWS};
use super::{Why, LOAD_FACTOR, LOAD_SLACK};

const BOF: u16 = 0x0809;
const EOF: u16 = 0x000A;
const BOUND_SHEET: u16 = 0x0085;
/// Encryption: calamine refuses the workbook, whose sheets are then not readable here either.
const FILE_PASS: u16 = 0x002F;
const DIMENSIONS: u16 = 0x0200;
const FORMULA: u16 = 0x0006;
/// The string value of the last formula (placed at that formula's cell).
const STRING: u16 = 0x0207;
const MUL_RK: u16 = 0x00BD;
/// The records calamine reads as one cell each, with the least data it accepts for each: the
/// row and the column are their first two u16 (BLANK and MULBLANK are not read).
const CELLS: [(u16, usize); 7] = [
    (0x0203, 14), // NUMBER
    (0x0204, 6),  // LABEL
    (0x00D6, 6),  // RSTRING
    (0x0205, 8),  // BOOLERR
    (0x027E, 10), // RK
    (0x00FD, 10), // LABELSST
    (FORMULA, 20),
];

/// Checks the `.xls` workbook at `path`; `name` names it in messages.
pub(super) fn check(path: &Path, name: &str) -> Result<(), String> {
    let mut file = File::open(path).map_err(|e| format!("{name}: {e}"))?;
    let size = file.metadata().map_err(|e| format!("{name}: {e}"))?.len();
    let damaged =
        |e: io::Error| format!("{name}: not a readable workbook of this type (compound file: {e})");
    let named = named_entries(&mut file).map_err(|e| format!("{name}: {e}"))?;
    let mut cfb = cfb::CompoundFile::open(file).map_err(damaged)?;
    let mut books = Vec::new();
    for entry in cfb.walk() {
        if entry.len() > size {
            return Err(format!(
                "{name}: its entry {:?} claims {} bytes in a file of {size}: nothing was read from it",
                entry.path(),
                entry.len()
            ));
        }
        let book = ["Workbook", "Book"]
            .iter()
            .any(|b| entry.name().eq_ignore_ascii_case(b));
        if entry.is_stream() && book {
            books.push(entry.path().to_path_buf());
        }
    }
    if named > books.len() {
        return Err(format!(
            "{name}: it holds a directory entry named like the workbook stream outside its directory tree: nothing was read from it"
        ));
    }
    // calamine takes the first one it finds: every one is checked.
    for book in books {
        let stream = cfb.open_stream(&book).map_err(damaged)?;
        workbook(Records::new(BufReader::new(stream))).map_err(|why| match why {
            Why::Claim(msg) => format!("{name}: {msg}: nothing was read from it"),
            Why::Damaged(e) => format!("{name}: not a readable workbook of this type ({e})"),
            Why::Long => format!("{name}: not a readable workbook of this type"),
        })?;
    }
    Ok(())
}

/// The 128-byte blocks of the file named `Workbook` or `Book` (any case) as calamine reads a
/// directory entry's name: calamine looks the stream up in every directory entry, reachable
/// from the directory tree or not, while `cfb` walks the tree. A directory entry is always at
/// a multiple of 128 bytes.
fn named_entries(file: &mut File) -> io::Result<usize> {
    let mut count = 0;
    let mut block = [0u8; 128];
    let mut r = BufReader::new(&mut *file);
    while fill(&mut r, &mut block)? {
        let first = block[0].to_ascii_lowercase();
        if (first == b'w' || first == b'b') && block[1] == 0 {
            let units: Vec<u16> = block[..64]
                .chunks_exact(2)
                .map(|p| u16::from_le_bytes([p[0], p[1]]))
                .take_while(|&u| u != 0)
                .collect();
            let name = String::from_utf16_lossy(&units);
            if ["Workbook", "Book"]
                .iter()
                .any(|b| name.eq_ignore_ascii_case(b))
            {
                count += 1;
            }
        }
    }
    drop(r);
    file.seek(SeekFrom::Start(0))?;
    Ok(count)
}

/// The records of a stream: type, then the data in `data`.
struct Records<R> {
    inner: R,
    /// The offset of the next record.
    at: u64,
    data: Vec<u8>,
}

impl<R: Read + Seek> Records<R> {
    fn new(inner: R) -> Self {
        Records {
            inner,
            at: 0,
            data: Vec::new(),
        }
    }

    fn seek(&mut self, at: u64) -> io::Result<bool> {
        let end = self.inner.seek(SeekFrom::End(0))?;
        self.at = self.inner.seek(SeekFrom::Start(at.min(end)))?;
        Ok(at <= end)
    }

    /// The next record's type, `None` at the stream's end or at a record cut short (calamine
    /// then says what is wrong).
    fn next(&mut self) -> io::Result<Option<u16>> {
        let mut head = [0u8; 4];
        if !fill(&mut self.inner, &mut head)? {
            return Ok(None);
        }
        let typ = u16::from_le_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_le_bytes([head[2], head[3]]));
        self.data.resize(len, 0);
        if !fill(&mut self.inner, &mut self.data)? {
            return Ok(None);
        }
        self.at += 4 + len as u64;
        Ok(Some(typ))
    }
}

impl<R> Records<R> {
    fn u16_at(&self, at: usize) -> u32 {
        match self.data.get(at..at + 2) {
            Some(&[a, b]) => u32::from(u16::from_le_bytes([a, b])),
            _ => 0,
        }
    }

    fn u32_at(&self, at: usize) -> u32 {
        match self.data.get(at..at + 4) {
            Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
            _ => 0,
        }
    }
}

/// Fills `buf`; false when the stream ends first.
fn fill(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    match r.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// A sheet as the workbook globals list it (BoundSheet8).
struct Bound {
    at: u64,
    name: String,
}

/// The whole stream: the globals, then every sheet in the order of its offset.
fn workbook<R: Read + Seek>(mut records: Records<R>) -> Result<(), Why> {
    let Some(mut sheets) = globals(&mut records)? else {
        return Ok(());
    };
    sheets.sort_by_key(|s| s.at);
    let mut end = records.at;
    let (mut area, mut written) = (0u64, 0u64);
    for bound in &sheets {
        if bound.at < end {
            return Err(Why::Claim(format!(
                "sheet {:?} starts at byte {} of the workbook stream, inside the workbook globals or another sheet",
                bound.name, bound.at
            )));
        }
        if !records.seek(bound.at)? {
            return Err(Why::Damaged(format!(
                "sheet {:?} starts past the end of the workbook stream",
                bound.name
            )));
        }
        let sheet = sheet(&mut records, &bound.name)?;
        end = records.at;
        area = area.saturating_add(sheet.area());
        written = written.saturating_add(sheet.written);
    }
    if area > allowed(written) {
        return Err(Why::Claim(format!(
            "its {} sheets claim {area} cells for {written} written (at most {LOAD_FACTOR} per cell written are read)",
            sheets.len()
        )));
    }
    Ok(())
}

fn allowed(written: u64) -> u64 {
    written
        .saturating_mul(LOAD_FACTOR)
        .saturating_add(LOAD_SLACK)
}

/// The workbook globals, to their EOF record: the sheets they list, `None` for an encrypted
/// workbook (calamine says so).
fn globals<R: Read + Seek>(records: &mut Records<R>) -> Result<Option<Vec<Bound>>, Why> {
    let mut sheets = Vec::new();
    let mut biff8 = true;
    while let Some(typ) = records.next()? {
        match typ {
            BOF => {
                let (version, dt) = (records.u16_at(0), records.u16_at(2));
                let older = matches!(version, 0x0002 | 0x0007 | 0x0200 | 0x0300 | 0x0400 | 0x0500);
                biff8 = !(older || version == 0 && dt == 0x1000);
            }
            BOUND_SHEET => sheets.push(Bound {
                at: u64::from(records.u32_at(0)),
                name: sheet_name(records.data.get(6..).unwrap_or_default(), biff8),
            }),
            FILE_PASS if records.u16_at(0) != 0 => return Ok(None),
            EOF => break,
            _ => {}
        }
    }
    Ok(Some(sheets))
}

/// A BoundSheet8 name (ShortXLUnicodeString), for messages only.
fn sheet_name(data: &[u8], biff8: bool) -> String {
    let Some((&count, rest)) = data.split_first() else {
        return String::new();
    };
    let count = usize::from(count);
    match rest.split_first() {
        Some((&flags, chars)) if biff8 && flags & 1 == 1 => {
            let units: Vec<u16> = chars
                .chunks_exact(2)
                .take(count)
                .map(|p| u16::from_le_bytes([p[0], p[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        Some((_, chars)) if biff8 => chars.iter().take(count).map(|&b| char::from(b)).collect(),
        _ => rest.iter().take(count).map(|&b| char::from(b)).collect(),
    }
}

/// One sheet as calamine reads it: what it reserves, the cells it lays out.
#[derive(Default)]
struct Sheet {
    /// The largest area a DIMENSIONS record claims, as calamine computes it.
    claimed: u64,
    /// Cells calamine reads, and their extent (first row, last row, first column, last column).
    written: u64,
    extent: Option<(u32, u32, u32, u32)>,
    /// The cell of the last formula.
    formula: (u32, u32),
}

impl Sheet {
    fn area(&self) -> u64 {
        let extent = self.extent.map_or(0, |(r0, r1, c0, c1)| {
            (u64::from(r1 - r0) + 1) * (u64::from(c1 - c0) + 1)
        });
        self.claimed.max(extent)
    }

    fn cell(&mut self, name: &str, row: u32, col: u32) -> Result<(), Why> {
        if col >= MAX_COLS {
            return Err(Why::Claim(format!(
                "sheet {name:?}, cell {}: beyond Excel's last column (XFD, 16,384 columns)",
                cell_name(row, col)
            )));
        }
        self.written += 1;
        self.extent = Some(match self.extent {
            None => (row, row, col, col),
            Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(col), c1.max(col)),
        });
        Ok(())
    }

    /// A DIMENSIONS record, read as calamine reads it (it does its arithmetic in u32).
    fn dimensions<R>(&mut self, name: &str, r: &Records<R>) -> Result<(), Why> {
        let (first_row, rows_end, first_col, cols_end) = match r.data.len() {
            10 => (r.u16_at(0), r.u16_at(2), r.u16_at(4), r.u16_at(6)),
            14 | 16 => (r.u32_at(0), r.u32_at(4), r.u16_at(8), r.u16_at(10)),
            // calamine refuses it.
            _ => return Ok(()),
        };
        if rows_end > MAX_ROWS || cols_end > MAX_COLS {
            return Err(Why::Claim(format!(
                "sheet {name:?}: its dimensions claim {} up to {}, past Excel's last {}",
                if rows_end > MAX_ROWS {
                    "rows"
                } else {
                    "columns"
                },
                if rows_end > MAX_ROWS {
                    rows_end
                } else {
                    cols_end
                },
                if rows_end > MAX_ROWS {
                    "row (1,048,576)"
                } else {
                    "column (XFD, 16,384 columns)"
                }
            )));
        }
        let first_col = if first_col > 0xFF || cols_end < first_col {
            0
        } else {
            first_col
        };
        if rows_end >= 1 && cols_end >= 1 {
            let rows = (rows_end - 1).wrapping_sub(first_row).wrapping_add(1);
            let cols = (cols_end - 1).wrapping_sub(first_col).wrapping_add(1);
            self.claimed = self.claimed.max(u64::from(rows) * u64::from(cols));
        } else {
            self.claimed = self.claimed.max(1);
        }
        Ok(())
    }

    /// A record of the sheet's own substream.
    fn record<R>(&mut self, name: &str, typ: u16, r: &Records<R>) -> Result<(), Why> {
        let len = r.data.len();
        let (row, col) = (r.u16_at(0), r.u16_at(2));
        match typ {
            DIMENSIONS => self.dimensions(name, r)?,
            STRING => self.cell(name, self.formula.0, self.formula.1)?,
            MUL_RK if len >= 6 => {
                // calamine lays out one cell per 6 bytes after the first column.
                let count = ((len - 6) / 6) as u32;
                for c in col..col + count {
                    self.cell(name, row, c)?;
                }
            }
            _ => {
                if let Some(&(_, least)) = CELLS.iter().find(|(t, _)| *t == typ) {
                    if len >= least {
                        if typ == FORMULA {
                            self.formula = (row, col);
                        }
                        self.cell(name, row, col)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn check(&self, name: &str) -> Result<(), Why> {
        let allowed = allowed(self.written);
        let span = |what: String, area: u64| {
            Why::Claim(format!(
                "sheet {name:?}: {what} {area} cells for {} written (at most {LOAD_FACTOR} per cell written are read)",
                self.written
            ))
        };
        if self.claimed > allowed {
            return Err(span("its dimensions claim".into(), self.claimed));
        }
        let area = self.area();
        if area > allowed {
            let (r0, r1, c0, c1) = self.extent.unwrap_or_default();
            let range = format!("{}:{}", cell_name(r0, c0), cell_name(r1, c1));
            return Err(span(format!("its cells span {range},"), area));
        }
        Ok(())
    }
}

/// A sheet's substream, from its BOF to its EOF, embedded substreams (charts) skipped as
/// calamine skips them.
fn sheet<R: Read + Seek>(records: &mut Records<R>, name: &str) -> Result<Sheet, Why> {
    let mut sheet = Sheet::default();
    let (mut seen_bof, mut depth) = (false, 0usize);
    while let Some(typ) = records.next()? {
        if depth > 0 {
            match typ {
                BOF => depth += 1,
                EOF => depth -= 1,
                _ => {}
            }
            continue;
        }
        match typ {
            BOF if seen_bof => depth += 1,
            BOF => seen_bof = true,
            EOF => break,
            _ => sheet.record(name, typ, records)?,
        }
    }
    sheet.check(name)?;
    Ok(sheet)
}
