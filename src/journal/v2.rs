//! Version 2 journals, still resumed: their `done` entries list each row as an array rather
//! than grouping rows by outcome.

use std::sync::Arc;

use serde_json::Value;

use super::EarlierOutcome;

/// One row of a version 2 `done` entry: `[row, "succeeded", already_present, [cells]]`,
/// `[row, "failed"|"unknown", code, message]` or `[row, "unchanged", [cells]]`.
pub(super) fn parse_done_v2(v: &Value) -> Option<(u64, EarlierOutcome, Option<Vec<String>>)> {
    let a = v.as_array()?;
    let row = a.first()?.as_u64()?;
    let s = |i: usize| -> Arc<str> { a.get(i).and_then(Value::as_str).unwrap_or_default().into() };
    Some(match a.get(1)?.as_str()? {
        "succeeded" => {
            let cells = a
                .get(3)
                .and_then(Value::as_array)
                .map(|c| {
                    c.iter()
                        .map(|x| x.as_str().unwrap_or_default().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            let already_present = a.get(2).and_then(Value::as_bool).unwrap_or(false);
            (
                row,
                EarlierOutcome::Succeeded { already_present },
                Some(cells),
            )
        }
        "failed" => (
            row,
            EarlierOutcome::Failed {
                code: s(2),
                message: s(3),
            },
            None,
        ),
        "unknown" => (
            row,
            EarlierOutcome::Unknown {
                code: s(2),
                message: s(3),
            },
            None,
        ),
        "unchanged" => (row, EarlierOutcome::Unchanged, None),
        _ => return None,
    })
}
