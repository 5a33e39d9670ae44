//! The nxlink `customers/batch_create` emulator: header, signature and body checks in the
//! documented order, seat binding, and the upsert of the accepted rows into the customer store
//! (`nxlink_store.rs`).
//!
//! Test hook: the `--refuse PHONE=CODE` rules with a positive code refuse, with that code and
//! storing nothing, any request holding a customer whose `whats_app_phone` or `sms_phone` is
//! PHONE, after the field checks.
//!
//! Invariant: a request either changes nothing (any non-zero `code`) or applies exactly the rows
//! listed in `successItems`, in index order, under one lock; every answer is the documented
//! `{code, message, traceId, data}` envelope with `code` an integer.

use hyper::HeaderMap;
use serde::Serialize;
use serde_json::Value;

use super::events::Event;
use super::http::{header, is_json_content_type, rows_of, trace_id};
use super::nxlink_fields::check_customer;
use super::nxlink_store::{read_contacts, to_text, Mode, FIRST_CUSTOMER_ID};
use super::phones;
use super::scan::customer_texts;
use super::state::App;
use super::verify::{self, Hash};
use super::{Provider, NXLINK_ACCESS_KEY, NXLINK_ACCESS_SECRET, NXLINK_APP_KEY, NXLINK_TENANT_ID};

/// Seats whose name ends with this exist; no others do.
pub const SEAT_DOMAIN: &str = "@sandbox.test";
const BODY_KEYS: [&str; 5] = [
    "type",
    "tenant_id",
    "app_key",
    "strict_binding",
    "customers",
];
const SKEW_MS: i64 = 60_000;
const MAX_CUSTOMERS: usize = 100;

struct Refusal {
    code: i64,
    message: String,
}

fn refuse(code: i64, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

/// Handles one request; `parsed` is the body parsed as JSON (if it parsed). A refusal is
/// logged in the events with its trace id.
pub(crate) fn handle(
    app: &App,
    headers: &HeaderMap,
    body: &[u8],
    parsed: Option<&Value>,
) -> Vec<u8> {
    match process(app, headers, body, parsed) {
        Ok(data) => envelope(0, None, trace_id(), Some(data)),
        Err(r) => {
            let (answer, trace) = refusal(r.code, &r.message);
            app.events.push(Event {
                provider: Provider::Nxlink.as_str(),
                rows: rows_of(Provider::Nxlink, parsed),
                code: Some(r.code),
                message: Some(r.message),
                trace_id: Some(trace),
                ..Event::default()
            });
            answer
        }
    }
}

/// A whole-request refusal with `code` and `message`, and the trace id it carries.
pub(crate) fn refusal(code: i64, message: &str) -> (Vec<u8>, String) {
    let trace = trace_id();
    (envelope(code, Some(message), trace.clone(), None), trace)
}

/// A success naming each of `rows` rows once in `successItems`, with made-up ids (what the
/// `redirect` faults' target and the end of a `huge` answer say).
pub(crate) fn perfect(rows: usize) -> Vec<u8> {
    let success_items = (0..rows)
        .map(|index| SuccessItem {
            index,
            customer_id: FIRST_CUSTOMER_ID + index as u64,
            whats_app_phone: None,
        })
        .collect();
    let data = BatchResult {
        total_count: rows,
        success_count: rows,
        fail_count: 0,
        fail_items: Vec::new(),
        success_items,
    };
    envelope(0, Some("success"), trace_id(), Some(data))
}

/// The response envelope; typed (not `json!`) because answers are built on the hot path.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a> {
    code: i64,
    message: Option<&'a str>,
    trace_id: String,
    data: Option<BatchResult<'a>>,
}

/// `data` of a processed request (`BatchCreateResultVO`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchResult<'a> {
    total_count: usize,
    success_count: usize,
    fail_count: usize,
    fail_items: Vec<FailItem>,
    success_items: Vec<SuccessItem<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FailItem {
    index: usize,
    error_code: i64,
    error_message: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SuccessItem<'a> {
    index: usize,
    customer_id: u64,
    whats_app_phone: Option<&'a str>,
}

fn envelope(
    code: i64,
    message: Option<&str>,
    trace_id: String,
    data: Option<BatchResult<'_>>,
) -> Vec<u8> {
    let v = Envelope {
        code,
        message,
        trace_id,
        data,
    };
    serde_json::to_vec(&v).unwrap_or_default()
}

/// What the body says besides its customers, checked.
struct Request<'a> {
    tenant: i64,
    mode: Mode,
    strict: bool,
    customers: &'a Vec<Value>,
}

/// The body's fields around its customers: the tenant and app key (the emulator's account),
/// no unknown field, `type`, `strict_binding`, and 1 to 100 customers.
fn request_fields(obj: &serde_json::Map<String, Value>) -> Result<Request<'_>, Refusal> {
    let tenant = obj
        .get("tenant_id")
        .and_then(Value::as_i64)
        .ok_or_else(|| refuse(21058, "tenant_id is required"))?;
    let app_key = obj
        .get("app_key")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| refuse(21059, "app_key is required"))?;
    if tenant != NXLINK_TENANT_ID || app_key != NXLINK_APP_KEY {
        return Err(refuse(22124, "application unavailable"));
    }
    if let Some(key) = obj.keys().find(|k| !BODY_KEYS.contains(&k.as_str())) {
        return Err(refuse(1002, format!("{key}: unknown field")));
    }
    let mode = match obj.get("type").and_then(Value::as_i64) {
        Some(0) => Mode::Replace,
        Some(1) => Mode::Merge,
        Some(2) => Mode::Keep,
        _ => return Err(refuse(1002, "type: must be the integer 0, 1 or 2")),
    };
    let strict = match obj.get("strict_binding") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(refuse(1002, "strict_binding: must be a boolean")),
    };
    let customers = obj
        .get("customers")
        .and_then(Value::as_array)
        .ok_or_else(|| refuse(1002, "customers: must be an array"))?;
    if customers.is_empty() || customers.len() > MAX_CUSTOMERS {
        return Err(refuse(1002, "customers: must hold 1 to 100 customers"));
    }
    Ok(Request {
        tenant,
        mode,
        strict,
        customers,
    })
}

fn process<'a>(
    app: &App,
    headers: &HeaderMap,
    body: &[u8],
    parsed: Option<&'a Value>,
) -> Result<BatchResult<'a>, Refusal> {
    check_headers(app, headers, body)?;
    let obj = parsed
        .and_then(Value::as_object)
        .ok_or_else(|| refuse(1002, "the body must be a JSON object"))?;
    let Request {
        tenant,
        mode,
        strict,
        customers,
    } = request_fields(obj)?;
    for (i, c) in customers.iter().enumerate() {
        check_customer(i, c).map_err(|m| refuse(1002, m))?;
    }
    refusal_rule(app, customers)?;
    let unknown_seats: Vec<Option<&str>> = customers.iter().map(unknown_seat).collect();
    let bad_phones: Vec<Option<String>> = match app.strict_phones {
        true => customers.iter().map(phones::nxlink_refusal).collect(),
        false => vec![],
    };
    if !strict {
        if let Some(seat) = unknown_seats.iter().flatten().next() {
            return Err(refuse(12148, seat_message(seat)));
        }
    }
    // Copy or serialise outside the lock; the lock only covers lookups and inserts.
    let texts = stored_texts(body, customers, &unknown_seats);
    let mut fail_items = Vec::new();
    let mut success_items = Vec::with_capacity(customers.len());
    let mut store = app.nxlink.lock().unwrap_or_else(|e| e.into_inner());
    let rows = customers.iter().zip(&unknown_seats).zip(texts);
    for (index, ((c, seat), text)) in rows.enumerate() {
        if let Some(seat) = seat {
            fail_items.push(FailItem {
                index,
                error_code: 12148,
                error_message: seat_message(seat),
            });
            continue;
        }
        if let Some(message) = bad_phones.get(index).cloned().flatten() {
            fail_items.push(FailItem {
                index,
                error_code: 1002,
                error_message: message,
            });
            continue;
        }
        let (Some(row), Some(text)) = (c.as_object(), text) else {
            continue;
        };
        let contacts = read_contacts(row);
        let id = store.upsert(tenant, mode, row, &contacts, text);
        success_items.push(SuccessItem {
            index,
            customer_id: id,
            whats_app_phone: contacts[0],
        });
    }
    drop(store);
    Ok(BatchResult {
        total_count: customers.len(),
        success_count: success_items.len(),
        fail_count: fail_items.len(),
        fail_items,
        success_items,
    })
}

/// The text each customer is stored as: the JSON it was received as (or serialised again when
/// the body cannot be cut into its customers); none for a row naming an unknown seat.
fn stored_texts(
    body: &[u8],
    customers: &[Value],
    unknown_seats: &[Option<&str>],
) -> Vec<Option<Box<[u8]>>> {
    let received = customer_texts(body).filter(|t| t.len() == customers.len());
    customers
        .iter()
        .zip(unknown_seats)
        .enumerate()
        .map(|(i, (c, seat))| match (c.as_object(), seat) {
            (Some(row), None) => Some(match &received {
                Some(texts) => texts[i].into(),
                None => to_text(row),
            }),
            _ => None,
        })
        .collect()
}

fn check_headers(app: &App, headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal> {
    let mut values = [""; 5];
    for (slot, name) in values
        .iter_mut()
        .zip(["accessKey", "ts", "bizType", "action", "sign"])
    {
        *slot =
            header(headers, name).ok_or_else(|| refuse(1001, format!("missing header: {name}")))?;
    }
    let [access_key, ts, biz_type, action, sign] = values;
    if !is_json_content_type(headers) {
        return Err(refuse(1003, "Content-Type must be application/json"));
    }
    if access_key != NXLINK_ACCESS_KEY {
        return Err(refuse(1005, "insufficient permissions: unknown accessKey"));
    }
    let fresh = ts.len() == 13
        && ts.bytes().all(|b| b.is_ascii_digit())
        && ts
            .parse::<i64>()
            .is_ok_and(|t| (app.now_millis() - t).abs() <= SKEW_MS);
    if !fresh {
        return Err(refuse(1004, "timestamp expired"));
    }
    if biz_type != "2" || action != "mt" {
        return Err(refuse(1002, "bizType must be 2 and action must be mt"));
    }
    let hash = Hash::from_header(header(headers, "algorithm"))
        .ok_or_else(|| refuse(1003, "unsupported signature algorithm"))?;
    let signed = [
        ("accessKey", access_key),
        ("action", action),
        ("bizType", biz_type),
        ("ts", ts),
    ];
    let want = verify::nxlink_sign(signed, body, NXLINK_ACCESS_SECRET, hash);
    if sign != want {
        app.counters.rejected_signature();
        return Err(refuse(1003, "invalid signature"));
    }
    Ok(())
}

/// The `--refuse PHONE=CODE` rules: the first customer whose `whats_app_phone` or `sms_phone`
/// has a rule refuses the whole request with that code.
fn refusal_rule(app: &App, customers: &[Value]) -> Result<(), Refusal> {
    let rules = &app.injector.plan().refusals;
    if rules.is_empty() {
        return Ok(());
    }
    for (i, c) in customers.iter().enumerate() {
        for field in ["whats_app_phone", "sms_phone"] {
            let Some(phone) = c.get(field).and_then(Value::as_str) else {
                continue;
            };
            if let Some(code) = rules.code(Provider::Nxlink, phone) {
                let message = match code {
                    1002 => format!("parameter error: customers[{i}].{field}"),
                    12148 => seat_message("(unknown)"),
                    _ => format!("refused by the sandbox: customers[{i}].{field} (--refuse)"),
                };
                return Err(refuse(code, message));
            }
        }
    }
    Ok(())
}

fn unknown_seat(customer: &Value) -> Option<&str> {
    customer
        .get("belong_seat_user")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && !s.ends_with(SEAT_DOMAIN))
}

fn seat_message(seat: &str) -> String {
    format!("Assigned seat {seat} does not exist. Please check Admin -> Members.")
}
