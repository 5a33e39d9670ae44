//! The answers of the fault kinds: the ones that replace an answer (HTTP errors, resets,
//! redirects, oversized and endless bodies, refusals) and the ones that reshape the answer of a
//! request that was applied (stray, vague, omitted, contradictory and miscounted items, itnio
//! lines in variant spellings or naming nobody). Each fault is logged in the events with the row
//! it picked.
//!
//! Invariant: a reshaped answer only changes what the fault names; an answer that is not a
//! processed one (a refusal by the rules) is left as it is. Nothing here touches the stores: the
//! server decides beforehand whether the request is applied, and which itnio row is withheld.

use hyper::header::{HeaderValue, CONTENT_TYPE, LOCATION};
use hyper::{Response, StatusCode};
use serde_json::{json, Map, Value};
use tokio::sync::Notify;

use super::body::{Body, Generated};
use super::events::Event;
use super::faults::{Fault, FaultKind};
use super::http::{json, plain, retry_after, to_json, JSON, REDIRECTED_PREFIX};
use super::state::App;
use super::{itnio, nxlink, nxlink_store, Provider};

const GARBAGE: &str = "<html><head><title>502 Bad Gateway</title></head>\
                       <body><center><h1>502 Bad Gateway</h1></center></body></html>";
/// The message of the `escape` fault: a clear-screen, a colour, a carriage return and a bell
/// around plain words.
pub(crate) const ESCAPE_MESSAGE: &str =
    "\u{1b}[2J\u{1b}[31mescape fault: batch refused\r\u{7}\u{1b}[0m";
/// The line of the `anon` fault.
pub(crate) const ANON_LINE: &str = "Import failed for one customer";
const SUCCESS_ITEMS: &str = "successItems";
const FAIL_ITEMS: &str = "failItems";

/// What the fault answers need to know of the request.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub provider: Provider,
    pub rows: usize,
    pub parsed: Option<&'a serde_json::Value>,
    /// The `Host` header, for an absolute `Location`.
    pub host: Option<&'a str>,
}

impl Request<'_> {
    /// The phone of row `i` as sent (nxlink: `whats_app_phone`, else `sms_phone`).
    fn phone(&self, i: usize) -> Option<String> {
        let row = self.parsed?.get(self.provider.rows_key())?.get(i)?;
        let fields: &[&str] = match self.provider {
            Provider::Nxlink => &["whats_app_phone", "sms_phone"],
            Provider::Itnio => &["phoneNumber"],
        };
        fields
            .iter()
            .find_map(|f| row.get(*f).and_then(Value::as_str))
            .map(str::to_owned)
    }
}

/// True for the itnio faults that refuse (withhold) one row of an applied request.
pub(crate) fn withholds_a_row(kind: FaultKind) -> bool {
    matches!(
        kind,
        FaultKind::FullwidthCn
            | FaultKind::FullwidthPlus
            | FaultKind::FullwidthText
            | FaultKind::Anon
    )
}

/// The answer to a request that drew `fault`; `answer` is the provider's answer when the fault
/// applies the request (empty otherwise).
pub(crate) async fn answer(
    app: &App,
    req: &Request<'_>,
    fault: Fault,
    answer: Vec<u8>,
    abort: &Notify,
) -> Response<Body> {
    let mut event = Event {
        provider: req.provider.as_str(),
        rows: req.rows,
        fault: Some(fault.kind.as_str()),
        ..Event::default()
    };
    let plan = app.injector.plan();
    let response = match fault.kind {
        FaultKind::Http500 | FaultKind::Applied500 => {
            plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
        FaultKind::Http503 => retry_after(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
        FaultKind::Http429 => retry_after(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests"),
        FaultKind::Reset => {
            app.events.push(event);
            abort.notify_one();
            return std::future::pending().await;
        }
        FaultKind::Garbage => garbage(),
        FaultKind::Truncated => {
            let half = answer.len() / 2;
            json(
                StatusCode::OK,
                answer.get(..half).unwrap_or_default().to_vec(),
            )
        }
        FaultKind::Late | FaultKind::Slow => {
            let delay = if fault.kind == FaultKind::Late {
                plan.late
            } else {
                plan.slow
            };
            app.events.push(event);
            tokio::time::sleep(delay).await;
            return json(StatusCode::OK, answer);
        }
        FaultKind::Skew => refusal(req.provider, (1004, -4), "timestamp expired", &mut event),
        FaultKind::Stray => json(StatusCode::OK, add_stray(req.provider, answer)),
        FaultKind::Throttle => throttled(req.provider),
        FaultKind::VagueMissing
        | FaultKind::VagueNull
        | FaultKind::VagueEmpty
        | FaultKind::VagueString
        | FaultKind::VagueLists => json(StatusCode::OK, vague(req.provider, fault.kind, answer)),
        FaultKind::Omit
        | FaultKind::ContradictBoth
        | FaultKind::ContradictTwice
        | FaultKind::Miscount
        | FaultKind::FullwidthCn
        | FaultKind::FullwidthPlus
        | FaultKind::FullwidthText
        | FaultKind::Anon => about_a_row(req, fault, answer, &mut event),
        FaultKind::Redirect301
        | FaultKind::Redirect302
        | FaultKind::Redirect307
        | FaultKind::Redirect308 => redirected(req, fault.kind, &mut event),
        FaultKind::Huge => {
            let (head, tail) = perfect_halves(req);
            let total = plan.huge_mb.saturating_mul(1 << 20);
            stream(Generated::sized(head, total, tail))
        }
        FaultKind::Endless => stream(Generated::endless(perfect_halves(req).0)),
        FaultKind::Escape => refusal(req.provider, (22000, -35), ESCAPE_MESSAGE, &mut event),
        FaultKind::Param => param_refusal(req.provider, &mut event),
        // Kinds of several forms are resolved to one before they get here.
        FaultKind::Vague | FaultKind::Contradict | FaultKind::Fullwidth | FaultKind::Redirect => {
            json(StatusCode::OK, answer)
        }
    };
    app.events.push(event);
    response
}

/// An HTML page where JSON was expected.
fn garbage() -> Response<Body> {
    let mut r = Response::new(Body::whole(GARBAGE.as_bytes()));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
    r
}

/// The whole request refused with the provider's parameter error.
fn param_refusal(provider: Provider, event: &mut Event) -> Response<Body> {
    match provider {
        Provider::Nxlink => refusal(provider, (1002, 0), "parameter error", event),
        Provider::Itnio => refusal(provider, (0, -27), itnio::status_reason(-27), event),
    }
}

/// The provider's "slow down": nxlink's HTTP 429, itnio's status -52 in an HTTP 200.
fn throttled(provider: Provider) -> Response<Body> {
    match provider {
        Provider::Nxlink => retry_after(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests"),
        Provider::Itnio => json(
            StatusCode::OK,
            to_json(&json!({
                "status": "-52",
                "reason": "Concurrency exceeds the account's maximum",
                "data": null
            })),
        ),
    }
}

/// The faults about one row of the batch (its item left out or contradicted, the items
/// miscounted, its line in another spelling or anonymous): the row drawn and its phone go in
/// the event.
fn about_a_row(
    req: &Request<'_>,
    fault: Fault,
    answer: Vec<u8>,
    event: &mut Event,
) -> Response<Body> {
    event.row = fault.row(req.rows);
    event.phone = event.row.and_then(|i| req.phone(i));
    let body = match fault.kind {
        FaultKind::FullwidthCn
        | FaultKind::FullwidthPlus
        | FaultKind::FullwidthText
        | FaultKind::Anon => {
            let line = match (fault.kind, &event.phone) {
                (FaultKind::Anon, _) | (_, None) => ANON_LINE.to_owned(),
                (kind, Some(phone)) => variant_line(kind, phone),
            };
            add_line(answer, line)
        }
        kind => reshape_items(kind, event.row, req.rows, answer),
    };
    json(StatusCode::OK, body)
}

/// A redirect to the emulator's own `redirected` route (which answers a perfect success and
/// applies nothing); the location goes in the event.
fn redirected(req: &Request<'_>, kind: FaultKind, event: &mut Event) -> Response<Body> {
    let location = format!(
        "{}{REDIRECTED_PREFIX}{}/{}",
        req.host.map_or(String::new(), |h| format!("http://{h}")),
        req.provider.as_str(),
        req.rows
    );
    let response = redirect(kind, &location);
    event.location = Some(location);
    response
}

/// A whole-request refusal: nxlink `codes.0` (with a trace id), itnio `codes.1`.
fn refusal(
    provider: Provider,
    codes: (i64, i64),
    message: &str,
    event: &mut Event,
) -> Response<Body> {
    let body = match provider {
        Provider::Nxlink => {
            let (body, trace) = nxlink::refusal(codes.0, message);
            event.code = Some(codes.0);
            event.trace_id = Some(trace);
            body
        }
        Provider::Itnio => {
            event.code = Some(codes.1);
            itnio::refusal(codes.1, message)
        }
    };
    event.message = Some(message.to_owned());
    json(StatusCode::OK, body)
}

fn redirect(kind: FaultKind, location: &str) -> Response<Body> {
    let status = match kind {
        FaultKind::Redirect301 => StatusCode::MOVED_PERMANENTLY,
        FaultKind::Redirect302 => StatusCode::FOUND,
        FaultKind::Redirect307 => StatusCode::TEMPORARY_REDIRECT,
        _ => StatusCode::PERMANENT_REDIRECT,
    };
    let mut r = plain(status, "moved");
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

fn stream(body: Generated) -> Response<Body> {
    let mut r = Response::new(Body::Stream(body));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
    r
}

/// A perfect success for the request, split just after `"data":`: the start and the end of a
/// `huge` answer, whitespace going between them.
fn perfect_halves(req: &Request<'_>) -> (Vec<u8>, Vec<u8>) {
    let whole = match req.provider {
        Provider::Nxlink => nxlink::perfect(req.rows),
        Provider::Itnio => itnio::perfect(),
    };
    let key = b"\"data\":";
    match whole.windows(key.len()).position(|w| w == key) {
        Some(at) => {
            let mut head = whole;
            let tail = head.split_off(at + key.len());
            (head, tail)
        }
        None => (whole, Vec::new()),
    }
}

/// The answer plus one line (itnio) or item (nxlink) that matches no row of the request.
fn add_stray(provider: Provider, answer: Vec<u8>) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<Value>(&answer) else {
        return answer;
    };
    match provider {
        Provider::Itnio => {
            if let Some(data) = v.get_mut("data").and_then(Value::as_array_mut) {
                data.push(Value::String(
                    "The customer already exists in this task,Phone Number:00000000000".into(),
                ));
            } else if v.get("status").and_then(Value::as_str) == Some("0") {
                v["data"] =
                    json!(["The customer already exists in this task,Phone Number:00000000000"]);
            }
        }
        Provider::Nxlink => {
            if let Some(items) = v
                .get_mut("data")
                .and_then(|d| d.get_mut(SUCCESS_ITEMS))
                .and_then(Value::as_array_mut)
            {
                items.push(json!({"index": 100_000, "customerId": 1, "whatsAppPhone": null}));
            }
        }
    }
    to_json(&v)
}

/// A processed answer (nxlink code 0, itnio status "0") with `data` replaced by the vague form.
fn vague(provider: Provider, kind: FaultKind, answer: Vec<u8>) -> Vec<u8> {
    let Ok(Value::Object(mut v)) = serde_json::from_slice::<Value>(&answer) else {
        return answer;
    };
    let processed = match provider {
        Provider::Nxlink => v.get("code").and_then(Value::as_i64) == Some(0),
        Provider::Itnio => v.get("status").and_then(Value::as_str) == Some("0"),
    };
    if !processed {
        return answer;
    }
    let data = match kind {
        FaultKind::VagueMissing => None,
        FaultKind::VagueNull => Some(Value::Null),
        FaultKind::VagueEmpty => Some(json!({})),
        FaultKind::VagueString => Some(json!("internal error")),
        _ => Some(json!({SUCCESS_ITEMS: [], FAIL_ITEMS: []})),
    };
    match data {
        Some(d) => {
            v.insert("data".into(), d);
        }
        None => {
            v.remove("data");
        }
    }
    to_json(&v)
}

/// The index of an nxlink item.
fn index_of(item: &Value) -> Option<usize> {
    item.get("index")
        .and_then(Value::as_u64)
        .and_then(|i| usize::try_from(i).ok())
}

/// A processed nxlink answer with row `row` omitted, listed twice or the counts made wrong.
fn reshape_items(kind: FaultKind, row: Option<usize>, rows: usize, answer: Vec<u8>) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<Value>(&answer) else {
        return answer;
    };
    let (Some(k), Some(data)) = (row, v.get_mut("data").and_then(Value::as_object_mut)) else {
        return answer;
    };
    if !(data.get(SUCCESS_ITEMS).is_some_and(Value::is_array)
        && data.get(FAIL_ITEMS).is_some_and(Value::is_array))
    {
        return answer;
    }
    match kind {
        FaultKind::Omit => {
            for list in [SUCCESS_ITEMS, FAIL_ITEMS] {
                if let Some(items) = data.get_mut(list).and_then(Value::as_array_mut) {
                    items.retain(|item| index_of(item) != Some(k));
                }
            }
            recount(data);
        }
        FaultKind::ContradictBoth => {
            let succeeded = list(data, SUCCESS_ITEMS)
                .iter()
                .any(|i| index_of(i) == Some(k));
            let (other, item) = if succeeded {
                (
                    FAIL_ITEMS,
                    json!({"index": k, "errorCode": -1, "errorMessage": "request failed"}),
                )
            } else {
                (
                    SUCCESS_ITEMS,
                    json!({"index": k, "customerId": nxlink_store::FIRST_CUSTOMER_ID, "whatsAppPhone": null}),
                )
            };
            if let Some(items) = data.get_mut(other).and_then(Value::as_array_mut) {
                items.push(item);
            }
            recount(data);
        }
        FaultKind::ContradictTwice => {
            for name in [SUCCESS_ITEMS, FAIL_ITEMS] {
                if let Some(items) = data.get_mut(name).and_then(Value::as_array_mut) {
                    if let Some(pos) = items.iter().position(|i| index_of(i) == Some(k)) {
                        let again = items[pos].clone();
                        items.insert(pos + 1, again);
                        break;
                    }
                }
            }
            recount(data);
        }
        _ => {
            data.insert("totalCount".into(), json!(rows + 1));
            data.insert("successCount".into(), json!(rows));
            data.insert("failCount".into(), json!(0));
        }
    }
    to_json(&v)
}

fn list<'a>(data: &'a Map<String, Value>, name: &str) -> &'a [Value] {
    data.get(name)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Counts that agree with the lists.
fn recount(data: &mut Map<String, Value>) {
    let (s, f) = (
        list(data, SUCCESS_ITEMS).len(),
        list(data, FAIL_ITEMS).len(),
    );
    data.insert("totalCount".into(), json!(s + f));
    data.insert("successCount".into(), json!(s));
    data.insert("failCount".into(), json!(f));
}

/// A processed itnio answer with `line` added to `data`.
fn add_line(answer: Vec<u8>, line: String) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<Value>(&answer) else {
        return answer;
    };
    if v.get("status").and_then(Value::as_str) != Some("0") {
        return answer;
    }
    match v.get_mut("data").and_then(Value::as_array_mut) {
        Some(lines) => lines.push(Value::String(line)),
        None => v["data"] = json!([line]),
    }
    to_json(&v)
}

/// The line of a `fullwidth_*` fault for `phone`.
pub(crate) fn variant_line(kind: FaultKind, phone: &str) -> String {
    match kind {
        FaultKind::FullwidthCn => format!("该客户已存在于此任务中，手机号：{phone}"),
        FaultKind::FullwidthPlus => format!(
            "Customer custom property is incomplete,Phone Number:{}",
            spaced(phone)
        ),
        _ => format!("Import refused for {phone} (number blocked)"),
    }
}

/// `6281234567890` as `+62 812-3456-7890`: a `+`, then groups of 2, 3, 4 and the rest.
fn spaced(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let mut out = String::from("+");
    let mut at: usize = 0;
    for (i, width) in [2, 3, 4, usize::MAX].into_iter().enumerate() {
        let end = at.saturating_add(width).min(chars.len());
        if at >= end {
            break;
        }
        if i > 0 {
            out.push(if i == 1 { ' ' } else { '-' });
        }
        out.extend(&chars[at..end]);
        at = end;
    }
    out
}

#[cfg(test)]
mod tests;
