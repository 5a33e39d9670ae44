//! Reading itnio's answer to an importCustomer request into one answer per row: each failure
//! line of `data` is attributed to the row whose phone number (or encrypted id) it names, in
//! any spelling.
//!
//! Invariant: every line of the answer's `data` is attributed to exactly one row of the batch
//! or reported as unattributed, never dropped.

use serde_json::Value;

use crate::provider::answer::{self, escape_control};
use crate::provider::rules::json_kind;
use crate::provider::{Answer, RetryKind, RowAnswer};

fn status_of(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// Interpret an importCustomer answer for a request carrying these phone numbers (in order;
/// with `--encrypted-phones`, the encrypted ids as sent).
///
/// The accounting rules (cli.md, "What counts as an answer"): every line of `data` is a row
/// that was not imported, attributed by the phone (or id) it names in any spelling; a row named
/// by no line was imported only when every line named a row; a line that names no row (or more
/// than one) makes every row not named elsewhere `Unknown`; `data` that is neither a list nor
/// absent makes every row `Unknown`.
pub fn interpret(body: &[u8], phones: &[&str], job: u64, app_id: &str) -> Answer {
    let Ok(Value::Object(root)) = serde_json::from_slice::<Value>(body) else {
        return Answer::Retry {
            kind: RetryKind::Unparsable,
            message: "itnio answered with something that is not a JSON object".into(),
        };
    };
    let Some(status) = status_of(root.get("status")) else {
        return Answer::Retry {
            kind: RetryKind::Unparsable,
            message: "itnio answered without a status".into(),
        };
    };
    // `reason` is itnio's word; gateways in front of it (an HTTP 4xx) may say `message`.
    let reason = ["reason", "message"]
        .into_iter()
        .map(|key| match root.get(key) {
            Some(Value::String(s)) => escape_control(s).into_owned(),
            Some(Value::Null) | None => String::new(),
            Some(other) => escape_control(&other.to_string()).into_owned(),
        })
        .find(|text| !text.is_empty())
        .unwrap_or_default();
    if status != 0 {
        return whole_request(status, reason, job, app_id);
    }
    let lines: Vec<String> = match root.get("data") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        None | Some(Value::Null) => vec![],
        Some(other) => {
            let what = format!(
                "itnio answered status 0 with data that is {} instead of a list of failure lines: no row was confirmed",
                json_kind(other)
            );
            return Answer::Rows {
                rows: vec![answer::unknown(answer::UNCONFIRMED, &what); phones.len()],
                unattributed: vec![],
            };
        }
    };
    let keys: Vec<Key<'_>> = phones.iter().map(|p| Key::of(p)).collect();
    let mut ledger = answer::Ledger::new(phones.len());
    let mut unattributed = Vec::new();
    for line in &lines {
        let named: Vec<usize> = names(line, &keys);
        let message = escape_control(failure_text(line)).into_owned();
        match named.as_slice() {
            [i] => {
                ledger.name(*i, verdict(message));
            }
            _ => unattributed.push(escape_control(line).into_owned()),
        }
    }
    let rows = if unattributed.is_empty() {
        ledger.finish(|| RowAnswer::Accepted { id: None }, None)
    } else {
        let what = format!(
            "itnio answered {} failure line(s) that name no single row of this request, so this row's import is not confirmed",
            unattributed.len()
        );
        ledger.finish(|| answer::unknown(answer::UNATTRIBUTED, &what), None)
    };
    Answer::Rows { rows, unattributed }
}

/// The row answer for a failure line that names one row.
fn verdict(message: String) -> RowAnswer {
    let lower = message.to_lowercase();
    if lower.contains("already exist") || message.contains("已存在") {
        RowAnswer::AlreadyExists {
            code: "already_exists".into(),
            message,
        }
    } else if lower.contains("propert") || message.contains("属性") {
        RowAnswer::Refused {
            code: "properties_incomplete".into(),
            message,
        }
    } else {
        RowAnswer::Refused {
            code: "not_imported".into(),
            message,
        }
    }
}

/// The text of a failure line without its trailing phone part (`…,Phone Number:136…`), or the
/// whole line when it does not have that shape.
fn failure_text(line: &str) -> &str {
    let cut = line
        .char_indices()
        .rev()
        .find(|&(_, c)| matches!(c, ',' | '，'))
        .map(|(i, _)| i);
    match cut {
        Some(i)
            if line[i..]
                .chars()
                .any(|c| c.is_ascii_digit() || is_fullwidth_digit(c)) =>
        {
            line[..i].trim()
        }
        _ => line.trim(),
    }
}

/// How a request's row is recognised in a failure line.
enum Key<'a> {
    /// A phone number: its digits, found in any spelling.
    Digits(&'a str),
    /// An encrypted id (or any key that is not all digits): found as a whole token.
    Token(&'a str),
}

impl<'a> Key<'a> {
    /// An empty key is `Digits("")`, which no line names: no number in a line is empty.
    fn of(phone: &'a str) -> Key<'a> {
        if phone.bytes().all(|b| b.is_ascii_digit()) {
            Key::Digits(phone)
        } else {
            Key::Token(phone)
        }
    }
}

fn is_fullwidth_digit(c: char) -> bool {
    ('\u{ff10}'..='\u{ff19}').contains(&c)
}

/// The rows (by index) whose key the line names.
fn names(line: &str, keys: &[Key<'_>]) -> Vec<usize> {
    let numbers = phone_numbers_in(line);
    keys.iter()
        .enumerate()
        .filter(|(_, k)| match k {
            Key::Digits(d) => numbers.iter().any(|n| n == d),
            Key::Token(t) => has_token(line, t),
        })
        .map(|(i, _)| i)
        .collect()
}

/// Every number a line could be naming: the runs of digits (ASCII or full-width) joined across
/// the separators people and servers write inside phone numbers (space, `-`, `.`, `(`, `)`,
/// `/`), and every contiguous part of such a run (so a number followed by another figure is
/// still found).
fn phone_numbers_in(line: &str) -> Vec<String> {
    let mut runs: Vec<Vec<String>> = vec![];
    let mut groups: Vec<String> = vec![];
    let mut group = String::new();
    let flush = |groups: &mut Vec<String>, runs: &mut Vec<Vec<String>>| {
        if !groups.is_empty() {
            runs.push(std::mem::take(groups));
        }
    };
    for c in line.chars() {
        let digit = if c.is_ascii_digit() {
            Some(c)
        } else if is_fullwidth_digit(c) {
            char::from_u32(u32::from(c) - 0xff10 + u32::from('0'))
        } else {
            None
        };
        match digit {
            Some(d) => group.push(d),
            None => {
                if !group.is_empty() {
                    groups.push(std::mem::take(&mut group));
                }
                let separator = matches!(
                    c,
                    ' ' | '-' | '.' | '(' | ')' | '/' | '\u{3000}' | '（' | '）' | '－' | '\u{a0}'
                );
                if !separator {
                    flush(&mut groups, &mut runs);
                }
            }
        }
    }
    if !group.is_empty() {
        groups.push(group);
    }
    flush(&mut groups, &mut runs);
    let mut out = Vec::new();
    for run in runs {
        // A run has few groups (a phone number has at most five or six): every contiguous span.
        let limit = run.len().min(12);
        for a in 0..limit {
            let mut joined = String::new();
            for g in &run[a..limit] {
                joined.push_str(g);
                out.push(joined.clone());
            }
        }
    }
    out
}

/// Whether `token` stands in `line` with no letter or digit touching it on either side.
fn has_token(line: &str, token: &str) -> bool {
    if token.is_empty() {
        return false;
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    line.match_indices(token).any(|(i, _)| {
        !word(line[..i].chars().next_back()) && !word(line[i + token.len()..].chars().next())
    })
}

fn whole_request(status: i64, reason: String, job: u64, app_id: &str) -> Answer {
    let fatal = |what: String| Answer::Fatal {
        code: status.to_string(),
        message: format!("itnio answered status {status} ({reason}): {what}"),
    };
    match status {
        -4 => Answer::Retry {
            kind: RetryKind::Clock,
            message: format!("itnio answered status -4 (timestamp expired): {reason}"),
        },
        -52 => Answer::Retry {
            kind: RetryKind::Throttle,
            message: format!("itnio answered status -52 (too many concurrent requests): {reason}"),
        },
        -1 => fatal("authentication failed: check api_key and api_secret (CUSTIMPORT_ITNIO_API_KEY, CUSTIMPORT_ITNIO_API_SECRET)".into()),
        -3 => fatal("the account's balance is insufficient: top it up, then run again with --resume".into()),
        -6 => fatal("this machine's IP address is not allowed: add it to the account's IP allow-list".into()),
        -32 => fatal(format!("job {job} does not exist for app {app_id}: check --job")),
        -37 => fatal(format!("app {app_id} does not exist: check --app-id, app_id in [itnio] or CUSTIMPORT_ITNIO_APP_ID")),
        -43 => fatal(format!("job {job} has no rate (price) configured: set one in the itnio console")),
        -49 => fatal("the account is not verified: complete verification in the itnio console".into()),
        -55 => fatal(format!("job {job}'s script is unbound: bind a script to the job in the itnio console")),
        -59..=-57 => fatal("a signature header was empty; please report this as a bug".into()),
        -27 | -35 | -51 | -56 => Answer::BatchRefused {
            code: status.to_string(),
            message: reason,
            bisect: true,
        },
        _ => Answer::BatchRefused {
            code: status.to_string(),
            message: reason,
            bisect: false,
        },
    }
}
