//! The `.xlsb` pre-scan: every binary part calamine reads (the workbook, its shared strings and
//! styles, and every sheet) is streamed record by record, framed as calamine frames it, before
//! calamine opens the workbook.
//!
//! calamine reads each record whole into a buffer sized from the record's claimed length (up to
//! 256 MiB, before it knows whether those bytes exist), and holds every shared string. A record
//! claiming more bytes than its part holds, or longer than a cell can be (six times
//! `--max-field-size` plus 64 KiB, as for `.xlsx`), is refused; so are shared strings claiming
//! more strings than they hold, a sheet's dimensions (`BrtWsDim`) or a row header past Excel's
//! bounds (calamine ends the sheet silently at a row past them), and a cell naming a shared
//! string that is not there (calamine would panic).
//! Memory: a few bytes of one record at a time; nothing is kept but the count of strings.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use super::super::{cell_name, column_letters, MAX_COLS, MAX_ROWS};
use super::Why;

/// Record types read here (MS-XLSB 2.4).
const ROW_HEADER: u16 = 0x0000;
const CELL_SHARED_STRING: u16 = 0x0007;
const STRING_ITEM: u16 = 0x0013;
const DIMENSIONS: u16 = 0x0094;
const BEGIN_STRINGS: u16 = 0x009F;
/// Bytes of a record's data kept for the checks (the largest read is `BrtWsDim`'s 16).
const KEEP: usize = 16;

/// The parts calamine reads as records, in the order they are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Strings,
    Sheet,
    Other,
}

impl Kind {
    /// The kind of the zip entry `part` (matched as calamine finds parts: ignoring case and
    /// with `\` as `/`), `None` for a part calamine does not read as records.
    fn of(part: &str) -> Option<Kind> {
        let p = part.replace('\\', "/").to_ascii_lowercase();
        let sheet = |dir: &str| p.starts_with(dir) && p.ends_with(".bin");
        if p == "xl/sharedstrings.bin" {
            Some(Kind::Strings)
        } else if sheet("xl/worksheets/") {
            Some(Kind::Sheet)
        } else if p == "xl/workbook.bin"
            || p == "xl/styles.bin"
            || sheet("xl/chartsheets/")
            || sheet("xl/dialogsheets/")
        {
            Some(Kind::Other)
        } else {
            None
        }
    }
}

/// Checks the `.xlsb` workbook at `path`; `name` names it in messages.
pub(super) fn check(path: &Path, name: &str, max_field_bytes: usize) -> Result<(), String> {
    let file = File::open(path).map_err(|e| format!("{name}: {e}"))?;
    let Ok(mut zip) = zip::ZipArchive::new(BufReader::new(file)) else {
        // calamine says what is wrong with it.
        return Ok(());
    };
    let limit = max_field_bytes.saturating_mul(6).saturating_add(1 << 16);
    let mut parts: Vec<(Kind, usize, String)> = (0..zip.len())
        .filter_map(|i| {
            let part = zip.name_for_index(i)?.ok()?.into_owned();
            Some((Kind::of(&part)?, i, part))
        })
        .collect();
    // The shared strings first: the sheets' cells are checked against them.
    parts.sort();
    let mut strings = 0u64;
    for (kind, i, part) in parts {
        let entry = zip.by_index(i).map_err(|e| format!("{name}: {e}"))?;
        let mut records = Records::new(BufReader::new(entry), limit);
        let checked = match kind {
            Kind::Strings => shared_strings(&mut records).map(|n| strings = n),
            Kind::Sheet => sheet(&mut records, strings),
            Kind::Other => records.drain(),
        };
        checked.map_err(|why| match why {
            Why::Long => format!(
                "{name}: {part} holds a record longer than {max_field_bytes} bytes (--max-field-size) by far: nothing was read from it"
            ),
            Why::Claim(msg) => format!("{name}: {part}: {msg}: nothing was read from it"),
            Why::Damaged(e) => format!("{name}: not a readable workbook ({part}: {e})"),
        })?;
    }
    Ok(())
}

/// A part's records, framed as calamine frames them: a type of one or two bytes, a length of
/// one to four bytes (seven bits each), then that many bytes.
struct Records<R> {
    inner: R,
    /// Offset of the next record in the part.
    at: u64,
    limit: usize,
    data: [u8; KEEP],
}

/// One record: its type, its offset, its length and its first bytes (at most [`KEEP`]).
struct Record<'a> {
    typ: u16,
    at: u64,
    data: &'a [u8],
}

impl Record<'_> {
    fn u32_at(&self, at: usize) -> Option<u32> {
        let bytes = self.data.get(at..at + 4)?;
        Some(u32::from_le_bytes(bytes.try_into().ok()?))
    }
}

impl<R: Read> Records<R> {
    fn new(inner: R, limit: usize) -> Self {
        Records {
            inner,
            at: 0,
            limit,
            data: [0; KEEP],
        }
    }

    /// One byte; `None` at the end of the part.
    fn byte(&mut self) -> Result<Option<u8>, Why> {
        let mut b = [0u8];
        loop {
            match self.inner.read(&mut b) {
                Ok(0) => return Ok(None),
                Ok(_) => {
                    self.at += 1;
                    return Ok(Some(b[0]));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Why::from(e)),
            }
        }
    }

    /// One byte inside a record's header, which may not end there.
    fn header_byte(&mut self, start: u64) -> Result<u8, Why> {
        self.byte()?.ok_or_else(|| {
            Why::Claim(format!(
                "the record at byte {start} is cut off in its header"
            ))
        })
    }

    /// The next record, `None` at the end of the part. Its data past [`KEEP`] bytes is read
    /// and dropped; a record claiming more bytes than follow, or longer than a cell can be, is
    /// refused.
    fn next(&mut self) -> Result<Option<Record<'_>>, Why> {
        let start = self.at;
        let Some(first) = self.byte()? else {
            return Ok(None);
        };
        let mut typ = u16::from(first);
        if first & 0x80 != 0 {
            let second = self.header_byte(start)?;
            typ = u16::from(first & 0x7F) | (u16::from(second & 0x7F) << 7);
        }
        let mut b = self.header_byte(start)?;
        let mut len = u64::from(b & 0x7F);
        for i in 1..4 {
            if b & 0x80 == 0 {
                break;
            }
            b = self.header_byte(start)?;
            len += u64::from(b & 0x7F) << (7 * i);
        }
        let kept = usize::try_from(len).map_or(KEEP, |l| l.min(KEEP));
        let head = self.data.get_mut(..kept).unwrap_or_default();
        let got = read_up_to(&mut self.inner, head)?;
        let rest =
            io::copy(&mut (&mut self.inner).take(len - got), &mut io::sink()).map_err(Why::from)?;
        self.at += got + rest;
        if got + rest < len {
            return Err(Why::Claim(format!(
                "the record at byte {start} claims {len} bytes and {} follow",
                got + rest
            )));
        }
        if len > self.limit as u64 {
            return Err(Why::Long);
        }
        Ok(Some(Record {
            typ,
            at: start,
            data: self.data.get(..kept).unwrap_or_default(),
        }))
    }

    fn drain(&mut self) -> Result<(), Why> {
        while self.next()?.is_some() {}
        Ok(())
    }
}

/// Fills `buf` from `r` as far as `r` goes; returns the bytes read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> Result<u64, Why> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(buf.get_mut(filled..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Why::from(e)),
        }
    }
    Ok(filled as u64)
}

/// The shared strings: they may not claim more strings than they hold (calamine reads as many
/// as claimed). Returns how many calamine will hold.
fn shared_strings(records: &mut Records<impl Read>) -> Result<u64, Why> {
    let (mut claimed, mut found) = (None, 0u64);
    while let Some(record) = records.next()? {
        match record.typ {
            BEGIN_STRINGS if claimed.is_none() => claimed = record.u32_at(4).map(u64::from),
            STRING_ITEM => found += 1,
            _ => {}
        }
    }
    let claimed = claimed.unwrap_or(0);
    if claimed > found {
        return Err(Why::Claim(format!(
            "the shared strings claim {claimed} strings and hold {found}"
        )));
    }
    Ok(claimed)
}

/// A worksheet: its dimensions and rows within Excel's bounds, its cells' shared strings
/// among the `strings` there are.
fn sheet(records: &mut Records<impl Read>, strings: u64) -> Result<(), Why> {
    let mut row = 0u32;
    while let Some(record) = records.next()? {
        match record.typ {
            DIMENSIONS => dimensions(&record)?,
            ROW_HEADER => {
                row = record.u32_at(0).unwrap_or(0);
                if row >= MAX_ROWS {
                    return Err(Why::Claim(format!(
                        "the row header at byte {} names row {}, past Excel's last row (1,048,576)",
                        record.at,
                        u64::from(row) + 1
                    )));
                }
            }
            CELL_SHARED_STRING => {
                let (Some(col), Some(index)) = (record.u32_at(0), record.u32_at(8)) else {
                    continue;
                };
                if u64::from(index) >= strings {
                    return Err(Why::Claim(format!(
                        "cell {} names shared string {} of {strings}",
                        cell_name(row, col),
                        u64::from(index) + 1
                    )));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// `BrtWsDim`: first and last row, first and last column (0-based, inclusive).
fn dimensions(record: &Record<'_>) -> Result<(), Why> {
    let (Some(last_row), Some(last_col)) = (record.u32_at(4), record.u32_at(12)) else {
        return Ok(());
    };
    if last_row >= MAX_ROWS {
        return Err(Why::Claim(format!(
            "its dimensions claim rows up to {}, past Excel's last row (1,048,576)",
            u64::from(last_row) + 1
        )));
    }
    if last_col >= MAX_COLS {
        return Err(Why::Claim(format!(
            "its dimensions claim columns up to {}, past Excel's last column (XFD, 16,384 columns)",
            column_letters(last_col)
        )));
    }
    Ok(())
}
