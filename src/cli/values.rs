//! The values of the numeric and `auto|N` options: their bounds, and the parsers that check
//! every value while the command line is parsed.

use crate::provider::rules::DateOrder;

/// Bounds of the numeric options (the README's option tables repeat them). Every value a user
/// gives is checked against them while the command line is parsed, before any file is touched,
/// so no later conversion (`Duration`, rate period, buffer size) can overflow.
pub(crate) const MAX_FIELD_SIZE: i64 = 1 << 30;
pub(crate) const MAX_RETRIES: i64 = 100;
pub(crate) const MAX_BACKOFF_MS: u64 = 30_000;
pub(crate) const TIMEOUT_SECS: (f64, f64) = (0.001, 86_400.0);
pub(crate) const RATE_PER_SEC: (f64, f64) = (0.001, 1_000_000.0);
pub(crate) const MAX_LATENCY_MS: u64 = 600_000;
pub(crate) const MAX_CLOCK_OFFSET_MS: i64 = 86_400_000;
/// The last row a spreadsheet can have: `--header-row` is at most this.
pub(crate) const MAX_HEADER_ROW: i64 = 1_048_576;

/// A finite number within `[lo, hi]`.
pub(super) fn bounded(s: &str, (lo, hi): (f64, f64), unit: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("not a number; give {lo} to {hi} {unit}"))?;
    if !(v.is_finite() && (lo..=hi).contains(&v)) {
        return Err(format!("out of range; give {lo} to {hi} {unit}"));
    }
    Ok(v)
}

pub(super) fn parse_timeout(s: &str) -> Result<f64, String> {
    bounded(s, TIMEOUT_SECS, "seconds")
}

/// `--rate auto|N`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Rate {
    Auto,
    Fixed(f64),
}

pub(super) fn parse_rate(s: &str) -> Result<Rate, String> {
    if s.trim().eq_ignore_ascii_case("auto") {
        return Ok(Rate::Auto);
    }
    bounded(s, RATE_PER_SEC, "requests per second (or auto)").map(Rate::Fixed)
}

/// `--concurrency auto|N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Concurrency {
    Auto,
    Fixed(u16),
}

pub(super) fn parse_concurrency(s: &str) -> Result<Concurrency, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("auto") {
        return Ok(Concurrency::Auto);
    }
    match s.parse::<u16>() {
        Ok(n) if (1..=1024).contains(&n) => Ok(Concurrency::Fixed(n)),
        _ => Err("give auto or a whole number from 1 to 1024".into()),
    }
}

pub(super) fn parse_date_order(s: &str) -> Result<DateOrder, String> {
    DateOrder::parse(s).ok_or_else(|| "give ymd, dmy or mdy".to_owned())
}
