//! Field rules shared by both providers: reading a cell as text, phone numbers, gender,
//! dates, lengths. Pure functions; error messages name the field but never echo its value
//! (values are personal data and messages reach logs).

use std::borrow::Cow;

use serde_json::Value;

use super::{Cell, Rejection};

/// Characters removed from phone-like values before the digits check.
const PHONE_SEPARATORS: &[char] = &[' ', '-', '.', '(', ')', '\u{a0}', '\t'];

/// Read a cell as text: the spreadsheet/formula-guard `'` removed before `= + - @` (and, when
/// `phone_like`, before a digit or `+`), JSON numbers as their exact text. Empty means absent
/// (`Ok(None)`). Text is otherwise kept as it is: only the rules of structured fields (phones,
/// dates, gender, numbers) normalise it.
pub fn text<'a>(
    field: &str,
    cell: Option<Cell<'a>>,
    phone_like: bool,
) -> Result<Option<Cow<'a, str>>, Rejection> {
    let raw: Cow<'a, str> = match cell {
        None => return Ok(None),
        Some(Cell::Text(s)) => Cow::Borrowed(s),
        Some(Cell::Json(v)) => match v {
            Value::Null => return Ok(None),
            Value::String(s) => Cow::Borrowed(s.as_str()),
            Value::Number(n) => {
                let t = n.to_string();
                if phone_like && !t.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Rejection::new(
                        "invalid_phone",
                        format!("{field}: a JSON number that is not a whole positive number; write phone numbers as text"),
                    ));
                }
                Cow::Owned(t)
            }
            Value::Bool(_) | Value::Array(_) | Value::Object(_) => {
                return Err(Rejection::new(
                    "invalid_type",
                    format!("{field}: expected text or a number, found {}", json_kind(v)),
                ))
            }
        },
    };
    if has_lost_text(&raw) {
        return Err(lost_text(field));
    }
    let unguarded = unguard(raw, phone_like);
    // A cell of spaces only is an empty cell: absent (never a contact channel).
    Ok(if unguarded.trim().is_empty() {
        None
    } else {
        Some(unguarded)
    })
}

/// U+FFFD is what a decoder writes for bytes it could not read; `锟斤拷` is two of them
/// written as UTF-8 and read back as GBK. Either means the cell's original text is gone.
const LOST_MARKS: [&str; 2] = ["\u{FFFD}", "锟斤拷"];

/// The rejection of a cell whose text was lost (see [`LOST_MARKS`]).
fn lost_text(field: &str) -> Rejection {
    Rejection::new(
        "invalid_encoding",
        format!(
            "{field}: its original text was lost in an earlier conversion (it holds U+FFFD or \
             锟斤拷); take the value from the original file (and check --encoding)"
        ),
    )
}

/// Whether `s` holds U+FFFD (bytes EF BF BD) or `锟斤拷` (E9 94 9F …). `str::contains` runs a
/// general substring search; this looks for the lead bytes with memchr, which most cells never
/// hold.
fn has_lost_text(s: &str) -> bool {
    let b = s.as_bytes();
    memchr::memchr2_iter(0xEF, 0xE9, b).any(|i| {
        LOST_MARKS
            .iter()
            .any(|mark| b[i..].starts_with(mark.as_bytes()))
    })
}

/// Remove the `'` that a formula guard or a spreadsheet put in front of a value.
pub fn unguard(s: Cow<'_, str>, phone_like: bool) -> Cow<'_, str> {
    let mut chars = s.chars();
    if chars.next() != Some('\'') {
        return s;
    }
    let strip = match chars.next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => true,
        Some(c) if phone_like && c.is_ascii_digit() => true,
        _ => false,
    };
    if !strip {
        return s;
    }
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(&b[1..]),
        Cow::Owned(o) => Cow::Owned(o[1..].to_owned()),
    }
}

/// Add free-form extras (nxlink customize_field keys, itnio properties) to `obj`: text cells
/// as unguarded strings; JSON values other than strings keep their type; empty
/// cells and nulls are left out.
pub fn extras_into(
    extras: &[(Cow<'_, str>, Cell<'_>)],
    obj: &mut serde_json::Map<String, Value>,
) -> Result<(), Rejection> {
    for (key, cell) in extras {
        if has_lost_text(key) {
            return Err(lost_text("a column name"));
        }
        let value = match cell {
            Cell::Json(v) if !v.is_string() => {
                if v.is_null() {
                    continue;
                }
                json_text_kept(key, v)?;
                (*v).clone()
            }
            _ => match text(key, Some(*cell), false)? {
                Some(t) => Value::String(t.into_owned()),
                None => continue,
            },
        };
        obj.insert(key.to_string(), value);
    }
    Ok(())
}

/// A JSON list or object is sent as it is: refuse it when any text in it (key or string) was
/// lost in an earlier conversion (see [`LOST_MARKS`]).
pub fn json_text_kept(field: &str, v: &Value) -> Result<(), Rejection> {
    let lost = match v {
        Value::String(s) => has_lost_text(s),
        Value::Array(items) => items.iter().any(|i| json_text_kept(field, i).is_err()),
        Value::Object(o) => o
            .iter()
            .any(|(k, i)| has_lost_text(k) || json_text_kept(field, i).is_err()),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    };
    if lost {
        return Err(lost_text(field));
    }
    Ok(())
}

/// Human name of a JSON value's type.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Normalise a phone-like value: separators and one leading `+` removed, then digits only,
/// at most `max` of them.
pub fn phone(field: &str, value: &str, max: usize) -> Result<String, Rejection> {
    let value = value.trim();
    if looks_scientific(value) {
        return Err(Rejection::new(
            "invalid_phone",
            format!(
                "{field}: looks like a number a spreadsheet rounded to scientific notation; \
                 format the column as text and export again"
            ),
        ));
    }
    let rest = value.strip_prefix('+').unwrap_or(value);
    let mut out = String::with_capacity(rest.len());
    for c in rest.chars() {
        if c.is_ascii_digit() {
            out.push(c);
        } else if !PHONE_SEPARATORS.contains(&c) {
            return Err(Rejection::new(
                "invalid_phone",
                format!(
                    "{field}: must be digits (spaces, -, ., parentheses and one leading + are allowed)"
                ),
            ));
        }
    }
    if out.is_empty() {
        return Err(Rejection::new(
            "invalid_phone",
            format!("{field}: has no digits"),
        ));
    }
    if out.len() > max {
        return Err(Rejection::new(
            "invalid_phone",
            format!("{field}: {} digits, at most {max} allowed", out.len()),
        ));
    }
    Ok(out)
}

/// `6.28123E+12`, `6,28123E+12`, `6.3e12`: what spreadsheets do to long numbers.
fn looks_scientific(value: &str) -> bool {
    let Some(pos) = value.find(['e', 'E']) else {
        return false;
    };
    let (mantissa, exp) = (&value[..pos], &value[pos + 1..]);
    let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
    !mantissa.is_empty()
        && mantissa
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        && mantissa.chars().any(|c| c.is_ascii_digit())
        && !exp.is_empty()
        && exp.chars().all(|c| c.is_ascii_digit())
}

/// Digits as given (no separators removed), at most `max`.
pub fn digits(field: &str, value: &str, max: usize) -> Result<(), Rejection> {
    if !value.chars().all(|c| c.is_ascii_digit()) {
        return Err(Rejection::new(
            "invalid_digits",
            format!("{field}: must be digits only"),
        ));
    }
    max_len(field, value, max)
}

/// At most `max` characters.
/// A length limit, held both in characters and in UTF-16 code units (the providers' servers
/// count the latter: an emoji is 2).
pub fn max_len(field: &str, value: &str, max: usize) -> Result<(), Rejection> {
    if value.len() <= max {
        // Never more characters, nor UTF-16 units, than bytes.
        return Ok(());
    }
    // UTF-16 units are never fewer than characters: one count holds both limits.
    let units = value.encode_utf16().count();
    if units > max {
        let chars = value.chars().count();
        let message = if chars == units {
            format!("{field}: {chars} characters, at most {max} allowed")
        } else {
            format!(
                "{field}: {chars} characters, {units} UTF-16 units (as the provider counts them: an emoji is 2), at most {max} allowed"
            )
        };
        return Err(Rejection::new("too_long", message));
    }
    Ok(())
}

/// Words read as male, compared in any case (the README's table lists them by language).
/// `nữ` is listed composed and decomposed, as keyboards and exports write it either way.
const MALE: &[&str] = &[
    "1",
    "male",
    "m",
    "男",
    "l",
    "laki-laki",
    "pria",
    "lelaki",
    "lalaki",
    "nam",
    "ชาย",
    "男性",
    "先生",
];
/// Words read as female, compared in any case.
const FEMALE: &[&str] = &[
    "0",
    "female",
    "f",
    "女",
    "p",
    "perempuan",
    "wanita",
    "babae",
    "n\u{1EEF}",
    "nu\u{031B}\u{0303}",
    "n\u{01B0}\u{0303}",
    "หญิง",
    "女性",
    "女士",
];

/// `1`/`0`, `male`/`female`, `m`/`f`, `男`/`女` and the region's words ([`MALE`], [`FEMALE`];
/// any case, surrounding spaces aside) → `true` for male.
pub fn gender(field: &str, value: &str) -> Result<bool, Rejection> {
    let v = value.trim();
    let is = |options: &[&str]| {
        options
            .iter()
            .any(|o| v.eq_ignore_ascii_case(o) || (!v.is_ascii() && lower_eq(v, o)))
    };
    match () {
        _ if is(MALE) => Ok(true),
        _ if is(FEMALE) => Ok(false),
        _ => Err(Rejection::new(
            "invalid_gender",
            format!(
                "{field}: expected 1/0, male/female, m/f, 男/女, L/P, laki-laki/perempuan, \
                 pria/wanita, lalaki/babae, nam/nữ, ชาย/หญิง, 男性/女性 or 先生/女士"
            ),
        )),
    }
}

/// `v` in lower case equals `word` (a lower-case word).
fn lower_eq(v: &str, word: &str) -> bool {
    v.chars().flat_map(char::to_lowercase).eq(word.chars())
}

/// How a date written as three numbers is read (`--date-order`): a year of four digits first
/// is always read year-first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateOrder {
    /// `1990-05-17`.
    #[default]
    Ymd,
    /// `17/05/1990`.
    Dmy,
    /// `05/17/1990`.
    Mdy,
}

impl DateOrder {
    /// `ymd`, `dmy`, `mdy` (any case, surrounding spaces aside).
    pub fn parse(s: &str) -> Option<DateOrder> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ymd" => Some(DateOrder::Ymd),
            "dmy" => Some(DateOrder::Dmy),
            "mdy" => Some(DateOrder::Mdy),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DateOrder::Ymd => "ymd",
            DateOrder::Dmy => "dmy",
            DateOrder::Mdy => "mdy",
        }
    }

    /// How a date in this order reads, for messages: `day-first (d/M/yyyy)`.
    pub fn reading(self) -> &'static str {
        match self {
            DateOrder::Ymd => "year-first (yyyy-M-d)",
            DateOrder::Dmy => "day-first (d/M/yyyy)",
            DateOrder::Mdy => "month-first (M/d/yyyy)",
        }
    }

    /// How the order is written, for messages.
    fn shape(self) -> &'static str {
        match self {
            DateOrder::Ymd => "yyyy-MM-dd (or yyyy/M/d, yyyy.M.d)",
            DateOrder::Dmy => "d/M/yyyy (or d-M-yyyy, d.M.yyyy) or yyyy-MM-dd",
            DateOrder::Mdy => "M/d/yyyy (or M-d-yyyy, M.d.yyyy) or yyyy-MM-dd",
        }
    }
}

/// A birthday → `yyyy-MM-dd`, a real calendar date: three numbers separated by `-`, `/` or
/// `.`, read year-first when the first has four digits, else in `order`. A value that fails
/// but reads in another order ([`other_order`]) names that order (`--date-order dmy`) in its
/// message.
pub fn birthday(field: &str, value: &str, order: DateOrder) -> Result<String, Rejection> {
    let value = value.trim();
    if let Some(date) = date_in(value, order) {
        return Ok(date);
    }
    let hint = match other_order(value, order) {
        Some(o) => format!("; it reads {}: give --date-order {}", o.reading(), o.name()),
        None => String::new(),
    };
    Err(Rejection::new(
        "invalid_birthday",
        format!("{field}: expected a real date as {}{hint}", order.shape()),
    ))
}

/// The order other than `order` in which `value` (trimmed) is a real date, when exactly one
/// other is; day-first when both other orders read it (`05/06/1990` under `ymd`).
pub fn other_order(value: &str, order: DateOrder) -> Option<DateOrder> {
    [DateOrder::Dmy, DateOrder::Mdy, DateOrder::Ymd]
        .into_iter()
        .filter(|&o| o != order)
        .find(|&o| date_in(value, o).is_some())
}

/// `value` read in `order` as `yyyy-MM-dd`, if it is a real calendar date.
fn date_in(value: &str, order: DateOrder) -> Option<String> {
    let sep = value.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
    let mut parts = value.split(sep);
    let (Some(a), Some(b), Some(c), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let order = if a.len() == 4 { DateOrder::Ymd } else { order };
    let (y, m, d) = match order {
        DateOrder::Ymd => (a, b, c),
        DateOrder::Dmy => (c, b, a),
        DateOrder::Mdy => (c, a, b),
    };
    let num = |s: &str, len: std::ops::RangeInclusive<usize>| -> Option<u32> {
        if len.contains(&s.len()) && s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let (yn, mn, dn) = (num(y, 4..=4)?, num(m, 1..=2)?, num(d, 1..=2)?);
    // Year 0000 is no date of the calendar people use (`time` would read it as 1 BC).
    if yn == 0 {
        return None;
    }
    // The calendar's rules (month lengths, leap years) are the `time` crate's.
    let real = match (i32::try_from(yn), u8::try_from(mn), u8::try_from(dn)) {
        (Ok(y), Ok(m), Ok(d)) => time::Month::try_from(m)
            .and_then(|m| time::Date::from_calendar_date(y, m, d))
            .is_ok(),
        _ => false,
    };
    if !real {
        return None;
    }
    let mut out = String::with_capacity(10);
    out.push_str(y);
    for part in [m, d] {
        out.push('-');
        if part.len() == 1 {
            out.push('0');
        }
        out.push_str(part);
    }
    Some(out)
}

/// Keep the last 4 digits of a phone number.
pub fn mask_phone(p: &str) -> String {
    let n = p.chars().count();
    p.chars()
        .enumerate()
        .map(|(i, c)| if i + 4 < n { '*' } else { c })
        .collect()
}

#[cfg(test)]
mod tests;
