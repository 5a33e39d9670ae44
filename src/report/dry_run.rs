//! The plan view printed by `--dry-run`: how columns map to fields (and how they matched),
//! what is left unmapped, rejections by reason with their first rows, the requests a real
//! run would send, and how phone numbers are read.
//!
//! Names from the input are shown cut to [`crate::input::SHOWN_CHARS`] characters (with `…`),
//! so a header cell of any length neither floods the view nor overflows a format width.

use std::fmt::Write;

use crate::input::{cut, shown};
use crate::mapping::{MatchedBy, PlanLine};
use crate::outcome::Counts;
use crate::provider::phone::PhoneReport;

fn how(h: MatchedBy) -> &'static str {
    match h {
        MatchedBy::Exact => "exact name",
        MatchedBy::Alias => "alias",
        MatchedBy::Map => "--map",
        MatchedBy::Unmapped => "unmapped",
        MatchedBy::Reserved => "custimport column",
    }
}

/// Targets longer than this are not padded to.
const MAX_ALIGN: usize = 40;

/// Render the plan view.
pub(crate) fn render(
    input: &str,
    lines: &[PlanLine],
    counts: &Counts,
    batch_size: usize,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Plan for {input}:");
    // Targets are aligned up to a sensible width; a longer one (a custom key taken from a huge
    // header) is cut for display. Padding is written by hand: a formatting width has a limit.
    // A target is a field name or `customize.KEY` / `properties.KEY` with KEY from the input.
    let target = |l: &PlanLine| -> String {
        let (kept, more) = cut(l.target.as_deref().unwrap_or_default());
        let kept = crate::provider::answer::escape_control(kept);
        format!("{kept}{}", if more { "…" } else { "" })
    };
    let width = lines
        .iter()
        .filter(|l| l.target.is_some())
        .map(|l| target(l).chars().count())
        .max()
        .unwrap_or(0)
        .min(MAX_ALIGN);
    let mapped: Vec<&PlanLine> = lines.iter().filter(|l| l.target.is_some()).collect();
    if mapped.is_empty() {
        let _ = writeln!(out, "  no column maps to a field");
    }
    for l in &mapped {
        let t = target(l);
        let pad = width.saturating_sub(t.chars().count());
        let _ = writeln!(
            out,
            "  {t}{} <- {} ({})",
            " ".repeat(pad),
            shown(&l.column),
            how(l.how)
        );
    }
    let ignored: Vec<String> = lines
        .iter()
        .filter(|l| l.target.is_none())
        .map(|l| {
            format!(
                "{}{}",
                shown(&l.column),
                if l.how == MatchedBy::Reserved {
                    " (custimport column)"
                } else {
                    ""
                }
            )
        })
        .collect();
    if !ignored.is_empty() {
        let _ = writeln!(out, "  not sent: {}", crate::messages::list(&ignored, 2048));
    }
    let _ = writeln!(
        out,
        "Rows: {} read, {} valid, {} rejected",
        counts.total, counts.valid, counts.rejected
    );
    for (code, (n, rows)) in &counts.rejections {
        let more = if *n > rows.len() as u64 { ", ..." } else { "" };
        let rows: Vec<String> = rows.iter().map(u64::to_string).collect();
        let _ = writeln!(out, "  {code:<20} {n:>7}  (rows {}{more})", rows.join(", "));
    }
    if counts.unchanged > 0 {
        let _ = writeln!(
            out,
            "Unchanged since they last succeeded (not sent, listed in unchanged.csv): {}",
            counts.unchanged
        );
    }
    let _ = writeln!(
        out,
        "Would send {} request(s) of up to {batch_size} rows.",
        counts.planned_requests
    );
    out
}

/// The plan view's phone section: the region numbers are read with and two examples of
/// before -> after, or the national-looking WhatsApp/Viber numbers without a region. Empty
/// when there is nothing to say. `mask`: `--mask-pii` (only the last 4 digits shown).
pub(crate) fn phones(report: &PhoneReport, mask: bool) -> String {
    let mut out = String::new();
    if report.encrypted {
        let _ = writeln!(
            out,
            "Phones: phoneNumber holds encrypted ids (--encrypted-phones), sent as given"
        );
        if let Some(w) = report.country_warning() {
            let _ = writeln!(out, "Phones: {w}");
        }
        return out;
    }
    if let Some((id, name)) = &report.region {
        let _ = writeln!(
            out,
            "Phones: read as numbers of {name} ({id}) unless a row's country names another \
                 region; sent as E.164 digits"
        );
    }
    for (before, after) in &report.examples {
        let (before, after) = if mask {
            (
                crate::provider::rules::mask_phone(before),
                crate::provider::rules::mask_phone(after),
            )
        } else {
            (before.clone(), after.clone())
        };
        let _ = writeln!(out, "  {before:?} -> {after}");
    }
    if let Some(w) = report.national_warning() {
        let _ = writeln!(out, "Phones: {w}");
    }
    if let Some(w) = report.country_warning() {
        let _ = writeln!(out, "Phones: {w}");
    }
    out
}

#[cfg(test)]
mod tests;
