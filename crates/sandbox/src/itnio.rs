//! The itnio `aivoice/importCustomer` emulator: header and signature checks, body validation, and
//! the per-person outcomes (phone uniqueness in the job, the script-variable rule of jobs
//! 1000–1999) as the persons are kept in the person store (`itnio_store.rs`).
//!
//! Test hooks: the `--refuse PHONE=CODE` rules with a negative code refuse, with that status,
//! any batch holding a person whose `phoneNumber` is PHONE; and (kept for older tests) a batch
//! holding a person whose `properties` has the key `sandbox_refuse` (see [`REFUSE_PROPERTY`])
//! with the string value `"-27"`, `"-35"` or `"-51"` is refused whole with that status. Both
//! come after the structural checks and before anything is stored, so that the client's
//! bisection of whole-batch refusals can be tested end to end. Any other value of that key is an
//! ordinary property.
//!
//! Invariant: a request with a non-"0" status changes nothing; with status "0" every person is
//! either kept in the job or named (by phone) in exactly one `data` line, and a job never holds
//! the same phone twice.

use hyper::HeaderMap;
use serde_json::{json, Map, Value};

use super::events::Event;
use super::http::{header, is_json_content_type, rows_of};
use super::nxlink_fields::utf16_len;
use super::phones;
use super::state::App;
use super::verify;
use super::{Provider, ITNIO_API_KEY, ITNIO_API_SECRET, ITNIO_APP_ID};

/// Jobs in this range run a script with variables and require the property `amount`.
pub const SCRIPT_JOBS: std::ops::RangeInclusive<i64> = 1000..=1999;
/// The property the script jobs require.
pub const SCRIPT_PROPERTY: &str = "amount";
/// The property of the test hook: a person carrying it with the value `"-27"`, `"-35"` or
/// `"-51"` makes the sandbox refuse the whole batch with that status.
pub(crate) const REFUSE_PROPERTY: &str = "sandbox_refuse";
const JOBS: std::ops::RangeInclusive<i64> = 1..=999_999;
const SKEW_SECS: i64 = 300;
const MAX_PERSONS: usize = 100;
const MAX_PHONE_CHARS: usize = 32;
const PERSON_KEYS: [&str; 4] = ["name", "phoneNumber", "gender", "properties"];
const BODY_KEYS: [&str; 4] = ["appId", "jobId", "callRecordDup", "customerPersons"];

struct Refusal {
    status: i64,
    reason: String,
}

fn refuse(status: i64, reason: impl Into<String>) -> Refusal {
    Refusal {
        status,
        reason: reason.into(),
    }
}

fn invalid(reason: impl std::fmt::Display) -> Refusal {
    refuse(-27, format!("parameter validation failed: {reason}"))
}

/// Handles one request; `parsed` is the body parsed as JSON (if it parsed). The person at
/// index `withhold` (a fault's pick) is neither stored nor named in the answer. A refusal is
/// logged in the events.
pub(crate) fn handle(
    app: &App,
    headers: &HeaderMap,
    parsed: Option<&Value>,
    withhold: Option<usize>,
) -> Vec<u8> {
    match process(app, headers, parsed, withhold) {
        Ok(lines) => envelope("0", "success", Value::Array(lines)),
        Err(r) => {
            app.events.push(Event {
                provider: Provider::Itnio.as_str(),
                rows: rows_of(Provider::Itnio, parsed),
                code: Some(r.status),
                message: Some(r.reason.clone()),
                ..Event::default()
            });
            refusal(r.status, &r.reason)
        }
    }
}

/// A whole-request refusal with `status` and `reason`.
pub(crate) fn refusal(status: i64, reason: &str) -> Vec<u8> {
    envelope(&status.to_string(), reason, Value::Null)
}

/// A success that refuses nobody (what the `redirect` faults' target and the end of a `huge`
/// answer say).
pub(crate) fn perfect() -> Vec<u8> {
    envelope("0", "success", Value::Array(Vec::new()))
}

fn envelope(status: &str, reason: &str, data: Value) -> Vec<u8> {
    let v = json!({"status": status, "reason": reason, "data": data});
    serde_json::to_vec(&v).unwrap_or_default()
}

fn process(
    app: &App,
    headers: &HeaderMap,
    parsed: Option<&Value>,
    withhold: Option<usize>,
) -> Result<Vec<Value>, Refusal> {
    check_headers(app, headers)?;
    let obj = parsed
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("the body must be a JSON object"))?;
    if obj.get("appId").and_then(Value::as_str) != Some(ITNIO_APP_ID) {
        return Err(refuse(-37, "application does not exist"));
    }
    let job = obj
        .get("jobId")
        .and_then(Value::as_i64)
        .ok_or_else(|| invalid("jobId: must be an integer"))?;
    if !JOBS.contains(&job) {
        return Err(refuse(-32, "job does not exist"));
    }
    if let Some(key) = obj.keys().find(|k| !BODY_KEYS.contains(&k.as_str())) {
        return Err(invalid(format_args!("{key}: unknown field")));
    }
    if !matches!(
        obj.get("callRecordDup"),
        None | Some(Value::Null | Value::Bool(_))
    ) {
        return Err(invalid("callRecordDup: must be a boolean"));
    }
    let persons = obj
        .get("customerPersons")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("customerPersons: must be an array"))?;
    if persons.len() > MAX_PERSONS {
        return Err(refuse(-56, "at most 100 customers can be imported at once"));
    }
    if persons.is_empty() {
        return Err(invalid("customerPersons: must not be empty"));
    }
    let mut checked = Vec::with_capacity(persons.len());
    for (i, p) in persons.iter().enumerate() {
        let (phone, fields) = check_person(i, p).map_err(invalid)?;
        // Serialised outside the lock; the lock only covers lookups and inserts.
        let text: Box<str> = serde_json::to_string(fields).unwrap_or_default().into();
        checked.push((phone, fields, text));
    }
    // The test hooks: checked before the store is touched, so a refusal changes nothing.
    hooks(app, &checked)?;
    let mut store = app.itnio.lock().unwrap_or_else(|e| e.into_inner());
    let held = store.job(job);
    let mut lines = Vec::new();
    for (i, (phone, person, text)) in checked.into_iter().enumerate() {
        if withhold == Some(i) {
            continue;
        }
        if app.strict_phones && phones::itnio_refuses(phone) {
            lines.push(Value::from(format!(
                "Phone number format is incorrect,Phone Number:{phone}"
            )));
        } else if SCRIPT_JOBS.contains(&job) && !has_property(person, SCRIPT_PROPERTY) {
            lines.push(Value::from(format!(
                "Customer custom property is incomplete,Phone Number:{phone}"
            )));
        } else if !held.keep(phone, text) {
            lines.push(Value::from(format!(
                "The customer already exists in this task,Phone Number:{phone}"
            )));
        }
    }
    Ok(lines)
}

/// The test hooks' refusals (`--refuse` rules, marked rows) of a checked batch, if any.
fn hooks(app: &App, checked: &[(&str, &Map<String, Value>, Box<str>)]) -> Result<(), Refusal> {
    let rules = &app.injector.plan().refusals;
    if !rules.is_empty() {
        if let Some(status) = checked
            .iter()
            .find_map(|(phone, _, _)| rules.code(Provider::Itnio, phone))
        {
            return Err(refuse(status, status_reason(status)));
        }
    }
    if let Some(r) = checked.iter().find_map(|(_, p, _)| hook_refusal(p)) {
        return Err(r);
    }
    Ok(())
}

fn check_headers(app: &App, headers: &HeaderMap) -> Result<(), Refusal> {
    let sign = header(headers, "Sign").ok_or_else(|| refuse(-57, "Sign cannot be empty"))?;
    let ts =
        header(headers, "Timestamp").ok_or_else(|| refuse(-58, "Timestamp cannot be empty"))?;
    let key = header(headers, "Api-Key").ok_or_else(|| refuse(-59, "Api-Key cannot be empty"))?;
    if key != ITNIO_API_KEY {
        return Err(refuse(-1, "account authentication failed"));
    }
    let fresh = ts.bytes().all(|b| b.is_ascii_digit())
        && ts
            .parse::<i64>()
            .is_ok_and(|t| (app.now_millis() / 1000 - t).abs() <= SKEW_SECS);
    if !fresh {
        return Err(refuse(-4, "timestamp expired"));
    }
    if sign != verify::itnio_sign(key, ITNIO_API_SECRET, ts) {
        app.counters.rejected_signature();
        return Err(refuse(-1, "account authentication failed: invalid Sign"));
    }
    if !is_json_content_type(headers) {
        return Err(invalid("Content-Type must be application/json"));
    }
    Ok(())
}

/// Checks person `i`; returns its phone number and fields.
fn check_person(i: usize, person: &Value) -> Result<(&str, &Map<String, Value>), String> {
    let obj = person
        .as_object()
        .ok_or_else(|| format!("customerPersons[{i}]: must be a JSON object"))?;
    let fail = |field: &str, why: &str| format!("customerPersons[{i}].{field}: {why}");
    if let Some(key) = obj.keys().find(|k| !PERSON_KEYS.contains(&k.as_str())) {
        return Err(fail(key, "unknown field"));
    }
    let phone = match obj.get("phoneNumber") {
        Some(Value::String(s)) if !s.is_empty() => s.as_str(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(fail("phoneNumber", "required"))
        }
        Some(_) => return Err(fail("phoneNumber", "must be a string")),
    };
    if phone.chars().count() > MAX_PHONE_CHARS {
        return Err(fail("phoneNumber", "at most 32 characters"));
    }
    if utf16_len(phone) > MAX_PHONE_CHARS {
        return Err(fail(
            "phoneNumber",
            "at most 32 UTF-16 code units (a character beyond U+FFFF counts 2)",
        ));
    }
    if !matches!(obj.get("name"), None | Some(Value::Null | Value::String(_))) {
        return Err(fail("name", "must be a string"));
    }
    match obj.get("gender") {
        None | Some(Value::Null) => {}
        Some(Value::String(g)) if g == "MALE" || g == "FEMALE" => {}
        Some(_) => return Err(fail("gender", "must be MALE, FEMALE or null")),
    }
    if !matches!(
        obj.get("properties"),
        None | Some(Value::Null | Value::Object(_))
    ) {
        return Err(fail("properties", "must be an object"));
    }
    Ok((phone, obj))
}

/// The refusal the test hook asks for, if `person` carries [`REFUSE_PROPERTY`] with one of the
/// status codes it knows.
fn hook_refusal(person: &Map<String, Value>) -> Option<Refusal> {
    let value = person
        .get("properties")
        .and_then(Value::as_object)
        .and_then(|p| p.get(REFUSE_PROPERTY))
        .and_then(Value::as_str)?;
    let status = match value {
        "-27" => -27,
        "-35" => -35,
        "-51" => -51,
        _ => return None,
    };
    Some(refuse(status, status_reason(status)))
}

/// The documented reason of a whole-request status the test hooks answer.
pub(crate) fn status_reason(status: i64) -> &'static str {
    match status {
        -27 => "parameter validation failed",
        -35 => "import failed",
        -51 => "customer properties incomplete",
        -56 => "at most 100 customers can be imported at once",
        _ => "refused by the sandbox (--refuse)",
    }
}

fn has_property(person: &Map<String, Value>, name: &str) -> bool {
    match person
        .get("properties")
        .and_then(Value::as_object)
        .and_then(|p| p.get(name))
    {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}
