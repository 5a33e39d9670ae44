//! Reading nxlink's answer to a batch_create request into one answer per row: a fast path
//! for the usual answer (typed structs, no `Value` tree) and a strict reader for every other
//! shape, both keeping the accounting rules of cli.md ("What counts as an answer").
//!
//! Invariant: each row of the request gets exactly one answer; a row the answer does not name
//! unambiguously is `Unknown`, never accepted.

use serde_json::{Map, Value};

use crate::provider::answer::{self, escape_control};
use crate::provider::rules::{json_kind, mask_phone};
use crate::provider::{Answer, RetryKind, RowAnswer};

/// Interpret a batch_create answer for a request whose rows carry these WhatsApp numbers (in
/// request order; `None` where a row has none).
///
/// The accounting rules (cli.md, "What counts as an answer"): with code 0 every row must be
/// named exactly once across `successItems` and `failItems`; a row left out, named twice or on
/// both sides is `Unknown`; `data` missing, null, not an object, or with both lists empty makes
/// every row `Unknown`; counts that disagree with the lists leave only the rows individually
/// confirmed as accepted; a success item whose `whatsAppPhone` is not the row's contradicts it.
pub fn interpret(body: &[u8], phones: &[Option<&str>], tenant_id: i64) -> Answer {
    interpret_fast(body, phones).unwrap_or_else(|| interpret_value(body, phones, tenant_id))
}

/// The usual answer (code 0, well-formed item lists naming every row once, counts that agree),
/// read into typed structs without building a `Value` tree. `None` for anything else, which
/// [`interpret_value`] then reads by the full rules.
pub(super) fn interpret_fast(body: &[u8], phones: &[Option<&str>]) -> Option<Answer> {
    #[derive(serde::Deserialize)]
    struct Fast {
        code: i64,
        data: FastData,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct FastData {
        success_items: Vec<Success>,
        #[serde(default)]
        fail_items: Vec<Fail>,
        total_count: Option<u64>,
        success_count: Option<u64>,
        fail_count: Option<u64>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Success {
        index: usize,
        /// Ids are whole numbers; anything else (text, a fraction, beyond u64) falls back to
        /// the liberal path, which keeps the id's exact text.
        customer_id: Option<u64>,
        whats_app_phone: Option<String>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Fail {
        index: usize,
        error_code: Option<i64>,
        error_message: Option<String>,
    }
    let fast: Fast = serde_json::from_slice(body).ok()?;
    let FastData {
        success_items,
        fail_items,
        total_count,
        success_count,
        fail_count,
    } = fast.data;
    let n = phones.len();
    let agrees = |count: Option<u64>, len: usize| count.is_none_or(|c| c == len as u64);
    if fast.code != 0
        || n == 0
        || success_items.len() + fail_items.len() != n
        || !agrees(total_count, n)
        || !agrees(success_count, success_items.len())
        || !agrees(fail_count, fail_items.len())
    {
        return None;
    }
    let mut rows: Vec<Option<RowAnswer>> = vec![None; n];
    for it in success_items {
        let slot = rows.get_mut(it.index).filter(|r| r.is_none())?;
        if it
            .whats_app_phone
            .as_deref()
            .is_some_and(|p| phone_contradicts(p, phones.get(it.index).copied().flatten()))
        {
            return None;
        }
        *slot = Some(RowAnswer::Accepted {
            id: it.customer_id.map(|c| c.to_string()),
        });
    }
    for it in fail_items {
        let slot = rows.get_mut(it.index).filter(|r| r.is_none())?;
        *slot = Some(RowAnswer::Refused {
            code: it.error_code?.to_string(),
            message: escape_control(&it.error_message.unwrap_or_default()).into_owned(),
        });
    }
    Some(Answer::Rows {
        rows: rows.into_iter().collect::<Option<Vec<_>>>()?,
        unattributed: vec![],
    })
}

/// Whether a success item's `whatsAppPhone` names another number than the row's. Compared as
/// national significant numbers: digits only, without the leading zeros of a trunk prefix
/// (`0812…`) or an international prefix (`00…`). One may carry a country code (one to three
/// digits) the other lacks, so `62812…` echoed for `0812…` sent confirms the row, while any
/// other difference contradicts it.
fn phone_contradicts(answered: &str, sent: Option<&str>) -> bool {
    let significant = |s: &str| {
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        digits.trim_start_matches('0').to_owned()
    };
    let (a, s) = (significant(answered), significant(sent.unwrap_or_default()));
    if a.is_empty() || s.is_empty() {
        // Nothing to compare: an empty echo says nothing, and a row sent without a WhatsApp
        // number may be echoed with whatever number nxlink keys it by.
        return false;
    }
    !(with_country_code(&a, &s) || with_country_code(&s, &a))
}

/// Whether `long` is `short`, or `short` after a country code (at most three digits).
fn with_country_code(long: &str, short: &str) -> bool {
    long.strip_suffix(short).is_some_and(|code| code.len() <= 3)
}

/// Any answer, read liberally through a `Value` tree and accounted strictly.
pub(super) fn interpret_value(body: &[u8], phones: &[Option<&str>], tenant_id: i64) -> Answer {
    let n = phones.len();
    let (root, code, message, trace) = match envelope(body) {
        Ok(e) => e,
        Err(retry) => return retry,
    };
    if code != 0 {
        return whole_request(code, message, trace.as_deref(), tenant_id);
    }
    let traced = |what: &str| match &trace {
        Some(t) => format!("{what} (nxlink trace id {t})"),
        None => what.to_owned(),
    };
    let all_unknown = |what: &str| Answer::Rows {
        rows: vec![answer::unknown(answer::UNCONFIRMED, &traced(what)); n],
        unattributed: vec![],
    };
    let data = match data_of(&root) {
        Ok(d) => d,
        Err(what) => return all_unknown(&what),
    };
    let items = |key: &str| -> &[Value] {
        match data.get(key) {
            Some(Value::Array(a)) => a,
            _ => &[],
        }
    };
    let (successes, failures) = (items("successItems"), items("failItems"));
    if successes.is_empty() && failures.is_empty() {
        return all_unknown(
            "nxlink answered code 0 without naming any row as a success or a failure: no row was confirmed",
        );
    }
    let mut ledger = answer::Ledger::new(n);
    let mut unattributed = Vec::new();
    for (value, verdict) in successes
        .iter()
        .map(|v| (v, success_verdict(v, phones, &traced)))
        .chain(failures.iter().map(|v| (v, failure_verdict(v))))
    {
        let named = value
            .as_object()
            .and_then(index_of)
            .is_some_and(|i| ledger.name(i, verdict));
        if !named {
            unattributed.push(escape_control(&value.to_string()).into_owned());
        }
    }
    let counts_disagree = miscounted(data, n, successes.len(), failures.len());
    let doubt_text = traced(
        "nxlink's counts (totalCount, successCount, failCount) disagree with its lists of rows: this row was not confirmed",
    );
    let rows = ledger.finish(
        || {
            answer::unknown(
                answer::UNCONFIRMED,
                &traced("nxlink listed this row neither as a success nor as a failure"),
            )
        },
        counts_disagree.then_some((answer::MISCOUNTED, doubt_text.as_str())),
    );
    if let (Some(t), false) = (&trace, unattributed.is_empty()) {
        tracing::info!(trace_id = %t, "nxlink answer named items matching no row");
    }
    Answer::Rows { rows, unattributed }
}

/// The `data` object of a code-0 answer, or why no row of it is confirmed.
fn data_of(root: &Map<String, Value>) -> Result<&Map<String, Value>, String> {
    match root.get("data") {
        Some(Value::Object(d)) => Ok(d),
        None => Err("nxlink answered code 0 without data: no row was confirmed".into()),
        Some(Value::Null) => {
            Err("nxlink answered code 0 with data null: no row was confirmed".into())
        }
        Some(other) => Err(format!(
            "nxlink answered code 0 with data that is {} instead of the per-row results: no row was confirmed",
            json_kind(other)
        )),
    }
}

/// Whether a count nxlink gives (`totalCount`, `successCount`, `failCount`; each may be left
/// out) disagrees with the `n` rows sent or with the lengths of its lists.
fn miscounted(data: &Map<String, Value>, n: usize, successes: usize, failures: usize) -> bool {
    let count = |key: &str| match data.get(key) {
        None | Some(Value::Null) => None,
        Some(v) => Some(code_of(Some(v))),
    };
    let disagree =
        |key: &str, expected: usize| count(key).is_some_and(|c| c != i64::try_from(expected).ok());
    disagree("totalCount", n)
        || disagree("successCount", successes)
        || disagree("failCount", failures)
}

/// An answer's envelope: the object, its code, its message and its trace id.
type Envelope = (Map<String, Value>, i64, String, Option<String>);

/// The answer's envelope (the message from `message` or `msg`); an unreadable answer is to be
/// retried.
fn envelope(body: &[u8]) -> Result<Envelope, Answer> {
    let Ok(Value::Object(root)) = serde_json::from_slice::<Value>(body) else {
        return Err(Answer::Retry {
            kind: RetryKind::Unparsable,
            message: "nxlink answered with something that is not a JSON object".into(),
        });
    };
    let Some(code) = code_of(root.get("code")) else {
        return Err(Answer::Retry {
            kind: RetryKind::Unparsable,
            message: "nxlink answered without a result code".into(),
        });
    };
    let message = Some(text_of(root.get("message")))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| text_of(root.get("msg")));
    let trace = Some(text_of(root.get("traceId"))).filter(|t| !t.is_empty());
    Ok((root, code, message, trace))
}

/// What a `successItems` entry says of its row: accepted with its id, unless it echoes another
/// WhatsApp number than the row's.
fn success_verdict(
    value: &Value,
    phones: &[Option<&str>],
    traced: &dyn Fn(&str) -> String,
) -> RowAnswer {
    let item = value.as_object();
    let id = match item.and_then(|i| i.get("customerId")) {
        Some(Value::Number(num)) => Some(num.to_string()),
        Some(Value::String(s)) if !s.is_empty() => Some(escape_control(s).into_owned()),
        _ => None,
    };
    let echoed = item.map(|i| text_of(i.get("whatsAppPhone")));
    match (item.and_then(index_of), echoed) {
        (Some(i), Some(p)) if phone_contradicts(&p, phones.get(i).copied().flatten()) => {
            answer::unknown(
                answer::CONTRADICTORY,
                &traced(&format!(
                    "nxlink confirmed this row with another WhatsApp number ({})",
                    mask_phone(&escape_control(&p))
                )),
            )
        }
        _ => RowAnswer::Accepted { id },
    }
}

/// What a `failItems` entry says of its row: refused, with the code and message given.
fn failure_verdict(value: &Value) -> RowAnswer {
    let item = value.as_object();
    let code = item
        .and_then(|i| code_of(i.get("errorCode")).map(|c| c.to_string()))
        .unwrap_or_else(|| text_of(item.and_then(|i| i.get("errorCode"))));
    RowAnswer::Refused {
        code: escape_control(&code).into_owned(),
        message: escape_control(&text_of(item.and_then(|i| i.get("errorMessage")))).into_owned(),
    }
}

/// An item's `index`, as a number or a numeric string.
fn index_of(item: &Map<String, Value>) -> Option<usize> {
    match item.get("index")? {
        Value::Number(n) => usize::try_from(n.as_u64()?).ok(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn whole_request(code: i64, message: String, trace: Option<&str>, tenant_id: i64) -> Answer {
    let message = match trace {
        Some(t) => format!(
            "{} (nxlink trace id {})",
            escape_control(&message),
            escape_control(t)
        ),
        None => escape_control(&message).into_owned(),
    };
    let fatal = |what: String| Answer::Fatal {
        code: code.to_string(),
        message: format!("nxlink answered code {code} ({message}): {what}"),
    };
    match code {
        1004 => Answer::Retry {
            kind: RetryKind::Clock,
            message: format!("nxlink answered code 1004 (timestamp expired): {message}"),
        },
        1001 => fatal("a required header was missing; please report this as a bug".into()),
        1003 => fatal("the signature was refused: check that access_secret (CUSTIMPORT_NXLINK_ACCESS_SECRET) belongs to access_key".into()),
        1005 => fatal("the access key was refused: check access_key (CUSTIMPORT_NXLINK_ACCESS_KEY) and that the customer data business is enabled for it".into()),
        21058 => fatal("tenant_id is required: set --tenant-id, tenant_id in [nxlink] or CUSTIMPORT_NXLINK_TENANT_ID".into()),
        21059 => fatal("app_key is required: set --app-key, app_key in [nxlink] or CUSTIMPORT_NXLINK_APP_KEY".into()),
        22124 => fatal(format!("the application is unavailable: check that app_key belongs to tenant {tenant_id} and is enabled")),
        22125 => fatal("the account's balance is insufficient: top it up, then run again with --resume".into()),
        // A seat that does not exist (12148) or a parameter error (1002) may come from some
        // rows only: bisect to find them.
        12148 | 1002 => Answer::BatchRefused {
            code: code.to_string(),
            message,
            bisect: true,
        },
        _ => Answer::BatchRefused {
            code: code.to_string(),
            message,
            bisect: false,
        },
    }
}

/// A code that may come as a number or a string.
fn code_of(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}
