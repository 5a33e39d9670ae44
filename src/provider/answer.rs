//! What both providers' answer readers share: the per-row ledger that turns what an answer says
//! about each row into exactly one [`RowAnswer`], and the escaping of provider text.
//!
//! Invariant: a row is `Accepted` only when the answer named it as accepted exactly once and
//! nothing else in the answer named it; every other combination (never named, named twice,
//! named as accepted and refused) is `Unknown`. Provider text leaves here with its control
//! characters escaped, so nothing a server says can drive the operator's terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::RowAnswer;

/// Outcome code of a row the answer left out (or answered too vaguely to tell).
pub const UNCONFIRMED: &str = "unconfirmed";
/// Outcome code of a row the answer named more than once, or as accepted and refused.
pub const CONTRADICTORY: &str = "contradictory";
/// Outcome code of a row whose answer's counts disagree with its lists.
pub const MISCOUNTED: &str = "count_mismatch";
/// Outcome code of a row left unnamed beside an answer line that names no row.
pub const UNATTRIBUTED: &str = "unattributed";

/// What an answer said about each row, collected before any row is decided.
#[derive(Debug)]
pub struct Ledger {
    slots: Vec<Slot>,
}

#[derive(Debug, Default)]
struct Slot {
    /// The first verdict the answer gave for the row.
    first: Option<RowAnswer>,
    /// How many times the answer named the row.
    mentions: u32,
    accepted: bool,
    refused: bool,
}

impl Ledger {
    pub fn new(rows: usize) -> Ledger {
        Ledger {
            slots: (0..rows).map(|_| Slot::default()).collect(),
        }
    }

    /// Record that the answer named row `i` with `verdict`. `false` when `i` is no row.
    pub fn name(&mut self, i: usize, verdict: RowAnswer) -> bool {
        let Some(slot) = self.slots.get_mut(i) else {
            return false;
        };
        slot.mentions += 1;
        match verdict {
            RowAnswer::Accepted { .. } => slot.accepted = true,
            _ => slot.refused = true,
        }
        if slot.first.is_none() {
            slot.first = Some(verdict);
        }
        true
    }

    /// One answer per row. `unnamed`: the answer for a row the answer never named.
    /// `doubt`: when set, the answer contradicts itself elsewhere (its counts disagree with its
    /// lists), so only the rows it individually confirmed as accepted are kept; every other row
    /// is `Unknown` with this code and message.
    pub fn finish(
        self,
        unnamed: impl Fn() -> RowAnswer,
        doubt: Option<(&str, &str)>,
    ) -> Vec<RowAnswer> {
        self.slots
            .into_iter()
            .map(|slot| match (slot.mentions, slot.first) {
                (0, _) | (_, None) => unnamed(),
                (1, Some(v @ RowAnswer::Accepted { .. })) => v,
                (1, Some(v)) => match doubt {
                    Some((code, message)) => unknown(code, message),
                    None => v,
                },
                (n, Some(_)) if slot.accepted && slot.refused => unknown(
                    CONTRADICTORY,
                    &format!("the answer named this row {n} times, as accepted and as refused"),
                ),
                (n, Some(_)) => unknown(
                    CONTRADICTORY,
                    &format!("the answer named this row {n} times"),
                ),
            })
            .collect()
    }
}

/// An `Unknown` row answer.
pub fn unknown(code: &str, message: &str) -> RowAnswer {
    RowAnswer::Unknown {
        code: code.to_owned(),
        message: message.to_owned(),
    }
}

/// Provider text with control characters (C0, DEL, C1, and the bidirectional overrides)
/// written as escapes (`\x1b`, `\u{202e}`), so it cannot move the cursor, clear the screen or
/// disguise itself when printed. Ordinary text is returned as it is.
pub fn escape_control(s: &str) -> Cow<'_, str> {
    let bad = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !bad(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests;
