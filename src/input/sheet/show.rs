//! A spreadsheet cell as the person sees it, as text: the one place that decides how numbers,
//! dates, booleans and error values of a workbook become the cells the pipeline reads.
//!
//! Invariant: a whole number of up to 15 digits comes out as exactly its digits (no exponent,
//! no `.0`); a number a spreadsheet cannot hold exactly (16 digits or more, which Excel has
//! already rounded to 15) comes out in the scientific form Excel shows, so a phone-like field
//! rejects it with a hint instead of sending wrong digits.

use std::borrow::Cow;

use calamine::{Data, DataRef, ExcelDateTime};

/// Largest magnitude below which a whole number is shown as its digits: the 15 significant
/// digits a spreadsheet keeps exactly.
const EXACT_LIMIT: f64 = 1e15;

/// A cell's value as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Shown<'a> {
    Text(Cow<'a, str>),
    /// An error value (`#N/A`, `#DIV/0!`, ...), as the spreadsheet writes it.
    Error(Cow<'a, str>),
}

/// What a cell's number format says beyond its value (known for `.xlsx` only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Style {
    /// A format made of zeros only (`0000000000`): whole numbers are padded to this many
    /// digits, as shown (the usual way to keep a leading zero in a number cell).
    pub zero_pad: Option<usize>,
    /// `Some(false)`: a date format without a time of day; `Some(true)`: one with it.
    pub shows_time: Option<bool>,
}

impl Style {
    /// What a number format code implies for the text of its cells.
    pub(super) fn of_format(code: &str) -> Style {
        // The first section applies to positive numbers and zero.
        let first = code.split(';').next().unwrap_or_default();
        let zeros = first.len();
        let zero_pad = (zeros > 1 && first.bytes().all(|b| b == b'0')).then_some(zeros);
        let lower = strip_literals(first).to_ascii_lowercase();
        let dates = lower.contains('y') || lower.contains('d');
        let times = lower.contains('h') || lower.contains('s') || lower.contains("am/pm");
        Style {
            zero_pad,
            shows_time: dates.then_some(times),
        }
    }
}

/// A format section without its quoted literals, escaped characters and `[...]` parts, so
/// `"day "d` or `[$-409]` do not count as date or time tokens.
fn strip_literals(section: &str) -> String {
    let mut out = String::with_capacity(section.len());
    let mut chars = section.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                for q in chars.by_ref() {
                    if q == '"' {
                        break;
                    }
                }
            }
            '\\' | '_' | '*' => {
                chars.next();
            }
            '[' => {
                for q in chars.by_ref() {
                    if q == ']' {
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// A streamed (`.xlsx`, `.xlsb`) cell.
pub(super) fn data_ref<'a>(value: &'a DataRef<'_>, style: Style) -> Shown<'a> {
    match value {
        DataRef::SharedString(s) => Shown::Text(Cow::Borrowed(s)),
        DataRef::String(s) => Shown::Text(Cow::Borrowed(s)),
        DataRef::Int(i) => Shown::Text(Cow::Owned(padded(i.to_string(), style))),
        DataRef::Float(f) => Shown::Text(Cow::Owned(float(*f, style))),
        DataRef::Bool(b) => Shown::Text(Cow::Borrowed(boolean(*b))),
        DataRef::DateTime(d) => Shown::Text(Cow::Owned(date_time(d, style.shows_time))),
        DataRef::DateTimeIso(s) => Shown::Text(Cow::Owned(iso_date_time(s))),
        DataRef::DurationIso(s) => Shown::Text(Cow::Owned(iso_duration(s))),
        DataRef::Error(e) => Shown::Error(Cow::Owned(e.to_string())),
        DataRef::Empty => Shown::Text(Cow::Borrowed("")),
    }
}

/// A cell of a loaded sheet (`.xls`, `.ods`). `ods` marks an OpenDocument sheet, whose error
/// values calamine hands over as their text (`#N/A`, `Err:502`).
pub(super) fn data(value: &Data, ods: bool) -> Shown<'_> {
    match value {
        Data::String(s) if ods && is_error_text(s) => Shown::Error(Cow::Borrowed(s)),
        Data::String(s) => Shown::Text(Cow::Borrowed(s)),
        Data::Int(i) => Shown::Text(Cow::Owned(i.to_string())),
        Data::Float(f) => Shown::Text(Cow::Owned(number(*f))),
        Data::Bool(b) => Shown::Text(Cow::Borrowed(boolean(*b))),
        Data::DateTime(d) => Shown::Text(Cow::Owned(date_time(d, None))),
        Data::DateTimeIso(s) => Shown::Text(Cow::Owned(iso_date_time(s))),
        Data::DurationIso(s) => Shown::Text(Cow::Owned(iso_duration(s))),
        Data::Error(e) => Shown::Error(Cow::Owned(e.to_string())),
        Data::Empty => Shown::Text(Cow::Borrowed("")),
    }
}

fn boolean(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// The error values spreadsheets show (Excel's, and LibreOffice's `Err:NNN`).
fn is_error_text(s: &str) -> bool {
    const ERRORS: [&str; 9] = [
        "#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#DATA!", "###",
    ];
    ERRORS.contains(&s)
        || s.strip_prefix("Err:")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn float(f: f64, style: Style) -> String {
    padded(number(f), style)
}

/// Left-pad a whole number's digits with zeros to the width its format shows.
fn padded(digits: String, style: Style) -> String {
    match style.zero_pad {
        Some(width) if digits.len() < width && digits.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{digits:0>width$}")
        }
        _ => digits,
    }
}

/// A number as text: a whole number below 10^15 as its digits; a larger one as Excel shows it
/// (`6.28123456789012E+15`: its digits past the 15th are not known); any other number in the
/// shortest decimal form that reads back as the value rounded to 15 significant digits (what
/// a spreadsheet shows: `0.1 + 0.2` is `0.3`).
pub(super) fn number(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    if f == 0.0 {
        return "0".into();
    }
    if f.abs() >= EXACT_LIMIT {
        return scientific(f);
    }
    if f.fract() == 0.0 {
        // Display of a whole f64 below 10^15 is its digits, never an exponent or `.0`.
        return f.to_string();
    }
    let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    rounded.to_string()
}

/// `6.28123456789012E+15`: 15 significant digits, trailing zeros dropped, a signed exponent
/// of at least two digits.
fn scientific(f: f64) -> String {
    let s = format!("{f:.14E}");
    let (mantissa, exp) = s.split_once('E').unwrap_or((&s, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.trim_end_matches('0').trim_end_matches('.')
    } else {
        mantissa
    };
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    format!("{mantissa}E{sign}{digits:0>2}")
}

/// A date cell: `yyyy-MM-dd`, with ` HH:mm:ss` when a time of day is shown: by its format
/// where known (`shows_time`), else when it is not midnight. A time-only value (below one
/// day) is `HH:mm:ss`; a duration is `[h]:mm:ss`.
pub(super) fn date_time(d: &ExcelDateTime, shows_time: Option<bool>) -> String {
    let serial = d.as_f64();
    if d.is_duration() {
        return duration_secs((serial * 86_400.0).round());
    }
    let (y, mo, day, h, mi, s, _) = d.to_ymd_hms_milli();
    let time = format!("{h:02}:{mi:02}:{s:02}");
    if (0.0..1.0).contains(&serial) {
        return time;
    }
    let date = format!("{y:04}-{mo:02}-{day:02}");
    let with_time = shows_time.unwrap_or(true) && (h, mi, s) != (0, 0, 0);
    if with_time {
        format!("{date} {time}")
    } else {
        date
    }
}

/// `[h]:mm:ss` of a number of seconds.
fn duration_secs(total: f64) -> String {
    let sign = if total < 0.0 { "-" } else { "" };
    let total = total.abs();
    let hours = (total / 3600.0).floor();
    let rest = total - hours * 3600.0;
    let minutes = (rest / 60.0).floor();
    let seconds = rest - minutes * 60.0;
    format!("{sign}{hours}:{minutes:02}:{seconds:02}")
}

/// An OpenDocument date value (`1990-05-17` or `1990-05-17T08:30:00[.fff]`): `yyyy-MM-dd`,
/// with ` HH:mm:ss` when the time is not midnight.
pub(super) fn iso_date_time(s: &str) -> String {
    let Some((date, time)) = s.split_once('T') else {
        return s.to_owned();
    };
    let time = time.split('.').next().unwrap_or(time);
    if time.trim_start_matches(['0', ':']).is_empty() {
        date.to_owned()
    } else {
        format!("{date} {time}")
    }
}

/// An OpenDocument time value (`PT08H30M00S`, `PT36H00M00.5S`): `[h]:mm:ss`.
pub(super) fn iso_duration(s: &str) -> String {
    let parse = || -> Option<f64> {
        let (neg, rest) = match s.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, s),
        };
        let rest = rest.strip_prefix("PT")?;
        let (h, rest) = rest.split_once('H')?;
        let (m, rest) = rest.split_once('M')?;
        let sec = rest.strip_suffix('S')?;
        let total = h.parse::<f64>().ok()? * 3600.0
            + m.parse::<f64>().ok()? * 60.0
            + sec.parse::<f64>().ok()?.round();
        Some(if neg { -total } else { total })
    };
    parse().map_or_else(|| s.to_owned(), duration_secs)
}
